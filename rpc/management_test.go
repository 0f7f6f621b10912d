package rpc_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/idledger/idledger/gen/zitadel/admin/v1"
	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
)

func TestGetMyOrgAndAddOrg(t *testing.T) {
	e := newIdentityEnv(t)
	for _, p := range protocols {
		for _, tc := range []caller{
			{"own org", nil},
			{"x-zitadel-orgid", []string{"x-zitadel-orgid", e.other}},
			{"x-zitadel-orgid missing org", []string{"x-zitadel-orgid", "nope"}},
			{"no role", as(e.nobody)},
			{"other org's owner", as(e.outsid, "x-zitadel-orgid", e.DefaultOrgID)},
		} {
			t.Run(p.name+"/GetMyOrg/"+tc.name, func(t *testing.T) {
				both[managementv1.GetMyOrgRequest, managementv1.GetMyOrgResponse](t, e.Env, p, mgmtSvc+"GetMyOrg",
					"GET", "/management/v1/orgs/me", nil, &managementv1.GetMyOrgRequest{}, nil, tc.headers...)
			})
		}
		t.Run(p.name+"/AddOrg", func(t *testing.T) {
			got, _ := both[managementv1.AddOrgRequest, managementv1.AddOrgResponse](t, e.Env, p, mgmtSvc+"AddOrg",
				"POST", "/management/v1/orgs", map[string]any{"name": "rest " + p.name}, &managementv1.AddOrgRequest{Name: "rpc " + p.name},
				append([]string{"id", "resource_owner"}, writeVolatile...))
			m := e.MustDo(t, http.StatusOK, "GET", "/management/v1/orgs/me", nil, "x-zitadel-orgid", got.GetId())
			if m["org"].(map[string]any)["name"] != "rpc "+p.name || got.GetDetails().GetResourceOwner() != got.GetId() {
				t.Fatalf("the org added over RPC (%v) reads %v", got, m)
			}
			for _, tc := range []struct {
				name, org string
				headers   []string
			}{
				{"empty name", "", nil},
				{"unauthenticated", "x", []string{"Authorization", ""}},
			} {
				both[managementv1.AddOrgRequest, managementv1.AddOrgResponse](t, e.Env, p, mgmtSvc+"AddOrg",
					"POST", "/management/v1/orgs", map[string]any{"name": tc.org}, &managementv1.AddOrgRequest{Name: tc.org}, nil, tc.headers...)
			}
		})
	}
}

func TestAddMachineUser(t *testing.T) {
	e := newIdentityEnv(t)
	other := []string{"x-zitadel-orgid", e.other}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			got, _ := both[managementv1.AddMachineUserRequest, managementv1.AddMachineUserResponse](t, e.Env, p, mgmtSvc+"AddMachineUser",
				"POST", "/management/v1/users/machine", map[string]any{"userName": "rest-" + p.name, "name": "M", "description": "d"},
				&managementv1.AddMachineUserRequest{UserName: "rpc-" + p.name, Name: "M", Description: "d"}, append([]string{"user_id"}, writeVolatile...), other...)
			u := e.MustDo(t, http.StatusOK, "GET", "/v2/users/"+got.GetUserId(), nil)["user"].(map[string]any)
			if u["username"] != "rpc-"+p.name || u["details"].(map[string]any)["resourceOwner"] != e.other {
				t.Fatalf("the user added over RPC reads %v", u)
			}

			// A chosen user ID (proto3 optional user_id, REST userId).
			restID, rpcID := "chosen-rest-"+p.name, "chosen-rpc-"+p.name
			got, _ = both[managementv1.AddMachineUserRequest, managementv1.AddMachineUserResponse](t, e.Env, p, mgmtSvc+"AddMachineUser",
				"POST", "/management/v1/users/machine", map[string]any{"userId": restID, "userName": restID, "name": "M"},
				&managementv1.AddMachineUserRequest{UserId: proto.String(rpcID), UserName: rpcID, Name: "M"}, append([]string{"user_id"}, writeVolatile...), other...)
			if got.GetUserId() != rpcID {
				t.Fatalf("user_id %q chose %q", rpcID, got.GetUserId())
			}
			e.MustDo(t, http.StatusOK, "GET", "/v2/users/"+rpcID, nil)

			for _, tc := range []struct {
				name    string
				body    map[string]any
				req     *managementv1.AddMachineUserRequest
				headers []string
			}{
				{"user ID taken", map[string]any{"userId": rpcID, "userName": "fresh-" + p.name, "name": "M"},
					&managementv1.AddMachineUserRequest{UserId: proto.String(rpcID), UserName: "fresh-" + p.name, Name: "M"}, other},
				{"empty user ID is generated, user name taken", map[string]any{"userId": "", "userName": rpcID, "name": "M"},
					&managementv1.AddMachineUserRequest{UserId: proto.String(""), UserName: rpcID, Name: "M"}, other},
				{"user ID over 200", map[string]any{"userId": fmt.Sprintf("%0201d", 1), "userName": "x", "name": "M"},
					&managementv1.AddMachineUserRequest{UserId: proto.String(fmt.Sprintf("%0201d", 1)), UserName: "x", Name: "M"}, other},
				{"empty user name", map[string]any{"name": "M"}, &managementv1.AddMachineUserRequest{Name: "M"}, other},
				{"empty name", map[string]any{"userName": "x"}, &managementv1.AddMachineUserRequest{UserName: "x"}, other},
				{"x-zitadel-orgid missing org", map[string]any{"userName": "x", "name": "M"}, &managementv1.AddMachineUserRequest{UserName: "x", Name: "M"}, []string{"x-zitadel-orgid", "nope"}},
				{"no role", map[string]any{"userName": "x", "name": "M"}, &managementv1.AddMachineUserRequest{UserName: "x", Name: "M"}, as(e.nobody)},
				{"other org's owner", map[string]any{"userName": "x", "name": "M"}, &managementv1.AddMachineUserRequest{UserName: "x", Name: "M"}, as(e.outsid, "x-zitadel-orgid", e.DefaultOrgID)},
			} {
				t.Run(tc.name, func(t *testing.T) {
					both[managementv1.AddMachineUserRequest, managementv1.AddMachineUserResponse](t, e.Env, p, mgmtSvc+"AddMachineUser",
						"POST", "/management/v1/users/machine", tc.body, tc.req, nil, tc.headers...)
				})
			}
		})
	}
}

