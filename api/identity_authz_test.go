package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestIdentityPermissions is the permission matrix: every identity
// endpoint, for each kind of caller, with the exact status and error ID.
func TestIdentityPermissions(t *testing.T) {
	env := apptest.New(t)
	orgA, orgB := env.CreateOrg(t, "A"), env.CreateOrg(t, "B")
	_, ownerA := env.CreateOrgOwner(t, orgA)
	_, noRoles := env.CreateMachineWithPAT(t, orgA)

	// expired: a token valid for one second, used after it ran out
	expUser, _ := env.CreateMachineWithPAT(t, orgA)
	env.Grant(t, expUser, orgA, "ORG_OWNER")
	m := env.MustDo(t, 200, "POST", "/management/v1/users/"+expUser+"/pats",
		map[string]any{"expirationDate": time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)}, "x-zitadel-orgid", orgA)
	expired := m["token"].(string)
	env.MustDoAs(t, expired, 200, "GET", "/management/v1/orgs/me", nil) // cached while valid
	expiresAt := time.Now().Add(1100 * time.Millisecond)

	removedUser, removed := env.CreateOrgOwner(t, orgA)
	env.MustDoAs(t, removed, 200, "GET", "/management/v1/orgs/me", nil)
	env.RemoveUser(t, removedUser)
	time.Sleep(time.Until(expiresAt))

	type caller struct {
		name, pat, org string // org: the org the caller acts on (x-zitadel-orgid)
		header         bool
	}
	callers := []caller{
		{"iam owner", env.AdminPAT, orgA, true},
		{"owner of A on A", ownerA, orgA, false},
		{"owner of A on B", ownerA, orgB, true},
		{"no memberships", noRoles, orgA, false},
		{"no token", "", orgA, false},
		{"unknown token", "bm90LWEtdG9rZW4", orgA, false},
		{"expired token", expired, orgA, false},
		{"removed user", removed, orgA, false},
	}
	// want lists per caller (in the order above) "status ID".
	type endpoint struct {
		name  string
		req   func(t *testing.T, org string) (method, path string, body any)
		wants [8]string
	}
	const (
		ok200, ok201 = "200", "201"
		v2Denied     = "403 AUTHZ-HKJD33"
		v1Denied     = "403 AUTH-5mWD2"
		v1NoMember   = "404 AUTHZ-cdgFk"
		unauth       = "401 AUTH-7fs1e"
	)
	n := 0
	uniq := func() string { n++; return fmt.Sprintf("u%d", n) }
	human := func(t *testing.T, org string) string { return env.CreateHuman(t, org, uniq()) }
	endpoints := []endpoint{
		{"POST /v2/organizations", func(t *testing.T, org string) (string, string, any) {
			return "POST", "/v2/organizations", map[string]any{"name": uniq()}
		}, [8]string{ok201, v2Denied, v2Denied, v2Denied, unauth, unauth, unauth, unauth}},
		{"POST /management/v1/orgs", func(t *testing.T, org string) (string, string, any) {
			return "POST", "/management/v1/orgs", map[string]any{"name": uniq()}
		}, [8]string{ok200, v1Denied, v1Denied, v1NoMember, unauth, unauth, unauth, unauth}},
		{"GET /management/v1/orgs/me", func(t *testing.T, org string) (string, string, any) {
			return "GET", "/management/v1/orgs/me", nil
		}, [8]string{ok200, ok200, v1Denied, v1NoMember, unauth, unauth, unauth, unauth}},
		{"POST /v2/users/human", func(t *testing.T, org string) (string, string, any) {
			return "POST", "/v2/users/human", map[string]any{"organization": map[string]any{"orgId": org}, "username": uniq(),
				"profile": map[string]any{"givenName": "G", "familyName": "F"}, "email": map[string]any{"email": "e@example.com"}}
		}, [8]string{ok201, ok201, v2Denied, v2Denied, unauth, unauth, unauth, unauth}},
		{"GET /v2/users/{id}", func(t *testing.T, org string) (string, string, any) {
			return "GET", "/v2/users/" + human(t, org), nil
		}, [8]string{ok200, ok200, v2Denied, v2Denied, unauth, unauth, unauth, unauth}},
		{"DELETE /v2/users/{id}", func(t *testing.T, org string) (string, string, any) {
			return "DELETE", "/v2/users/" + human(t, org), nil
		}, [8]string{ok200, ok200, v2Denied, v2Denied, unauth, unauth, unauth, unauth}},
		{"POST /management/v1/users/machine", func(t *testing.T, org string) (string, string, any) {
			return "POST", "/management/v1/users/machine", map[string]any{"userName": uniq(), "name": "n"}
		}, [8]string{ok200, ok200, v1Denied, v1NoMember, unauth, unauth, unauth, unauth}},
		{"POST /management/v1/users/{id}/pats", func(t *testing.T, org string) (string, string, any) {
			u, _ := env.CreateMachineWithPAT(t, org)
			return "POST", "/management/v1/users/" + u + "/pats", map[string]any{}
		}, [8]string{ok200, ok200, v1Denied, v1NoMember, unauth, unauth, unauth, unauth}},
		{"POST /admin/v1/members", func(t *testing.T, org string) (string, string, any) {
			return "POST", "/admin/v1/members", map[string]any{"userId": human(t, org), "roles": []string{"IAM_OWNER_VIEWER"}}
		}, [8]string{ok200, v1Denied, v1Denied, v1NoMember, unauth, unauth, unauth, unauth}},
		{"POST /management/v1/orgs/me/members", func(t *testing.T, org string) (string, string, any) {
			return "POST", "/management/v1/orgs/me/members", map[string]any{"userId": human(t, org), "roles": []string{"ORG_USER_MANAGER"}}
		}, [8]string{ok200, ok200, v1Denied, v1NoMember, unauth, unauth, unauth, unauth}},
	}
	for _, ep := range endpoints {
		for i, c := range callers {
			t.Run(ep.name+"/"+c.name, func(t *testing.T) {
				method, path, body := ep.req(t, c.org)
				var headers []string
				if c.header {
					headers = []string{"x-zitadel-orgid", c.org}
				}
				if c.pat == "" {
					headers = append(headers, "Authorization", "")
				}
				st, raw := env.DoAs(t, c.pat, method, path, body, headers...)
				got := fmt.Sprint(st)
				if id := apptest.ErrorID(raw); id != "" {
					got += " " + id
				}
				if got != ep.wants[i] {
					t.Errorf("got %s, want %s: %s", got, ep.wants[i], raw)
				}
			})
		}
	}
}

