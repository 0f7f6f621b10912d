package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/idledger/idledger/internal/app/apptest"
)

// linkSetup is an org with a human user and an instance IdP.
type linkSetup struct {
	env        *apptest.Env
	org, user  string
	idp        string
	otherOrg   string
	otherOrgID string // an IdP of otherOrg
}

func newLinkSetup(t *testing.T) *linkSetup {
	env := apptest.New(t)
	s := &linkSetup{env: env, org: env.CreateOrg(t, "acme"), otherOrg: env.CreateOrg(t, "other")}
	s.user = env.CreateHuman(t, s.org, "alice")
	s.idp = plIDP(t, env, "", "google", googleBody)
	s.otherOrgID = plIDP(t, env, s.otherOrg, "google", googleBody)
	return s
}

// TestSeedV3alphaAddIDPAuthenticator runs seed 001 (POST
// /v3alpha/users/{userId}/idps, body wrapped in idpAuthenticator).
func TestSeedV3alphaAddIDPAuthenticator(t *testing.T) {
	s := newLinkSetup(t)
	env, pat := s.env, s.env.AdminPAT
	body := `{
"idpAuthenticator": {
"idpId": "` + s.idp + `",
"userId": "d654e6ba-70a3-48ef-a95d-37c8d8a7901a",
"userName": "user@external.com"
}
}`
	res := plDo(t, env, pat, "POST", "/v3alpha/users/"+s.user+"/idps", body, seedHeaders...).ok(t)
	if got := plKeys(t, res, "details"); got != "changeDate,resourceOwner,sequence" {
		t.Fatalf("details keys %s: %v", got, res)
	}
	if d := res["details"].(map[string]any); d["resourceOwner"] != s.org || d["sequence"] != "2" {
		t.Fatalf("details = %v", d)
	}

	// Read-your-writes: the user's details and the link search.
	u := plDo(t, env, pat, "GET", "/v2/users/"+s.user, nil).ok(t)
	if u["details"].(map[string]any)["sequence"] != "2" {
		t.Fatalf("user after link = %v", u)
	}
	list := plDo(t, env, pat, "POST", "/v2/users/"+s.user+"/links/_search", `{}`).ok(t)
	res0 := list["result"].([]any)[0].(map[string]any)
	if res0["idpId"] != s.idp || res0["userId"] != "d654e6ba-70a3-48ef-a95d-37c8d8a7901a" || res0["userName"] != "user@external.com" ||
		list["details"].(map[string]any)["totalResult"] != "1" {
		t.Fatalf("links = %v", list)
	}

	// Validation names the v3alpha message.
	plDo(t, env, pat, "POST", "/v3alpha/users/"+s.user+"/idps", `{"idpAuthenticator":{"userId":"x","userName":"y"}}`).failsWith(t,
		"invalid AddIDPAuthenticatorRequest.IdpAuthenticator: embedded message failed validation | caused by: invalid IDPAuthenticator.IdpId: value length must be between 1 and 200 runes, inclusive")
	plDo(t, env, pat, "POST", "/v3alpha/users/"+s.user+"/idps",
		map[string]any{"idpAuthenticator": map[string]any{"idpId": s.idp, "userId": "x", "userName": strings.Repeat("y", 201)}}).failsWith(t,
		"invalid AddIDPAuthenticatorRequest.IdpAuthenticator: embedded message failed validation | caused by: invalid IDPAuthenticator.UserName: value length must be at most 200 runes")

	// Remove: every link of the user to that IdP.
	rm := plDo(t, env, pat, "DELETE", "/v3alpha/users/"+s.user+"/idps/"+s.idp, nil).ok(t)
	if d := rm["details"].(map[string]any); d["sequence"] != "3" || d["resourceOwner"] != s.org {
		t.Fatalf("remove details = %v", d)
	}
	plDo(t, env, pat, "DELETE", "/v3alpha/users/"+s.user+"/idps/"+s.idp, nil).fails(t, 404, 5, "COMMAND-1M9xR")
}

