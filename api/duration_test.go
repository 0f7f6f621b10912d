package api_test

import (
	"testing"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestDurationIsOneType: a google.protobuf.Duration is read by protojson's
// rules on every route, so ".5s" and its friends mean the same on an LDAP
// timeout and on a login policy's lifetime (they once disagreed).
func TestDurationIsOneType(t *testing.T) {
	env := apptest.New(t)
	admin := client{t: t, env: env, token: env.AdminPAT}
	for in, want := range map[string]string{".5s": "0.500s", "+1s": "1s", "1.s": "1s", "1.5s": "1.500s"} {
		ldap := obj(t, `{"name":"LDAP","servers":["ldaps://ldap.example:636"],"baseDn":"dc=example,dc=com",
			"bindDn":"cn=admin","bindPassword":"SECRET-duration","userBase":"dn","userObjectClasses":["user"],
			"userFilters":["uid"],"timeout":"`+in+`"}`)
		id := admin.must("POST", "/admin/v1/idps/ldap", ldap)["id"].(string)
		got := admin.must("GET", "/v2/idps/"+id, nil)["idp"].(map[string]any)["config"].(map[string]any)["ldap"].(map[string]any)
		if got["timeout"] != want {
			t.Errorf("LDAP timeout %q reads back as %v, want %q", in, got["timeout"], want)
		}

		org := env.CreateOrg(t, "duration "+in)
		owner := client{t: t, env: env, token: env.AdminPAT, org: org}
		owner.must("POST", "/management/v1/policies/login", obj(t, `{"allowUsernamePassword":true,"passwordCheckLifetime":"`+in+`"}`))
		pol := owner.must("GET", "/management/v1/policies/login", nil)["policy"].(map[string]any)
		if pol["passwordCheckLifetime"] != want {
			t.Errorf("login policy lifetime %q reads back as %v, want %q", in, pol["passwordCheckLifetime"], want)
		}
	}
	for _, bad := range []string{"10", "1m", "01s", "1e3s"} {
		ldap := obj(t, `{"name":"LDAP","servers":["s"],"baseDn":"b","bindDn":"d","bindPassword":"p","userBase":"u",
			"userObjectClasses":["o"],"userFilters":["f"],"timeout":"`+bad+`"}`)
		if r := admin.do("POST", "/admin/v1/idps/ldap", ldap); r.status != 400 {
			t.Errorf("LDAP timeout %q: %d %s, want 400", bad, r.status, r.raw)
		}
		org := env.CreateOrg(t, "bad duration "+bad)
		owner := client{t: t, env: env, token: env.AdminPAT, org: org}
		if r := owner.do("POST", "/management/v1/policies/login", obj(t, `{"passwordCheckLifetime":"`+bad+`"}`)); r.status != 400 {
			t.Errorf("login policy lifetime %q: %d %s, want 400", bad, r.status, r.raw)
		}
	}
}
