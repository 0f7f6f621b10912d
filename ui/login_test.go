package ui_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
)

// browser is an HTTP client with a cookie jar that does not follow
// redirects, as a browser without JavaScript would post the pages' forms.
type browser struct {
	t   *testing.T
	env *apptest.Env
	c   *http.Client
}

func newBrowser(t *testing.T, env *apptest.Env) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, env: env, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values) answer {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.env.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: string(raw)}
}

var reCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrf(t *testing.T, a answer) string {
	t.Helper()
	m := reCSRF.FindStringSubmatch(a.body)
	if m == nil {
		t.Fatalf("no CSRF token in %d %s", a.status, a.body)
	}
	return m[1]
}

func wantText(t *testing.T, a answer, status int, texts ...string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	for _, s := range texts {
		if !strings.Contains(a.body, s) {
			t.Fatalf("%q not in page:\n%s", s, a.body)
		}
	}
}

const pw = "Secr3t!pass"

// addUser creates a human user with a password in orgID.
func addUser(t *testing.T, env *apptest.Env, orgID, username string) string {
	t.Helper()
	u := env.MustDo(t, http.StatusCreated, "POST", "/v2/users/human", map[string]any{
		"organization": map[string]any{"orgId": orgID}, "username": username,
		"profile": map[string]any{"givenName": "Jane", "familyName": "Doe"}, "email": map[string]any{"email": username + "@example.com"},
		"password": map[string]any{"password": pw, "changeRequired": false}})
	return u["userId"].(string)
}

// TestHeaders: every answer carries the security headers, the flow cookie
// is HttpOnly and SameSite=Lax.
func TestHeaders(t *testing.T) {
	env := apptest.New(t)
	b := newBrowser(t, env)
	for _, path := range []string{"/ui/v2/login/login", "/ui/v2/login/login?authRequest=V2_1", "/ui/v2/login/nope", "/ui/v2/login/logout"} {
		a := b.do("GET", path, nil)
		for k, v := range map[string]string{
			"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
			"X-Frame-Options":         "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
			"Content-Type": "text/html; charset=utf-8",
		} {
			if got := a.header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", path, k, got, v)
			}
		}
	}
	a := b.do("GET", "/ui/v2/login/login", nil)
	ck := a.header.Get("Set-Cookie")
	for _, want := range []string{"idledger_login=", "Path=/ui/v2/login", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(ck, want) {
			t.Errorf("cookie %q lacks %q", ck, want)
		}
	}
	if strings.Contains(ck, "Secure") {
		t.Errorf("cookie %q is Secure without --external-secure", ck)
	}
	if css := b.do("GET", "/ui/v2/login/static/login.css", nil); css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Errorf("css: %d %s", css.status, css.header.Get("Content-Type"))
	}
}

// TestSecureCookie: under --external-secure the flow cookie is Secure.
func TestSecureCookie(t *testing.T) {
	secure := apptest.NewWith(t, app.Options{Log: zerolog.Nop(), ExternalSecure: true})
	b := newBrowser(t, secure)
	if ck := b.do("GET", "/ui/v2/login/login", nil).header.Get("Set-Cookie"); !strings.Contains(ck, "Secure") {
		t.Fatalf("cookie %q is not Secure", ck)
	}
}

// TestInvalidAuthRequest: without the OpenID Provider (or with an unknown
// request) a sign-in link is the error page, never a 500.
func TestInvalidAuthRequest(t *testing.T) {
	env := apptest.New(t)
	b := newBrowser(t, env)
	for _, q := range []string{"authRequest=V2_123", "authRequest=", "authRequest=" + strings.Repeat("x", 300), "organization=nope"} {
		wantText(t, b.do("GET", "/ui/v2/login/login?"+q, nil), http.StatusNotFound,
			"This sign-in link is not valid or has expired. Go back to the app and start again.")
	}
	req := b.do("GET", "/ui/v2/login/login?authRequest=V2_1", nil)
	if strings.Contains(req.body, "<form") {
		t.Fatal("the error page has a form")
	}
}

