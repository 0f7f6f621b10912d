package rpc_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	authnv1 "github.com/idledger/idledger/gen/zitadel/authn/v1"
	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
	userv1 "github.com/idledger/idledger/gen/zitadel/user/v1"
	zitadelv1 "github.com/idledger/idledger/gen/zitadel/v1"
	"github.com/idledger/idledger/internal/app/apptest"
)

// TestMachineCredentials: client secrets and keys of machine users over
// RPC as over REST; the secret and the key file come back once and work.
func TestMachineCredentials(t *testing.T) {
	e := newProjectEnv(t)
	other := []string{"x-zitadel-orgid", e.other}
	machine := func(t *testing.T) string {
		id, _ := e.CreateMachineWithPAT(t, e.other)
		return id
	}
	human := e.CreateHuman(t, e.other, "human")
	users := "/management/v1/users/"
	pub := func(t *testing.T) []byte {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	for _, p := range protocols {
		t.Run(p.name+"/MachineSecret", func(t *testing.T) {
			rest, rpc := machine(t), machine(t)
			type G = managementv1.GenerateMachineSecretRequest
			got, _ := both[G, managementv1.GenerateMachineSecretResponse](t, e.Env, p, mgmtSvc+"GenerateMachineSecret", "PUT", users+rest+"/secret",
				map[string]any{}, &G{UserId: rpc}, append([]string{"client_id", "client_secret"}, writeVolatile...), e.owner...)
			id, err := e.App.Commands().CheckMachineSecret(context.Background(), e.InstanceID, got.GetClientId(), got.GetClientSecret())
			if err != nil || id != rpc {
				t.Fatalf("the secret generated over RPC checks as %q, %v", id, err)
			}
			sameRows[G, managementv1.GenerateMachineSecretResponse](t, e.Env, p, mgmtSvc+"GenerateMachineSecret", []same[G]{
				{name: "no such user", method: "PUT", path: users + "nope/secret", body: map[string]any{}, req: &G{UserId: "nope"}, headers: e.owner},
				{name: "a human", method: "PUT", path: users + human + "/secret", body: map[string]any{}, req: &G{UserId: human}, headers: e.owner},
				{name: "no role", method: "PUT", path: users + rpc + "/secret", body: map[string]any{}, req: &G{UserId: rpc}, headers: as(e.nobody, other...)},
				{name: "user of another org", method: "PUT", path: users + rpc + "/secret", body: map[string]any{}, req: &G{UserId: rpc}},
			})
			e.MustDo(t, http.StatusOK, "PUT", users+rest+"/secret", map[string]any{}, e.owner...)
			type R = managementv1.RemoveMachineSecretRequest
			both[R, managementv1.RemoveMachineSecretResponse](t, e.Env, p, mgmtSvc+"RemoveMachineSecret", "DELETE", users+rest+"/secret",
				nil, &R{UserId: rpc}, writeVolatile, e.owner...)
			if _, err := e.App.Commands().CheckMachineSecret(context.Background(), e.InstanceID, got.GetClientId(), got.GetClientSecret()); err == nil {
				t.Fatal("the secret removed over RPC still checks")
			}
			sameRows[R, managementv1.RemoveMachineSecretResponse](t, e.Env, p, mgmtSvc+"RemoveMachineSecret", []same[R]{
				{name: "no secret", method: "DELETE", path: users + rpc + "/secret", req: &R{UserId: rpc}, headers: e.owner},
				{name: "a human", method: "DELETE", path: users + human + "/secret", req: &R{UserId: human}, headers: e.owner},
				{name: "no role", method: "DELETE", path: users + rpc + "/secret", req: &R{UserId: rpc}, headers: as(e.nobody, other...)},
			})
		})

		t.Run(p.name+"/MachineKeys", func(t *testing.T) {
			rest, rpc := machine(t), machine(t)
			type A = managementv1.AddMachineKeyRequest
			exp := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
			got, _ := both[A, managementv1.AddMachineKeyResponse](t, e.Env, p, mgmtSvc+"AddMachineKey", "POST", users+rest+"/keys",
				map[string]any{"type": "KEY_TYPE_JSON", "expirationDate": exp.Format(time.RFC3339)},
				&A{UserId: rpc, Type: authnv1.KeyType_KEY_TYPE_JSON, ExpirationDate: timestamppb.New(exp)},
				append([]string{"key_id", "key_details"}, writeVolatile...), e.owner...)
			var file struct{ Type, KeyID, Key, UserID string }
			if err := json.Unmarshal(got.GetKeyDetails(), &file); err != nil || file.Type != "serviceaccount" || file.KeyID != got.GetKeyId() || file.UserID != rpc || file.Key == "" {
				t.Fatalf("key file %s: %v", got.GetKeyDetails(), err)
			}
			if _, err := e.App.Commands().MachineKeyByID(context.Background(), e.InstanceID, got.GetKeyId(), rpc); err != nil {
				t.Fatalf("the key added over RPC: %v", err)
			}
			// A caller's public key: no key file.
			pk := pub(t)
			own, _ := both[A, managementv1.AddMachineKeyResponse](t, e.Env, p, mgmtSvc+"AddMachineKey", "POST", users+rest+"/keys",
				map[string]any{"type": "KEY_TYPE_JSON", "publicKey": base64.StdEncoding.EncodeToString(pk)},
				&A{UserId: rpc, Type: authnv1.KeyType_KEY_TYPE_JSON, PublicKey: pk}, append([]string{"key_id"}, writeVolatile...), e.owner...)
			if len(own.GetKeyDetails()) != 0 {
				t.Fatalf("a key file for the caller's public key: %s", own.GetKeyDetails())
			}
			sameRows[A, managementv1.AddMachineKeyResponse](t, e.Env, p, mgmtSvc+"AddMachineKey", []same[A]{
				{name: "type unspecified", method: "POST", path: users + rpc + "/keys", body: map[string]any{}, req: &A{UserId: rpc}, headers: e.owner},
				{name: "expired", method: "POST", path: users + rpc + "/keys", body: map[string]any{"type": "KEY_TYPE_JSON", "expirationDate": "2001-01-01T00:00:00Z"},
					req: &A{UserId: rpc, Type: authnv1.KeyType_KEY_TYPE_JSON, ExpirationDate: timestamppb.New(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))}, headers: e.owner},
				{name: "not a public key", method: "POST", path: users + rpc + "/keys", body: map[string]any{"type": "KEY_TYPE_JSON", "publicKey": base64.StdEncoding.EncodeToString([]byte("nope"))},
					req: &A{UserId: rpc, Type: authnv1.KeyType_KEY_TYPE_JSON, PublicKey: []byte("nope")}, headers: e.owner},
				{name: "a human", method: "POST", path: users + human + "/keys", body: map[string]any{"type": "KEY_TYPE_JSON"},
					req: &A{UserId: human, Type: authnv1.KeyType_KEY_TYPE_JSON}, headers: e.owner},
				{name: "no role", method: "POST", path: users + rpc + "/keys", body: map[string]any{"type": "KEY_TYPE_JSON"},
					req: &A{UserId: rpc, Type: authnv1.KeyType_KEY_TYPE_JSON}, headers: as(e.nobody, other...)},
			})

			type L = managementv1.ListMachineKeysRequest
			sameRows[L, managementv1.ListMachineKeysResponse](t, e.Env, p, mgmtSvc+"ListMachineKeys", []same[L]{
				{name: "all", method: "POST", path: users + rpc + "/keys/_search", body: map[string]any{}, req: &L{UserId: rpc}, headers: e.owner},
				{name: "paged", method: "POST", path: users + rpc + "/keys/_search", body: map[string]any{"query": map[string]any{"offset": "1", "limit": 1}},
					req: &L{UserId: rpc, Query: &zitadelv1.ListQuery{Offset: 1, Limit: 1}}, headers: e.owner},
				{name: "past the end", method: "POST", path: users + rpc + "/keys/_search", body: map[string]any{"query": map[string]any{"offset": "9"}},
					req: &L{UserId: rpc, Query: &zitadelv1.ListQuery{Offset: 9}}, headers: e.owner},
				{name: "limit over max", method: "POST", path: users + rpc + "/keys/_search", body: map[string]any{"query": map[string]any{"limit": 100000}},
					req: &L{UserId: rpc, Query: &zitadelv1.ListQuery{Limit: 100000}}, headers: e.owner},
				{name: "no such user", method: "POST", path: users + "nope/keys/_search", body: map[string]any{}, req: &L{UserId: "nope"}, headers: e.owner},
				{name: "a human", method: "POST", path: users + human + "/keys/_search", body: map[string]any{}, req: &L{UserId: human}, headers: e.owner},
				{name: "no role", method: "POST", path: users + rpc + "/keys/_search", body: map[string]any{}, req: &L{UserId: rpc}, headers: as(e.nobody, other...)},
			})

			restKey := e.MustDo(t, http.StatusOK, "POST", users+rest+"/keys", map[string]any{"type": "KEY_TYPE_JSON"}, e.owner...)["keyId"].(string)
			type R = managementv1.RemoveMachineKeyRequest
			both[R, managementv1.RemoveMachineKeyResponse](t, e.Env, p, mgmtSvc+"RemoveMachineKey", "DELETE", users+rest+"/keys/"+restKey,
				nil, &R{UserId: rpc, KeyId: got.GetKeyId()}, writeVolatile, e.owner...)
			if _, err := e.App.Commands().MachineKeyByID(context.Background(), e.InstanceID, got.GetKeyId(), rpc); err == nil {
				t.Fatal("the key removed over RPC still verifies")
			}
			sameRows[R, managementv1.RemoveMachineKeyResponse](t, e.Env, p, mgmtSvc+"RemoveMachineKey", []same[R]{
				{name: "removed already", method: "DELETE", path: users + rpc + "/keys/" + got.GetKeyId(), req: &R{UserId: rpc, KeyId: got.GetKeyId()}, headers: e.owner},
				{name: "no role", method: "DELETE", path: users + rpc + "/keys/" + own.GetKeyId(), req: &R{UserId: rpc, KeyId: own.GetKeyId()}, headers: as(e.nobody, other...)},
			})
		})
	}
}

