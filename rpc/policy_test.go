package rpc_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/durationpb"

	adminv1 "github.com/idledger/idledger/gen/zitadel/admin/v1"
	idpv1 "github.com/idledger/idledger/gen/zitadel/idp/v1"
	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
	policyv1 "github.com/idledger/idledger/gen/zitadel/policy/v1"
	zitadelv1 "github.com/idledger/idledger/gen/zitadel/v1"
)

const (
	adminSvc = "/zitadel.admin.v1.AdminService/"
	mgmtSvc  = "/zitadel.management.v1.ManagementService/"
)

// policyEnv is an identityEnv (its callers short of the policy roles: one
// with no role at all, NotFound AUTHZ-cdgFk, and the owner of plain,
// PermissionDenied) with two instance IdPs on the default policy, and an
// org with a custom policy holding one of them and an org IdP.
type policyEnv struct {
	identityEnv
	instIDPs      []string
	custom, plain string // orgs with and without a custom policy
	orgIDP        string // an IdP of custom
}

func newPolicyEnv(t *testing.T) policyEnv {
	e := policyEnv{identityEnv: newIdentityEnv(t)}
	env := e.Env
	for i := range 2 {
		m := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/generic_oidc", map[string]any{"name": fmt.Sprintf("OIDC %d", i),
			"issuer": "https://issuer.example", "clientId": "c", "clientSecret": "s"})
		e.instIDPs = append(e.instIDPs, m["id"].(string))
		env.MustDo(t, http.StatusOK, "POST", "/admin/v1/policies/login/idps", map[string]any{"idpId": e.instIDPs[i]})
	}
	e.custom, e.plain = env.CreateOrg(t, "custom"), e.other
	h := []string{"x-zitadel-orgid", e.custom}
	e.orgIDP = env.MustDo(t, http.StatusOK, "POST", "/management/v1/idps/google", map[string]any{"clientId": "c", "clientSecret": "s"}, h...)["id"].(string)
	env.MustDo(t, http.StatusOK, "POST", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"passwordCheckLifetime": "3600s", "secondFactors": []string{"SECOND_FACTOR_TYPE_OTP"},
		"idps": []any{map[string]any{"idpId": e.instIDPs[0], "ownerType": "IDP_OWNER_TYPE_SYSTEM"}}}, h...)
	return e
}

func TestLoginPolicyReads(t *testing.T) {
	e := newPolicyEnv(t)
	for _, p := range protocols {
		for _, tc := range append(e.instanceCallers(), caller{"unauthenticated", []string{"Authorization", ""}}) {
			t.Run(p.name+"/admin/"+tc.name, func(t *testing.T) {
				both[adminv1.GetLoginPolicyRequest, adminv1.GetLoginPolicyResponse](t, e.Env, p, adminSvc+"GetLoginPolicy",
					"GET", "/admin/v1/policies/login", nil, &adminv1.GetLoginPolicyRequest{}, nil, tc.headers...)
				both[adminv1.ListLoginPolicyIDPsRequest, adminv1.ListLoginPolicyIDPsResponse](t, e.Env, p, adminSvc+"ListLoginPolicyIDPs",
					"POST", "/admin/v1/policies/login/idps/_search", map[string]any{"query": map[string]any{"limit": 1, "offset": 1}},
					&adminv1.ListLoginPolicyIDPsRequest{Query: &zitadelv1.ListQuery{Limit: 1, Offset: 1}}, listVolatile, tc.headers...)
			})
		}
		t.Run(p.name+"/admin/limit over 1000", func(t *testing.T) {
			both[adminv1.ListLoginPolicyIDPsRequest, adminv1.ListLoginPolicyIDPsResponse](t, e.Env, p, adminSvc+"ListLoginPolicyIDPs",
				"POST", "/admin/v1/policies/login/idps/_search", map[string]any{"query": map[string]any{"limit": 1001}},
				&adminv1.ListLoginPolicyIDPsRequest{Query: &zitadelv1.ListQuery{Limit: 1001}}, listVolatile)
		})
		for _, tc := range []caller{
			{"own org (default policy)", nil},
			{"x-zitadel-orgid custom", []string{"x-zitadel-orgid", e.custom}},
			{"x-zitadel-orgid plain", []string{"x-zitadel-orgid", e.plain}},
			{"x-zitadel-orgid missing org", []string{"x-zitadel-orgid", "nope"}},
			{"no role", as(e.nobody)},
			{"other org's owner", as(e.outsid, "x-zitadel-orgid", e.custom)},
			{"limit over 1000", nil},
		} {
			t.Run(p.name+"/management/"+tc.name, func(t *testing.T) {
				limit := uint32(0)
				if tc.name == "limit over 1000" {
					limit = 1001
				}
				both[managementv1.GetLoginPolicyRequest, managementv1.GetLoginPolicyResponse](t, e.Env, p, mgmtSvc+"GetLoginPolicy",
					"GET", "/management/v1/policies/login", nil, &managementv1.GetLoginPolicyRequest{}, nil, tc.headers...)
				res, _ := both[managementv1.ListLoginPolicyIDPsRequest, managementv1.ListLoginPolicyIDPsResponse](t, e.Env, p, mgmtSvc+"ListLoginPolicyIDPs",
					"POST", "/management/v1/policies/login/idps/_search", map[string]any{"query": map[string]any{"limit": limit}},
					&managementv1.ListLoginPolicyIDPsRequest{Query: &zitadelv1.ListQuery{Limit: limit}}, listVolatile, tc.headers...)
				if tc.name == "x-zitadel-orgid custom" && (len(res.GetResult()) != 1 || res.GetResult()[0].GetIdpId() != e.instIDPs[0]) {
					t.Fatalf("custom policy's IdPs: %v", res)
				}
			})
		}
	}
}

