package oidc_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/idledger/idledger/internal/app"
)

// externalLoginUI is a login UI of its own origin: it serves its login page
// and records the URLs the browser arrives at.
type externalLoginUI struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []*url.URL
}

func newExternalLoginUI(t *testing.T) *externalLoginUI {
	t.Helper()
	e := &externalLoginUI{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.hits = append(e.hits, r.URL)
		e.mu.Unlock()
		if !strings.HasSuffix(r.URL.Path, "/login") || r.URL.Query().Get("authRequest") == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>External login</title><form method="post"><label>Login name <input name="loginName"></label></form>`))
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// browse sends a browser (cookies, following redirects) to u and returns
// the URL it ends at.
func browse(t *testing.T, u string) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar}).Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s ended at %s with %d", u, resp.Request.URL, resp.StatusCode)
	}
	return resp.Request.URL
}

// TestExternalLoginUI: /oauth/v2/authorize sends the browser to the app's
// loginVersion.loginV2.baseUri, else to --login-url, as
// <base>/login?authRequest=V2_<id>; the external login UI then finishes
// the request through the API (GetAuthRequest, a session with a password
// check, CreateCallback) and the app exchanges the code for the user's
// tokens.
func TestExternalLoginUI(t *testing.T) {
	ext := newExternalLoginUI(t)
	flagBase := ext.srv.URL + "/flag-login"
	f := newFixtureWith(t, app.Options{Log: zerolog.Nop(), LoginURL: flagBase})

	cases := []struct {
		name  string
		extra map[string]any
		base  string // where the browser must land, before /login
	}{
		{"app base URI", map[string]any{"loginVersion": map[string]any{"loginV2": map[string]any{"baseUri": ext.srv.URL + "/app-login/"}}}, ext.srv.URL + "/app-login"},
		{"login v2 without a base URI", map[string]any{"loginVersion": map[string]any{"loginV2": map[string]any{}}}, flagBase},
		{"no login version", nil, flagBase},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clientID, secret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", tc.extra)
			party := f.rp(t, clientID, secret)
			verifier := oauth2.GenerateVerifier()
			authURL := rp.AuthURL("st4te", party, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier)),
				func() []oauth2.AuthCodeOption {
					return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("nonce", "n-0S6_WzA2Mj")}
				})
			at := browse(t, authURL)
			id := at.Query().Get("authRequest")
			if !strings.HasPrefix(id, "V2_") || at.String() != tc.base+"/login?authRequest="+id {
				t.Fatalf("the browser landed at %s, want %s/login?authRequest=V2_…", at, tc.base)
			}
			// The external login UI's back end: the same API calls as
			// ZITADEL's TypeScript login.
			q := f.login(t, id)
			if q.Get("state") != "st4te" || q.Get("code") == "" {
				t.Fatalf("callback query %v", q)
			}
			tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](context.Background(), q.Get("code"), party, rp.WithCodeVerifier(verifier))
			if err != nil {
				t.Fatalf("code exchange: %v", err)
			}
			if c := tokens.IDTokenClaims; c.Subject != f.userID || !slices.Contains(c.Audience, clientID) || c.Nonce != "n-0S6_WzA2Mj" {
				t.Fatalf("ID token claims %+v", c)
			}
		})
	}
	ext.mu.Lock()
	defer ext.mu.Unlock()
	if len(ext.hits) != len(cases) {
		t.Errorf("the external login UI saw %d requests, want %d: %v", len(ext.hits), len(cases), ext.hits)
	}
}

// TestHostedLoginURL: without --login-url, an app that names no login UI
// is sent to the hosted login, /ui/v2/login/login?authRequest=V2_<id>
// (ZITADEL's DefaultLoginURLV2, relative to the issuer), while an app with
// a base URI still goes to its own.
func TestHostedLoginURL(t *testing.T) {
	ext := newExternalLoginUI(t)
	f := newFixture(t)
	location := func(extra map[string]any) string {
		t.Helper()
		clientID, secret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", extra)
		party := f.rp(t, clientID, secret)
		resp, err := f.noRedirect.Get(rp.AuthURL("st4te", party, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(oauth2.GenerateVerifier()))))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("authorize: %d", resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	loc := location(nil)
	id := strings.TrimPrefix(loc, "/ui/v2/login/login?authRequest=")
	if id == loc || !strings.HasPrefix(id, "V2_") || strings.ContainsAny(id, "&?#/") {
		t.Fatalf("Location %q, want /ui/v2/login/login?authRequest=V2_…", loc)
	}
	// The hosted login answers that URL with its page, in the browser that
	// started the request (its cookie binds the auth request, ui/authbind).
	resp, err := f.noRedirect.Get(f.env.URL + loc)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the hosted login URL answered %d", resp.StatusCode)
	}
	base := ext.srv.URL + "/ui/v2/login"
	loc = location(map[string]any{"loginVersion": map[string]any{"loginV2": map[string]any{"baseUri": base}}})
	if id := strings.TrimPrefix(loc, base+"/login?authRequest="); id == loc || !strings.HasPrefix(id, "V2_") {
		t.Fatalf("Location %q, want %s/login?authRequest=V2_…", loc, base)
	}
}