// TestPersonalAccessTokens: the token comes back once over RPC as over
// REST, works, and stops working once removed over RPC.
func TestPersonalAccessTokens(t *testing.T) {
	e := newIdentityEnv(t)
	other := []string{"x-zitadel-orgid", e.other}
	machine := func(t *testing.T) string {
		return e.MustDo(t, http.StatusOK, "POST", "/management/v1/users/machine",
			map[string]any{"userName": fmt.Sprint("m", time.Now().UnixNano()), "name": "M"}, other...)["userId"].(string)
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			restUser, rpcUser := machine(t), machine(t)
			exp := time.Now().Add(time.Hour).UTC()
			got, _ := both[managementv1.AddPersonalAccessTokenRequest, managementv1.AddPersonalAccessTokenResponse](t, e.Env, p, mgmtSvc+"AddPersonalAccessToken",
				"POST", "/management/v1/users/"+restUser+"/pats", map[string]any{"expirationDate": exp.Format(time.RFC3339Nano)},
				&managementv1.AddPersonalAccessTokenRequest{UserId: rpcUser, ExpirationDate: timestamppb.New(exp)},
				append([]string{"token_id", "token"}, writeVolatile...), other...)
			if got.GetToken() == "" || got.GetTokenId() == "" {
				t.Fatalf("no token: %v", got)
			}
			me := e.MustDo(t, http.StatusOK, "GET", "/auth/v1/users/me", nil, as(got.GetToken())...)
			if me["user"].(map[string]any)["id"] != rpcUser {
				t.Fatalf("the RPC's token is %v", me)
			}
			for _, tc := range []struct {
				name, user string
				exp        time.Time
				headers    []string
			}{
				{"expired", rpcUser, time.Now().Add(-time.Hour), other},
				{"no such user", "nope", time.Time{}, other},
				{"user of another org", rpcUser, time.Time{}, nil},
				{"x-zitadel-orgid missing org", rpcUser, time.Time{}, []string{"x-zitadel-orgid", "nope"}},
				{"no role", rpcUser, time.Time{}, as(e.nobody, other...)},
			} {
				t.Run(tc.name, func(t *testing.T) {
					body, req := map[string]any{}, &managementv1.AddPersonalAccessTokenRequest{UserId: tc.user}
					if !tc.exp.IsZero() {
						body["expirationDate"], req.ExpirationDate = tc.exp.UTC().Format(time.RFC3339Nano), timestamppb.New(tc.exp)
					}
					both[managementv1.AddPersonalAccessTokenRequest, managementv1.AddPersonalAccessTokenResponse](t, e.Env, p, mgmtSvc+"AddPersonalAccessToken",
						"POST", "/management/v1/users/"+tc.user+"/pats", body, req, nil, tc.headers...)
				})
			}

			restPAT := e.MustDo(t, http.StatusOK, "POST", "/management/v1/users/"+restUser+"/pats", map[string]any{}, other...)["tokenId"].(string)
			both[managementv1.RemovePersonalAccessTokenRequest, managementv1.RemovePersonalAccessTokenResponse](t, e.Env, p, mgmtSvc+"RemovePersonalAccessToken",
				"DELETE", "/management/v1/users/"+restUser+"/pats/"+restPAT, nil,
				&managementv1.RemovePersonalAccessTokenRequest{UserId: rpcUser, TokenId: got.GetTokenId()}, writeVolatile, other...)
			if status, _ := e.Do(t, "GET", "/auth/v1/users/me", nil, as(got.GetToken())...); status != http.StatusUnauthorized {
				t.Fatalf("the token removed over RPC answers %d", status)
			}
			for _, tc := range []struct {
				name, user, token string
				headers           []string
			}{
				{"removed already", rpcUser, got.GetTokenId(), other},
				{"no such user", "nope", "nope", other},
				{"x-zitadel-orgid missing org", rpcUser, got.GetTokenId(), []string{"x-zitadel-orgid", "nope"}},
				{"no role", rpcUser, got.GetTokenId(), as(e.nobody, other...)},
			} {
				t.Run("remove/"+tc.name, func(t *testing.T) {
					both[managementv1.RemovePersonalAccessTokenRequest, managementv1.RemovePersonalAccessTokenResponse](t, e.Env, p, mgmtSvc+"RemovePersonalAccessToken",
						"DELETE", "/management/v1/users/"+tc.user+"/pats/"+tc.token, nil,
						&managementv1.RemovePersonalAccessTokenRequest{UserId: tc.user, TokenId: tc.token}, nil, tc.headers...)
				})
			}
		})
	}
}