// TestSeedResourcesAddIDPAuthenticator runs seed 000 (POST
// /resources/v3alpha/users/{id}/idps, bare body, optional
// ?organization.orgId=).
func TestSeedResourcesAddIDPAuthenticator(t *testing.T) {
	s := newLinkSetup(t)
	env, pat := s.env, s.env.AdminPAT
	body := `{"idpId":"` + s.idp + `","userId":"d654e6ba-70a3-48ef-a95d-37c8d8a7901a","userName":"user@external.com"}`
	res := plDo(t, env, pat, "POST", "/resources/v3alpha/users/"+s.user+"/idps", body, seedHeaders...).ok(t)
	if got := plKeys(t, res, "details"); got != "changed,created,id,owner" {
		t.Fatalf("details keys %s: %v", got, res)
	}
	d := res["details"].(map[string]any)
	owner := d["owner"].(map[string]any)
	if d["id"] != s.user || owner["type"] != "OWNER_TYPE_ORG" || owner["id"] != s.org || d["created"] == d["changed"] {
		t.Fatalf("details = %v", d)
	}

	// The org restriction.
	body2 := `{"idpId":"` + s.idp + `","userId":"second","userName":"second@external.com"}`
	plDo(t, env, pat, "POST", "/resources/v3alpha/users/"+s.user+"/idps?organization.orgId="+s.otherOrg, body2).
		fails(t, 400, 9, "COMMAND-vzktar7b7f")
	plDo(t, env, pat, "POST", "/resources/v3alpha/users/"+s.user+"/idps?organization.orgId="+s.org, body2).ok(t)
	// An empty user name is allowed (zitadel#11421).
	plDo(t, env, pat, "POST", "/resources/v3alpha/users/"+s.user+"/idps", `{"idpId":"`+s.idp+`","userId":"z"}`).ok(t)
	plDo(t, env, pat, "POST", "/resources/v3alpha/users/"+s.user+"/idps", `{"idpId":"`+s.idp+`","userName":"z"}`).failsWith(t,
		"invalid AddIDPAuthenticatorRequest.Authenticator: embedded message failed validation | caused by: invalid IDPAuthenticator.UserId: value length must be between 1 and 200 runes, inclusive")

	rm := plDo(t, env, pat, "DELETE", "/resources/v3alpha/users/"+s.user+"/idps/"+s.idp+"?organization.orgId="+s.org, nil).ok(t)
	if rm["details"].(map[string]any)["id"] != s.user {
		t.Fatalf("remove = %v", rm)
	}
	plDo(t, env, pat, "DELETE", "/resources/v3alpha/users/"+s.user+"/idps/"+s.idp, nil).fails(t, 404, 5, "COMMAND-1M9xR")
}

