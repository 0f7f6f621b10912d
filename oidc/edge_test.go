package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
)

// An OP token of the admin works on a management route with the zitadel
// audience scope, and not without it.
func TestManagementRouteWithOPToken(t *testing.T) {
	f := newFixture(t)
	env := f.env
	s := env.MustDo(t, http.StatusOK, "PUT", "/management/v1/users/"+env.AdminUserID+"/secret", map[string]any{})
	for scope, want := range map[string]int{zitadelAud: http.StatusOK, "openid": http.StatusUnauthorized} {
		cc := clientcredentials.Config{ClientID: s["clientId"].(string), ClientSecret: s["clientSecret"].(string),
			TokenURL: env.URL + "/oauth/v2/token", Scopes: []string{scope}}
		tok, err := cc.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st, body := env.DoAs(t, tok.AccessToken, "GET", "/management/v1/orgs/me", nil); st != want {
			t.Errorf("scope %s: %d %s", scope, st, body)
		}
	}
}

func (f *fixture) authorizeResp(t *testing.T, q url.Values) *http.Response {
	t.Helper()
	resp, err := f.noRedirect.Get(f.env.URL + "/oauth/v2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestAuthorizeRules(t *testing.T) {
	f := newFixture(t)
	clientID, _ := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", nil)
	base := func() url.Values {
		return url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
	}
	// prompt=none without a session: the hosted login (which owns the
	// browser's sessions) answers login_required at the redirect URI.
	q := base()
	q.Set("prompt", "none")
	resp := f.authorizeResp(t, q)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc != nil && loc.Path == "/ui/v2/login/login" {
		resp, err := f.noRedirect.Get(f.env.URL + loc.String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ = url.Parse(resp.Header.Get("Location"))
	}
	if resp.StatusCode != http.StatusFound || loc.Query().Get("error") != "login_required" || loc.Query().Get("state") != "s" ||
		!strings.HasPrefix(loc.String(), redirectURI) {
		t.Errorf("prompt=none: %d %s", resp.StatusCode, loc)
	}
	// A redirect_uri that is not registered is never redirected to: 400,
	// and no auth request is made.
	q = base()
	q.Set("redirect_uri", "https://evil.example/cb")
	added := countType(t, f.env, "auth_request.added")
	resp = f.authorizeResp(t, q)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("unregistered redirect_uri: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := countType(t, f.env, "auth_request.added"); n != added {
		t.Errorf("unregistered redirect_uri: %d auth requests added", n-added)
	}
	// Auth method none needs PKCE.
	pub, _ := f.app(t, "OIDC_AUTH_METHOD_TYPE_NONE", nil)
	q = base()
	q.Set("client_id", pub)
	resp = f.authorizeResp(t, q)
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=invalid_request") {
		t.Errorf("none without PKCE: %d %s", resp.StatusCode, loc)
	}
	// max_age=0: the session's check must be newer than the request; a
	// session checked before it is refused.
	s := f.env.MustDoAs(t, f.loginPAT, http.StatusCreated, "POST", "/v2/sessions", map[string]any{"checks": map[string]any{
		"user": map[string]any{"loginName": "alice"}, "password": map[string]any{"password": password}}})
	q = base()
	q.Set("max_age", "0")
	loc, _ = url.Parse(f.authorizeResp(t, q).Header.Get("Location"))
	id := loc.Query().Get("authRequest")
	m := f.env.MustDoAs(t, f.loginPAT, http.StatusBadRequest, "POST", "/v2/oidc/auth_requests/"+id, map[string]any{
		"session": map[string]any{"sessionId": s["sessionId"], "sessionToken": s["sessionToken"]}})
	if !strings.Contains(m["message"].(string), "COMMAND-AR005") {
		t.Errorf("max_age: %v", m)
	}
	// The login UI may fail the request: the app gets the error.
	cb := f.env.MustDoAs(t, f.loginPAT, http.StatusOK, "POST", "/v2/oidc/auth_requests/"+id, map[string]any{
		"error": map[string]any{"error": "ERROR_REASON_ACCESS_DENIED", "errorDescription": "no"}})
	if u := cb["callbackUrl"].(string); !strings.HasPrefix(u, redirectURI+"?") || !strings.Contains(u, "error=access_denied") || !strings.Contains(u, "state=s") {
		t.Errorf("error callback: %s", u)
	}
	// The admin (IAM_OWNER) lacks session.link.
	f.env.MustDo(t, http.StatusForbidden, "POST", "/v2/oidc/auth_requests/"+id, map[string]any{
		"error": map[string]any{"error": "ERROR_REASON_ACCESS_DENIED"}})
}

// Bad input to every endpoint gets an OAuth (or ZITADEL) error, never a 5xx.
func TestBadInputNever5xx(t *testing.T) {
	f := newFixture(t)
	clientID, secret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", nil)
	env := f.env
	forms := map[string][]url.Values{
		"/oauth/v2/token": {{}, {"grant_type": {"nope"}}, {"grant_type": {"authorization_code"}, "code": {"x"}},
			{"grant_type": {"authorization_code"}, "code": {strings.Repeat("A", 5000)}, "redirect_uri": {redirectURI}},
			{"grant_type": {"refresh_token"}, "refresh_token": {"garbage"}}, {"grant_type": {"refresh_token"}, "refresh_token": {"VjJfMS1ydF8xOng"}},
			{"grant_type": {"client_credentials"}}, {"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"a.b.c"}},
			{"grant_type": {"authorization_code"}, "code": {"x"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"a.b.c"}}},
		"/oauth/v2/introspect": {{}, {"token": {"x"}}, {"token": {"a.b.c"}, "client_id": {clientID}, "client_secret": {secret}}},
		"/oauth/v2/revoke":     {{}, {"token": {"x"}}, {"token": {"x"}, "client_id": {clientID}, "client_secret": {secret}}},
		"/oidc/v1/userinfo":    {{}, {"access_token": {"x"}}, {"access_token": {"a.b.c"}}},
		"/oidc/v1/end_session": {{"id_token_hint": {"garbage"}}, {"post_logout_redirect_uri": {"https://evil.example"}}, {"id_token_hint": {"a.b.c"}}},
		"/oauth/v2/authorize":  {{}, {"client_id": {"nope"}}, {"client_id": {clientID}, "redirect_uri": {redirectURI}}, {"request": {"a.b.c"}, "client_id": {clientID}}},
	}
	for path, cases := range forms {
		for _, form := range cases {
			for _, auth := range [][2]string{{}, {clientID, secret}, {clientID, "wrong"}} {
				r, _ := tokenPostRaw(t, env.URL+path, form, auth[0], auth[1], f.noRedirect)
				if r.StatusCode >= 500 {
					t.Errorf("POST %s %v: %d", path, form, r.StatusCode)
				}
				if r.StatusCode >= 400 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
					t.Errorf("POST %s %v: %d %s", path, form, r.StatusCode, r.Header.Get("Content-Type"))
				}
			}
			resp, err := f.noRedirect.Get(env.URL + path + "?" + form.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Errorf("GET %s %v: %d", path, form, resp.StatusCode)
			}
		}
	}
	// Unknown ids at the auth request routes.
	for _, id := range []string{"V2_1", "x", strings.Repeat("9", 300)} {
		st, _ := env.DoAs(t, f.loginPAT, "GET", "/v2/oidc/auth_requests/"+id, nil)
		st2, _ := env.DoAs(t, f.loginPAT, "POST", "/v2/oidc/auth_requests/"+id, `{"session":{"sessionId":"1","sessionToken":"x"}}`)
		st3, _ := env.DoAs(t, f.loginPAT, "POST", "/v2/oidc/auth_requests/"+id, `{"session":1}`)
		if st >= 500 || st2 >= 500 || st3 >= 500 || st < 400 || st2 < 400 || st3 < 400 {
			t.Errorf("auth request %q: %d %d %d", id[:min(len(id), 10)], st, st2, st3)
		}
	}
}

func tokenPostRaw(t *testing.T, u string, form url.Values, user, pass string, c *http.Client) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp, nil
}
