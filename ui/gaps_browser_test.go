package ui_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/browsertest"
)

// TestBrowserPolicyGaps drives the policy switches that only the server
// knew in Chromium: the keyboard order of the login page (Tab reaches the
// field, its button and the IdP buttons in document order), an IdP login
// without an account refused while allowRegister is off and offered the
// prefilled registration once it is on, allowExternalIdp off hiding the
// IdP buttons, an unknown login name, and forceMfa's refusal.
// Screenshots: error-idp-refused, login-unknown-user, error-mfa-required.
func TestBrowserPolicyGaps(t *testing.T) {
	b := browsertest.New(t)
	env := apptest.New(t)
	idpSetup(t, env)
	text := func(js string) string { return browsertest.Run(b, chromedp.Evaluate[string](js)) }
	login := env.URL + "/ui/v2/login/login?organization=" + env.DefaultOrgID
	active := `(e => e.id || e.textContent.trim())(document.activeElement)`

	// Keyboard: the field has the focus (autofocus), then each Tab goes on
	// in document order.
	b.Do(chromedp.Navigate(login), chromedp.WaitVisible(chromedp.ID("loginName")))
	order := []string{text(active)}
	for range 5 {
		b.Do(chromedp.KeyEvent("\t"))
		order = append(order, text(active))
	}
	if got := strings.Join(order, "|"); got != "loginName|Continue|Corp|Partner|Guest|Closed" {
		t.Fatalf("Tab order %q", got)
	}
	atOP := func(idp, username string) {
		b.Do(chromedp.Navigate(login), chromedp.WaitVisible(chromedp.CSS("ul.idps")),
			chromedp.Click(chromedp.Search(`//button[text()="`+idp+`"]`)),
			chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), username), chromedp.SendKeys(chromedp.ID("password"), "pw"),
			chromedp.Click(chromedp.CSS(`button[type=submit]`)))
	}
	// allowRegister off, an IdP that allows nothing: refused, with what to do.
	atOP("Closed", "newbie")
	b.Do(chromedp.WaitVisible(chromedp.CSS("main p")))
	if got := text(`document.querySelector("main").textContent`); !strings.Contains(got, "Ask your administrator to allow it") ||
		strings.Contains(got, "Create account") {
		t.Fatalf("allowRegister off: %q", got)
	}
	shots := []string{b.Screenshot("error-idp-refused")}
	refusedURL := text(`location.href`)

	// allowRegister on: the registration form, prefilled; it signs in.
	env.MustDo(t, http.StatusOK, "PUT", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"allowExternalIdp": true, "allowRegister": true}, "x-zitadel-orgid", env.DefaultOrgID)
	atOP("Closed", "newbie")
	b.Do(chromedp.WaitVisible(chromedp.ID("givenName")))
	if got := text(`["username","givenName","familyName","email"].map(id => document.getElementById(id).value).join("|")`); got != "newbie|New|Bie|newbie@example.com" {
		t.Fatalf("registration prefill %q", got)
	}
	b.Do(chromedp.Click(chromedp.CSS(`button[type=submit]`)), chromedp.WaitNotPresent(chromedp.ID("givenName")),
		chromedp.WaitVisible(chromedp.CSS(".who")))
	if who := text(`document.querySelector(".who").textContent`); who != "newbie" {
		t.Fatalf("registered as %q", who)
	}

	// allowExternalIdp off: no IdP buttons at all.
	env.MustDo(t, http.StatusOK, "PUT", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"allowExternalIdp": false}, "x-zitadel-orgid", env.DefaultOrgID)
	b.Do(chromedp.Navigate(login), chromedp.WaitVisible(chromedp.ID("loginName")))
	if got := text(`String(document.querySelectorAll("ul.idps, .idps button").length) + "|" + Array.from(document.querySelectorAll("button")).map(b => b.textContent.trim()).join(",")`); got != "0|Continue" {
		t.Fatalf("allowExternalIdp off: %q", got)
	}

	// An unknown login name (ignoreUnknownUsernames off): said at once.
	b.Do(chromedp.SendKeys(chromedp.ID("loginName"), "nobody"), chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("error")))
	if got := text(`document.getElementById("error").textContent`); !strings.Contains(got, "There is no user with this login name") {
		t.Fatalf("unknown user: %q", got)
	}
	shots = append(shots, b.Screenshot("login-unknown-user"))

	// forceMfa: the right password does not finish the login.
	env.MustDo(t, http.StatusOK, "PUT", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"forceMfa": true}, "x-zitadel-orgid", env.DefaultOrgID)
	b.Do(chromedp.Navigate(login), chromedp.WaitVisible(chromedp.ID("loginName")),
		chromedp.SendKeys(chromedp.ID("loginName"), "jane"), chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("password")), chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)), chromedp.WaitNotPresent(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS("main p")))
	if got := text(`document.querySelector("main").textContent`); !strings.Contains(got, "requires a second factor") {
		t.Fatalf("forceMfa: %q", got)
	}
	shots = append(shots, b.Screenshot("error-mfa-required"))

	// The refusals are 4xx documents (logged as failed loads); nothing else.
	for _, e := range browserErrors(b, env, map[string]int{refusedURL: http.StatusForbidden,
		env.URL + "/ui/v2/login/password": http.StatusForbidden}) {
		t.Errorf("browser: %s", e)
	}
	t.Logf("screenshots: %s", strings.Join(shots, " "))
}