// TestPasswordLogin: login name, then password; a wrong password and an
// unknown login name read the same, and the page still works.
func TestPasswordLogin(t *testing.T) {
	env := apptest.New(t)
	addUser(t, env, env.DefaultOrgID, "jane")
	// An unknown login name goes on to the password page
	// (ignoreUnknownUsernames; TestUnknownUsernames has it off).
	env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"ignoreUnknownUsernames": true})
	b := newBrowser(t, env)
	login := b.do("GET", "/ui/v2/login/login", nil)
	wantText(t, login, http.StatusOK, `<label for="loginName">Login name</label>`, `>Continue</button>`)
	pwPage := b.do("POST", "/ui/v2/login/login", url.Values{"csrf": {csrf(t, login)}, "loginName": {"jane"}})
	wantText(t, pwPage, http.StatusOK, `<label for="password">Password</label>`, "jane")
	// The flow cookie is sealed: the login name is not readable in it.
	if ck := pwPage.header.Get("Set-Cookie"); ck == "" || strings.Contains(ck, "jane") {
		t.Fatalf("flow cookie %q", ck)
	}

	wrong := b.do("POST", "/ui/v2/login/password", url.Values{"csrf": {csrf(t, pwPage)}, "password": {"nope"}})
	wantText(t, wrong, http.StatusOK, "The login name or password is not correct.", `role="alert"`)

	// An unknown login name: the same page and text.
	b2 := newBrowser(t, env)
	l2 := b2.do("GET", "/ui/v2/login/login", nil)
	p2 := b2.do("POST", "/ui/v2/login/login", url.Values{"csrf": {csrf(t, l2)}, "loginName": {"nobody"}})
	unknown := b2.do("POST", "/ui/v2/login/password", url.Values{"csrf": {csrf(t, p2)}, "password": {"nope"}})
	if strip(unknown.body, "nobody") != strip(wrong.body, "jane") {
		t.Fatalf("an unknown login name reads differently:\n%s\n---\n%s", unknown.body, wrong.body)
	}

	ok := b.do("POST", "/ui/v2/login/password", url.Values{"csrf": {csrf(t, wrong)}, "password": {pw}})
	wantText(t, ok, http.StatusOK, "You are signed in", `class="who">jane<`)
	// The flow is over: its cookie is gone, a replay is refused.
	replay := b.do("POST", "/ui/v2/login/password", url.Values{"csrf": {csrf(t, wrong)}, "password": {pw}})
	wantText(t, replay, http.StatusForbidden, "This form has expired")
}

// strip removes the login name and the CSRF token, the only parts that
// differ between two flows' pages.
func strip(body, name string) string {
	return reCSRF.ReplaceAllString(strings.ReplaceAll(body, name, ""), "")
}

// TestCSRF: a form without its token, with another flow's token, or
// without the flow cookie is refused with 403.
func TestCSRF(t *testing.T) {
	env := apptest.New(t)
	addUser(t, env, env.DefaultOrgID, "jane")
	b := newBrowser(t, env)
	login := b.do("GET", "/ui/v2/login/login", nil)
	tok := csrf(t, login)
	wantText(t, b.do("POST", "/ui/v2/login/login", url.Values{"loginName": {"jane"}}), http.StatusForbidden,
		"This form has expired or was sent from another page.")
	other := newBrowser(t, env)
	otherTok := csrf(t, other.do("GET", "/ui/v2/login/login", nil))
	wantText(t, b.do("POST", "/ui/v2/login/login", url.Values{"csrf": {otherTok}, "loginName": {"jane"}}), http.StatusForbidden)
	wantText(t, newBrowser(t, env).do("POST", "/ui/v2/login/login", url.Values{"csrf": {tok}, "loginName": {"jane"}}), http.StatusForbidden)
	for _, p := range []string{"/password", "/idp", "/idp/link", "/idp/register"} {
		wantText(t, b.do("POST", "/ui/v2/login"+p, url.Values{"x": {"y"}}), http.StatusForbidden)
	}
	wantText(t, b.do("POST", "/ui/v2/login/login", url.Values{"csrf": {tok}, "loginName": {"jane"}}), http.StatusOK, "Password")
}

