package rpc_test

import (
	"net/http"
	"testing"

	"google.golang.org/protobuf/types/known/durationpb"

	adminv1 "github.com/idledger/idledger/gen/zitadel/admin/v1"
	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
	policyv1 "github.com/idledger/idledger/gen/zitadel/policy/v1"
)

// TestUpdateLoginPolicies: admin UpdateLoginPolicy and management
// UpdateCustomLoginPolicy against PUT /…/policies/login. On success REST and
// RPC send different redirect URIs (an unchanged policy is an error), and
// REST reads the RPC's change back; the error rows are the same request
// over both.
func TestUpdateLoginPolicies(t *testing.T) {
	e := newPolicyEnv(t)
	rest := func(uri string) map[string]any {
		return map[string]any{"allowUsernamePassword": true, "allowRegister": true, "allowExternalIdp": true,
			"passwordlessType": "PASSWORDLESS_TYPE_ALLOWED", "passwordCheckLifetime": "864000s", "multiFactorCheckLifetime": "1.500s",
			"forceMfaLocalOnly": true, "disableLoginWithPhone": true, "defaultRedirectUri": uri}
	}
	switches := func(uri string) (bool, policyv1.PasswordlessType, *durationpb.Duration, *durationpb.Duration, string) {
		return true, policyv1.PasswordlessType_PASSWORDLESS_TYPE_ALLOWED, durationpb.New(864000e9), durationpb.New(1500e6), uri
	}
	adminReq := func(uri string) *adminv1.UpdateLoginPolicyRequest {
		on, pl, pc, mf, u := switches(uri)
		return &adminv1.UpdateLoginPolicyRequest{AllowUsernamePassword: on, AllowRegister: on, AllowExternalIdp: on, PasswordlessType: pl,
			PasswordCheckLifetime: pc, MultiFactorCheckLifetime: mf, ForceMfaLocalOnly: on, DisableLoginWithPhone: on, DefaultRedirectUri: u}
	}
	mgmtReq := func(uri string) *managementv1.UpdateCustomLoginPolicyRequest {
		on, pl, pc, mf, u := switches(uri)
		return &managementv1.UpdateCustomLoginPolicyRequest{AllowUsernamePassword: on, AllowRegister: on, AllowExternalIdp: on, PasswordlessType: pl,
			PasswordCheckLifetime: pc, MultiFactorCheckLifetime: mf, ForceMfaLocalOnly: on, DisableLoginWithPhone: on, DefaultRedirectUri: u}
	}
	readURI := func(t *testing.T, path string, h ...string) map[string]any {
		t.Helper()
		return e.MustDo(t, http.StatusOK, "GET", path, nil, h...)["policy"].(map[string]any)
	}
	for _, p := range protocols {
		t.Run(p.name+"/admin", func(t *testing.T) {
			restURI, rpcURI := "https://rest.example/"+p.name, "https://rpc.example/"+p.name
			bothOn[adminv1.UpdateLoginPolicyRequest, adminv1.UpdateLoginPolicyResponse](t, e.Env, p, adminSvc+"UpdateLoginPolicy",
				"PUT", "/admin/v1/policies/login", rest(restURI), nil, adminReq(rpcURI), nil, writeVolatile)
			pol := readURI(t, "/admin/v1/policies/login")
			if pol["defaultRedirectUri"] != rpcURI || pol["multiFactorCheckLifetime"] != "1.500s" || pol["disableLoginWithPhone"] != true {
				t.Fatalf("REST reads %v after the RPC update", pol)
			}
			for _, tc := range []struct {
				name    string
				uri     string
				headers []string
			}{
				{"unchanged", rpcURI, nil},
				{"bad redirect URI", "https://", nil},
				{"no role", "https://x.example", as(e.nobody)},
				{"org owner", "https://x.example", as(e.outsid)},
				{"unauthenticated", "https://x.example", []string{"Authorization", ""}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					both[adminv1.UpdateLoginPolicyRequest, adminv1.UpdateLoginPolicyResponse](t, e.Env, p, adminSvc+"UpdateLoginPolicy",
						"PUT", "/admin/v1/policies/login", rest(tc.uri), adminReq(tc.uri), nil, tc.headers...)
				})
			}
		})
		t.Run(p.name+"/management", func(t *testing.T) {
			custom := []string{"x-zitadel-orgid", e.custom}
			restURI, rpcURI := "https://rest.example/"+p.name, "https://rpc.example/"+p.name
			bothOn[managementv1.UpdateCustomLoginPolicyRequest, managementv1.UpdateCustomLoginPolicyResponse](t, e.Env, p, mgmtSvc+"UpdateCustomLoginPolicy",
				"PUT", "/management/v1/policies/login", rest(restURI), custom, mgmtReq(rpcURI), custom, writeVolatile)
			pol := readURI(t, "/management/v1/policies/login", custom...)
			if pol["defaultRedirectUri"] != rpcURI || pol["secondFactors"].([]any)[0] != "SECOND_FACTOR_TYPE_OTP" {
				t.Fatalf("REST reads %v after the RPC update", pol)
			}
			for _, tc := range []struct {
				name    string
				uri     string
				headers []string
			}{
				{"unchanged", rpcURI, custom},
				{"bad redirect URI", "relative", custom},
				{"org without a custom policy", "https://x.example", []string{"x-zitadel-orgid", e.plain}},
				{"x-zitadel-orgid missing org", "https://x.example", []string{"x-zitadel-orgid", "nope"}},
				{"no role", "https://x.example", as(e.nobody, custom...)},
				{"other org's owner", "https://x.example", as(e.outsid, custom...)},
			} {
				t.Run(tc.name, func(t *testing.T) {
					both[managementv1.UpdateCustomLoginPolicyRequest, managementv1.UpdateCustomLoginPolicyResponse](t, e.Env, p, mgmtSvc+"UpdateCustomLoginPolicy",
						"PUT", "/management/v1/policies/login", rest(tc.uri), mgmtReq(tc.uri), nil, tc.headers...)
				})
			}
		})
	}
}
