package ui_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
)

// TestIDPScope: the app's urn:zitadel:iam:org:idp:id:{id} scope goes
// straight to that IdP only when the applicable policy allows external
// IdPs and lists it; otherwise the login page is shown.
func TestIDPScope(t *testing.T) {
	env := apptest.New(t)
	gh := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/github", map[string]any{"name": "GitHub", "clientId": "c", "clientSecret": "s"})["id"].(string)
	gl := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/gitlab", map[string]any{"name": "GitLab", "clientId": "c", "clientSecret": "s"})["id"].(string)
	setPolicy := func(external bool) {
		env.MustDo(t, http.StatusOK, "PUT", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true,
			"allowExternalIdp": external}, "x-zitadel-orgid", env.DefaultOrgID)
	}
	env.MustDo(t, http.StatusOK, "POST", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"allowExternalIdp": true, "idps": []map[string]any{{"idpId": gh, "ownerType": "IDP_OWNER_TYPE_SYSTEM"}}},
		"x-zitadel-orgid", env.DefaultOrgID)
	app := newRPApp(t, env)
	scoped := func(idp string) answer {
		return newBrowser(t, env).authorize(app.start([]string{"urn:zitadel:iam:org:id:" + env.DefaultOrgID, "urn:zitadel:iam:org:idp:id:" + idp}))
	}
	// Listed and allowed: straight to the IdP.
	wantText(t, scoped(gh), http.StatusOK, `http-equiv="refresh"`, "https://github.com/login/oauth/authorize", "Continue to GitHub")
	// Not listed, or unknown: the login page, without a hand-off.
	for _, id := range []string{gl, "123"} {
		a := scoped(id)
		wantText(t, a, http.StatusOK, `id="loginName"`, ">GitHub</button>")
		if strings.Contains(a.body, "oauth/authorize") || strings.Contains(a.body, "GitLab") {
			t.Fatalf("IdP %s not in the policy was used: %s", id, a.body)
		}
	}
	// External IdPs off: the login page, no IdP at all.
	setPolicy(false)
	a := scoped(gh)
	wantText(t, a, http.StatusOK, `id="loginName"`)
	if strings.Contains(a.body, "GitHub") || strings.Contains(a.body, "oauth/authorize") {
		t.Fatalf("allowExternalIdp off, yet the IdP is used: %s", a.body)
	}
}

// TestIDPRegisterByPolicy: an IdP that allows neither linking nor creation
// refuses a user without an account, unless the applicable policy allows
// registration: then the registration form prefilled from the claims is
// offered, and it creates the user and signs it in.
func TestIDPRegisterByPolicy(t *testing.T) {
	env := apptest.New(t)
	_, _, _, closed := idpSetup(t, env)
	b := newBrowser(t, env)
	off := b.idpLogin(env.DefaultOrgID, closed, "newbie")
	wantText(t, off, http.StatusForbidden, "Ask your administrator to allow it")
	if strings.Contains(off.body, "Create your account") {
		t.Fatal("registration offered with allowRegister off")
	}
	env.MustDo(t, http.StatusOK, "PUT", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"allowExternalIdp": true, "allowRegister": true}, "x-zitadel-orgid", env.DefaultOrgID)
	reg := b.idpLogin(env.DefaultOrgID, closed, "newbie")
	wantText(t, reg, http.StatusOK, "Create your account", `value="newbie"`, `value="New"`, `value="newbie@example.com"`)
	done := b.do("POST", "/ui/v2/login/idp/register", url.Values{"csrf": {csrf(t, reg)}, "username": {"newbie"},
		"givenName": {"New"}, "familyName": {"Bie"}, "email": {"newbie@example.com"}})
	wantText(t, done, http.StatusOK, "You are signed in", `class="who">newbie<`)
	wantText(t, b.idpLogin(env.DefaultOrgID, closed, "newbie"), http.StatusOK, "You are signed in", `class="who">newbie<`)
}