// TestPolicySwitches: an org's custom login policy decides what the page
// shows; its IdP buttons start the IdP login.
func TestPolicySwitches(t *testing.T) {
	env := apptest.New(t)
	org := env.CreateOrg(t, "Acme")
	gh := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/github", map[string]any{"name": "GitHub", "clientId": "c", "clientSecret": "s"})["id"].(string)
	gl := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/gitlab", map[string]any{"name": "GitLab", "clientId": "c", "clientSecret": "s"})["id"].(string)
	idps := []map[string]any{{"idpId": gh, "ownerType": "IDP_OWNER_TYPE_SYSTEM"}, {"idpId": gl, "ownerType": "IDP_OWNER_TYPE_SYSTEM"}}
	env.MustDo(t, http.StatusOK, "POST", "/management/v1/policies/login", map[string]any{
		"allowUsernamePassword": false, "allowExternalIdp": true, "idps": idps}, "x-zitadel-orgid", org)
	b := newBrowser(t, env)
	page := b.do("GET", "/ui/v2/login/login?organization="+org, nil)
	wantText(t, page, http.StatusOK, ">GitHub</button>", ">GitLab</button>")
	if strings.Contains(page.body, "Login name") {
		t.Fatal("the login name field is shown though allowUsernamePassword is off")
	}
	// The default policy (username/password, no IdPs) shows no IdPs.
	if def := b.do("GET", "/ui/v2/login/login", nil); strings.Contains(def.body, "GitHub") || !strings.Contains(def.body, "Login name") {
		t.Fatalf("default policy page:\n%s", def.body)
	}
	page = b.do("GET", "/ui/v2/login/login?organization="+org, nil)
	start := b.do("POST", "/ui/v2/login/idp", url.Values{"csrf": {csrf(t, page)}, "idpId": {gh}})
	wantText(t, start, http.StatusOK, `http-equiv="refresh"`, "https://github.com/login/oauth/authorize", "Continue to GitHub")
	// An IdP that is not in the policy is refused.
	page = b.do("GET", "/ui/v2/login/login?organization="+org, nil)
	wantText(t, b.do("POST", "/ui/v2/login/idp", url.Values{"csrf": {csrf(t, page)}, "idpId": {"123"}}), http.StatusBadRequest,
		"cannot be used to sign in here")
	// The IdP's return must belong to the flow.
	wantText(t, b.do("GET", "/ui/v2/login/idp/success?id=999&token=x", nil), http.StatusBadRequest, "took too long")
	wantText(t, b.do("GET", "/ui/v2/login/idp/failure?id=999&error=access_denied", nil), http.StatusBadRequest, "could not sign you in")

	// One IdP and no password: straight to it.
	env.MustDo(t, http.StatusOK, "DELETE", "/management/v1/policies/login/idps/"+gl, nil, "x-zitadel-orgid", org)
	wantText(t, b.do("GET", "/ui/v2/login/login?organization="+org, nil), http.StatusOK, "https://github.com/login/oauth/authorize")

	// External IdPs off: no buttons, and the page says what to do.
	env.MustDo(t, http.StatusOK, "DELETE", "/management/v1/policies/login", nil, "x-zitadel-orgid", org)
	env.MustDo(t, http.StatusOK, "POST", "/management/v1/policies/login", map[string]any{
		"allowUsernamePassword": false, "allowExternalIdp": false, "idps": idps[:1]}, "x-zitadel-orgid", org)
	none := b.do("GET", "/ui/v2/login/login?organization="+org, nil)
	wantText(t, none, http.StatusOK, "allows no way of signing in here")
	if strings.Contains(none.body, "GitHub") {
		t.Fatal("an IdP is shown though allowExternalIdp is off")
	}
}

// TestLogout: the end-session confirmation offers the way back only to an
// absolute http(s) URL.
func TestLogout(t *testing.T) {
	env := apptest.New(t)
	b := newBrowser(t, env)
	wantText(t, b.do("GET", "/ui/v2/login/logout?post_logout_redirect="+url.QueryEscape("https://app.example/bye"), nil),
		http.StatusOK, "You are signed out", `href="https://app.example/bye"`)
	if a := b.do("GET", "/ui/v2/login/logout?post_logout_redirect=javascript:alert(1)", nil); strings.Contains(a.body, "alert") {
		t.Fatal("a javascript: link is offered")
	}
}
