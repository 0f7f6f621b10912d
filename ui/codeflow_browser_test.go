package ui_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/browsertest"
)

// TestBrowserCodeFlow runs the authorization code flow of an app through
// the hosted login in Chromium: /oauth/v2/authorize (PKCE S256, state,
// nonce) shows the login; a wrong password shows an error and the page
// still works; the right one ends at the app's redirect URI with a code
// and the state, which the token endpoint exchanges for an ID token of
// that user. An IdP login through an authorize request auto-creates and
// links a user, and a second login of the same external user is the same
// sub. An org's custom policy (its org scope) shows that org's IdPs. No
// console errors on the way.
func TestBrowserCodeFlow(t *testing.T) {
	b := browsertest.New(t)
	env := apptest.New(t)
	_, link, _, _ := idpSetup(t, env)
	app := newRPApp(t, env)
	text := func(js string) string { return browsertest.Run(b, chromedp.Evaluate[string](js)) }
	buttons := func() string {
		return text(`Array.from(document.querySelectorAll("button")).map(b => b.textContent.trim()).join("|")`)
	}
	submit := chromedp.Click(chromedp.CSS(`button[type=submit]`))

	// Password login, with a wrong password first. The default org's own
	// policy applies through its org scope.
	inDefault := []string{"urn:zitadel:iam:org:id:" + env.DefaultOrgID}
	f := app.start(inDefault)
	b.Do(chromedp.Navigate(f.URL), chromedp.WaitVisible(chromedp.ID("loginName")))
	if got := buttons(); got != "Continue|Corp|Partner|Guest|Closed" {
		t.Fatalf("the instance's policy: buttons %q", got)
	}
	shots := []string{b.Screenshot("authorize-login")}
	b.Do(chromedp.SendKeys(chromedp.ID("loginName"), "jane"), submit, chromedp.WaitVisible(chromedp.ID("password")),
		chromedp.SendKeys(chromedp.ID("password"), "wrong"), submit, chromedp.WaitVisible(chromedp.ID("error")))
	if got := text(`document.getElementById("error").textContent`); !strings.Contains(got, "The login name or password is not correct") {
		t.Fatalf("wrong password: %q", got)
	}
	if app.result(f) != nil {
		t.Fatal("the app got an answer after a wrong password")
	}
	b.Do(chromedp.SendKeys(chromedp.ID("password"), pw), submit, chromedp.WaitVisible(chromedp.CSS("#app.signed-in")))
	claims := app.exchange(f)
	if got := username(t, env, claims.Subject); got != "jane" {
		t.Fatalf("ID token sub %s is %q, want jane", claims.Subject, got)
	}
	if claims.AuthTime == 0 {
		t.Error("no auth_time in the ID token")
	}

	// An IdP login: auto-creation creates and links a user; the second
	// login of the same external user is the same user.
	// prompt=login: jane's session of this browser is not reused.
	idpLogin := func(idp, username string) string {
		f := app.start(inDefault, "prompt", "login")
		b.Do(chromedp.Navigate(f.URL), chromedp.WaitVisible(chromedp.CSS("ul.idps")),
			chromedp.Click(chromedp.Search(`//button[text()="`+idp+`"]`)), chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), username), chromedp.SendKeys(chromedp.ID("password"), "pw"),
			submit, chromedp.WaitVisible(chromedp.CSS("#app.signed-in")))
		return app.exchange(f).Subject
	}
	first := idpLogin("Corp", "newbie")
	if got := username(t, env, first); got != "newbie" {
		t.Fatalf("auto-created user %q", got)
	}
	links := env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+first+"/links/_search", map[string]any{})
	if r, _ := links["result"].([]any); len(r) != 1 {
		t.Fatalf("links of the auto-created user: %v", links)
	}
	if second := idpLogin("Corp", "newbie"); second != first {
		t.Fatalf("second IdP login signed in %s, want %s", second, first)
	}

	// An org's custom policy, chosen by the org scope: that org's IdPs.
	acme := env.CreateOrg(t, "Acme")
	env.MustDo(t, http.StatusOK, "POST", "/management/v1/policies/login", map[string]any{
		"allowUsernamePassword": true, "allowExternalIdp": true,
		"idps": []map[string]any{{"idpId": link, "ownerType": "IDP_OWNER_TYPE_SYSTEM"}}}, "x-zitadel-orgid", acme)
	f = app.start([]string{"urn:zitadel:iam:org:id:" + acme})
	b.Do(chromedp.Navigate(f.URL), chromedp.WaitVisible(chromedp.CSS("ul.idps")))
	if got := buttons(); got != "Continue|Partner" {
		t.Fatalf("Acme's policy: buttons %q", got)
	}
	shots = append(shots, b.Screenshot("authorize-org-policy"))

	for _, e := range browserErrors(b, env, nil) {
		t.Errorf("browser: %s", e)
	}
	t.Logf("screenshots: %s", strings.Join(shots, " "))
}

