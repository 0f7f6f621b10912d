package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/idledger/idledger/internal/app/apptest"
)

// The steps after the upstream login that every kind shares, as a login UI
// runs them: the login decision, creation or registration, a session with
// the user and the intent, its second use refused, and a second login of
// the same external user.

// intentLogin runs one whole login at the upstream and returns the intent's
// ID and token and the user the callback named (the success redirect's
// user=, or LDAP's start answer).
type intentLogin func(t *testing.T) (id, token, user string)

// success reads a success redirect.
func success(t *testing.T, to string) (id, token, user string) {
	t.Helper()
	rq := redirectQuery(t, to, "https://login.example/idp/success")
	return rq.Get("id"), rq.Get("token"), rq.Get("user")
}

// viaRedirect is an intentLogin from a login that ends in a redirect.
func viaRedirect(login func(t *testing.T) string) intentLogin {
	return func(t *testing.T) (string, string, string) {
		t.Helper()
		return success(t, login(t))
	}
}

// atOP is an intentLogin at an example OP (through rt) as username.
func atOP(env *apptest.Env, rt http.RoundTripper, idpID, username, password string) intentLogin {
	return viaRedirect(func(t *testing.T) string {
		t.Helper()
		au := startIntent(t, env, idpID)["authUrl"].(string)
		return newBrowser(t, rt).loginAtOP(au, username, password, "https://login.example/")
	})
}

// signInIDP adds an instance IdP of kind with body, auto-creation and
// creation allowed, listed in the instance's default login policy.
func signInIDP(t *testing.T, env *apptest.Env, kind, body string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	m["providerOptions"] = signInOptions
	b, _ := json.Marshal(m)
	return inLoginPolicy(t, env, plIDP(t, env, "", kind, string(b)))
}

// signInOptions are the IdP options of signInIDP: auto-creation, and the
// registration form where the claims make no user.
var signInOptions = map[string]any{"isAutoCreation": true, "isCreationAllowed": true}

// inLoginPolicy lists idpID in the instance's default login policy.
func inLoginPolicy(t *testing.T, env *apptest.Env, idpID string) string {
	t.Helper()
	env.MustDo(t, http.StatusOK, "POST", "/admin/v1/policies/login/idps", map[string]any{"idpId": idpID})
	return idpID
}

// decideLogin is POST /v2/idp_intents/{id}/login in org.
func decideLogin(t *testing.T, env *apptest.Env, id, token, org string) map[string]any {
	t.Helper()
	return env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents/"+id+"/login",
		map[string]string{"idpIntentToken": token, "organizationId": org})
}

// signInTwice is the rest of the login for an IdP made by signInIDP: the
// first login of an external user is retrieved and decided in an org of
// its own; created (the claims make a valid user: SIGNED_IN, created, one
// link), or else registered by the UI (OFFER_REGISTRATION, then POST
// /v2/users/human with the Retrieve answer's addHumanUser and its
// idpLinks, names filled in as the form would, then SIGNED_IN); then a
// session with the user and the intent, refused for another user and for
// a second use. A second login names the user at the callback and signs in
// without creating.
func signInTwice(t *testing.T, env *apptest.Env, idpID string, create bool, login intentLogin) string {
	t.Helper()
	org := env.CreateOrg(t, strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()))
	other := env.CreateHuman(t, org, "other")

	id, token, named := login(t)
	if named != "" {
		t.Fatalf("a first login names user %s", named)
	}
	got := env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents/"+id, map[string]string{"idpIntentToken": token})
	d := decideLogin(t, env, id, token, org)
	var user string
	if create {
		user, _ = d["userId"].(string)
		if d["outcome"] != "SIGNED_IN" || d["created"] != true || user == "" || d["organizationId"] != org {
			t.Fatalf("decision on a first login = %v", d)
		}
	} else {
		if d["outcome"] != "OFFER_REGISTRATION" {
			t.Fatalf("decision on a first login = %v, want OFFER_REGISTRATION", d)
		}
		user = registerFromIntent(t, env, got, org)
		if d = decideLogin(t, env, id, token, org); d["outcome"] != "SIGNED_IN" || d["userId"] != user || d["created"] != nil {
			t.Fatalf("decision after registration = %v, want SIGNED_IN %s", d, user)
		}
	}
	r := env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+user+"/links/_search", map[string]any{})
	if l, _ := r["result"].([]any); len(l) != 1 || l[0].(map[string]any)["idpId"] != idpID ||
		l[0].(map[string]any)["userId"] != jsonPath(t, got, "idpInformation", "userId") {
		t.Fatalf("links of the new user = %v", r)
	}
	sessionsWithIntent(t, env, id, token, user, other)

	id, token, named = login(t)
	if named != user {
		t.Fatalf("the second login names user %q, want %s", named, user)
	}
	if d = decideLogin(t, env, id, token, org); d["outcome"] != "SIGNED_IN" || d["userId"] != user || d["created"] != nil || d["linked"] != nil {
		t.Fatalf("decision on a second login = %v, want SIGNED_IN %s", d, user)
	}
	sessionsWithIntent(t, env, id, token, user, other)
	return user
}

// registerFromIntent is the registration form: the Retrieve answer's
// addHumanUser (with its idpLinks) in org, what the claims lack filled in.
func registerFromIntent(t *testing.T, env *apptest.Env, got map[string]any, org string) string {
	t.Helper()
	h, _ := got["addHumanUser"].(map[string]any)
	if h == nil || h["idpLinks"] == nil {
		t.Fatalf("Retrieve's addHumanUser carries no idpLinks: %v", got)
	}
	h["organization"] = map[string]any{"orgId": org}
	p, _ := h["profile"].(map[string]any)
	if p == nil {
		p = map[string]any{}
		h["profile"] = p
	}
	for k, v := range map[string]string{"givenName": "Given", "familyName": "Family"} {
		if s, _ := p[k].(string); s == "" {
			p[k] = v
		}
	}
	if e, _ := h["email"].(map[string]any); e == nil || e["email"] == nil || e["email"] == "" {
		h["email"] = map[string]any{"email": "registered@example.com"}
	}
	if s, _ := h["username"].(string); s == "" {
		delete(h, "username")
	}
	m := env.MustDo(t, http.StatusCreated, "POST", "/v2/users/human", h)
	return m["userId"].(string)
}
