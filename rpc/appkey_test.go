package rpc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	authnv1 "github.com/idledger/idledger/gen/zitadel/authn/v1"
	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
	zitadelv1 "github.com/idledger/idledger/gen/zitadel/v1"
)

// TestAppKeys: the keys of private_key_jwt apps over RPC as over REST; the
// key file comes back once, its key verifies, and a removed key does not.
func TestAppKeys(t *testing.T) {
	e := newProjectEnv(t)
	other := []string{"x-zitadel-orgid", e.other}
	pr := e.MustDo(t, http.StatusOK, "POST", "/management/v1/projects", map[string]any{"name": uniq("keys")}, e.owner...)["id"].(string)
	apps := "/management/v1/projects/" + pr + "/apps/"
	app := func(t *testing.T, kind string, body map[string]any) (string, string) {
		body["name"] = uniq(kind)
		out := e.MustDo(t, http.StatusOK, "POST", apps+kind, body, e.owner...)
		return out["appId"].(string), out["clientId"].(string)
	}
	basic, _ := app(t, "oidc", map[string]any{"redirectUris": []string{"https://a.example/cb"}})
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rest, _ := app(t, "oidc", map[string]any{"redirectUris": []string{"https://a.example/cb"}, "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"})
			rpc, rpcClient := app(t, "api", map[string]any{"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"})
			exp := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
			type A = managementv1.AddAppKeyRequest
			got, _ := both[A, managementv1.AddAppKeyResponse](t, e.Env, p, mgmtSvc+"AddAppKey", "POST", apps+rest+"/keys",
				map[string]any{"type": "KEY_TYPE_JSON", "expirationDate": exp.Format(time.RFC3339)},
				&A{ProjectId: pr, AppId: rpc, Type: authnv1.KeyType_KEY_TYPE_JSON, ExpirationDate: timestamppb.New(exp)},
				append([]string{"id", "key_details"}, writeVolatile...), e.owner...)
			var file struct{ Type, KeyID, Key, AppID, ClientID string }
			if err := json.Unmarshal(got.GetKeyDetails(), &file); err != nil || file.Type != "application" || file.KeyID != got.GetId() ||
				file.AppID != rpc || file.ClientID != rpcClient || file.Key == "" {
				t.Fatalf("key file %s: %v", got.GetKeyDetails(), err)
			}
			if k, err := e.App.Commands().AppKeyByID(context.Background(), e.InstanceID, got.GetId(), rpcClient); err != nil || !k.Expiration.Equal(exp) {
				t.Fatalf("the key added over RPC: %v %v", k, err)
			}
			sameRows[A, managementv1.AddAppKeyResponse](t, e.Env, p, mgmtSvc+"AddAppKey", []same[A]{
				{name: "type unspecified", method: "POST", path: apps + rpc + "/keys", body: map[string]any{}, req: &A{ProjectId: pr, AppId: rpc}, headers: e.owner},
				{name: "expired", method: "POST", path: apps + rpc + "/keys", body: map[string]any{"type": "KEY_TYPE_JSON", "expirationDate": "2001-01-01T00:00:00Z"},
					req: &A{ProjectId: pr, AppId: rpc, Type: authnv1.KeyType_KEY_TYPE_JSON, ExpirationDate: timestamppb.New(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))}, headers: e.owner},
				{name: "basic app", method: "POST", path: apps + basic + "/keys", body: map[string]any{"type": "KEY_TYPE_JSON"},
					req: &A{ProjectId: pr, AppId: basic, Type: authnv1.KeyType_KEY_TYPE_JSON}, headers: e.owner},
				{name: "no such app", method: "POST", path: apps + "nope/keys", body: map[string]any{"type": "KEY_TYPE_JSON"},
					req: &A{ProjectId: pr, AppId: "nope", Type: authnv1.KeyType_KEY_TYPE_JSON}, headers: e.owner},
				{name: "no role", method: "POST", path: apps + rpc + "/keys", body: map[string]any{"type": "KEY_TYPE_JSON"},
					req: &A{ProjectId: pr, AppId: rpc, Type: authnv1.KeyType_KEY_TYPE_JSON}, headers: as(e.nobody, other...)},
				{name: "other org", method: "POST", path: apps + rpc + "/keys", body: map[string]any{"type": "KEY_TYPE_JSON"},
					req: &A{ProjectId: pr, AppId: rpc, Type: authnv1.KeyType_KEY_TYPE_JSON}},
			})
			e.MustDo(t, http.StatusOK, "POST", apps+rpc+"/keys", map[string]any{"type": "KEY_TYPE_JSON"}, e.owner...)

			type G = managementv1.GetAppKeyRequest
			sameRows[G, managementv1.GetAppKeyResponse](t, e.Env, p, mgmtSvc+"GetAppKey", []same[G]{
				{name: "found", method: "GET", path: apps + rpc + "/keys/" + got.GetId(), req: &G{ProjectId: pr, AppId: rpc, KeyId: got.GetId()}, headers: e.owner},
				{name: "other app", method: "GET", path: apps + rest + "/keys/" + got.GetId(), req: &G{ProjectId: pr, AppId: rest, KeyId: got.GetId()}, headers: e.owner},
				{name: "no role", method: "GET", path: apps + rpc + "/keys/" + got.GetId(), req: &G{ProjectId: pr, AppId: rpc, KeyId: got.GetId()}, headers: as(e.nobody, other...)},
			})
			type L = managementv1.ListAppKeysRequest
			sameRows[L, managementv1.ListAppKeysResponse](t, e.Env, p, mgmtSvc+"ListAppKeys", []same[L]{
				{name: "all", method: "POST", path: apps + rpc + "/keys/_search", body: map[string]any{}, req: &L{ProjectId: pr, AppId: rpc}, headers: e.owner},
				{name: "paged", method: "POST", path: apps + rpc + "/keys/_search", body: map[string]any{"query": map[string]any{"offset": "1", "limit": 1}},
					req: &L{ProjectId: pr, AppId: rpc, Query: &zitadelv1.ListQuery{Offset: 1, Limit: 1}}, headers: e.owner},
				{name: "no such app", method: "POST", path: apps + "nope/keys/_search", body: map[string]any{}, req: &L{ProjectId: pr, AppId: "nope"}, headers: e.owner},
				{name: "no role", method: "POST", path: apps + rpc + "/keys/_search", body: map[string]any{}, req: &L{ProjectId: pr, AppId: rpc}, headers: as(e.nobody, other...)},
			})
			list := e.MustDo(t, http.StatusOK, "POST", apps+rpc+"/keys/_search", map[string]any{}, e.owner...)
			if res, _ := list["result"].([]any); len(res) != 2 {
				t.Fatalf("list: %v", list)
			}

			restKey := e.MustDo(t, http.StatusOK, "POST", apps+rest+"/keys", map[string]any{"type": "KEY_TYPE_JSON"}, e.owner...)["id"].(string)
			type R = managementv1.RemoveAppKeyRequest
			both[R, managementv1.RemoveAppKeyResponse](t, e.Env, p, mgmtSvc+"RemoveAppKey", "DELETE", apps+rest+"/keys/"+restKey,
				nil, &R{ProjectId: pr, AppId: rpc, KeyId: got.GetId()}, writeVolatile, e.owner...)
			if _, err := e.App.Commands().AppKeyByID(context.Background(), e.InstanceID, got.GetId(), rpcClient); err == nil {
				t.Fatal("the key removed over RPC still verifies")
			}
			sameRows[R, managementv1.RemoveAppKeyResponse](t, e.Env, p, mgmtSvc+"RemoveAppKey", []same[R]{
				{name: "removed already", method: "DELETE", path: apps + rpc + "/keys/" + got.GetId(), req: &R{ProjectId: pr, AppId: rpc, KeyId: got.GetId()}, headers: e.owner},
				{name: "no role", method: "DELETE", path: apps + rpc + "/keys/" + got.GetId(), req: &R{ProjectId: pr, AppId: rpc, KeyId: got.GetId()}, headers: as(e.nobody, other...)},
			})
		})
	}
}
