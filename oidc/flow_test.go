package oidc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"

	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
)

const (
	redirectURI = "https://app.example/cb"
	password    = "Secr3t!pass"
)

// fixture is an instance with a project, a human with a password and a
// login client (IAM_LOGIN_CLIENT).
type fixture struct {
	env        *apptest.Env
	projectID  string
	userID     string
	loginPAT   string
	noRedirect *http.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, app.Options{Log: zerolog.Nop()})
}

// newFixtureWith is newFixture on an application wired with o.
func newFixtureWith(t *testing.T, o app.Options) *fixture {
	t.Helper()
	return fixtureOn(t, apptest.NewWith(t, o))
}

// fixtureOn is newFixture on an application the caller started.
func fixtureOn(t *testing.T, env *apptest.Env) *fixture {
	t.Helper()
	// A browser's cookie jar: the hosted login takes up only an auth
	// request the same browser started (ui/authbind).
	jar, _ := cookiejar.New(nil)
	f := &fixture{env: env, noRedirect: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	p := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects", map[string]any{"name": "shop"})
	f.projectID = p["id"].(string)
	u := env.MustDo(t, http.StatusCreated, "POST", "/v2/users/human", map[string]any{
		"organization": map[string]any{"orgId": env.DefaultOrgID}, "username": "alice",
		"profile": map[string]any{"givenName": "Alice", "familyName": "L"}, "email": map[string]any{"email": "alice@example.com", "isVerified": true},
		"password": map[string]any{"password": password, "changeRequired": false}})
	f.userID = u["userId"].(string)
	var lcID string
	lcID, f.loginPAT = env.CreateMachineWithPAT(t, env.DefaultOrgID)
	env.Grant(t, lcID, "", "IAM_LOGIN_CLIENT")
	return f
}

// app adds an OIDC app with the auth method authMethod and returns its
// client ID and secret.
func (f *fixture) app(t *testing.T, authMethod string, extra map[string]any) (string, string) {
	t.Helper()
	body := map[string]any{"name": "web-" + authMethod, "redirectUris": []string{redirectURI},
		"grantTypes":             []string{"OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"},
		"authMethodType":         authMethod,
		"postLogoutRedirectUris": []string{"https://app.example/bye"}}
	for k, v := range extra {
		body[k] = v
	}
	a := f.env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+f.projectID+"/apps/oidc", body)
	sec, _ := a["clientSecret"].(string)
	return a["clientId"].(string), sec
}

func (f *fixture) rp(t *testing.T, clientID, secret string, scopes ...string) rp.RelyingParty {
	t.Helper()
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopeOfflineAccess}
	}
	r, err := rp.NewRelyingPartyOIDC(context.Background(), f.env.URL, clientID, secret, redirectURI, scopes,
		rp.WithVerifierOpts(rp.WithNonce(func(context.Context) string { return "n-0S6_WzA2Mj" })))
	if err != nil {
		t.Fatalf("rp: %v", err)
	}
	return r
}

// authorize sends the browser to the authorize URL and returns the auth
// request ID from the login redirect.
func (f *fixture) authorize(t *testing.T, u string) string {
	t.Helper()
	resp, err := f.noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.Query().Get("authRequest"), "V2_") {
		t.Fatalf("authorize: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Path != "/ui/v2/login/login" {
		t.Errorf("login URL %s", loc)
	}
	return loc.Query().Get("authRequest")
}

// login is the login UI: a session with a password check, then
// CreateCallback; it returns the callback URL's query.
func (f *fixture) login(t *testing.T, authRequestID string) url.Values {
	t.Helper()
	env := f.env
	g := env.MustDoAs(t, f.loginPAT, http.StatusOK, "GET", "/v2/oidc/auth_requests/"+authRequestID, nil)
	if ar := g["authRequest"].(map[string]any); ar["id"] != authRequestID || ar["redirectUri"] != redirectURI {
		t.Fatalf("GetAuthRequest: %v", g)
	}
	s := env.MustDoAs(t, f.loginPAT, http.StatusCreated, "POST", "/v2/sessions", map[string]any{"checks": map[string]any{
		"user": map[string]any{"loginName": "alice"}, "password": map[string]any{"password": password}}})
	cb := env.MustDoAs(t, f.loginPAT, http.StatusOK, "POST", "/v2/oidc/auth_requests/"+authRequestID, map[string]any{
		"session": map[string]any{"sessionId": s["sessionId"], "sessionToken": s["sessionToken"]}})
	u, err := url.Parse(cb["callbackUrl"].(string))
	if err != nil || !strings.HasPrefix(u.String(), redirectURI+"?") {
		t.Fatalf("callbackUrl %v", cb)
	}
	// A second callback is refused.
	again := env.MustDoAs(t, f.loginPAT, http.StatusBadRequest, "POST", "/v2/oidc/auth_requests/"+authRequestID, map[string]any{
		"session": map[string]any{"sessionId": s["sessionId"], "sessionToken": s["sessionToken"]}})
	if !strings.Contains(again["message"].(string), "COMMAND-Sx208nt") {
		t.Errorf("second callback: %v", again)
	}
	return u.Query()
}

// codeFlow runs authorize → login → code exchange with PKCE.
func (f *fixture) codeFlow(t *testing.T, party rp.RelyingParty, opts ...rp.CodeExchangeOpt) (*oidc.Tokens[*oidc.IDTokenClaims], string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	u := rp.AuthURL("st4te", party, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(verifier)),
		func() []oauth2.AuthCodeOption {
			return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("nonce", "n-0S6_WzA2Mj")}
		})
	q := f.login(t, f.authorize(t, u))
	if q.Get("state") != "st4te" || q.Get("code") == "" {
		t.Fatalf("callback query %v", q)
	}
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](context.Background(), q.Get("code"), party, append(opts, rp.WithCodeVerifier(verifier))...)
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	return tokens, q.Get("code")
}

