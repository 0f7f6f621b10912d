package ui_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/browsertest"
)

// TestBrowserLogin drives the hosted login in headless Chromium: the
// login name page of a policy with its IdP buttons, a wrong password and
// then the right one, the switches hiding what they turn off, a replayed
// form without its CSRF token, an invalid sign-in link and the logout
// page; no console errors or CSP violations on the way. Screenshots of
// each page go to $IDLEDGER_SCREENSHOTS (docs/login.md).
func TestBrowserLogin(t *testing.T) {
	b := browsertest.New(t)
	env := apptest.New(t)
	addUser(t, env, env.DefaultOrgID, "jane")
	gh := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/github", map[string]any{"name": "GitHub", "clientId": "c", "clientSecret": "s"})["id"].(string)
	gl := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/gitlab", map[string]any{"name": "GitLab", "clientId": "c", "clientSecret": "s"})["id"].(string)
	idps := []map[string]any{{"idpId": gh, "ownerType": "IDP_OWNER_TYPE_SYSTEM"}, {"idpId": gl, "ownerType": "IDP_OWNER_TYPE_SYSTEM"}}
	// The default org's own policy: passwords and both IdPs.
	env.MustDo(t, http.StatusOK, "POST", "/management/v1/policies/login", map[string]any{
		"allowUsernamePassword": true, "allowExternalIdp": true, "idps": idps}, "x-zitadel-orgid", env.DefaultOrgID)
	// Another org's: IdPs only.
	acme := env.CreateOrg(t, "Acme")
	env.MustDo(t, http.StatusOK, "POST", "/management/v1/policies/login", map[string]any{
		"allowUsernamePassword": false, "allowExternalIdp": true, "idps": idps}, "x-zitadel-orgid", acme)

	text := func(js string) string { return browsertest.Run(b, chromedp.Evaluate[string](js)) }
	heading := func() string { return text(`document.querySelector("h1").textContent`) }
	buttons := func() string {
		return text(`Array.from(document.querySelectorAll("button")).map(b => b.textContent.trim()).join("|")`)
	}
	login := env.URL + "/ui/v2/login/login"

	// The login name page: labelled field, Continue, one button per IdP.
	b.Do(chromedp.Navigate(login+"?organization="+env.DefaultOrgID), chromedp.WaitVisible(chromedp.ID("loginName")))
	if got := text(`document.querySelector("label[for=loginName]").textContent`); got != "Login name" {
		t.Fatalf("label %q", got)
	}
	if got := buttons(); got != "Continue|GitHub|GitLab" {
		t.Fatalf("buttons %q", got)
	}
	if got := text(`document.documentElement.lang + "|" + document.querySelectorAll("main").length`); got != "en|1" {
		t.Fatalf("lang and main landmark: %q", got)
	}
	// Keyboard: the field has the focus, and the focus is visible.
	b.Do(chromedp.Focus(chromedp.ID("loginName")))
	if got := text(`document.activeElement.id + "|" + getComputedStyle(document.activeElement).outlineStyle`); got == "" ||
		!strings.HasPrefix(got, "loginName|") || strings.HasSuffix(got, "|none") {
		t.Fatalf("focus: %q", got)
	}
	shots := []string{b.Screenshot("login")}

	b.Do(chromedp.SendKeys(chromedp.ID("loginName"), "jane"), chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("password")))
	if got := text(`document.querySelector("label[for=password]").textContent`); got != "Password" {
		t.Fatalf("password label %q", got)
	}
	shots = append(shots, b.Screenshot("password"))

	// A wrong password: an error on the page, which still works.
	b.Do(chromedp.SendKeys(chromedp.ID("password"), "wrong"), chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("error")))
	if got := text(`document.getElementById("error").textContent`); !strings.Contains(got, "The login name or password is not correct") {
		t.Fatalf("error %q", got)
	}
	shots = append(shots, b.Screenshot("password-wrong"))
	b.Do(chromedp.SendKeys(chromedp.ID("password"), pw), chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitNotPresent(chromedp.ID("password")), chromedp.WaitVisible(chromedp.CSS(".who")))
	if h := heading(); h != "You are signed in" {
		t.Fatalf("after the right password: %q", h)
	}
	shots = append(shots, b.Screenshot("signed-in"))

	// The switches: Acme allows no password, so no login name field.
	b.Do(chromedp.Navigate(login+"?organization="+acme), chromedp.WaitVisible(chromedp.CSS("ul.idps")))
	if got := buttons(); got != "GitHub|GitLab" {
		t.Fatalf("IdP-only buttons %q", got)
	}
	if n := text(`String(document.querySelectorAll("#loginName").length)`); n != "0" {
		t.Fatal("the login name field is shown though allowUsernamePassword is off")
	}
	shots = append(shots, b.Screenshot("login-idps-only"))

	// A replayed form without its CSRF token is refused.
	b.Do(chromedp.Navigate(login), chromedp.WaitVisible(chromedp.ID("loginName")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("input[name=csrf]").remove()`),
		chromedp.SendKeys(chromedp.ID("loginName"), "jane"), chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitNotPresent(chromedp.ID("loginName")), chromedp.WaitVisible(chromedp.CSS("main p")))
	if got := text(`document.querySelector("main p").textContent`); !strings.Contains(got, "This form has expired or was sent from another page") {
		t.Fatalf("replay without CSRF: %q", got)
	}
	shots = append(shots, b.Screenshot("error-csrf"))

	// An invalid sign-in link.
	b.Do(chromedp.Navigate(login+"?authRequest=V2_404"), chromedp.WaitVisible(chromedp.CSS("main p")))
	if got := text(`document.querySelector("main p").textContent`); got != "This sign-in link is not valid or has expired. Go back to the app and start again." {
		t.Fatalf("invalid link: %q", got)
	}
	shots = append(shots, b.Screenshot("error-invalid-link"))

	b.Do(chromedp.Navigate(env.URL+"/ui/v2/login/logout?post_logout_redirect=https%3A%2F%2Fapp.example%2F"),
		chromedp.WaitVisible(chromedp.CSS("a.button")))
	if h := heading(); h != "You are signed out" {
		t.Fatalf("logout: %q", h)
	}
	shots = append(shots, b.Screenshot("logout"))

	// The refusal pages are 4xx documents, which Chromium logs as failed
	// loads: the replay's 403 and the invalid link's 404 are expected;
	// anything else (another 404, a script error, a CSP violation) fails.
	for _, e := range browserErrors(b, env, map[string]int{login: http.StatusForbidden, login + "?authRequest=V2_404": http.StatusNotFound}) {
		t.Errorf("browser: %s", e)
	}
	t.Logf("screenshots: %s", strings.Join(shots, " "))
}

// TestBrowserIDPLogin: the IdP buttons in Chromium, through zitadel/oidc's
// example OP on loopback: manual linking (sign in to jane, then the link)
// and the registration form prefilled from the claims, which creates the
// user and signs it in. Screenshots: link, idp-signed-in, register.
func TestBrowserIDPLogin(t *testing.T) {
	b := browsertest.New(t)
	env := apptest.New(t)
	idpSetup(t, env)
	text := func(js string) string { return browsertest.Run(b, chromedp.Evaluate[string](js)) }
	login := env.URL + "/ui/v2/login/login?organization=" + env.DefaultOrgID
	atOP := func(idp, username string) {
		b.Do(chromedp.Navigate(login), chromedp.WaitVisible(chromedp.CSS("ul.idps")),
			chromedp.Click(chromedp.Search(`//button[text()="`+idp+`"]`)),
			chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), username), chromedp.SendKeys(chromedp.ID("password"), "pw"),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	}
	atOP("Partner", "jd")
	b.Do(chromedp.WaitVisible(chromedp.ID("loginName")))
	if h := text(`document.querySelector("h1").textContent`); h != "Link your account" {
		t.Fatalf("after the OP: %q", h)
	}
	shots := []string{b.Screenshot("link")}
	b.Do(chromedp.SendKeys(chromedp.ID("loginName"), "jane"), chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(".who")))
	if who := text(`document.querySelector(".who").textContent`); who != "jane" {
		t.Fatalf("linked and signed in as %q", who)
	}
	shots = append(shots, b.Screenshot("idp-signed-in"))
	// The link now signs jane in at once.
	atOP("Partner", "jd")
	b.Do(chromedp.WaitVisible(chromedp.CSS(".who")))
	if who := text(`document.querySelector(".who").textContent`); who != "jane" {
		t.Fatalf("second IdP login as %q", who)
	}

	atOP("Guest", "newbie")
	b.Do(chromedp.WaitVisible(chromedp.ID("givenName")))
	if got := text(`["username","givenName","familyName","email"].map(id => document.getElementById(id).value).join("|")`); got != "newbie|New|Bie|newbie@example.com" {
		t.Fatalf("registration prefill %q", got)
	}
	shots = append(shots, b.Screenshot("register"))
	// Creating the account signs the new user in; it is linked, so the
	// next login at the IdP signs it in at once.
	b.Do(chromedp.Click(chromedp.CSS(`button[type=submit]`)), chromedp.WaitNotPresent(chromedp.ID("givenName")),
		chromedp.WaitVisible(chromedp.CSS(".who")))
	if who := text(`document.querySelector(".who").textContent`); who != "newbie" {
		t.Fatalf("registered and signed in as %q", who)
	}
	atOP("Guest", "newbie")
	b.Do(chromedp.WaitVisible(chromedp.CSS(".who")))
	if who := text(`document.querySelector(".who").textContent`); who != "newbie" {
		t.Fatalf("IdP login after the registration as %q", who)
	}
	for _, e := range browserErrors(b, env, nil) {
		t.Errorf("browser: %s", e)
	}
	t.Logf("screenshots: %s", strings.Join(shots, " "))
}

// browserErrors are b's errors but the expected failed loads and one
// thing that must be skipped: the 404 of /favicon.ico at a host that is
// not idledger (zitadel/oidc's example OP has no icon, and Chromium asks
// for /favicon.ico on its own). idledger's pages name their icon, so a
// 404 of idledger's favicon.ico, or of anything else, stays.
func browserErrors(b *browsertest.Browser, env *apptest.Env, expected map[string]int) []string {
	var out []string
	for _, e := range b.ErrorsExcept(expected) {
		if st, u, ok := browsertest.FailedLoad(e); ok && st == http.StatusNotFound && strings.HasSuffix(u, "/favicon.ico") &&
			!strings.HasPrefix(u, env.URL+"/") {
			continue
		}
		out = append(out, e)
	}
	return out
}
