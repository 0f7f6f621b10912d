package oidc_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// TestEndSessionLocations: without a post_logout_redirect_uri the browser
// lands on the hosted login's logout page (exactly /ui/v2/login/logout,
// the state appended); a registered one is followed; an unregistered one
// is refused with invalid_request (zitadel/oidc's
// ValidateEndSessionRequest, which ZITADEL serves as is): never followed,
// nothing terminated, nothing written.
func TestEndSessionLocations(t *testing.T) {
	f := newFixture(t)
	env := f.env
	clientID, secret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", nil)
	party := f.rp(t, clientID, secret, oidc.ScopeOpenID)
	end := func(q url.Values) (*http.Response, map[string]any) {
		t.Helper()
		return f.do(t, opCall{method: http.MethodGet, path: "/oidc/v1/end_session", form: q})
	}
	for _, c := range []struct {
		name     string
		q        func(hint string) url.Values
		location string
	}{
		{"hint, no post-logout URI", func(h string) url.Values { return url.Values{"id_token_hint": {h}} }, "/ui/v2/login/logout"},
		{"hint and state, no post-logout URI", func(h string) url.Values { return url.Values{"id_token_hint": {h}, "state": {"s1"}} },
			"/ui/v2/login/logout?state=s1"},
		{"hint, registered post-logout URI", func(h string) url.Values {
			return url.Values{"id_token_hint": {h}, "post_logout_redirect_uri": {"https://app.example/bye"}, "state": {"s2"}}
		}, "https://app.example/bye?state=s2"},
		{"client_id, registered post-logout URI", func(string) url.Values {
			return url.Values{"client_id": {clientID}, "post_logout_redirect_uri": {"https://app.example/bye"}}
		}, "https://app.example/bye"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tokens, _ := f.codeFlow(t, party)
			resp, m := end(c.q(tokens.IDToken))
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != c.location {
				t.Fatalf("%d %q %v, want 302 %q", resp.StatusCode, loc, m, c.location)
			}
			want := http.StatusUnauthorized // the hint's session is terminated
			if c.q("x").Get("id_token_hint") == "" {
				want = http.StatusOK
			}
			if st := userinfoStatus(t, env, tokens.AccessToken, ""); st != want {
				t.Errorf("access token after end session: %d, want %d", st, want)
			}
		})
	}
	t.Run("hint, unregistered post-logout URI", func(t *testing.T) {
		tokens, _ := f.codeFlow(t, party)
		before := eventCount(t, env)
		for _, uri := range []string{"https://evil.example/", "https://app.example/bye/more", "/ui/v2/login/logout"} {
			resp, m := end(url.Values{"id_token_hint": {tokens.IDToken}, "post_logout_redirect_uri": {uri}, "state": {"s"}})
			if resp.StatusCode != http.StatusBadRequest || m["error"] != "invalid_request" || resp.Header.Get("Location") != "" {
				t.Errorf("%s: %d %v %q", uri, resp.StatusCode, m, resp.Header.Get("Location"))
			}
		}
		if after := eventCount(t, env); after != before {
			t.Errorf("%d events written", after-before)
		}
		if st := userinfoStatus(t, env, tokens.AccessToken, ""); st != http.StatusOK {
			t.Errorf("access token after a refused end session: %d", st)
		}
	})
}
