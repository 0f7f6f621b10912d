package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/idledger/idledger/internal/app/apptest"
)

// rpApp is an app of the instance (a project and a public OIDC app with
// PKCE) and its callback server on loopback, which records what the
// browser brings back and shows a page that says so.
type rpApp struct {
	t        *testing.T
	env      *apptest.Env
	clientID string
	redirect string
	rp       rp.RelyingParty

	mu      sync.Mutex
	results map[string]url.Values // by state
}

// newRPApp registers the app and starts its callback server.
func newRPApp(t *testing.T, env *apptest.Env) *rpApp {
	t.Helper()
	a := &rpApp{t: t, env: env, results: map[string]url.Values{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cb" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		a.mu.Lock()
		a.results[q.Get("state")] = q
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src data:")
		status := "signed-in"
		if q.Get("error") != "" {
			status = "error"
		}
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>App</title><link rel="icon" href="data:,"></head><body><main><p id="app" class="%s">back at the app</p></main></body></html>`, status)
	}))
	t.Cleanup(srv.Close)
	a.redirect = srv.URL + "/cb"
	p := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects", map[string]any{"name": "shop"})
	app := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+p["id"].(string)+"/apps/oidc", map[string]any{
		"name": "shop-web", "redirectUris": []string{a.redirect}, "devMode": true,
		"grantTypes": []string{"OIDC_GRANT_TYPE_AUTHORIZATION_CODE"}, "responseTypes": []string{"OIDC_RESPONSE_TYPE_CODE"},
		"appType": "OIDC_APP_TYPE_USER_AGENT", "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE"})
	a.clientID = app["clientId"].(string)
	var err error
	a.rp, err = rp.NewRelyingPartyOIDC(context.Background(), env.URL, a.clientID, "", a.redirect,
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile})
	if err != nil {
		t.Fatalf("relying party: %v", err)
	}
	return a
}

// authFlow is one authorization request of the app.
type authFlow struct {
	state, nonce, verifier string
	URL                    string
}

// start builds an authorize URL with PKCE S256, state and nonce, and the
// extra scopes and parameters.
func (a *rpApp) start(scopes []string, params ...string) *authFlow {
	f := &authFlow{state: oauth2.GenerateVerifier()[:20], nonce: oauth2.GenerateVerifier()[:20], verifier: oauth2.GenerateVerifier()}
	cfg := *a.rp.OAuthConfig()
	cfg.Scopes = append(append([]string{}, cfg.Scopes...), scopes...)
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), oauth2.SetAuthURLParam("nonce", f.nonce)}
	for i := 0; i+1 < len(params); i += 2 {
		opts = append(opts, oauth2.SetAuthURLParam(params[i], params[i+1]))
	}
	f.URL = cfg.AuthCodeURL(f.state, opts...)
	return f
}

// result is what the browser brought back for f.
func (a *rpApp) result(f *authFlow) url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.results[f.state]
}

// exchange trades f's code at the token endpoint and verifies the ID
// token (signature, issuer, audience, nonce); it returns its claims.
func (a *rpApp) exchange(f *authFlow) *oidc.IDTokenClaims {
	a.t.Helper()
	q := a.result(f)
	if q == nil || q.Get("code") == "" {
		a.t.Fatalf("no code at the app for state %s: %v", f.state, q)
	}
	if q.Get("state") != f.state {
		a.t.Fatalf("state %q, want %q", q.Get("state"), f.state)
	}
	tok, err := a.rp.OAuthConfig().Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		a.t.Fatalf("code exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	v := rp.NewIDTokenVerifier(a.env.URL, a.clientID, a.rp.IDTokenVerifier().KeySet, rp.WithNonce(func(context.Context) string { return f.nonce }))
	claims, err := rp.VerifyIDToken[*oidc.IDTokenClaims](context.Background(), raw, v)
	if err != nil {
		a.t.Fatalf("ID token: %v", err)
	}
	if claims.Nonce != f.nonce {
		a.t.Fatalf("nonce %q, want %q", claims.Nonce, f.nonce)
	}
	return claims
}

// username is the username of user id.
func username(t *testing.T, env *apptest.Env, id string) string {
	t.Helper()
	u := env.MustDo(t, http.StatusOK, "GET", "/v2/users/"+id, nil)
	return u["user"].(map[string]any)["username"].(string)
}