// TestAddIDPToLoginPolicy is AddIDPToLoginPolicy on both services with
// x-zitadel-orgid: each protocol links one IdP over REST and another over
// RPC, then REST reads the RPC's link back; the error rows are the same
// request over both.
func TestAddIDPToLoginPolicy(t *testing.T) {
	e := newPolicyEnv(t)
	newIDP := func(t *testing.T, org string) string {
		prefix, h := "/admin/v1", []string(nil)
		if org != "" {
			prefix, h = "/management/v1", []string{"x-zitadel-orgid", org}
		}
		return e.MustDo(t, http.StatusOK, "POST", prefix+"/idps/google", map[string]any{"clientId": "c", "clientSecret": "s"}, h...)["id"].(string)
	}
	linked := func(t *testing.T, path, id string, h ...string) {
		t.Helper()
		m := e.MustDo(t, http.StatusOK, "POST", path, map[string]any{"query": map[string]any{"limit": 1000}}, h...)
		for _, r := range m["result"].([]any) {
			if r.(map[string]any)["idpId"] == id {
				return
			}
		}
		t.Fatalf("%s does not list %s: %v", path, id, m)
	}
	custom := []string{"x-zitadel-orgid", e.custom}
	for _, p := range protocols {
		t.Run(p.name+"/admin", func(t *testing.T) {
			restID, rpcID := newIDP(t, ""), newIDP(t, "")
			both[adminv1.AddIDPToLoginPolicyRequest, adminv1.AddIDPToLoginPolicyResponse](t, e.Env, p, adminSvc+"AddIDPToLoginPolicy",
				"POST", "/admin/v1/policies/login/idps", map[string]any{"idpId": restID}, &adminv1.AddIDPToLoginPolicyRequest{IdpId: rpcID}, writeVolatile)
			linked(t, "/admin/v1/policies/login/idps/_search", rpcID)
			for _, tc := range []struct {
				name, id string
				headers  []string
			}{
				{"linked already", rpcID, nil},
				{"no such IdP", "nope", nil},
				{"an org's IdP", e.orgIDP, nil},
				{"empty idpId", "", nil},
				{"idpId over 200", strings.Repeat("9", 201), nil},
				{"no role", rpcID, as(e.nobody)},
				{"org owner", rpcID, as(e.outsid)},
			} {
				both[adminv1.AddIDPToLoginPolicyRequest, adminv1.AddIDPToLoginPolicyResponse](t, e.Env, p, adminSvc+"AddIDPToLoginPolicy",
					"POST", "/admin/v1/policies/login/idps", map[string]any{"idpId": tc.id}, &adminv1.AddIDPToLoginPolicyRequest{IdpId: tc.id}, nil, tc.headers...)
			}
		})
		t.Run(p.name+"/management with x-zitadel-orgid", func(t *testing.T) {
			restID, rpcID := newIDP(t, e.custom), newIDP(t, e.custom)
			org := func(id string) map[string]any { return map[string]any{"idpId": id, "ownerType": "IDP_OWNER_TYPE_ORG"} }
			orgReq := func(id string) *managementv1.AddIDPToLoginPolicyRequest {
				return &managementv1.AddIDPToLoginPolicyRequest{IdpId: id, OwnerType: idpv1.IDPOwnerType_IDP_OWNER_TYPE_ORG}
			}
			both[managementv1.AddIDPToLoginPolicyRequest, managementv1.AddIDPToLoginPolicyResponse](t, e.Env, p, mgmtSvc+"AddIDPToLoginPolicy",
				"POST", "/management/v1/policies/login/idps", org(restID), orgReq(rpcID), writeVolatile, custom...)
			linked(t, "/management/v1/policies/login/idps/_search", rpcID, custom...)
			for _, tc := range []struct {
				name    string
				body    map[string]any
				req     *managementv1.AddIDPToLoginPolicyRequest
				headers []string
			}{
				{"linked already", org(rpcID), orgReq(rpcID), custom},
				{"system IdP linked already", map[string]any{"idpId": e.instIDPs[0], "ownerType": 1},
					&managementv1.AddIDPToLoginPolicyRequest{IdpId: e.instIDPs[0], OwnerType: idpv1.IDPOwnerType_IDP_OWNER_TYPE_SYSTEM}, custom},
				{"org IdP as system", map[string]any{"idpId": e.orgIDP, "ownerType": "IDP_OWNER_TYPE_SYSTEM"},
					&managementv1.AddIDPToLoginPolicyRequest{IdpId: e.orgIDP, OwnerType: idpv1.IDPOwnerType_IDP_OWNER_TYPE_SYSTEM}, custom},
				{"no such IdP", org("nope"), orgReq("nope"), custom},
				{"owner type unspecified", map[string]any{"idpId": rpcID}, &managementv1.AddIDPToLoginPolicyRequest{IdpId: rpcID}, custom},
				{"owner type undefined", map[string]any{"idpId": rpcID, "ownerType": 9}, &managementv1.AddIDPToLoginPolicyRequest{IdpId: rpcID, OwnerType: 9}, custom},
				{"empty idpId", org(""), orgReq(""), custom},
				{"org without a custom policy", org(rpcID), orgReq(rpcID), []string{"x-zitadel-orgid", e.plain}},
				{"x-zitadel-orgid missing org", org(rpcID), orgReq(rpcID), []string{"x-zitadel-orgid", "nope"}},
				{"no role", org(rpcID), orgReq(rpcID), as(e.nobody, custom...)},
				{"other org's owner", org(rpcID), orgReq(rpcID), as(e.outsid, custom...)},
			} {
				t.Run(tc.name, func(t *testing.T) {
					both[managementv1.AddIDPToLoginPolicyRequest, managementv1.AddIDPToLoginPolicyResponse](t, e.Env, p, mgmtSvc+"AddIDPToLoginPolicy",
						"POST", "/management/v1/policies/login/idps", tc.body, tc.req, nil, tc.headers...)
				})
			}
		})
	}
}

