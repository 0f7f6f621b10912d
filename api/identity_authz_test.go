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

// TestCredentialsFollowPower is the credential part of the permission
// matrix (DESIGN.md §2 "Credentials follow power"): every route that
// creates or revokes a credential, or removes a user, for each caller kind
// against each kind of target, owners included.
func TestCredentialsFollowPower(t *testing.T) {
	env := apptest.New(t)
	orgA, orgB := env.CreateOrg(t, "A"), env.CreateOrg(t, "B")
	_, ownerA := env.CreateOrgOwner(t, orgA)
	umAUser, umA := env.CreateMachineWithPAT(t, orgA)
	env.Grant(t, umAUser, orgA, "ORG_USER_MANAGER")

	// targets, each a fresh machine user of org A holding some roles
	type target struct {
		name  string
		grant func(t *testing.T, user string)
	}
	targets := []target{
		{"plain user", func(*testing.T, string) {}},
		{"user manager of A", func(t *testing.T, u string) { env.Grant(t, u, orgA, "ORG_USER_MANAGER") }},
		{"owner of A", func(t *testing.T, u string) { env.Grant(t, u, orgA, "ORG_OWNER") }},
		{"owner of B", func(t *testing.T, u string) { env.Grant(t, u, orgB, "ORG_OWNER") }},
		{"user manager of B", func(t *testing.T, u string) { env.Grant(t, u, orgB, "ORG_USER_MANAGER") }},
		{"iam viewer", func(t *testing.T, u string) { env.Grant(t, u, "", "IAM_OWNER_VIEWER") }},
		{"iam owner", func(t *testing.T, u string) { env.Grant(t, u, "", "IAM_OWNER") }},
	}
	const ok, denied = "200", "403 AUTHZ-Cov01"
	callers := []struct {
		name, pat string
		wants     []string // per target, in the order above
	}{
		{"iam owner", env.AdminPAT, []string{ok, ok, ok, ok, ok, ok, ok}},
		{"owner of A", ownerA, []string{ok, ok, ok, denied, denied, denied, denied}},
		{"user manager of A", umA, []string{ok, ok, denied, denied, denied, denied, denied}},
	}
	routes := []struct {
		name string
		req  func(user, tokenID string) (method, path string)
	}{
		{"POST /management/v1/users/{id}/pats", func(u, _ string) (string, string) {
			return "POST", "/management/v1/users/" + u + "/pats"
		}},
		{"DELETE /management/v1/users/{id}/pats/{tokenId}", func(u, tok string) (string, string) {
			return "DELETE", "/management/v1/users/" + u + "/pats/" + tok
		}},
		{"DELETE /v2/users/{id}", func(u, _ string) (string, string) { return "DELETE", "/v2/users/" + u }},
	}
	for _, rt := range routes {
		for _, c := range callers {
			for i, tg := range targets {
				t.Run(rt.name+"/"+c.name+"/"+tg.name, func(t *testing.T) {
					user, targetPAT := env.CreateMachineWithPAT(t, orgA)
					tg.grant(t, user)
					p := env.MustDo(t, 200, "POST", "/management/v1/users/"+user+"/pats", map[string]any{}, "x-zitadel-orgid", orgA)
					method, path := rt.req(user, p["tokenId"].(string))
					st, raw := env.DoAs(t, c.pat, method, path, map[string]any{}, "x-zitadel-orgid", orgA)
					got := fmt.Sprint(st)
					if id := apptest.ErrorID(raw); id != "" {
						got += " " + id
					}
					if got != c.wants[i] {
						t.Fatalf("got %s, want %s: %s", got, c.wants[i], raw)
					}
					if got != ok {
						// nothing changed: the target's token still works
						env.MustDoAs(t, targetPAT, 200, "GET", "/v2/users/"+user, nil)
					}
				})
			}
		}
	}
}

