package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
)

// countType counts the events of type typ.
func countType(t *testing.T, env *apptest.Env, typ string) int {
	t.Helper()
	var n int
	if err := env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE event_type = $1`, typ).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (c *clock) reset() { c.mu.Lock(); c.d = 0; c.mu.Unlock() }

// refresh posts a refresh grant of client (basic) and returns the status
// and body.
func (f *fixture) refresh(t *testing.T, clientID, secret, rt string) (int, map[string]any) {
	t.Helper()
	r, m := tokenPost(t, f.env, "/oauth/v2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, clientID, secret)
	return r.StatusCode, m
}

// userinfoStatus calls userinfo with a bearer token, on host (""
// is the test server's own).
func userinfoStatus(t *testing.T, env *apptest.Env, tok, host string) int {
	t.Helper()
	h := []string{"Authorization", "Bearer " + tok}
	if host != "" {
		h = append(h, "Host", host)
	}
	resp, body := get(t, env.URL+"/oidc/v1/userinfo", h...)
	if resp.StatusCode == http.StatusUnauthorized && !strings.Contains(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("userinfo 401 without a Bearer challenge: %s", body)
	}
	return resp.StatusCode
}

// TestLifetimesFromSettings: /admin/v1/settings/oidc sets the lifetimes of
// the tokens issued after it: expires_in, the ID token's exp - iat, the
// access token's end, and the refresh token's idle and absolute
// expirations (invalid_grant after either). The commands' clock moves
// time forward.
func TestLifetimesFromSettings(t *testing.T) {
	clk := &clock{}
	f := fixtureOn(t, apptest.NewWith(t, app.Options{Now: clk.Now}))
	env := f.env
	env.MustDo(t, http.StatusOK, "POST", "/admin/v1/settings/oidc", map[string]string{"accessTokenLifetime": "60s",
		"idTokenLifetime": "120s", "refreshTokenIdleExpiration": "300s", "refreshTokenExpiration": "1000s"})
	clientID, secret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", nil)
	party := f.rp(t, clientID, secret)

	checkLifetimes := func(what string, expiresIn any, idToken string) {
		t.Helper()
		if n, _ := expiresIn.(float64); n < 58 || n > 60 {
			t.Errorf("%s: expires_in %v, want 60", what, expiresIn)
		}
		claims, err := rp.VerifyIDToken[*oidc.IDTokenClaims](context.Background(), idToken, party.IDTokenVerifier())
		if err != nil {
			// A refreshed ID token has no nonce check to pass; read the claims unverified.
			claims = new(oidc.IDTokenClaims)
			if _, err := oidc.ParseToken(idToken, claims); err != nil {
				t.Fatalf("%s: ID token: %v", what, err)
			}
		}
		if d := claims.Expiration.AsTime().Sub(claims.IssuedAt.AsTime()); d != 120*time.Second {
			t.Errorf("%s: ID token exp - iat = %s, want 2m0s", what, d)
		}
	}
	tokens, _ := f.codeFlow(t, party)
	checkLifetimes("code exchange", tokens.Extra("expires_in"), tokens.IDToken)
	// A machine grant's access token has the set lifetime too.
	_, machineSecret := machine(t, env, "svc", true)
	if r, m := tokenPost(t, env, "/oauth/v2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, "svc", machineSecret); r.StatusCode != http.StatusOK {
		t.Fatalf("client_credentials: %d %v", r.StatusCode, m)
	} else if n, _ := m["expires_in"].(float64); n < 58 || n > 60 {
		t.Errorf("client_credentials: expires_in %v, want 60", m["expires_in"])
	}
	if st := userinfoStatus(t, env, tokens.AccessToken, ""); st != http.StatusOK {
		t.Fatalf("userinfo: %d", st)
	}

	// Before the idle expiration the refresh token works (and renews the
	// access token with the set lifetime).
	clk.Add(250 * time.Second)
	st, m := f.refresh(t, clientID, secret, tokens.RefreshToken)
	if st != http.StatusOK {
		t.Fatalf("refresh within the idle expiration: %d %v", st, m)
	}
	checkLifetimes("refresh", m["expires_in"], m["id_token"].(string))
	// The first access token ended after its 60 s.
	if st := userinfoStatus(t, env, tokens.AccessToken, ""); st != http.StatusUnauthorized {
		t.Errorf("access token after its lifetime: %d", st)
	}
	// Idle: 300 s after the last renewal, invalid_grant.
	clk.Add(301 * time.Second)
	if st, m := f.refresh(t, clientID, secret, m["refresh_token"].(string)); st != http.StatusBadRequest || m["error"] != "invalid_grant" {
		t.Errorf("idle-expired refresh token: %d %v", st, m)
	}

	// Absolute: with an idle expiration longer than the absolute one, the
	// token ends at the absolute one however recently it was renewed.
	env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/settings/oidc", map[string]string{"accessTokenLifetime": "60s",
		"idTokenLifetime": "120s", "refreshTokenIdleExpiration": "5000s", "refreshTokenExpiration": "1000s"})
	clk.reset()
	tokens, _ = f.codeFlow(t, party)
	clk.Add(900 * time.Second)
	st, m = f.refresh(t, clientID, secret, tokens.RefreshToken)
	if st != http.StatusOK {
		t.Fatalf("refresh before the absolute expiration: %d %v", st, m)
	}
	clk.Add(101 * time.Second)
	if st, m := f.refresh(t, clientID, secret, m["refresh_token"].(string)); st != http.StatusBadRequest || m["error"] != "invalid_grant" {
		t.Errorf("absolutely expired refresh token: %d %v", st, m)
	}
}

// resign signs the claims of JWT tok again with key under kid, after
// edit changes them.
func resign(t *testing.T, tok string, key any, kid string, edit func(map[string]any)) string {
	t.Helper()
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := parsed.UnsafeClaimsWithoutVerification(&claims); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(claims)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestJWTAccessTokenRefusals: a JWT access token fails at once on another
// instance and after end session (id_token_hint); a forged one (another
// key, a real kid) and an expired one (its exp past, even signed with the
// instance's own key) get 401 on the API and userinfo and active:false at
// introspection.
func TestJWTAccessTokenRefusals(t *testing.T) {
	f := newFixture(t)
	env := f.env
	ctx := context.Background()
	jwtID, jwtSecret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", map[string]any{"name": "jwt", "accessTokenType": "OIDC_TOKEN_TYPE_JWT"})
	party := f.rp(t, jwtID, jwtSecret, oidc.ScopeOpenID, zitadelAud)
	api := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+f.projectID+"/apps/api", map[string]any{"name": "api"})
	me := func(tok string, headers ...string) int {
		st, _ := env.DoAs(t, tok, "GET", "/auth/v1/users/me", nil, headers...)
		return st
	}
	introspect := func(tok string) map[string]any {
		_, m := tokenPost(t, env, "/oauth/v2/introspect", url.Values{"token": {tok}}, api["clientId"].(string), api["clientSecret"].(string))
		return m
	}
	refused := func(what, tok string) {
		t.Helper()
		if st := me(tok); st != http.StatusUnauthorized {
			t.Errorf("%s on the API: %d", what, st)
		}
		if st := userinfoStatus(t, env, tok, ""); st != http.StatusUnauthorized {
			t.Errorf("%s at userinfo: %d", what, st)
		}
		if m := introspect(tok); m["active"] != false || len(m) != 1 {
			t.Errorf("%s introspected: %v", what, m)
		}
	}

	tokens, _ := f.codeFlow(t, party)
	jt := tokens.AccessToken
	if strings.Count(jt, ".") != 2 || me(jt) != http.StatusOK || userinfoStatus(t, env, jt, "") != http.StatusOK || introspect(jt)["active"] != true {
		t.Fatalf("the JWT access token does not work: %.20s…", jt)
	}

	// Another instance: refused at once, on the API and at userinfo.
	env.AddInstance(t, "other.example")
	if st := me(jt, "Host", "other.example"); st != http.StatusUnauthorized {
		t.Errorf("JWT on another instance's API: %d", st)
	}
	if st := userinfoStatus(t, env, jt, "other.example"); st != http.StatusUnauthorized {
		t.Errorf("JWT at another instance's userinfo: %d", st)
	}

	// Forged: the real claims and kid, another key.
	parsed, err := jwt.ParseSigned(jt, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	kid := parsed.Headers[0].KeyID
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	refused("forged JWT", resign(t, jt, other, kid, nil))

	// Expired: the instance's own key, the token's own jti (still active),
	// exp in the past.
	sk, err := env.App.Commands().SigningKey(ctx, env.InstanceID)
	if err != nil || sk.ID != kid {
		t.Fatalf("signing key %v (%v), token kid %s", sk, err, kid)
	}
	past := time.Now().Add(-time.Minute).Unix()
	refused("expired JWT", resign(t, jt, sk.Key, kid, func(c map[string]any) { c["exp"] = past; c["iat"] = past - 60 }))
	// The same re-signing without the change is accepted: the refusal above
	// is the expiry's.
	if st := me(resign(t, jt, sk.Key, kid, nil)); st != http.StatusOK {
		t.Fatalf("re-signed unchanged JWT: %d", st)
	}

	// End session with the ID token as hint: the JWT fails at once.
	q := url.Values{"id_token_hint": {tokens.IDToken}, "post_logout_redirect_uri": {"https://app.example/bye"}}
	resp, err := f.noRedirect.Get(env.URL + "/oidc/v1/end_session?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("end session: %d", resp.StatusCode)
	}
	refused("JWT of a terminated session", jt)
}

// TestIntrospectionByOIDCApp: a web app (client_secret_basic) may
// introspect; ZITADEL's audience rule decides: active when the token's
// audience holds the caller's client ID or its project, {"active":false}
// otherwise.
func TestIntrospectionByOIDCApp(t *testing.T) {
	f := newFixture(t)
	env := f.env
	issuerID, issuerSecret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", nil)
	p2 := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects", map[string]any{"name": "elsewhere"})["id"].(string)
	addApp := func(project, name string) (string, string) {
		a := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+project+"/apps/oidc", map[string]any{"name": name,
			"redirectUris": []string{redirectURI}, "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC"})
		return a["clientId"].(string), a["clientSecret"].(string)
	}
	otherID, otherSecret := addApp(p2, "other-project")
	introspect := func(id, secret, tok string) map[string]any {
		t.Helper()
		r, m := tokenPost(t, env, "/oauth/v2/introspect", url.Values{"token": {tok}}, id, secret)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("introspect as %s: %d %v", id, r.StatusCode, m)
		}
		return m
	}
	active := func(what string, m map[string]any, want bool) {
		t.Helper()
		if want && (m["active"] != true || m["sub"] != f.userID || m["client_id"] != issuerID) {
			t.Errorf("%s: %v, want active", what, m)
		}
		if !want && (m["active"] != false || len(m) != 1) {
			t.Errorf("%s: %v, want only active:false", what, m)
		}
	}

	plain, _ := f.codeFlow(t, f.rp(t, issuerID, issuerSecret, oidc.ScopeOpenID))
	// An app of the token's project added after the token: its client ID
	// is not in the audience, its project is.
	lateID, lateSecret := addApp(f.projectID, "late")
	active("the issuing app", introspect(issuerID, issuerSecret, plain.AccessToken), true)
	active("a later app of the project", introspect(lateID, lateSecret, plain.AccessToken), true)
	active("an app of another project", introspect(otherID, otherSecret, plain.AccessToken), false)

	// The audience scope of the other project puts it in the audience; one
	// naming the other app's client ID puts that in.
	byProject, _ := f.codeFlow(t, f.rp(t, issuerID, issuerSecret, oidc.ScopeOpenID, "urn:zitadel:iam:org:project:id:"+p2+":aud"))
	active("the other project's app, project in the audience", introspect(otherID, otherSecret, byProject.AccessToken), true)
	byClient, _ := f.codeFlow(t, f.rp(t, issuerID, issuerSecret, oidc.ScopeOpenID, "urn:zitadel:iam:org:project:id:"+otherID+":aud"))
	if m := introspect(otherID, otherSecret, byClient.AccessToken); m["active"] != true {
		t.Errorf("the other project's app, its client ID in the audience: %v", m)
	} else if aud, _ := json.Marshal(m["aud"]); strings.Contains(string(aud), `"`+p2+`"`) {
		t.Errorf("audience %s holds the other project", aud)
	}

	// A wrong secret of a web app: invalid_client.
	if r, m := tokenPost(t, env, "/oauth/v2/introspect", url.Values{"token": {plain.AccessToken}}, issuerID, "wrong"); r.StatusCode != http.StatusUnauthorized ||
		m["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", r.StatusCode, m)
	}
}