// TestUnknownUsernames: with ignoreUnknownUsernames off (ZITADEL's
// default) an unknown login name is said on the login page; on, it goes on
// to the password page and fails there like a wrong password.
func TestUnknownUsernames(t *testing.T) {
	env := apptest.New(t)
	addUser(t, env, env.DefaultOrgID, "jane")
	setIgnore := func(on bool) {
		env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/policies/login", map[string]any{"allowUsernamePassword": true,
			"ignoreUnknownUsernames": on})
	}
	name := func(b *browser, n string) answer {
		login := b.do("GET", "/ui/v2/login/login", nil)
		return b.do("POST", "/ui/v2/login/login", url.Values{"csrf": {csrf(t, login)}, "loginName": {n}})
	}
	setIgnore(false)
	b := newBrowser(t, env)
	off := name(b, "nobody")
	wantText(t, off, http.StatusOK, "There is no user with this login name.", `id="loginName"`, `value="nobody"`, `role="alert"`)
	if strings.Contains(off.body, `id="password"`) {
		t.Fatal("the password page for an unknown user with ignoreUnknownUsernames off")
	}
	// A known name still goes on, case-insensitively.
	wantText(t, name(b, "Jane"), http.StatusOK, `<label for="password">Password</label>`)

	setIgnore(true)
	b = newBrowser(t, env)
	pwPage := name(b, "nobody")
	wantText(t, pwPage, http.StatusOK, `<label for="password">Password</label>`)
	wrong := b.do("POST", "/ui/v2/login/password", url.Values{"csrf": {csrf(t, pwPage)}, "password": {pw}})
	wantText(t, wrong, http.StatusOK, "The login name or password is not correct.")
	if strings.Contains(wrong.body, "There is no user") {
		t.Fatal("ignoreUnknownUsernames on, yet the page says the user is unknown")
	}
}

// TestLockoutThroughLogin: with a lockout policy of 3 attempts, three
// wrong passwords on the hosted login lock the user; then even the right
// password fails, and the page reads exactly like a wrong password and
// like an unknown user (no enumeration).
func TestLockoutThroughLogin(t *testing.T) {
	env := apptest.NewWith(t, app.Options{Log: zerolog.Nop(), MaxPasswordAttempts: 3})
	jane := addUser(t, env, env.DefaultOrgID, "jane")
	env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"ignoreUnknownUsernames": true})
	try := func(b *browser, name, password string) answer {
		login := b.do("GET", "/ui/v2/login/login", nil)
		pwPage := b.do("POST", "/ui/v2/login/login", url.Values{"csrf": {csrf(t, login)}, "loginName": {name}})
		return b.do("POST", "/ui/v2/login/password", url.Values{"csrf": {csrf(t, pwPage)}, "password": {password}})
	}
	var wrong answer
	for range 3 {
		wrong = try(newBrowser(t, env), "jane", "nope")
		wantText(t, wrong, http.StatusOK, "The login name or password is not correct.")
	}
	if st := fmt.Sprint(env.MustDo(t, http.StatusOK, "GET", "/v2/users/"+jane, nil)); !strings.Contains(st, "USER_STATE_LOCKED") {
		t.Fatalf("jane is not locked after 3 wrong passwords: %s", st)
	}
	locked := try(newBrowser(t, env), "jane", pw)
	if strings.Contains(locked.body, "You are signed in") {
		t.Fatal("a locked user signed in")
	}
	unknown := try(newBrowser(t, env), "nobody", pw)
	if a, b, c := strip(locked.body, "jane"), strip(wrong.body, "jane"), strip(unknown.body, "nobody"); a != b || a != c || locked.status != unknown.status {
		t.Fatalf("a locked user reads differently:\nlocked:\n%s\nwrong:\n%s\nunknown:\n%s", locked.body, wrong.body, unknown.body)
	}
}

// TestForceMFA: idledger offers no second factor, so with forceMfa on a
// password alone never finishes a login: the right password shows that a
// second factor is required and not offered here, the app gets nothing
// and no session of the browser is kept; a wrong password still reads as
// one.
func TestForceMFA(t *testing.T) {
	env := apptest.New(t)
	addUser(t, env, env.DefaultOrgID, "jane")
	env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"forceMfa": true})
	app := newRPApp(t, env)
	b := newBrowser(t, env)
	f := app.start(nil)
	login := b.authorize(f)
	pwPage := b.do("POST", "/ui/v2/login/login", url.Values{"csrf": {csrf(t, login)}, "loginName": {"jane"}})
	wrong := b.do("POST", "/ui/v2/login/password", url.Values{"csrf": {csrf(t, pwPage)}, "password": {"nope"}})
	wantText(t, wrong, http.StatusOK, "The login name or password is not correct.")
	refused := b.do("POST", "/ui/v2/login/password", url.Values{"csrf": {csrf(t, wrong)}, "password": {pw}})
	wantText(t, refused, http.StatusForbidden, "requires a second factor", "does not offer one")
	if strings.Contains(refused.body, "refresh") || app.result(f) != nil {
		t.Fatal("the login finished with a password alone")
	}
	// No session was kept: prompt=none fails.
	f = app.start(nil, "prompt", "none")
	b.authorize(f)
	wantLoginRequired(t, app, f)
	// forceMfa off again: the same password signs in.
	env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/policies/login", map[string]any{"allowUsernamePassword": true})
	f = app.start(nil)
	b.passwordLogin(b.authorize(f), "jane")
	if q := app.result(f); q.Get("code") == "" {
		t.Fatalf("no code after forceMfa off: %v", q)
	}
	// The session from before is not reused once forceMfa is on again.
	env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"forceMfa": true})
	f = app.start(nil, "prompt", "none")
	b.authorize(f)
	wantLoginRequired(t, app, f)
}

