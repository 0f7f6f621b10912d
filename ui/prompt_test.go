package ui_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/internal/app/apptest"
)

// authorize follows f's authorize URL through the OP and the hosted
// login: it returns the page the browser stops at (the login page, or
// the app's callback, which the app records).
func (b *browser) authorize(f *authFlow) answer {
	b.t.Helper()
	a, _ := b.follow(http.MethodGet, f.URL, nil)
	return a
}

// passwordLogin signs in as loginName on the login page a and follows
// the hosted login's link back to the app.
func (b *browser) passwordLogin(a answer, loginName string) {
	b.t.Helper()
	wantText(b.t, a, http.StatusOK, `id="loginName"`)
	pwPage := b.do("POST", "/ui/v2/login/login", url.Values{"csrf": {csrf(b.t, a)}, "loginName": {loginName}})
	done := b.do("POST", "/ui/v2/login/password", url.Values{"csrf": {csrf(b.t, pwPage)}, "password": {pw}})
	wantText(b.t, done, http.StatusOK, `http-equiv="refresh"`)
	m := reHref.FindStringSubmatch(done.body)
	if m == nil {
		b.t.Fatalf("no link back to the app: %s", done.body)
	}
	b.follow(http.MethodGet, html.UnescapeString(m[1]), nil)
}

// wantLoginRequired: the app got error=login_required and f's state.
func wantLoginRequired(t *testing.T, app *rpApp, f *authFlow) {
	t.Helper()
	q := app.result(f)
	if q.Get("error") != "login_required" || q.Get("state") != f.state || q.Get("code") != "" {
		t.Fatalf("want error=login_required at the app, got %v", q)
	}
}

// TestPromptAndMaxAge: the hosted login remembers the browser's sessions.
// prompt=none finishes at once with one that fits, and otherwise answers
// login_required; no prompt reuses a session too (single sign-on);
// prompt=login always asks; max_age refuses a session whose last check
// is too old, and the ID token's auth_time is the check's time; after the
// logout page, nothing is reused.
func TestPromptAndMaxAge(t *testing.T) {
	env := apptest.New(t)
	jane := addUser(t, env, env.DefaultOrgID, "jane")
	app := newRPApp(t, env)
	b := newBrowser(t, env)

	// prompt=none, no session yet: login_required.
	f := app.start(nil, "prompt", "none")
	if a := b.authorize(f); a.status != http.StatusOK || !strings.Contains(a.body, `id="app"`) {
		t.Fatalf("prompt=none without a session did not end at the app: %d %s", a.status, a.body)
	}
	wantLoginRequired(t, app, f)

	// A password login.
	f = app.start(nil)
	before := time.Now().Truncate(time.Second)
	b.passwordLogin(b.authorize(f), "jane")
	first := app.exchange(f)
	if first.Subject != jane || first.AuthTime.AsTime().Before(before) {
		t.Fatalf("first login: sub %s auth_time %v (want jane %s, after %v)", first.Subject, first.AuthTime.AsTime(), jane, before)
	}

	// prompt=none and no prompt: the session is reused, no page shown;
	// auth_time stays the password check's.
	for _, params := range [][]string{{"prompt", "none"}, nil, {"max_age", "3600"}} {
		f = app.start(nil, params...)
		if a := b.authorize(f); !strings.Contains(a.body, `id="app"`) {
			t.Fatalf("%v: the session was not reused: %d %s", params, a.status, a.body)
		}
		c := app.exchange(f)
		if c.Subject != jane || !c.AuthTime.AsTime().Equal(first.AuthTime.AsTime()) {
			t.Fatalf("%v: sub %s auth_time %v, want %s %v", params, c.Subject, c.AuthTime.AsTime(), jane, first.AuthTime.AsTime())
		}
	}

	// prompt=login: asked again.
	f = app.start(nil, "prompt", "login")
	if a := b.authorize(f); !strings.Contains(a.body, `id="loginName"`) {
		t.Fatalf("prompt=login did not ask: %d %s", a.status, a.body)
	}
	if app.result(f) != nil {
		t.Fatal("prompt=login: the app got an answer without a login")
	}

	// Another org's scope: jane does not fit, so prompt=none fails.
	acme := env.CreateOrg(t, "Acme")
	f = app.start([]string{"urn:zitadel:iam:org:id:" + acme}, "prompt", "none")
	b.authorize(f)
	wantLoginRequired(t, app, f)

	// max_age=0: the session's check is older than the request, so it is
	// not reused: prompt=none fails, and without it the login asks again;
	// the new check is the ID token's auth_time.
	f = app.start(nil, "prompt", "none", "max_age", "0")
	b.authorize(f)
	wantLoginRequired(t, app, f)
	f = app.start(nil, "max_age", "0")
	a := b.authorize(f)
	if !strings.Contains(a.body, `id="loginName"`) {
		t.Fatalf("max_age=0 did not ask: %d %s", a.status, a.body)
	}
	// The check must be after the request, in a later second than the
	// first login's, for auth_time to tell them apart.
	for time.Now().Truncate(time.Second).Equal(first.AuthTime.AsTime()) {
		time.Sleep(50 * time.Millisecond)
	}
	b.passwordLogin(a, "jane")
	again := app.exchange(f)
	if again.Subject != jane || !again.AuthTime.AsTime().After(first.AuthTime.AsTime()) {
		t.Fatalf("max_age=0: sub %s auth_time %v, want a check after %v", again.Subject, again.AuthTime.AsTime(), first.AuthTime.AsTime())
	}
	if !strings.Contains(strings.Join(again.AuthenticationMethodsReferences, " "), "pwd") {
		t.Errorf("amr %v", again.AuthenticationMethodsReferences)
	}

	// Another browser never sees this one's sessions.
	other := newBrowser(t, env)
	f = app.start(nil, "prompt", "none")
	other.authorize(f)
	wantLoginRequired(t, app, f)

	// The logout page: the browser's sessions are forgotten.
	b.do("GET", "/ui/v2/login/logout", nil)
	f = app.start(nil, "prompt", "none")
	b.authorize(f)
	wantLoginRequired(t, app, f)

}
