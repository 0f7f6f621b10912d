package api_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
)

// The IdP intents end to end, against zitadel/oidc's example OpenID
// Provider in process on loopback (login-flows.md §6): start → the
// upstream's login form → callback → retrieve → consume.

// testOP is an in-process OpenID Provider with its own clients.
type testOP struct {
	URL     string
	clients map[string]*storage.Client
	store   *storage.Storage
}

// newTestOP starts the example OP; clients are registered before it
// serves (its client map has no lock).
func newTestOP(t *testing.T, clients ...*storage.Client) *testOP {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	op := &testOP{URL: srv.URL, clients: map[string]*storage.Client{}}
	for _, c := range clients {
		op.clients[c.GetID()] = c
	}
	op.store = storage.NewStorageWithClients(storage.NewUserStore(srv.URL), op.clients)
	h = exampleop.SetupServer(srv.URL, op.store, slog.New(slog.DiscardHandler), false)
	return op
}

// browser steps 302s one by one, with a cookie jar.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T, rt http.RoundTripper) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, Transport: rt, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// follow GETs (or POSTs form) u and follows redirects until one leaves
// for stop (a URL prefix), which it returns without requesting it.
func (b *browser) follow(method, u string, form url.Values, stop string) (*http.Response, string) {
	b.t.Helper()
	for i := 0; i < 15; i++ {
		if strings.HasPrefix(u, stop) {
			return nil, u
		}
		var resp *http.Response
		var err error
		if method == http.MethodPost {
			resp, err = b.c.PostForm(u, form)
		} else {
			resp, err = b.c.Get(u)
		}
		if err != nil {
			b.t.Fatalf("browser %s %s: %v", method, u, err)
		}
		if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
			return resp, u
		}
		resp.Body.Close()
		next, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			b.t.Fatalf("bad Location %q", resp.Header.Get("Location"))
		}
		method, u = http.MethodGet, next.String()
	}
	b.t.Fatalf("too many redirects at %s", u)
	return nil, ""
}

var authRequestIDRe = regexp.MustCompile(`name="id" value="([^"]+)"`)

// loginAtOP runs the OP's login form from authURL and returns the URL the
// browser is sent to at stop (our callback's 302 target).
func (b *browser) loginAtOP(authURL, username, password, stop string) string {
	b.t.Helper()
	resp, at := b.follow(http.MethodGet, authURL, nil, stop)
	if resp == nil {
		b.t.Fatalf("the OP sent the browser straight to %s", at)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := authRequestIDRe.FindSubmatch(body)
	if m == nil {
		b.t.Fatalf("no login form at %s (%d): %s", at, resp.StatusCode, body)
	}
	resp, to := b.follow(http.MethodPost, at, url.Values{"username": {username}, "password": {password}, "id": {string(m[1])}}, stop)
	if resp != nil {
		body, _ := io.ReadAll(resp.Body)
		b.t.Fatalf("login ended at %s with %d: %s", to, resp.StatusCode, body)
	}
	return to
}

const (
	successURL = "https://login.example/idp/success?requestId=r1"
	failureURL = "https://login.example/idp/failure?requestId=r1"
)

func startIntent(t *testing.T, env *apptest.Env, idpID string) map[string]any {
	t.Helper()
	return env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents",
		map[string]any{"idpId": idpID, "urls": map[string]string{"successUrl": successURL, "failureUrl": failureURL}})
}

// redirectQuery returns the query of a redirect to want's prefix.
func redirectQuery(t *testing.T, to, want string) url.Values {
	t.Helper()
	if !strings.HasPrefix(to, want) {
		t.Fatalf("redirected to %s, want %s…", to, want)
	}
	u, _ := url.Parse(to)
	return u.Query()
}

func newIntentEnv(t *testing.T, rt http.RoundTripper) *apptest.Env {
	t.Helper()
	var c *http.Client
	if rt != nil {
		c = &http.Client{Transport: rt, Timeout: 10 * time.Second}
	}
	env := apptest.NewWith(t, app.Options{Log: zerolog.Nop(), UpstreamClient: c})
	// Addressed as the browser addresses it, so the callback URL (the
	// instance's origin as the client addressed it) reaches the server.
	env.Host = strings.TrimPrefix(env.URL, "http://")
	return env
}

func jsonPath(t *testing.T, m map[string]any, path ...string) any {
	t.Helper()
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v: %s is not an object in %v", path, p, m)
		}
		v = mm[p]
	}
	return v
}

