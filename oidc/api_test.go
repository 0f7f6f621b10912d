package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

func TestAPIAcceptsOPTokens(t *testing.T) {
	f := newFixture(t)
	env := f.env
	ctx := context.Background()
	me := func(token string, headers ...string) int {
		st, _ := env.DoAs(t, token, "GET", "/auth/v1/users/me", nil, headers...)
		return st
	}
	scopes := []string{oidc.ScopeOpenID, zitadelAud, oidc.ScopeOfflineAccess}
	opaqueID, opaqueSecret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", nil)
	jwtID, jwtSecret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", map[string]any{"name": "jwt", "accessTokenType": "OIDC_TOKEN_TYPE_JWT"})
	opaque := f.rp(t, opaqueID, opaqueSecret, scopes...)
	jwtParty := f.rp(t, jwtID, jwtSecret, scopes...)
	noAud := f.rp(t, opaqueID, opaqueSecret, oidc.ScopeOpenID)

	ot, _ := f.codeFlow(t, opaque)
	jt, _ := f.codeFlow(t, jwtParty)
	if strings.Count(jt.AccessToken, ".") != 2 || strings.Count(ot.AccessToken, ".") == 2 {
		t.Fatalf("token types: opaque %q, jwt %q", ot.AccessToken[:10], jt.AccessToken[:10])
	}
	for name, tok := range map[string]string{"opaque": ot.AccessToken, "jwt": jt.AccessToken} {
		if st := me(tok); st != http.StatusOK {
			t.Errorf("%s token on the API: %d", name, st)
		}
	}
	na, _ := f.codeFlow(t, noAud)
	if st := me(na.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("token without the zitadel audience: %d", st)
	}
	// Another instance does not know the token.
	env.AddInstance(t, "other.example")
	if st := me(ot.AccessToken, "Host", "other.example"); st != http.StatusUnauthorized {
		t.Errorf("token on another instance: %d", st)
	}

	// Introspection: an API app of the same project sees the token; one of
	// another project gets {"active":false}.
	api := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+f.projectID+"/apps/api", map[string]any{"name": "api"})
	p2 := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects", map[string]any{"name": "other"})
	api2 := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+p2["id"].(string)+"/apps/api", map[string]any{"name": "api2"})
	introspect := func(app map[string]any, tok string) map[string]any {
		_, m := tokenPost(t, env, "/oauth/v2/introspect", url.Values{"token": {tok}}, app["clientId"].(string), app["clientSecret"].(string))
		return m
	}
	for name, tok := range map[string]string{"opaque": ot.AccessToken, "jwt": jt.AccessToken} {
		if m := introspect(api, tok); m["active"] != true || m["sub"] != f.userID {
			t.Errorf("introspect %s as the project's API app: %v", name, m)
		}
		if m := introspect(api2, tok); m["active"] != false || len(m) != 1 {
			t.Errorf("introspect %s as another project's API app: %v", name, m)
		}
	}
	if r, m := tokenPost(t, env, "/oauth/v2/introspect", url.Values{"token": {ot.AccessToken}}, api["clientId"].(string), "wrong"); r.StatusCode != http.StatusUnauthorized ||
		m["error"] != "invalid_client" || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("introspect with a wrong secret: %d %v", r.StatusCode, m)
	}

	// Revocation takes effect at once, JWTs included.
	if err := rp.RevokeToken(ctx, opaque, ot.AccessToken, "access_token"); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if err := rp.RevokeToken(ctx, jwtParty, jt.AccessToken, "access_token"); err != nil {
		t.Fatalf("revoke jwt: %v", err)
	}
	for name, tok := range map[string]string{"opaque": ot.AccessToken, "jwt": jt.AccessToken} {
		if st := me(tok); st != http.StatusUnauthorized {
			t.Errorf("revoked %s token on the API: %d", name, st)
		}
		if m := introspect(api, tok); m["active"] != false {
			t.Errorf("revoked %s token introspected: %v", name, m)
		}
	}
	// A refresh token is revoked with its session's access tokens.
	next, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, opaque, ot.RefreshToken, "", "")
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if err := rp.RevokeToken(ctx, opaque, next.RefreshToken, "refresh_token"); err != nil {
		t.Fatalf("revoke refresh: %v", err)
	}
	if st := me(next.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("access token after its refresh token was revoked: %d", st)
	}
}

func TestEndSession(t *testing.T) {
	f := newFixture(t)
	clientID, secret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", nil)
	party := f.rp(t, clientID, secret, oidc.ScopeOpenID, zitadelAud)
	tokens, _ := f.codeFlow(t, party)
	end := func(post string) *http.Response {
		q := url.Values{"id_token_hint": {tokens.IDToken}, "post_logout_redirect_uri": {post}, "state": {"s1"}}
		resp, err := f.noRedirect.Get(f.env.URL + "/oidc/v1/end_session?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := end("https://evil.example/"); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("unregistered post-logout URI: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if st, _ := f.env.DoAs(t, tokens.AccessToken, "GET", "/auth/v1/users/me", nil); st != http.StatusOK {
		t.Fatalf("token before end session: %d", st)
	}
	resp := end("https://app.example/bye")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "https://app.example/bye?state=s1" {
		t.Fatalf("end session: %d %q", resp.StatusCode, loc)
	}
	if st, _ := f.env.DoAs(t, tokens.AccessToken, "GET", "/auth/v1/users/me", nil); st != http.StatusUnauthorized {
		t.Fatalf("token of a terminated session: %d", st)
	}
}