func TestRemoveIDPFromLoginPolicy(t *testing.T) {
	e := newPolicyEnv(t)
	custom := []string{"x-zitadel-orgid", e.custom}
	for _, p := range protocols {
		t.Run(p.name+"/admin", func(t *testing.T) {
			var ids []string
			for range 2 {
				id := e.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/google", map[string]any{"clientId": "c", "clientSecret": "s"})["id"].(string)
				e.MustDo(t, http.StatusOK, "POST", "/admin/v1/policies/login/idps", map[string]any{"idpId": id})
				ids = append(ids, id)
			}
			both[adminv1.RemoveIDPFromLoginPolicyRequest, adminv1.RemoveIDPFromLoginPolicyResponse](t, e.Env, p, adminSvc+"RemoveIDPFromLoginPolicy",
				"DELETE", "/admin/v1/policies/login/idps/"+ids[0], nil, &adminv1.RemoveIDPFromLoginPolicyRequest{IdpId: ids[1]}, writeVolatile)
			for _, tc := range []struct {
				name, id string
				headers  []string
			}{
				{"not linked", ids[1], nil},
				{"no such IdP", "nope", nil},
				{"no role", e.instIDPs[1], as(e.nobody)},
				{"org owner", e.instIDPs[1], as(e.outsid)},
			} {
				t.Run(tc.name, func(t *testing.T) {
					both[adminv1.RemoveIDPFromLoginPolicyRequest, adminv1.RemoveIDPFromLoginPolicyResponse](t, e.Env, p, adminSvc+"RemoveIDPFromLoginPolicy",
						"DELETE", "/admin/v1/policies/login/idps/"+tc.id, nil, &adminv1.RemoveIDPFromLoginPolicyRequest{IdpId: tc.id}, nil, tc.headers...)
				})
			}
		})
		t.Run(p.name+"/management", func(t *testing.T) {
			var ids []string
			for range 2 {
				id := e.MustDo(t, http.StatusOK, "POST", "/management/v1/idps/google", map[string]any{"clientId": "c", "clientSecret": "s"}, custom...)["id"].(string)
				e.MustDo(t, http.StatusOK, "POST", "/management/v1/policies/login/idps", map[string]any{"idpId": id, "ownerType": 2}, custom...)
				ids = append(ids, id)
			}
			both[managementv1.RemoveIDPFromLoginPolicyRequest, managementv1.RemoveIDPFromLoginPolicyResponse](t, e.Env, p, mgmtSvc+"RemoveIDPFromLoginPolicy",
				"DELETE", "/management/v1/policies/login/idps/"+ids[0], nil, &managementv1.RemoveIDPFromLoginPolicyRequest{IdpId: ids[1]}, writeVolatile, custom...)
			m := e.MustDo(t, http.StatusOK, "POST", "/management/v1/policies/login/idps/_search", map[string]any{}, custom...)
			if strings.Contains(fmt.Sprint(m["result"]), ids[1]) {
				t.Fatalf("RPC removal not seen by REST: %v", m)
			}
			for _, tc := range []struct {
				name, id string
				headers  []string
			}{
				{"not linked", ids[1], custom},
				{"org without a custom policy", ids[1], []string{"x-zitadel-orgid", e.plain}},
				{"x-zitadel-orgid missing org", ids[1], []string{"x-zitadel-orgid", "nope"}},
				{"no role", e.instIDPs[0], as(e.nobody, custom...)},
				{"other org's owner", e.instIDPs[0], as(e.outsid, custom...)},
			} {
				t.Run(tc.name, func(t *testing.T) {
					both[managementv1.RemoveIDPFromLoginPolicyRequest, managementv1.RemoveIDPFromLoginPolicyResponse](t, e.Env, p, mgmtSvc+"RemoveIDPFromLoginPolicy",
						"DELETE", "/management/v1/policies/login/idps/"+tc.id, nil, &managementv1.RemoveIDPFromLoginPolicyRequest{IdpId: tc.id}, nil, tc.headers...)
				})
			}
		})
	}
}