func TestCodeFlowPKCE(t *testing.T) {
	f := newFixture(t)
	for _, method := range []string{"OIDC_AUTH_METHOD_TYPE_BASIC", "OIDC_AUTH_METHOD_TYPE_POST", "OIDC_AUTH_METHOD_TYPE_NONE"} {
		t.Run(method, func(t *testing.T) {
			clientID, secret := f.app(t, method, nil)
			party := f.rp(t, clientID, secret)
			tokens, _ := f.codeFlow(t, party)
			c := tokens.IDTokenClaims
			if c.Issuer != f.env.URL || !slices.Contains(c.Audience, clientID) || !slices.Contains(c.Audience, f.projectID) ||
				c.Nonce != "n-0S6_WzA2Mj" || c.Subject != f.userID || c.SessionID == "" || !slices.Contains(c.AuthenticationMethodsReferences, "pwd") ||
				c.AccessTokenHash == "" || c.AuthTime == 0 || c.AuthorizedParty != clientID {
				t.Fatalf("ID token claims %+v", c)
			}
			if tokens.RefreshToken == "" {
				t.Errorf("no refresh token with offline_access")
			}
			// sid is the OIDC session that holds the tokens (the one the
			// code exchange wrote for this client).
			var sid string
			if err := f.env.Pool.QueryRow(context.Background(), `SELECT aggregate_id FROM events WHERE event_type = 'oidc_session.added'
				AND payload->>'clientId' = $1`, clientID).Scan(&sid); err != nil {
				t.Fatalf("the code exchange's OIDC session: %v", err)
			}
			if c.SessionID != sid {
				t.Errorf("sid %q, want the OIDC session %q", c.SessionID, sid)
			}
			ui, err := rp.Userinfo[*oidc.UserInfo](context.Background(), tokens.AccessToken, "Bearer", c.Subject, party)
			if err != nil || ui.Subject != f.userID || ui.Email != "alice@example.com" || ui.PreferredUsername != "alice" {
				t.Fatalf("userinfo %+v %v", ui, err)
			}
		})
	}
}

// tokenPost posts a form to the token endpoint (client_secret_post when
// clientID is set) and returns the status and the decoded JSON body.
func tokenPost(t *testing.T, env *apptest.Env, path string, form url.Values, basicUser, basicPass string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, env.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: not JSON (%d): %s", path, resp.StatusCode, b)
		}
	}
	if resp.StatusCode >= 500 {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
	}
	return resp, m
}

// TestCodeReuseRevokes: a code exchanged twice, the second time with
// everything right (client, redirect_uri, code_verifier), fails with
// invalid_grant and revokes what the first exchange issued.
func TestCodeReuseRevokes(t *testing.T) {
	f := newFixture(t)
	clientID, secret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", nil)
	party := f.rp(t, clientID, secret)
	code, verifier := f.codeFor(t, clientID, "openid offline_access")
	exchange := func() (*http.Response, map[string]any) {
		return tokenPost(t, f.env, "/oauth/v2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirectURI}, "code_verifier": {verifier}}, clientID, secret)
	}
	resp, first := exchange()
	if resp.StatusCode != http.StatusOK || first["access_token"] == nil || first["refresh_token"] == nil {
		t.Fatalf("first use: %d %v", resp.StatusCode, first)
	}
	access, refresh := first["access_token"].(string), first["refresh_token"].(string)
	if _, err := rp.Userinfo[*oidc.UserInfo](context.Background(), access, "Bearer", f.userID, party); err != nil {
		t.Fatalf("access token before the reuse: %v", err)
	}
	resp, body := exchange()
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("second use: %d %v", resp.StatusCode, body)
	}
	if _, err := rp.Userinfo[*oidc.UserInfo](context.Background(), access, "Bearer", f.userID, party); err == nil {
		t.Fatal("access token of a reused code still works")
	}
	if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](context.Background(), party, refresh, "", ""); err == nil {
		t.Fatal("refresh token of a reused code still works")
	}
}

func TestRefreshRotation(t *testing.T) {
	f := newFixture(t)
	clientID, secret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", nil)
	party := f.rp(t, clientID, secret)
	tokens, _ := f.codeFlow(t, party)
	ctx := context.Background()
	next, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, party, tokens.RefreshToken, "", "")
	if err != nil || next.RefreshToken == "" || next.RefreshToken == tokens.RefreshToken || next.AccessToken == "" {
		t.Fatalf("refresh: %v %+v", err, next)
	}
	if _, err := rp.Userinfo[*oidc.UserInfo](ctx, next.AccessToken, "Bearer", f.userID, party); err != nil {
		t.Fatalf("userinfo with the refreshed token: %v", err)
	}
	// The old refresh token fails, and its reuse revokes the session.
	if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, party, tokens.RefreshToken, "", ""); err == nil {
		t.Fatal("rotated refresh token still works")
	}
	if _, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, party, next.RefreshToken, "", ""); err == nil {
		t.Fatal("the current refresh token survived a reuse of the rotated one")
	}
	if _, err := rp.Userinfo[*oidc.UserInfo](ctx, next.AccessToken, "Bearer", f.userID, party); err == nil {
		t.Fatal("access token survived a refresh token reuse")
	}
}