// TestIDPLinkErrors covers every error row of reference §4.3 and the v2
// link endpoints.
func TestIDPLinkErrors(t *testing.T) {
	s := newLinkSetup(t)
	env, pat := s.env, s.env.AdminPAT
	link := func(idpID, ext string) map[string]any {
		return map[string]any{"idpLink": map[string]any{"idpId": idpID, "userId": ext, "userName": ext + "@external.com"}}
	}
	path := "/v2/users/" + s.user + "/links"

	plDo(t, env, pat, "POST", "/v2/users/404404/links", link(s.idp, "e1")).fails(t, 400, 9, "COMMAND-vzktar7b7f")
	plDo(t, env, pat, "POST", path, link(s.otherOrgID, "e1")).fails(t, 400, 9, "COMMAND-39nf2")
	plDo(t, env, pat, "POST", path, link("0", "e1")).fails(t, 400, 9, "COMMAND-39nf2")
	plDo(t, env, pat, "POST", path, `{}`).failsWith(t,
		"invalid AddIDPLinkRequest.IdpLink: embedded message failed validation | caused by: invalid IDPLink.IdpId: value length must be between 1 and 200 runes, inclusive")
	plDo(t, env, pat, "POST", "/v2/users/"+strings.Repeat("1", 201)+"/links", link(s.idp, "e1")).failsWith(t,
		"invalid AddIDPLinkRequest.UserId: value length must be between 1 and 200 runes, inclusive")

	// Another user needs user.write on the user's org; acting on itself
	// needs nothing.
	selfID, self := env.CreateMachineWithPAT(t, s.org)
	plDo(t, env, self, "POST", path, link(s.idp, "e1")).fails(t, 403, 7, "AUTHZ-HKJD33")
	plDo(t, env, self, "POST", "/v2/users/"+selfID+"/links", link(s.idp, "self")).ok(t)
	_, otherOwner := env.CreateOrgOwner(t, s.otherOrg)
	plDo(t, env, otherOwner, "POST", path, link(s.idp, "e1")).fails(t, 403, 7, "AUTHZ-HKJD33")

	// The org's own IdP and the instance's both work; duplicates are
	// rejected across users.
	orgIDP := plIDP(t, env, s.org, "google", googleBody)
	res := plDo(t, env, pat, "POST", path, link(orgIDP, "e1")).ok(t)
	if got := plKeys(t, res, "details"); got != "changeDate,resourceOwner,sequence" {
		t.Fatalf("details keys %s", got)
	}
	plDo(t, env, pat, "POST", path, link(s.idp, "e1")).ok(t)
	bob := env.CreateHuman(t, s.org, "bob")
	plDo(t, env, pat, "POST", "/v2/users/"+bob+"/links", link(s.idp, "e1")).fails(t, 409, 6, "COMMAND-Lnk409")
	plDo(t, env, pat, "POST", path, link(s.idp, "e1")).fails(t, 409, 6, "COMMAND-Lnk409")
	plDo(t, env, pat, "POST", "/v2/users/"+selfID+"/links", link(s.idp, "self")).fails(t, 409, 6, "COMMAND-Lnk409")

	// Search: entries the caller may not read are dropped.
	if r := plDo(t, env, self, "POST", path+"/_search", `{}`).ok(t); r["result"] != nil {
		t.Fatalf("foreign links visible: %v", r)
	}
	if r := plDo(t, env, pat, "POST", path+"/_search", `{"query":{"limit":1}}`).ok(t); len(r["result"].([]any)) != 1 ||
		r["details"].(map[string]any)["totalResult"] != "2" {
		t.Fatalf("page = %v", r)
	}

	// Remove (DELETE with an empty body).
	plDo(t, env, self, "DELETE", path+"/"+s.idp+"/e1", nil).fails(t, 403, 7, "AUTHZ-HKJD33")
	plDo(t, env, pat, "DELETE", path+"/"+s.idp+"/nope", "").fails(t, 404, 5, "COMMAND-1M9xR")
	rm := plDo(t, env, pat, "DELETE", path+"/"+s.idp+"/e1", "").ok(t)
	if rm["details"].(map[string]any)["resourceOwner"] != s.org {
		t.Fatalf("remove = %v", rm)
	}
	plDo(t, env, pat, "DELETE", path+"/"+s.idp+"/e1", "{}").fails(t, 404, 5, "COMMAND-1M9xR")
	plDo(t, env, pat, "POST", "/v2/users/"+bob+"/links", link(s.idp, "e1")).ok(t)

	// idpLinks on user creation; a removed user's links go with it.
	m := env.MustDo(t, http.StatusCreated, "POST", "/v2/users/human", map[string]any{
		"organization": map[string]any{"orgId": s.org}, "username": "carol",
		"profile":  map[string]any{"givenName": "Carol", "familyName": "C"},
		"email":    map[string]any{"email": "carol@example.com", "isVerified": true},
		"idpLinks": []any{map[string]any{"idpId": s.idp, "userId": "carol-ext", "userName": "carol"}},
	})
	carol := m["userId"].(string)
	if r := plDo(t, env, pat, "POST", "/v2/users/"+carol+"/links/_search", `{}`).ok(t); len(r["result"].([]any)) != 1 {
		t.Fatalf("carol's links = %v", r)
	}
	env.RemoveUser(t, carol)
	if r := plDo(t, env, pat, "POST", "/v2/users/"+carol+"/links/_search", `{}`).ok(t); r["result"] != nil {
		t.Fatalf("removed user's links = %v", r)
	}
}

// TestIDPLinkConcurrent: 100 identical link requests give exactly one 200
// and 99 409s, one event and one row.
func TestIDPLinkConcurrent(t *testing.T) {
	s := newLinkSetup(t)
	env := s.env
	body := `{"idpLink":{"idpId":"` + s.idp + `","userId":"same","userName":"same"}}`
	var wg sync.WaitGroup
	statuses := make(chan int, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _ := env.Do(t, "POST", "/v2/users/"+s.user+"/links", body)
			statuses <- status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for st := range statuses {
		count[st]++
	}
	if count[200] != 1 || count[409] != 99 {
		t.Fatalf("statuses = %v", count)
	}
	var events, rows int
	ctx := context.Background()
	if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'user.human.externalidp.added'`,
		s.user).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM user_idp_links WHERE user_id = $1`, s.user).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if events != 1 || rows != 1 {
		t.Fatalf("events %d, rows %d", events, rows)
	}
}