// TestIssuedSecretsNotLogged: the client secrets, machine secret and key
// file that RPC answers issue appear in no line of the server's debug log,
// nor does the request of a caller-supplied public key.
func TestIssuedSecretsNotLogged(t *testing.T) {
	env, logs := apptest.NewLogged(t)
	org := []string{"x-zitadel-orgid", env.DefaultOrgID}
	var needles []string
	for _, p := range protocols {
		pr, err := call[managementv1.AddProjectRequest, managementv1.AddProjectResponse](t, env, p, mgmtSvc+"AddProject",
			&managementv1.AddProjectRequest{Name: "logged " + p.name}, org...)
		if err != nil {
			t.Fatal(err)
		}
		app, err := call[managementv1.AddOIDCAppRequest, managementv1.AddOIDCAppResponse](t, env, p, mgmtSvc+"AddOIDCApp",
			&managementv1.AddOIDCAppRequest{ProjectId: pr.GetId(), Name: "a", RedirectUris: []string{"https://a.example/cb"}}, org...)
		if err != nil {
			t.Fatal(err)
		}
		api, err := call[managementv1.AddAPIAppRequest, managementv1.AddAPIAppResponse](t, env, p, mgmtSvc+"AddAPIApp",
			&managementv1.AddAPIAppRequest{ProjectId: pr.GetId(), Name: "b"}, org...)
		if err != nil {
			t.Fatal(err)
		}
		regen, err := call[managementv1.RegenerateOIDCClientSecretRequest, managementv1.RegenerateOIDCClientSecretResponse](t, env, p,
			mgmtSvc+"RegenerateOIDCClientSecret", &managementv1.RegenerateOIDCClientSecretRequest{ProjectId: pr.GetId(), AppId: app.GetAppId()}, org...)
		if err != nil {
			t.Fatal(err)
		}
		user, _ := env.CreateMachineWithPAT(t, env.DefaultOrgID)
		sec, err := call[managementv1.GenerateMachineSecretRequest, managementv1.GenerateMachineSecretResponse](t, env, p, mgmtSvc+"GenerateMachineSecret",
			&managementv1.GenerateMachineSecretRequest{UserId: user}, org...)
		if err != nil {
			t.Fatal(err)
		}
		key, err := call[managementv1.AddMachineKeyRequest, managementv1.AddMachineKeyResponse](t, env, p, mgmtSvc+"AddMachineKey",
			&managementv1.AddMachineKeyRequest{UserId: user, Type: authnv1.KeyType_KEY_TYPE_JSON}, org...)
		if err != nil {
			t.Fatal(err)
		}
		var file struct{ Key string }
		if err := json.Unmarshal(key.GetKeyDetails(), &file); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(file.Key), "\n")
		needles = append(needles, app.GetClientSecret(), api.GetClientSecret(), regen.GetClientSecret(), sec.GetClientSecret(),
			base64.StdEncoding.EncodeToString(key.GetKeyDetails()), lines[1], lines[len(lines)-2])
	}
	if logs.String() == "" {
		t.Fatal("the server logged nothing: the test would prove nothing")
	}
	for _, n := range needles {
		if n == "" || strings.Contains(logs.String(), n) {
			t.Fatalf("secret %q is empty or in the log", n)
		}
	}
}