// memberRow is an AddOrgMember or AddIAMMember request that fails.
type memberRow struct {
	name, user string
	roles      []string
	headers    []string
}

// addMember is AddOrgMember or AddIAMMember (procedure, REST path) over p:
// REST and RPC each make a new machine of org a member with role, the
// RPC's member may call check (GET, with headers) at once (the token cache
// is dropped as REST drops it), then rows, made with the two machines
// (rest, rpc), fail alike over both.
func addMember[Req, Res any](t *testing.T, e identityEnv, p protocol, procedure, path string, newReq func(user string, roles []string) *Req,
	org, role, check string, headers []string, rows func(rest, rpc string) []memberRow) {
	t.Helper()
	restUser, _ := e.CreateMachineWithPAT(t, org)
	rpcUser, rpcPAT := e.CreateMachineWithPAT(t, org)
	both[Req, Res](t, e.Env, p, procedure, "POST", path, map[string]any{"userId": restUser, "roles": []string{role}},
		newReq(rpcUser, []string{role}), writeVolatile, headers...)
	e.MustDo(t, http.StatusOK, "GET", check, nil, as(rpcPAT, headers...)...)
	for _, tc := range rows(restUser, rpcUser) {
		t.Run(tc.name, func(t *testing.T) {
			both[Req, Res](t, e.Env, p, procedure, "POST", path, map[string]any{"userId": tc.user, "roles": tc.roles},
				newReq(tc.user, tc.roles), nil, tc.headers...)
		})
	}
}

func TestMembers(t *testing.T) {
	e := newIdentityEnv(t)
	other := []string{"x-zitadel-orgid", e.other}
	for _, p := range protocols {
		t.Run(p.name+"/AddOrgMember", func(t *testing.T) {
			addMember[managementv1.AddOrgMemberRequest, managementv1.AddOrgMemberResponse](t, e, p, mgmtSvc+"AddOrgMember", "/management/v1/orgs/me/members",
				func(user string, roles []string) *managementv1.AddOrgMemberRequest {
					return &managementv1.AddOrgMemberRequest{UserId: user, Roles: roles}
				}, e.other, "ORG_OWNER", "/management/v1/orgs/me", other, func(restUser, rpcUser string) []memberRow {
					return []memberRow{
						{"member already", rpcUser, []string{"ORG_OWNER"}, other},
						{"no such user", "nope", []string{"ORG_OWNER"}, other},
						{"unknown role", restUser, []string{"NOPE"}, other},
						{"x-zitadel-orgid missing org", rpcUser, []string{"ORG_OWNER"}, []string{"x-zitadel-orgid", "nope"}},
						{"no role", rpcUser, []string{"ORG_OWNER"}, as(e.nobody, other...)},
					}
				})
		})
		t.Run(p.name+"/AddIAMMember", func(t *testing.T) {
			addMember[adminv1.AddIAMMemberRequest, adminv1.AddIAMMemberResponse](t, e, p, adminSvc+"AddIAMMember", "/admin/v1/members",
				func(user string, roles []string) *adminv1.AddIAMMemberRequest {
					return &adminv1.AddIAMMemberRequest{UserId: user, Roles: roles}
				}, e.DefaultOrgID, "IAM_OWNER_VIEWER", "/admin/v1/policies/login", nil, func(restUser, rpcUser string) []memberRow {
					return []memberRow{
						{"member already", rpcUser, []string{"IAM_OWNER_VIEWER"}, nil},
						{"no such user", "nope", []string{"IAM_OWNER"}, nil},
						{"unknown role", restUser, []string{"NOPE"}, nil},
						{"no role", rpcUser, []string{"IAM_OWNER"}, as(e.nobody)},
						{"org owner", rpcUser, []string{"IAM_OWNER"}, as(e.outsid)},
					}
				})
		})
	}
}
