package rpc_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	adminv1 "github.com/idledger/idledger/gen/zitadel/admin/v1"
	instancev1 "github.com/idledger/idledger/gen/zitadel/instance/v1"
	zitadelv1 "github.com/idledger/idledger/gen/zitadel/v1"
)

// TestOIDCSettings: GetOIDCSettings, AddOIDCSettings, UpdateOIDCSettings
// against /admin/v1/settings/oidc, each protocol on an instance of its own
// (the settings are one per instance).
func TestOIDCSettings(t *testing.T) {
	body := func(at string) map[string]any {
		return map[string]any{"accessTokenLifetime": at, "idTokenLifetime": "7200s", "refreshTokenIdleExpiration": "86400s", "refreshTokenExpiration": "172800s"}
	}
	lifetimes := func(at time.Duration) (a, i, ri, r *durationpb.Duration) {
		return durationpb.New(at), durationpb.New(2 * time.Hour), durationpb.New(24 * time.Hour), durationpb.New(48 * time.Hour)
	}
	addReq := func(at time.Duration) *adminv1.AddOIDCSettingsRequest {
		a, i, ri, r := lifetimes(at)
		return &adminv1.AddOIDCSettingsRequest{AccessTokenLifetime: a, IdTokenLifetime: i, RefreshTokenIdleExpiration: ri, RefreshTokenExpiration: r}
	}
	updReq := func(at time.Duration) *adminv1.UpdateOIDCSettingsRequest {
		a, i, ri, r := lifetimes(at)
		return &adminv1.UpdateOIDCSettingsRequest{AccessTokenLifetime: a, IdTokenLifetime: i, RefreshTokenIdleExpiration: ri, RefreshTokenExpiration: r}
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := newIdentityEnv(t)
			get := func(t *testing.T, h ...string) {
				both[adminv1.GetOIDCSettingsRequest, adminv1.GetOIDCSettingsResponse](t, e.Env, p, adminSvc+"GetOIDCSettings",
					"GET", "/admin/v1/settings/oidc", nil, &adminv1.GetOIDCSettingsRequest{}, nil, h...)
			}
			for _, c := range e.instanceCallers() {
				t.Run("get/"+c.name, func(t *testing.T) { get(t, c.headers...) })
			}
			// Errors before any add, the same request over both.
			for _, tc := range []struct {
				name    string
				at      string
				atD     time.Duration
				headers []string
			}{
				{"zero lifetime", "0s", 0, nil},
				{"negative lifetime", "-5s", -5 * time.Second, nil},
				{"no role", "1s", time.Second, as(e.nobody)},
				{"org owner", "1s", time.Second, as(e.outsid)},
			} {
				t.Run("add/"+tc.name, func(t *testing.T) {
					both[adminv1.AddOIDCSettingsRequest, adminv1.AddOIDCSettingsResponse](t, e.Env, p, adminSvc+"AddOIDCSettings",
						"POST", "/admin/v1/settings/oidc", body(tc.at), addReq(tc.atD), nil, tc.headers...)
				})
			}
			t.Run("update before add", func(t *testing.T) {
				both[adminv1.UpdateOIDCSettingsRequest, adminv1.UpdateOIDCSettingsResponse](t, e.Env, p, adminSvc+"UpdateOIDCSettings",
					"PUT", "/admin/v1/settings/oidc", body("3600s"), updReq(time.Hour), nil)
			})
			// The RPC adds; REST answers the same request with AlreadyExists,
			// and reads the RPC's settings back.
			if _, err := call[adminv1.AddOIDCSettingsRequest, adminv1.AddOIDCSettingsResponse](t, e.Env, p, adminSvc+"AddOIDCSettings", addReq(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if s := e.MustDo(t, http.StatusOK, "GET", "/admin/v1/settings/oidc", nil)["settings"].(map[string]any); s["accessTokenLifetime"] != "3600s" {
				t.Fatalf("REST reads %v", s)
			}
			get(t)
			t.Run("add twice", func(t *testing.T) {
				both[adminv1.AddOIDCSettingsRequest, adminv1.AddOIDCSettingsResponse](t, e.Env, p, adminSvc+"AddOIDCSettings",
					"POST", "/admin/v1/settings/oidc", body("3600s"), addReq(time.Hour), nil)
			})
			t.Run("update unchanged", func(t *testing.T) {
				both[adminv1.UpdateOIDCSettingsRequest, adminv1.UpdateOIDCSettingsResponse](t, e.Env, p, adminSvc+"UpdateOIDCSettings",
					"PUT", "/admin/v1/settings/oidc", body("3600s"), updReq(time.Hour), nil)
			})
			// Success: REST and RPC each change the access token lifetime.
			bothOn[adminv1.UpdateOIDCSettingsRequest, adminv1.UpdateOIDCSettingsResponse](t, e.Env, p, adminSvc+"UpdateOIDCSettings",
				"PUT", "/admin/v1/settings/oidc", body("1.500s"), nil, updReq(90*time.Second), nil, writeVolatile)
			if s := e.MustDo(t, http.StatusOK, "GET", "/admin/v1/settings/oidc", nil)["settings"].(map[string]any); s["accessTokenLifetime"] != "90s" {
				t.Fatalf("REST reads %v after the RPC update", s)
			}
		})
	}
}