func TestIntentOIDC(t *testing.T) {
	// The env's URL is known only once it runs; the OP needs the redirect
	// URI up front, so the env starts first and the clients name it.
	env := newIntentEnv(t, nil)
	callback := env.URL + "/idps/callback"
	op := newTestOP(t,
		storage.WebClient("oidc-plain", "s3cret-plain", callback),
		storage.WebClient("oidc-idtoken", "s3cret-idtoken", callback),
	)
	for _, tc := range []struct {
		name, client, secret string
		idTokenMapping, pkce bool
	}{
		{"userinfo", "oidc-plain", "s3cret-plain", false, false},
		{"id token mapping with PKCE", "oidc-idtoken", "s3cret-idtoken", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idpID := plIDP(t, env, "", "generic_oidc", fmt.Sprintf(
				`{"name":"OP","issuer":%q,"clientId":%q,"clientSecret":%q,"scopes":["openid","profile","email"],"isIdTokenMapping":%v,"usePkce":%v}`,
				op.URL, tc.client, tc.secret, tc.idTokenMapping, tc.pkce))
			start := startIntent(t, env, idpID)
			authURL, _ := start["authUrl"].(string)
			au, err := url.Parse(authURL)
			if err != nil || !strings.HasPrefix(authURL, op.URL) {
				t.Fatalf("authUrl %q", authURL)
			}
			q := au.Query()
			if q.Get("nonce") == "" || q.Get("state") == "" || q.Get("redirect_uri") != callback {
				t.Fatalf("authUrl lacks nonce, state or redirect_uri: %s", authURL)
			}
			if (q.Get("code_challenge") != "") != tc.pkce || (tc.pkce && q.Get("code_challenge_method") != "S256") {
				t.Fatalf("PKCE %v, authUrl %s", tc.pkce, authURL)
			}
			b := newBrowser(t, nil)
			to := b.loginAtOP(authURL, "test-user@127.0.0.1", "verysecure", "https://login.example/")
			rq := redirectQuery(t, to, "https://login.example/idp/success")
			id, token := rq.Get("id"), rq.Get("token")
			if id != q.Get("state") || token == "" || rq.Get("requestId") != "r1" || rq.Get("user") != "" {
				t.Fatalf("success redirect %s (state %s)", to, q.Get("state"))
			}
			got := env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents/"+id, map[string]string{"idpIntentToken": token})
			if jsonPath(t, got, "idpInformation", "userId") != "id1" || jsonPath(t, got, "idpInformation", "idpId") != idpID {
				t.Fatalf("retrieve: %v", got)
			}
			if at, _ := jsonPath(t, got, "idpInformation", "oauth", "accessToken").(string); at == "" {
				t.Fatalf("no access token: %v", got)
			}
			if tc.idTokenMapping {
				// The example OP asserts no userinfo claims in its ID tokens:
				// the user is the ID token's (sub and the nonce we sent), not
				// userinfo's.
				if jsonPath(t, got, "idpInformation", "rawInformation", "nonce") != q.Get("nonce") ||
					jsonPath(t, got, "idpInformation", "rawInformation", "email") != nil {
					t.Fatalf("rawInformation is not the ID token's: %v", got)
				}
			} else {
				if jsonPath(t, got, "idpInformation", "userName") != "test-user@127.0.0.1" ||
					jsonPath(t, got, "idpInformation", "rawInformation", "email") != "test-user@zitadel.ch" {
					t.Fatalf("rawInformation: %v", got)
				}
				if jsonPath(t, got, "addHumanUser", "email", "isVerified") != true ||
					jsonPath(t, got, "addHumanUser", "profile", "givenName") != "Test" {
					t.Fatalf("addHumanUser: %v", got)
				}
			}
			// No token, nonce, verifier or secret in any event (the admin's
			// event API renders what `events list` prints).
			at := jsonPath(t, got, "idpInformation", "oauth", "accessToken").(string)
			idt, _ := jsonPath(t, got, "idpInformation", "oauth", "idToken").(string)
			_, evs := env.Do(t, "POST", "/admin/v1/events/_search", map[string]any{"limit": 1000})
			if !strings.Contains(string(evs), "idpintent.succeeded") {
				t.Fatalf("no intent events: %s", evs)
			}
			for name, secret := range map[string]string{"intent token": token, "access token": at, "id token": idt,
				"nonce": q.Get("nonce"), "client secret": tc.secret, "verifier": "codeVerifier", "email": "test-user@zitadel.ch"} {
				if secret != "" && strings.Contains(string(evs), secret) {
					t.Errorf("the %s is in the events", name)
				}
			}
			// A wrong token, then a replayed callback.
			st, body := env.Do(t, "POST", "/v2/idp_intents/"+id, map[string]string{"idpIntentToken": token + "x"})
			if st != http.StatusForbidden || apptest.ErrorID(body) != "CRYPTO-CRYPTO" {
				t.Fatalf("wrong token: %d %s", st, body)
			}
			_, to2 := b.follow(http.MethodGet, callback+"?state="+id+"&code=again", nil, "https://login.example/")
			if rq := redirectQuery(t, to2, "https://login.example/idp/failure"); rq.Get("error") != "IDP-Sfrgs" {
				t.Fatalf("second callback: %s", to2)
			}
		})
	}
}