// TestBrowserChooseAccount: an IdP login whose auto-linking (by verified
// email) matches two users lets the user choose: the page lists the
// masked candidates, signing in to one of them links it and ends at the
// app with that user's ID token; the next IdP login signs that user in at
// once.
func TestBrowserChooseAccount(t *testing.T) {
	b := browsertest.New(t)
	env := apptest.New(t)
	ids := map[string]string{}
	for _, name := range []string{"ann", "bob"} {
		u := env.MustDo(t, http.StatusCreated, "POST", "/v2/users/human", map[string]any{
			"organization": map[string]any{"orgId": env.DefaultOrgID}, "username": name,
			"profile":  map[string]any{"givenName": name, "familyName": "Shared"},
			"email":    map[string]any{"email": "team@example.com", "isVerified": true},
			"password": map[string]any{"password": pw, "changeRequired": false}})
		ids[name] = u["userId"].(string)
	}
	carl := addUser(t, env, env.DefaultOrgID, "carl") // not a match (another email)
	op := upstreamOP(t, env, upstreamUsers{"x-team": {ID: "x-team", Username: "team", Password: "pw", FirstName: "Team",
		LastName: "Shared", Email: "team@example.com", EmailVerified: true}})
	idpID := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/generic_oidc", map[string]any{"name": "Team SSO", "issuer": op,
		"clientId": "login", "clientSecret": "s3cret-login",
		"providerOptions": map[string]any{"autoLinking": "AUTO_LINKING_OPTION_EMAIL"}})["id"].(string)
	env.MustDo(t, http.StatusOK, "POST", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"allowExternalIdp": true, "idps": []map[string]any{{"idpId": idpID, "ownerType": "IDP_OWNER_TYPE_SYSTEM"}}},
		"x-zitadel-orgid", env.DefaultOrgID)
	app := newRPApp(t, env)
	text := func(js string) string { return browsertest.Run(b, chromedp.Evaluate[string](js)) }
	submit := chromedp.Click(chromedp.CSS(`button[type=submit]`))
	scopes := []string{"urn:zitadel:iam:org:id:" + env.DefaultOrgID}
	atIDP := func(f *authFlow) {
		b.Do(chromedp.Navigate(f.URL), chromedp.WaitVisible(chromedp.CSS("ul.idps")),
			chromedp.Click(chromedp.Search(`//button[text()="Team SSO"]`)), chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), "team"), chromedp.SendKeys(chromedp.ID("password"), "pw"), submit)
	}

	f := app.start(scopes)
	atIDP(f)
	b.Do(chromedp.WaitVisible(chromedp.CSS(`ul[aria-label="Matching accounts"]`)))
	if got := text(`document.querySelector("h1").textContent`); got != "Link your account" {
		t.Fatalf("after the IdP: %q", got)
	}
	if got := text(`Array.from(document.querySelectorAll("main li")).map(li => li.textContent).sort().join("|")`); got != "a***|b***" {
		t.Fatalf("candidates %q", got)
	}
	shots := []string{b.Screenshot("link-choose")}
	// A wrong password: the page says so and still works.
	b.Do(chromedp.SendKeys(chromedp.ID("loginName"), "bob"), chromedp.SendKeys(chromedp.ID("password"), "wrong"), submit,
		chromedp.WaitVisible(chromedp.ID("error")))
	// An account that is not one of the matches is not linked.
	// (The old page is marked, so that the wait is for the new one.)
	b.Do(chromedp.Evaluate[chromedp.Void](`document.body.dataset.stale = "1"`),
		chromedp.SetValue(chromedp.ID("loginName"), "carl"), chromedp.SetValue(chromedp.ID("password"), pw), submit,
		chromedp.WaitVisible(chromedp.CSS(`body:not([data-stale]) #error`)))
	if got := text(`document.getElementById("error").textContent + "|" + document.querySelectorAll("main li").length`); got !=
		"That account is not one of the matching accounts. Sign in to one of them.|2" {
		t.Fatalf("a non-candidate: %q", got)
	}
	if r, _ := env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+carl+"/links/_search", map[string]any{})["result"].([]any); len(r) != 0 {
		t.Fatalf("carl was linked: %v", r)
	}
	b.Do(chromedp.SetValue(chromedp.ID("loginName"), "bob"), chromedp.SetValue(chromedp.ID("password"), pw), submit,
		chromedp.WaitVisible(chromedp.CSS("#app.signed-in")))
	if sub := app.exchange(f).Subject; sub != ids["bob"] {
		t.Fatalf("chose bob, signed in %s", sub)
	}
	// Linked now: the IdP alone signs bob in (prompt=login, so that the
	// browser's session is not reused instead).
	f = app.start(scopes, "prompt", "login")
	atIDP(f)
	b.Do(chromedp.WaitVisible(chromedp.CSS("#app.signed-in")))
	if sub := app.exchange(f).Subject; sub != ids["bob"] {
		t.Fatalf("second IdP login signed in %s, want bob", sub)
	}
	for _, e := range browserErrors(b, env, nil) {
		t.Errorf("browser: %s", e)
	}
	t.Logf("screenshots: %s", strings.Join(shots, " "))
}