// TestInstanceTrustedDomains: AddInstanceTrustedDomain,
// ListInstanceTrustedDomains and RemoveInstanceTrustedDomain against
// /admin/v1/trusted_domains.
func TestInstanceTrustedDomains(t *testing.T) {
	e := newIdentityEnv(t)
	add := func(t *testing.T, p protocol, restDomain, rpcDomain string, volatile []string, h ...string) {
		t.Helper()
		bothOn[adminv1.AddInstanceTrustedDomainRequest, adminv1.AddInstanceTrustedDomainResponse](t, e.Env, p, adminSvc+"AddInstanceTrustedDomain",
			"POST", "/admin/v1/trusted_domains", map[string]string{"domain": restDomain}, h, &adminv1.AddInstanceTrustedDomainRequest{Domain: rpcDomain}, h, volatile)
	}
	list := func(t *testing.T, p protocol, body map[string]any, req *adminv1.ListInstanceTrustedDomainsRequest, h ...string) *adminv1.ListInstanceTrustedDomainsResponse {
		t.Helper()
		res, _ := both[adminv1.ListInstanceTrustedDomainsRequest, adminv1.ListInstanceTrustedDomainsResponse](t, e.Env, p, adminSvc+"ListInstanceTrustedDomains",
			"POST", "/admin/v1/trusted_domains/_search", body, req, listVolatile, h...)
		return res
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			name := strings.ToLower(strings.NewReplacer(" ", "-", "(", "", ")", "", "+", "-").Replace(p.name))
			restD, rpcD := "rest-"+name+".example.com", "rpc-"+name+".example.com"
			add(t, p, restD, rpcD, writeVolatile)
			for _, tc := range []struct {
				name, domain string
				headers      []string
			}{
				{"empty", "", nil},
				{"with a port", "login.example.com:8443", nil},
				{"twice", rpcD, nil},
				{"no role", "x.example.com", as(e.nobody)},
				{"org owner", "x.example.com", as(e.outsid)},
			} {
				t.Run("add/"+tc.name, func(t *testing.T) { add(t, p, tc.domain, tc.domain, nil, tc.headers...) })
			}
			res := list(t, p, map[string]any{"query": map[string]any{"asc": true}, "queries": []any{map[string]any{"domainQuery": map[string]any{"domain": "RPC-" + name, "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}}},
				&adminv1.ListInstanceTrustedDomainsRequest{Query: &zitadelv1.ListQuery{Asc: true}, Queries: []*instancev1.TrustedDomainSearchQuery{{Query: &instancev1.TrustedDomainSearchQuery_DomainQuery{
					DomainQuery: &instancev1.DomainQuery{Domain: "RPC-" + name, Method: zitadelv1.TextQueryMethod_TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE}}}}})
			if len(res.GetResult()) != 1 || res.GetResult()[0].GetDomain() != rpcD {
				t.Fatalf("filtered list %v", res)
			}
			list(t, p, map[string]any{"sortingColumn": "DOMAIN_FIELD_NAME_DOMAIN", "query": map[string]any{"limit": 1}},
				&adminv1.ListInstanceTrustedDomainsRequest{SortingColumn: instancev1.DomainFieldName_DOMAIN_FIELD_NAME_DOMAIN, Query: &zitadelv1.ListQuery{Limit: 1}})
			for _, c := range e.instanceCallers()[1:] {
				t.Run("list/"+c.name, func(t *testing.T) {
					list(t, p, map[string]any{}, &adminv1.ListInstanceTrustedDomainsRequest{}, c.headers...)
				})
			}
			t.Run("list/limit over 1000", func(t *testing.T) {
				list(t, p, map[string]any{"query": map[string]any{"limit": 1001}}, &adminv1.ListInstanceTrustedDomainsRequest{Query: &zitadelv1.ListQuery{Limit: 1001}})
			})
			bothOn[adminv1.RemoveInstanceTrustedDomainRequest, adminv1.RemoveInstanceTrustedDomainResponse](t, e.Env, p, adminSvc+"RemoveInstanceTrustedDomain",
				"DELETE", "/admin/v1/trusted_domains/"+restD, nil, nil, &adminv1.RemoveInstanceTrustedDomainRequest{Domain: rpcD}, nil, writeVolatile)
			if r := e.MustDo(t, http.StatusOK, "POST", "/admin/v1/trusted_domains/_search", map[string]any{}); strings.Contains(fmt.Sprint(r["result"]), rpcD) || strings.Contains(fmt.Sprint(r["result"]), restD) {
				t.Fatalf("list after removal %v", r)
			}
			for _, tc := range []struct {
				name, domain string
				headers      []string
			}{
				{"not there", rpcD, nil},
				{"bad name", "bad:name", nil},
				{"no role", restD, as(e.nobody)},
				{"org owner", restD, as(e.outsid)},
			} {
				t.Run("remove/"+tc.name, func(t *testing.T) {
					both[adminv1.RemoveInstanceTrustedDomainRequest, adminv1.RemoveInstanceTrustedDomainResponse](t, e.Env, p, adminSvc+"RemoveInstanceTrustedDomain",
						"DELETE", "/admin/v1/trusted_domains/"+tc.domain, nil, &adminv1.RemoveInstanceTrustedDomainRequest{Domain: tc.domain}, nil, tc.headers...)
				})
			}
		})
	}
}