// TestInstanceTakeover is the reported attack: a user manager of the
// admin's own org mints a token of the IAM owner, or removes it.
func TestInstanceTakeover(t *testing.T) {
	env := apptest.New(t)
	umUser, um := env.CreateMachineWithPAT(t, env.DefaultOrgID)
	env.Grant(t, umUser, env.DefaultOrgID, "ORG_USER_MANAGER")
	ownerUser, owner := env.CreateOrgOwner(t, env.DefaultOrgID)

	for _, c := range []struct{ name, pat string }{{"user manager", um}, {"org owner", owner}} {
		st, raw := env.DoAs(t, c.pat, "POST", "/management/v1/users/"+env.AdminUserID+"/pats", map[string]any{})
		if st != 403 || apptest.ErrorID(raw) != "AUTHZ-Cov01" {
			t.Errorf("%s mints a token of the IAM owner: %d %s", c.name, st, raw)
		}
		st, raw = env.DoAs(t, c.pat, "DELETE", "/v2/users/"+env.AdminUserID, nil)
		if st != 403 || apptest.ErrorID(raw) != "AUTHZ-Cov01" {
			t.Errorf("%s removes the IAM owner: %d %s", c.name, st, raw)
		}
	}
	// a user manager cannot mint a token of its org's owner either
	if st, raw := env.DoAs(t, um, "POST", "/management/v1/users/"+ownerUser+"/pats", map[string]any{}); st != 403 {
		t.Errorf("user manager mints a token of the org owner: %d %s", st, raw)
	}
	// the admin is still the IAM owner
	env.MustDo(t, 200, "GET", "/management/v1/orgs/me", nil)
	env.MustDo(t, 200, "POST", "/admin/v1/members", map[string]any{"userId": umUser, "roles": []string{"IAM_OWNER_VIEWER"}})
}

// TestLastIAMOwner: the last IAM owner of an instance cannot be removed,
// by itself or by two owners removing each other at once.
func TestLastIAMOwner(t *testing.T) {
	env := apptest.New(t)
	st, raw := env.Do(t, "DELETE", "/v2/users/"+env.AdminUserID, nil)
	if st != 400 || apptest.ErrorID(raw) != "COMMAND-LastOw" {
		t.Fatalf("the last IAM owner removes itself: %d %s", st, raw)
	}
	env.MustDo(t, 200, "GET", "/management/v1/orgs/me", nil)

	// a second owner may be removed, and takes its instance role with it
	second, secondPAT := env.CreateMachineWithPAT(t, env.DefaultOrgID)
	env.Grant(t, second, "", "IAM_OWNER")
	env.MustDoAs(t, secondPAT, 200, "POST", "/admin/v1/members", map[string]any{
		"userId": env.CreateHuman(t, env.DefaultOrgID, "h1"), "roles": []string{"IAM_OWNER_VIEWER"}})
	env.RemoveUser(t, second)
	if st, raw := env.Do(t, "DELETE", "/v2/users/"+env.AdminUserID, nil); st != 400 || apptest.ErrorID(raw) != "COMMAND-LastOw" {
		t.Fatalf("removed owner still counted: %d %s", st, raw)
	}

	// two owners remove each other at the same moment: one stays
	prev := env.AdminUserID
	for round := 0; round < 5; round++ {
		x, xPAT := env.CreateMachineWithPAT(t, env.DefaultOrgID)
		env.Grant(t, x, "", "IAM_OWNER")
		y, yPAT := env.CreateMachineWithPAT(t, env.DefaultOrgID)
		env.Grant(t, y, "", "IAM_OWNER")
		// the previous owner goes, so that x and y are the only owners
		env.MustDoAs(t, xPAT, 200, "DELETE", "/v2/users/"+prev, nil)
		start := make(chan struct{})
		res := make(chan int, 2)
		bodies := make(chan string, 2)
		for _, c := range []struct{ pat, victim string }{{xPAT, y}, {yPAT, x}} {
			go func() {
				<-start
				st, raw := env.DoAs(t, c.pat, "DELETE", "/v2/users/"+c.victim, nil)
				res <- st
				bodies <- string(raw)
			}()
		}
		close(start)
		a, b := <-res, <-res
		if a == 200 && b == 200 {
			t.Fatalf("round %d: both owners removed each other: the instance has no owner", round)
		}
		// the other is refused: 400 COMMAND-LastOw when it decided after the
		// first commit, 401 or 403 when its caller was already removed
		if (a != 200 && b != 200) || a >= 500 || b >= 500 {
			t.Fatalf("round %d: statuses %d and %d: %s %s", round, a, b, <-bodies, <-bodies)
		}
		// whoever is left is the one owner: it cannot remove itself
		survivor, survivorPAT := x, xPAT
		if st, _ := env.DoAs(t, xPAT, "GET", "/management/v1/orgs/me", nil); st != 200 {
			survivor, survivorPAT = y, yPAT
		}
		if st, raw := env.DoAs(t, survivorPAT, "DELETE", "/v2/users/"+survivor, nil); st != 400 || apptest.ErrorID(raw) != "COMMAND-LastOw" {
			t.Fatalf("round %d: survivor removes itself: %d %s", round, st, raw)
		}
		// hand over for the next round: the survivor grants the next pair
		env.AdminPAT, prev = survivorPAT, survivor

	}
}
