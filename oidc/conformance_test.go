package oidc_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"
)

// codeFor runs authorize → login with PKCE for clientID and scope and
// returns the code and its verifier, for a hand-made exchange.
func (f *fixture) codeFor(t *testing.T, clientID, scope string) (code, verifier string) {
	t.Helper()
	verifier = oauth2.GenerateVerifier()
	q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {scope},
		"state": {"s"}, "nonce": {"n"}, "code_challenge": {oidc.NewSHACodeChallenge(verifier)}, "code_challenge_method": {"S256"}}
	resp := f.authorizeResp(t, q)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	cb := f.login(t, loc.Query().Get("authRequest"))
	return cb.Get("code"), verifier
}

// TestOPConformance: the Basic and Config OP checks zitadel/oidc's RP and
// hand-made requests exercise that the flow tests do not: issuer
// exactness, redirect_uri at the token endpoint, alg:none request objects,
// scope escalation on refresh, malformed forms, unknown clients and a
// wrong PKCE verifier. Every refusal is the RFC's error and writes
// nothing.
func TestOPConformance(t *testing.T) {
	f := newFixture(t)
	env := f.env
	ctx := context.Background()
	clientID, secret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", nil)
	postID, postSecret := f.app(t, "OIDC_AUTH_METHOD_TYPE_POST", map[string]any{"name": "web-post"})

	t.Run("issuer exactness", func(t *testing.T) {
		if _, err := rp.NewRelyingPartyOIDC(ctx, env.URL+"/", clientID, secret, redirectURI, []string{"openid"}); err == nil {
			t.Error("an RP configured with the issuer plus a slash accepted the discovery document")
		}
		party := f.rp(t, clientID, secret)
		if got := party.Issuer(); got != env.URL {
			t.Errorf("issuer %q, want %q", got, env.URL)
		}
		// Another host name is another issuer (and no instance here).
		resp, _ := get(t, env.URL+"/.well-known/openid-configuration", "Host", "unknown.example")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("discovery on an unknown host: %d", resp.StatusCode)
		}
	})

	t.Run("client_secret_basic and client_secret_post", func(t *testing.T) {
		for _, c := range []struct{ id, secret string }{{clientID, secret}, {postID, postSecret}} {
			code, verifier := f.codeFor(t, c.id, "openid")
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
			var r *http.Response
			var m map[string]any
			if c.id == postID {
				form.Set("client_id", c.id)
				form.Set("client_secret", c.secret)
				r, m = tokenPost(t, env, "/oauth/v2/token", form, "", "")
			} else {
				r, m = tokenPost(t, env, "/oauth/v2/token", form, c.id, c.secret)
			}
			if r.StatusCode != http.StatusOK || m["id_token"] == nil || m["token_type"] != "Bearer" {
				t.Errorf("%s: %d %v", c.id, r.StatusCode, m)
			}
		}
		// Both methods at once: invalid_request.
		code, verifier := f.codeFor(t, clientID, "openid")
		r, m := tokenPost(t, env, "/oauth/v2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectURI}, "code_verifier": {verifier}, "client_id": {clientID}, "client_secret": {secret}}, clientID, secret)
		if r.StatusCode != http.StatusBadRequest || m["error"] != "invalid_request" {
			t.Errorf("two client auth methods: %d %v", r.StatusCode, m)
		}
	})

	t.Run("refusals write nothing", func(t *testing.T) {
		code, verifier := f.codeFor(t, clientID, "openid offline_access")
		unsigned := func(claims string) string {
			enc := base64.RawURLEncoding.EncodeToString
			return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "."
		}
		now := strconv.FormatInt(time.Now().Unix(), 10)
		before := eventCount(t, env)
		for name, c := range map[string]struct {
			form       url.Values
			user, pass string
			status     int
			errCode    string
		}{
			"redirect_uri mismatch": {url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://app.example/other"},
				"code_verifier": {verifier}}, clientID, secret, http.StatusBadRequest, "invalid_grant"},
			"no redirect_uri": {url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}},
				clientID, secret, http.StatusBadRequest, "invalid_grant"},
			"wrong PKCE verifier": {url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
				"code_verifier": {oauth2.GenerateVerifier()}}, clientID, secret, http.StatusBadRequest, "invalid_grant"},
			"no PKCE verifier": {url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}},
				clientID, secret, http.StatusBadRequest, "invalid_request"},
			"another client's code": {url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
				"code_verifier": {verifier}, "client_id": {postID}, "client_secret": {postSecret}}, "", "", http.StatusBadRequest, "invalid_grant"},
			"unknown client": {url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
				"code_verifier": {verifier}}, "nobody", secret, http.StatusUnauthorized, "invalid_client"},
			"wrong secret": {url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
				"code_verifier": {verifier}}, clientID, "nope", http.StatusUnauthorized, "invalid_client"},
			"no grant_type":      {url.Values{"code": {code}}, clientID, secret, http.StatusBadRequest, "invalid_request"},
			"unknown grant_type": {url.Values{"grant_type": {"magic"}}, clientID, secret, http.StatusBadRequest, "unsupported_grant_type"},
			"no code":            {url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {redirectURI}}, clientID, secret, http.StatusBadRequest, "invalid_request"},
		} {
			r, m := tokenPost(t, env, "/oauth/v2/token", c.form, c.user, c.pass)
			if r.StatusCode != c.status || m["error"] != c.errCode {
				t.Errorf("%s: %d %v, want %d %s", name, r.StatusCode, m, c.status, c.errCode)
			}
		}
		// A request object with alg:none is refused, and no auth request
		// is made for it.
		ro := unsigned(`{"iss":"` + clientID + `","aud":"` + env.URL + `","client_id":"` + clientID + `","response_type":"code",` +
			`"redirect_uri":"` + redirectURI + `","scope":"openid","state":"s","iat":` + now + `}`)
		resp := f.authorizeResp(t, url.Values{"client_id": {clientID}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {redirectURI}, "request": {ro}})
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode == http.StatusFound && loc != nil && loc.Query().Get("authRequest") != "" || resp.StatusCode >= 500 {
			t.Errorf("alg:none request object: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if loc != nil && strings.HasPrefix(loc.String(), redirectURI) && loc.Query().Get("error") == "" {
			t.Errorf("alg:none request object redirected without an error: %s", loc)
		}
		if after := eventCount(t, env); after != before {
			t.Errorf("%d events written by refused requests", after-before)
		}
		// The code is still good after all that.
		r, m := tokenPost(t, env, "/oauth/v2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectURI}, "code_verifier": {verifier}}, clientID, secret)
		if r.StatusCode != http.StatusOK || m["refresh_token"] == nil {
			t.Fatalf("the code after the refusals: %d %v", r.StatusCode, m)
		}

		// Scope escalation on refresh: invalid_scope, nothing written, the
		// refresh token still works.
		rt := m["refresh_token"].(string)
		before = eventCount(t, env)
		r, m = tokenPost(t, env, "/oauth/v2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
			"scope": {"openid offline_access profile email"}}, clientID, secret)
		if r.StatusCode != http.StatusBadRequest || m["error"] != "invalid_scope" {
			t.Errorf("scope escalation on refresh: %d %v", r.StatusCode, m)
		}
		if after := eventCount(t, env); after != before {
			t.Errorf("%d events written by a refused refresh", after-before)
		}
		r, m = tokenPost(t, env, "/oauth/v2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
			"scope": {"openid"}}, clientID, secret)
		if r.StatusCode != http.StatusOK || m["access_token"] == nil {
			t.Errorf("refresh with a narrower scope: %d %v", r.StatusCode, m)
		}
	})
}