// TestInstanceIsolation: a token of one instance never works on another,
// and nothing of one instance is visible from another.
func TestInstanceIsolation(t *testing.T) {
	env := apptest.New(t)
	inst2 := env.AddInstance(t, "127.0.0.2")
	if inst2.ID == env.InstanceID || inst2.OrgID == env.DefaultOrgID {
		t.Fatalf("instance 2 = %+v", inst2)
	}
	host2 := []string{"Host", "127.0.0.2:8080"}

	// instance 1's admin token with instance 2's host, and vice versa
	if st, raw := env.Do(t, "GET", "/management/v1/orgs/me", nil, host2...); st != 401 || apptest.ErrorID(raw) != "AUTH-7fs1e" {
		t.Errorf("token 1 on host 2: %d %s", st, raw)
	}
	if st, raw := env.DoAs(t, inst2.AdminPAT, "GET", "/management/v1/orgs/me", nil); st != 401 {
		t.Errorf("token 2 on host 1: %d %s", st, raw)
	}
	// instance 2's admin on its own host
	m := env.MustDoAs(t, inst2.AdminPAT, 200, "GET", "/management/v1/orgs/me", nil, host2...)
	if m["org"].(map[string]any)["id"] != inst2.OrgID {
		t.Errorf("instance 2 org = %v", m)
	}
	// instance 1's objects are invisible from instance 2, even to its IAM owner
	human1 := env.CreateHuman(t, env.DefaultOrgID, "alice")
	if st, raw := env.DoAs(t, inst2.AdminPAT, "GET", "/v2/users/"+human1, nil, host2...); st != 404 || apptest.ErrorID(raw) != "QUERY-Dfbg2" {
		t.Errorf("read instance 1 user from instance 2: %d %s", st, raw)
	}
	if st, raw := env.DoAs(t, inst2.AdminPAT, "GET", "/management/v1/orgs/me", nil,
		append(host2, "x-zitadel-orgid", env.DefaultOrgID)...); st != 403 || apptest.ErrorID(raw) != "AUTH-Bs7Ds" {
		t.Errorf("instance 1 org as context in instance 2: %d %s", st, raw)
	}
	if st, raw := env.DoAs(t, inst2.AdminPAT, "POST", "/admin/v1/members",
		map[string]any{"userId": human1, "roles": []string{"IAM_OWNER"}}, host2...); st != 400 || apptest.ErrorID(raw) != "COMMAND-uXHNj" {
		t.Errorf("grant instance 1 user in instance 2: %d %s", st, raw)
	}
	if st, raw := env.DoAs(t, inst2.AdminPAT, "DELETE", "/v2/users/"+human1, nil, host2...); st != 404 {
		t.Errorf("delete instance 1 user from instance 2: %d %s", st, raw)
	}
	// the same user name may exist in both instances' orgs
	m = env.MustDoAs(t, inst2.AdminPAT, http.StatusCreated, "POST", "/v2/users/human", map[string]any{
		"organization": map[string]any{"orgId": inst2.OrgID}, "username": "alice",
		"profile": map[string]any{"givenName": "A", "familyName": "B"}, "email": map[string]any{"email": "a@example.com"}}, host2...)
	if m["details"].(map[string]any)["resourceOwner"] != inst2.OrgID {
		t.Errorf("instance 2 user = %v", m)
	}
	// a domain belongs to one instance only
	if _, err := env.App.AddInstance(t.Context(), "LOCALHOST", ""); err == nil {
		t.Errorf("second instance for localhost was created")
	}
}
