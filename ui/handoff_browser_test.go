package ui

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/idledger/idledger/internal/browsertest"
	"github.com/idledger/idledger/upstream"
)

// TestBrowserHandOffAndRefusalPages renders, with the real templates, style
// sheet and security headers, the pages a flow passes too fast to be
// seen, or that need an outside party: the hand-off to an IdP and back to the
// app (redirect.html, here without its meta refresh, which would leave at
// once: the page a browser shows while the IdP is slow), SAML's POST page
// (formpost.html, its CSP's form-action widened to the IdP's origin), and
// the refusal pages. Each is checked in Chromium (heading, the way on,
// no console error or CSP violation) and photographed.
func TestBrowserHandOffAndRefusalPages(t *testing.T) {
	b := browsertest.New(t)
	ps, err := loadPages(assets)
	if err != nil {
		t.Fatal(err)
	}
	u := &UI{pages: ps}
	static, _ := fs.Sub(assets, "static")
	type shot struct {
		name, want string
		p          page
		status     int
		form       []string
	}
	again := BasePath + "/login"
	shots := map[string]shot{
		"handoff-idp": {name: "redirect", want: "Continue to Acme SSO",
			p: page{Title: "redirect.title", Link: "https://idp.example/auth?client_id=x", LinkText: "redirect.idp", Name: "Acme SSO"}},
		"handoff-app": {name: "redirect", want: "Continue to the app",
			p: page{Title: "redirect.title", Link: "https://app.example/cb?code=x", LinkText: "redirect.app"}},
		"formpost-saml": {name: "formpost", want: "Press the button to continue at your identity provider.",
			p: page{Title: "redirect.title", Name: "Acme SAML", Form: &upstream.Form{URL: "https://saml.example/sso",
				Fields: map[string]string{"SAMLRequest": "PHNhbWxwOkF1dGhuUmVxdWVzdC8+", "RelayState": "r"}}},
			form: []string{"https://saml.example"}},
		"error-idp-other-org": {name: "error", want: "Your account belongs to another organisation",
			p: page{Title: "error.title", Message: "error.idpOtherOrg", Again: again}, status: http.StatusForbidden},
		"error-register-unavailable": {name: "error", want: "Ask your administrator to create your account",
			p: page{Title: "error.title", Message: "register.unavailable", Again: again}, status: http.StatusForbidden},
		"error-idp-failed": {name: "error", want: "The identity provider could not sign you in.",
			p: page{Title: "error.title", Message: "error.idpFailed", Again: again}, status: http.StatusBadRequest},
		"error-idp-unavailable": {name: "error", want: "cannot be reached right now",
			p: page{Title: "error.title", Message: "error.idpUnavailable", Again: again}, status: http.StatusBadGateway},
		"error-flow": {name: "error", want: "Your sign-in took too long or was started in another browser.",
			p: page{Title: "error.title", Message: "error.flow", Again: again}, status: http.StatusBadRequest},
	}
	mux := http.NewServeMux()
	mux.Handle(BasePath+"/static/", http.StripPrefix(BasePath+"/static/", http.FileServerFS(static)))
	mux.HandleFunc("/shot/{name}", func(w http.ResponseWriter, r *http.Request) {
		s, ok := shots[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		status := s.status
		if status == 0 {
			status = http.StatusOK
		}
		u.render(w, r, status, s.name, s.p, s.form...)
	})
	srv := httptest.NewServer(securityHeaders(mux))
	t.Cleanup(srv.Close)

	text := func(js string) string { return browsertest.Run(b, chromedp.Evaluate[string](js)) }
	expected := map[string]int{}
	var files []string
	for _, name := range []string{"handoff-idp", "handoff-app", "formpost-saml", "error-idp-other-org",
		"error-register-unavailable", "error-idp-failed", "error-idp-unavailable", "error-flow"} {
		s := shots[name]
		if s.status != 0 {
			expected[srv.URL+"/shot/"+name] = s.status
		}
		b.Do(chromedp.Navigate(srv.URL+"/shot/"+name), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if got := text(`document.querySelector("main").textContent`); !strings.Contains(got, s.want) {
			t.Errorf("%s: %q lacks %q", name, got, s.want)
		}
		// The way on: the hand-off's link, the SAML form's button, the
		// refusal's "Start again".
		if got := text(`String(document.querySelectorAll("main a[href], main button").length)`); got == "0" {
			t.Errorf("%s: no way on", name)
		}
		if got := text(`getComputedStyle(document.querySelector("main")).backgroundColor`); got != "rgb(255, 255, 255)" {
			t.Errorf("%s: the style sheet did not apply (main %s)", name, got)
		}
		files = append(files, b.Screenshot(name))
	}
	for _, e := range b.ErrorsExcept(expected) {
		t.Errorf("browser: %s", e)
	}
	t.Logf("screenshots: %s", strings.Join(files, " "))
}