// TestCustomLoginPolicy: AddCustomLoginPolicy and ResetLoginPolicyToDefault,
// each protocol on its own pair of orgs (one written over REST, one over
// RPC), the RPC's policy read back over REST.
func TestCustomLoginPolicy(t *testing.T) {
	e := newPolicyEnv(t)
	body := map[string]any{"allowUsernamePassword": true, "allowRegister": true, "forceMfa": true,
		"passwordlessType": "PASSWORDLESS_TYPE_ALLOWED", "defaultRedirectUri": "https://app.example/",
		"passwordCheckLifetime": "7200s", "mfaInitSkipLifetime": "0s", "secondFactors": []string{"SECOND_FACTOR_TYPE_U2F", "SECOND_FACTOR_TYPE_OTP"},
		"multiFactors": []string{"MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"}, "allowDomainDiscovery": true, "forceMfaLocalOnly": true,
		"idps": []any{map[string]any{"idpId": e.instIDPs[1], "ownerType": "IDP_OWNER_TYPE_SYSTEM"}}}
	req := func() *managementv1.AddCustomLoginPolicyRequest {
		return &managementv1.AddCustomLoginPolicyRequest{AllowUsernamePassword: true, AllowRegister: true, ForceMfa: true,
			PasswordlessType: policyv1.PasswordlessType_PASSWORDLESS_TYPE_ALLOWED, DefaultRedirectUri: "https://app.example/",
			PasswordCheckLifetime: durationpb.New(7200e9), MfaInitSkipLifetime: durationpb.New(0),
			SecondFactors: []policyv1.SecondFactorType{policyv1.SecondFactorType_SECOND_FACTOR_TYPE_U2F, policyv1.SecondFactorType_SECOND_FACTOR_TYPE_OTP},
			MultiFactors:  []policyv1.MultiFactorType{policyv1.MultiFactorType_MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION}, AllowDomainDiscovery: true, ForceMfaLocalOnly: true,
			Idps: []*managementv1.AddCustomLoginPolicyRequest_IDP{{IdpId: e.instIDPs[1], OwnerType: idpv1.IDPOwnerType_IDP_OWNER_TYPE_SYSTEM}}}
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			restOrg, rpcOrg := e.CreateOrg(t, "rest "+p.name), e.CreateOrg(t, "rpc "+p.name)
			restH, rpcH := []string{"x-zitadel-orgid", restOrg}, []string{"x-zitadel-orgid", rpcOrg}
			// REST and RPC write different orgs; the policies read back
			// must agree too.
			got, _ := bothOn[managementv1.AddCustomLoginPolicyRequest, managementv1.AddCustomLoginPolicyResponse](t, e.Env, p, mgmtSvc+"AddCustomLoginPolicy",
				"POST", "/management/v1/policies/login", body, restH, req(), rpcH, orgVolatile)
			if got.GetDetails().GetResourceOwner() != rpcOrg {
				t.Fatalf("RPC add: %v", got)
			}
			restPol := e.MustDo(t, http.StatusOK, "GET", "/management/v1/policies/login", nil, restH...)["policy"].(map[string]any)
			rpcPol := e.MustDo(t, http.StatusOK, "GET", "/management/v1/policies/login", nil, rpcH...)["policy"].(map[string]any)
			delete(restPol, "details")
			delete(rpcPol, "details")
			if fmt.Sprint(restPol) != fmt.Sprint(rpcPol) {
				t.Fatalf("the policy written over RPC reads %v, over REST %v", rpcPol, restPol)
			}
			for _, tc := range []struct {
				name    string
				body    any
				req     *managementv1.AddCustomLoginPolicyRequest
				headers []string
			}{
				{"exists already", body, req(), rpcH},
				{"bad redirect URI", map[string]any{"defaultRedirectUri": "no scheme"}, &managementv1.AddCustomLoginPolicyRequest{DefaultRedirectUri: "no scheme"}, []string{"x-zitadel-orgid", e.plain}},
				{"IdP entry without id", map[string]any{"idps": []any{map[string]any{"ownerType": 1}}},
					&managementv1.AddCustomLoginPolicyRequest{Idps: []*managementv1.AddCustomLoginPolicyRequest_IDP{{OwnerType: 1}}}, []string{"x-zitadel-orgid", e.plain}},
				{"no such IdP", map[string]any{"idps": []any{map[string]any{"idpId": "nope", "ownerType": 1}}},
					&managementv1.AddCustomLoginPolicyRequest{Idps: []*managementv1.AddCustomLoginPolicyRequest_IDP{{IdpId: "nope", OwnerType: 1}}}, []string{"x-zitadel-orgid", e.plain}},
				{"x-zitadel-orgid missing org", body, req(), []string{"x-zitadel-orgid", "nope"}},
				{"no role", body, req(), as(e.nobody)},
				{"other org's owner", body, req(), as(e.outsid, rpcH...)},
			} {
				t.Run(tc.name, func(t *testing.T) {
					both[managementv1.AddCustomLoginPolicyRequest, managementv1.AddCustomLoginPolicyResponse](t, e.Env, p, mgmtSvc+"AddCustomLoginPolicy",
						"POST", "/management/v1/policies/login", tc.body, tc.req, nil, tc.headers...)
				})
			}

			bothOn[managementv1.ResetLoginPolicyToDefaultRequest, managementv1.ResetLoginPolicyToDefaultResponse](t, e.Env, p, mgmtSvc+"ResetLoginPolicyToDefault",
				"DELETE", "/management/v1/policies/login", nil, restH, &managementv1.ResetLoginPolicyToDefaultRequest{}, rpcH, orgVolatile)
			if m := e.MustDo(t, http.StatusOK, "GET", "/management/v1/policies/login", nil, rpcH...); m["isDefault"] != true {
				t.Fatalf("after the RPC reset REST reads %v", m)
			}
			for _, tc := range []caller{
				{"no custom policy", rpcH},
				{"x-zitadel-orgid missing org", []string{"x-zitadel-orgid", "nope"}},
				{"no role", as(e.nobody)},
				{"other org's owner", as(e.outsid, "x-zitadel-orgid", e.custom)},
			} {
				t.Run("reset/"+tc.name, func(t *testing.T) {
					both[managementv1.ResetLoginPolicyToDefaultRequest, managementv1.ResetLoginPolicyToDefaultResponse](t, e.Env, p, mgmtSvc+"ResetLoginPolicyToDefault",
						"DELETE", "/management/v1/policies/login", nil, &managementv1.ResetLoginPolicyToDefaultRequest{}, nil, tc.headers...)
				})
			}
		})
	}
}
