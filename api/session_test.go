package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestSessionsREST: a human with a password, a password session over
// REST with ZITADEL's shapes and error IDs, the token only hashed, the
// password hash never in a response or in events list, and the lists.
func TestSessionsREST(t *testing.T) {
	env := apptest.New(t)
	org := env.CreateOrg(t, "Sess")
	const pw = "Secr3t!pass"
	weak := env.MustDo(t, http.StatusBadRequest, "POST", "/v2/users/human", map[string]any{
		"organization": map[string]any{"orgId": org}, "username": "weak",
		"profile": map[string]any{"givenName": "W", "familyName": "K"}, "email": map[string]any{"email": "w@example.com"},
		"password": map[string]any{"password": "short"}})
	if !strings.Contains(weak["message"].(string), "(COMMA-HuJf6)") {
		t.Fatalf("weak password: %v", weak)
	}
	u := env.MustDo(t, http.StatusCreated, "POST", "/v2/users/human", map[string]any{
		"organization": map[string]any{"orgId": org}, "username": "alice",
		"profile": map[string]any{"givenName": "Alice", "familyName": "L"}, "email": map[string]any{"email": "alice@example.com"},
		"password": map[string]any{"password": pw, "changeRequired": false}})
	userID := u["userId"].(string)

	wrong := env.MustDo(t, http.StatusBadRequest, "POST", "/v2/sessions", map[string]any{"checks": map[string]any{
		"user": map[string]any{"loginName": "ALICE"}, "password": map[string]any{"password": "nope"}}})
	if !strings.Contains(wrong["message"].(string), "(COMMAND-3M0fs)") {
		t.Fatalf("wrong password: %v", wrong)
	}
	c := env.MustDo(t, http.StatusCreated, "POST", "/v2/sessions", map[string]any{"checks": map[string]any{
		"user": map[string]any{"loginName": "alice"}, "password": map[string]any{"password": pw}},
		"lifetime": "3600s", "metadata": map[string]any{"k": "dg=="}, "userAgent": map[string]any{"ip": "1.2.3.4"}})
	keys(t, "CreateSessionResponse", c, "details", "sessionId", "sessionToken")
	sid, tok := c["sessionId"].(string), c["sessionToken"].(string)

	g := env.MustDo(t, http.StatusOK, "GET", "/v2/sessions/"+sid+"?sessionToken="+tok, nil)
	s := keys(t, "Session", g["session"], "id", "creationDate", "changeDate", "sequence", "factors", "metadata", "userAgent", "expirationDate")
	f := keys(t, "factors", s["factors"], "user", "password")
	fu := keys(t, "factors.user", f["user"], "verifiedAt", "id", "loginName", "displayName", "organizationId")
	if fu["id"] != userID || fu["loginName"] != "alice" || fu["displayName"] != "Alice L" || fu["organizationId"] != org {
		t.Errorf("factors.user = %v", fu)
	}
	bad := env.MustDo(t, http.StatusForbidden, "GET", "/v2/sessions/"+sid+"?sessionToken=x"+tok, nil)
	if !strings.Contains(bad["message"].(string), "(COMMAND-sGr42)") {
		t.Errorf("wrong token: %v", bad)
	}
	set := env.MustDo(t, http.StatusOK, "PATCH", "/v2/sessions/"+sid, map[string]any{"sessionToken": tok, "lifetime": "60s"})
	if set["sessionToken"] == tok || set["sessionToken"] == "" {
		t.Errorf("set: %v", set)
	}
	list := env.MustDo(t, http.StatusOK, "POST", "/v2/sessions/search", map[string]any{"queries": []any{
		map[string]any{"idsQuery": map[string]any{"ids": []string{sid}}}, map[string]any{"userIdQuery": map[string]any{"id": userID}}}})
	if list["details"].(map[string]any)["totalResult"] != "1" {
		t.Errorf("sessions search: %v", list)
	}

	// Lists.
	users := env.MustDo(t, http.StatusOK, "POST", "/v2/users", map[string]any{"queries": []any{
		map[string]any{"orQuery": map[string]any{"queries": []any{
			map[string]any{"emailQuery": map[string]any{"emailAddress": "ALICE@example.com", "method": "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"}},
			map[string]any{"userNameQuery": map[string]any{"userName": "nobody"}}}}},
		map[string]any{"organizationIdQuery": map[string]any{"organizationId": org}},
		map[string]any{"typeQuery": map[string]any{"type": "TYPE_HUMAN"}},
		map[string]any{"notQuery": map[string]any{"query": map[string]any{"stateQuery": map[string]any{"state": "USER_STATE_LOCKED"}}}}}})
	res, _ := users["result"].([]any)
	if len(res) != 1 || res[0].(map[string]any)["userId"] != userID || users["details"].(map[string]any)["totalResult"] != "1" {
		t.Fatalf("list users: %v", users)
	}
	orgs := env.MustDo(t, http.StatusOK, "POST", "/v2/organizations/_search", map[string]any{"queries": []any{
		map[string]any{"nameQuery": map[string]any{"name": "sess", "method": "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"}}}})
	if r, _ := orgs["result"].([]any); len(r) != 1 || r[0].(map[string]any)["id"] != org {
		t.Fatalf("list orgs: %v", orgs)
	}

	// SetPassword with the current password, then the old one fails.
	env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+userID+"/password", map[string]any{
		"newPassword": map[string]any{"password": "N3w!password"}, "currentPassword": pw})
	env.MustDo(t, http.StatusBadRequest, "POST", "/v2/sessions", map[string]any{"checks": map[string]any{
		"user": map[string]any{"userId": userID}, "password": map[string]any{"password": pw}}})

	env.MustDo(t, http.StatusOK, "DELETE", "/v2/sessions/"+sid, nil)
	env.MustDo(t, http.StatusNotFound, "GET", "/v2/sessions/"+sid, nil)

	// Nothing secret in events list: no hash, no token, no password.
	_, raw := env.Do(t, "POST", "/admin/v1/events/_search", map[string]any{"limit": 1000})
	for _, secret := range []string{"$argon2id$", tok, pw, "N3w!password"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("events list holds %q", secret)
		}
	}
	if !strings.Contains(string(raw), "user.human.password.changed") || !strings.Contains(string(raw), "session.token.set") {
		t.Errorf("events list lacks the password and token events")
	}
}
