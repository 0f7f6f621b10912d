package oidc_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// opCall is one request to an OP endpoint and the answer it must get.
type opCall struct {
	name   string
	method string
	path   string
	form   url.Values // the query (GET) or the form body (POST)
	auth   []string   // basic user, password
	bearer string
	raw    string // a raw form body instead of form

	status int
	err    string // the OAuth error code ("" none checked)
	// location, for a redirect: its exact value, or with a prefix "~" a
	// prefix of it.
	location string
}

func (f *fixture) do(t *testing.T, c opCall) (*http.Response, map[string]any) {
	t.Helper()
	u := f.env.URL + c.path
	var body io.Reader
	if c.method == http.MethodGet {
		u += "?" + c.form.Encode()
	} else if c.raw != "" {
		body = strings.NewReader(c.raw)
	} else {
		body = strings.NewReader(c.form.Encode())
	}
	req, err := http.NewRequest(c.method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if len(c.auth) == 2 {
		req.SetBasicAuth(url.QueryEscape(c.auth[0]), url.QueryEscape(c.auth[1]))
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := f.noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp, m
}

// TestBadInputWritesNothing: bad requests at introspect, revoke,
// userinfo, end session and authorize get the RFC's status and error code
// (RFC 7662, 7009, 6750, OIDC RP-Initiated Logout, RFC 6749 §4.1.2.1) and
// write no event; an unregistered redirect_uri is answered with a 400,
// never redirected to, and makes no auth request.
func TestBadInputWritesNothing(t *testing.T) {
	f := newFixture(t)
	env := f.env
	clientID, secret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", nil)
	api := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+f.projectID+"/apps/api", map[string]any{"name": "api"})
	apiAuth := []string{api["clientId"].(string), api["clientSecret"].(string)}
	tokens, _ := f.codeFlow(t, f.rp(t, clientID, secret))
	authz := func(kv ...string) url.Values {
		q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				q.Del(kv[i])
			} else {
				q.Set(kv[i], kv[i+1])
			}
		}
		return q
	}
	const (
		get  = http.MethodGet
		post = http.MethodPost
	)
	calls := []opCall{
		// Introspection (RFC 7662): client authentication first.
		{name: "introspect: no client auth", method: post, path: "/oauth/v2/introspect", form: url.Values{"token": {tokens.AccessToken}}, status: 401, err: "invalid_client"},
		{name: "introspect: wrong secret", method: post, path: "/oauth/v2/introspect", form: url.Values{"token": {tokens.AccessToken}}, auth: []string{apiAuth[0], "nope"}, status: 401, err: "invalid_client"},
		{name: "introspect: unknown client", method: post, path: "/oauth/v2/introspect", form: url.Values{"token": {tokens.AccessToken}}, auth: []string{"nobody", "x"}, status: 401, err: "invalid_client"},
		{name: "introspect: bad form", method: post, path: "/oauth/v2/introspect", raw: "token=%zz", auth: apiAuth, status: 400, err: "invalid_request"},
		{name: "introspect: garbage token", method: post, path: "/oauth/v2/introspect", form: url.Values{"token": {"garbage"}}, auth: apiAuth, status: 200},
		{name: "introspect: refresh token", method: post, path: "/oauth/v2/introspect", form: url.Values{"token": {tokens.RefreshToken}}, auth: apiAuth, status: 200},
		// Revocation (RFC 7009).
		{name: "revoke: no client", method: post, path: "/oauth/v2/revoke", form: url.Values{"token": {tokens.AccessToken}}, status: 401, err: "invalid_client"},
		{name: "revoke: wrong secret", method: post, path: "/oauth/v2/revoke", form: url.Values{"token": {tokens.AccessToken}}, auth: []string{clientID, "nope"}, status: 401, err: "invalid_client"},
		{name: "revoke: no token", method: post, path: "/oauth/v2/revoke", form: url.Values{}, auth: []string{clientID, secret}, status: 400, err: "invalid_request"},
		{name: "revoke: bad form", method: post, path: "/oauth/v2/revoke", raw: "token=%zz", auth: []string{clientID, secret}, status: 400, err: "invalid_request"},
		{name: "revoke: unknown token", method: post, path: "/oauth/v2/revoke", form: url.Values{"token": {"garbage"}}, auth: []string{clientID, secret}, status: 200},
		// Another client's token is left alone (the access token still
		// works below); RFC 7009 §2.2 lets the answer be 200.
		{name: "revoke: another client's token", method: post, path: "/oauth/v2/revoke", form: url.Values{"token": {tokens.AccessToken}}, auth: apiAuth, status: 200},
		// Userinfo (RFC 6750 §3.1).
		{name: "userinfo: no token", method: get, path: "/oidc/v1/userinfo", status: 401},
		{name: "userinfo: garbage token", method: get, path: "/oidc/v1/userinfo", bearer: "garbage", status: 401, err: "invalid_token"},
		{name: "userinfo: a JWT of nobody", method: get, path: "/oidc/v1/userinfo", bearer: "a.b.c", status: 401, err: "invalid_token"},
		{name: "userinfo: the refresh token", method: post, path: "/oidc/v1/userinfo", bearer: tokens.RefreshToken, status: 401},
		// End session: a hint that does not verify is invalid_request; an
		// unregistered post_logout_redirect_uri is never followed.
		{name: "end_session: garbage hint", method: get, path: "/oidc/v1/end_session", form: url.Values{"id_token_hint": {"garbage"}}, status: 400, err: "invalid_request"},
		{name: "end_session: unregistered post-logout URI", method: get, path: "/oidc/v1/end_session",
			form: url.Values{"post_logout_redirect_uri": {"https://evil.example/"}, "client_id": {clientID}}, status: 400, err: "invalid_request"},
		{name: "end_session: unknown client", method: get, path: "/oidc/v1/end_session",
			form: url.Values{"post_logout_redirect_uri": {"https://app.example/bye"}, "client_id": {"nope"}}, status: 401, err: "invalid_client"},
		{name: "end_session: nothing", method: get, path: "/oidc/v1/end_session", status: 302, location: "/ui/v2/login/logout"},
		// Authorize: without a valid client and redirect URI, a 400 here;
		// with them, the error at the redirect URI (with the state).
		{name: "authorize: nothing", method: get, path: "/oauth/v2/authorize", status: 400, err: "invalid_request"},
		{name: "authorize: unknown client", method: get, path: "/oauth/v2/authorize", form: authz("client_id", "nope"), status: 400},
		{name: "authorize: unregistered redirect_uri", method: get, path: "/oauth/v2/authorize", form: authz("redirect_uri", "https://evil.example/cb"), status: 400, err: "invalid_request"},
		{name: "authorize: no redirect_uri", method: get, path: "/oauth/v2/authorize", form: authz("redirect_uri", ""), status: 400, err: "invalid_request"},
		{name: "authorize: unregistered redirect_uri, POST", method: post, path: "/oauth/v2/authorize", form: authz("redirect_uri", "https://app.example/cb/other"), status: 400, err: "invalid_request"},
		{name: "authorize: no response_type", method: get, path: "/oauth/v2/authorize", form: authz("response_type", ""), status: 302, location: "~" + redirectURI + "?error=invalid_request"},
		{name: "authorize: response_type not allowed", method: get, path: "/oauth/v2/authorize", form: authz("response_type", "id_token"), status: 302, location: "~" + redirectURI + "#error=unauthorized_client"},
		{name: "authorize: no scope", method: get, path: "/oauth/v2/authorize", form: authz("scope", ""), status: 302, location: "~" + redirectURI + "?error=invalid_request"},
		{name: "authorize: plain PKCE method", method: get, path: "/oauth/v2/authorize", form: authz("code_challenge", "abc", "code_challenge_method", "nope"), status: 302, location: "~" + redirectURI + "?error=invalid_request"},
	}
	before, added := eventCount(t, env), countType(t, env, "auth_request.added")
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			n := eventCount(t, env)
			resp, m := f.do(t, c)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != c.status || (c.err != "" && m["error"] != c.err) {
				t.Errorf("%d %v (Location %q), want %d %s", resp.StatusCode, m, loc, c.status, c.err)
			}
			if resp.StatusCode >= 400 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("error as %q", resp.Header.Get("Content-Type"))
			}
			if p, ok := strings.CutPrefix(c.location, "~"); ok && !strings.HasPrefix(loc, p) {
				t.Errorf("Location %q, want %s…", loc, p)
			} else if !ok && c.location != "" && loc != c.location {
				t.Errorf("Location %q, want %q", loc, c.location)
			}
			if strings.HasPrefix(loc, "https://evil.example") || strings.HasPrefix(loc, "https://app.example/cb/other") {
				t.Errorf("redirected to an unregistered URI: %s", loc)
			}
			if strings.HasPrefix(loc, redirectURI) {
				u, _ := url.Parse(loc)
				q := u.Query()
				if u.Fragment != "" {
					q, _ = url.ParseQuery(u.Fragment)
				}
				if q.Get("state") != "s" {
					t.Errorf("error redirect without the state: %s", loc)
				}
			}
			if after := eventCount(t, env); after != n {
				t.Errorf("%d events written", after-n)
			}
		})
	}
	if countType(t, env, "auth_request.added") != added || eventCount(t, env) != before {
		t.Errorf("bad input wrote events")
	}
	// The tokens survived all of it.
	if st := userinfoStatus(t, env, tokens.AccessToken, ""); st != http.StatusOK {
		t.Errorf("the access token after the bad requests: %d", st)
	}
}