// TestUpdateMachine: UpdateMachine over RPC as over REST (PUT
// /management/v1/users/{id}/machine): the same answer, the same errors, and
// the new access token type stored.
func TestUpdateMachine(t *testing.T) {
	e := newProjectEnv(t)
	other := []string{"x-zitadel-orgid", e.other}
	human := e.CreateHuman(t, e.other, "human")
	users := "/management/v1/users/"
	type U = managementv1.UpdateMachineRequest
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rest, _ := e.CreateMachineWithPAT(t, e.other)
			rpc, _ := e.CreateMachineWithPAT(t, e.other)
			body := map[string]any{"name": "Robot", "description": "nightly", "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}
			both[U, managementv1.UpdateMachineResponse](t, e.Env, p, mgmtSvc+"UpdateMachine", "PUT", users+rest+"/machine",
				body, &U{UserId: rpc, Name: "Robot", Description: "nightly", AccessTokenType: userv1.AccessTokenType_ACCESS_TOKEN_TYPE_JWT},
				writeVolatile, e.owner...)
			jwt, err := e.App.Commands().MachineTokenJWT(context.Background(), e.InstanceID, rpc)
			if err != nil || !jwt {
				t.Fatalf("after UpdateMachine over RPC the machine's tokens are JWTs = %v, %v", jwt, err)
			}
			sameRows[U, managementv1.UpdateMachineResponse](t, e.Env, p, mgmtSvc+"UpdateMachine", []same[U]{
				{name: "nothing changes", method: "PUT", path: users + rpc + "/machine", body: body,
					req: &U{UserId: rpc, Name: "Robot", Description: "nightly", AccessTokenType: userv1.AccessTokenType_ACCESS_TOKEN_TYPE_JWT}, headers: e.owner},
				{name: "no name", method: "PUT", path: users + rpc + "/machine", body: map[string]any{"description": "d"},
					req: &U{UserId: rpc, Description: "d"}, headers: e.owner},
				{name: "no such user", method: "PUT", path: users + "nope/machine", body: body, req: &U{UserId: "nope", Name: "Robot"}, headers: e.owner},
				{name: "a human", method: "PUT", path: users + human + "/machine", body: body, req: &U{UserId: human, Name: "Robot"}, headers: e.owner},
				{name: "no role", method: "PUT", path: users + rpc + "/machine", body: body, req: &U{UserId: rpc, Name: "Robot"}, headers: as(e.nobody, other...)},
			})
		})
	}
}