// TestNoPasswordResetLink: idledger has no password reset, so no page
// links one, whether hidePasswordReset is on or off.
func TestNoPasswordResetLink(t *testing.T) {
	env := apptest.New(t)
	addUser(t, env, env.DefaultOrgID, "jane")
	for _, hide := range []bool{false, true} {
		env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/policies/login", map[string]any{"allowUsernamePassword": true,
			"hidePasswordReset": hide})
		b := newBrowser(t, env)
		login := b.do("GET", "/ui/v2/login/login", nil)
		pwPage := b.do("POST", "/ui/v2/login/login", url.Values{"csrf": {csrf(t, login)}, "loginName": {"jane"}})
		wrong := b.do("POST", "/ui/v2/login/password", url.Values{"csrf": {csrf(t, pwPage)}, "password": {"nope"}})
		for _, a := range []answer{login, pwPage, wrong} {
			wantText(t, a, http.StatusOK)
			low := strings.ToLower(a.body)
			for _, bad := range []string{"reset", "forgot", "recover"} {
				if strings.Contains(low, bad) {
					t.Fatalf("hidePasswordReset %v: %q on the page:\n%s", hide, bad, a.body)
				}
			}
			for _, m := range reAnyHref.FindAllStringSubmatch(a.body, -1) {
				if !strings.HasPrefix(m[1], "/ui/v2/login/login") && !strings.HasPrefix(m[1], "/ui/v2/login/static/") {
					t.Fatalf("hidePasswordReset %v: a link to %q", hide, m[1])
				}
			}
		}
	}
}

var reAnyHref = regexp.MustCompile(`href="([^"]*)"`)

// TestAuthRequestBoundToBrowser: the OP's hand-off to the hosted login
// sets an HttpOnly, SameSite=Lax cookie that binds the auth request to
// the browser; the same login URL in another browser (another cookie jar)
// is the "invalid link" page, while the first browser signs in.
func TestAuthRequestBoundToBrowser(t *testing.T) {
	env := apptest.New(t)
	addUser(t, env, env.DefaultOrgID, "jane")
	app := newRPApp(t, env)
	first := newBrowser(t, env)
	f := app.start(nil)
	res, err := first.c.Get(f.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.Contains(loc, "/ui/v2/login/login?authRequest=V2_") {
		t.Fatalf("authorize: %d %s", res.StatusCode, loc)
	}
	ck := res.Header.Get("Set-Cookie")
	for _, want := range []string{"idledger_authreq=", "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(ck, want) {
			t.Fatalf("cookie %q lacks %q", ck, want)
		}
	}
	if strings.Contains(ck, "Secure") || strings.Contains(ck, "V2_") {
		t.Fatalf("cookie %q: Secure without --external-secure, or the ID in clear", ck)
	}
	path := strings.TrimPrefix(loc, env.URL)
	// Another browser with the same link: refused, like an unknown request.
	other := newBrowser(t, env)
	wantText(t, other.do("GET", path, nil), http.StatusNotFound, "This sign-in link is not valid or has expired.")
	// Another browser that started its own auth request: still refused.
	other.authorize(app.start(nil))
	wantText(t, other.do("GET", path, nil), http.StatusNotFound, "This sign-in link is not valid or has expired.")
	// The first browser goes on and signs in.
	first.passwordLogin(first.do("GET", path, nil), "jane")
	if q := app.result(f); q.Get("code") == "" {
		t.Fatalf("the first browser got no code: %v", q)
	}
}

// TestForceMFAIdP: forceMfa refuses an IdP login too, unless
// forceMfaLocalOnly leaves IdP logins to the IdP's own factors.
func TestForceMFAIdP(t *testing.T) {
	env := apptest.New(t)
	create, _, _, _ := idpSetup(t, env)
	set := func(localOnly bool) {
		env.MustDo(t, http.StatusOK, "PUT", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true,
			"allowExternalIdp": true, "forceMfa": true, "forceMfaLocalOnly": localOnly}, "x-zitadel-orgid", env.DefaultOrgID)
	}
	set(false)
	wantText(t, newBrowser(t, env).idpLogin(env.DefaultOrgID, create, "newbie"), http.StatusForbidden, "requires a second factor")
	set(true)
	wantText(t, newBrowser(t, env).idpLogin(env.DefaultOrgID, create, "newbie"), http.StatusOK, "You are signed in", `class="who">newbie<`)
}
