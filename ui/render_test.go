package ui

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/idledger/idledger/upstream"
)

// fullPages are data for every page that make every branch of its
// template render (and so every key it names be looked up).
func fullPages() map[string][]page {
	idps := []idpButton{{ID: "1", Name: "Acme SSO"}, {ID: "2", Name: "GitHub"}}
	return map[string][]page{
		"login": {
			{Title: "login.title", CSRF: "c", Password: true, IDPs: idps, LoginName: "jane"},
			{Title: "login.title", CSRF: "c", Password: true, Error: "login.required"},
			{Title: "login.title", CSRF: "c", IDPs: idps},
			{Title: "login.title", CSRF: "c"},
		},
		"password": {
			{Title: "password.title", CSRF: "c", LoginName: "jane", Again: BasePath + "/login"},
			{Title: "password.title", CSRF: "c", LoginName: "jane", Error: "password.invalid", Again: BasePath + "/login"},
		},
		"signedin": {{Title: "signedin.title", LoginName: "jane@acme.example"}},
		"redirect": {
			{Title: "redirect.title", Link: "https://idp.example/auth?a=1&b=2", LinkText: "redirect.idp", Name: "Acme SSO", Refresh: true},
			{Title: "redirect.title", Link: "https://app.example/cb?code=x", LinkText: "redirect.app", Refresh: true},
		},
		"formpost": {{Title: "redirect.title", Name: "Acme SAML",
			Form: &upstream.Form{URL: "https://saml.example/sso", Fields: map[string]string{"SAMLRequest": "x", "RelayState": "y"}}}},
		"link": {
			{Title: "link.title", CSRF: "c"},
			{Title: "link.title", CSRF: "c", Candidates: []string{"j***@acme.example", "j***"}, Error: "password.invalid"},
			{Title: "link.title", CSRF: "c", Candidates: []string{"j***"}, Error: "link.notCandidate"},
		},
		"register": {
			{Title: "register.title", CSRF: "c", Prefill: registration{Username: "jane", GivenName: "Jane", FamilyName: "Doe", Email: "jane@acme.example"}},
			{Title: "register.title", CSRF: "c", Error: "register.failed"},
		},
		"logout": {{Title: "logout.title", Link: "https://app.example/"}, {Title: "logout.title"}},
		"error":  {{Title: "error.title", Message: "error.invalidLink"}, {Title: "error.title", Message: "error.csrf", Again: BasePath + "/login"}},
	}
}

var (
	reInput   = regexp.MustCompile(`<input ([^>]*)>`)
	reAttr    = regexp.MustCompile(`(\w[\w-]*)="([^"]*)"`)
	reButton  = regexp.MustCompile(`(?s)<button[^>]*>(.*?)</button>`)
	reLink    = regexp.MustCompile(`(?s)<a [^>]*>(.*?)</a>`)
	reTag     = regexp.MustCompile(`<[^>]+>`)
	reTextKey = regexp.MustCompile(`\{\{t "([^"]+)"`)
	reGoKey   = regexp.MustCompile(`"((?:app|skip|login|password|signedin|redirect|formpost|link|register|logout|error)\.[A-Za-z.]+)"`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range reAttr.FindAllStringSubmatch(s, -1) {
		m[a[1]] = a[2]
	}
	return m
}

// checkAccessible is the Go check of a rendered page (a11yProblems).
func checkAccessible(t *testing.T, name, html string) {
	t.Helper()
	for _, p := range a11yProblems(html) {
		t.Errorf("%s: %s", name, p)
	}
}

// a11yProblems are what a rendered page lacks: lang, one main landmark
// and one heading, a label (for=id) for every field, buttons and links
// with a name, no inline script or style, a CSRF token in every form.
func a11yProblems(html string) []string {
	var out []string
	if !strings.Contains(html, `<html lang="`) || strings.Contains(html, `<html lang="">`) {
		out = append(out, "no lang")
	}
	if strings.Count(html, "<main>") != 1 || strings.Count(html, "<h1>") != 1 {
		out = append(out, "want one <main> and one <h1>")
	}
	if strings.Contains(html, "<h1></h1>") || strings.Contains(html, "<title></title>") {
		out = append(out, "empty heading or title")
	}
	for _, bad := range []string{"<script", " style=", "<style", " onclick=", " onload=", "javascript:"} {
		if strings.Contains(html, bad) {
			out = append(out, fmt.Sprintf("%q would be blocked by the CSP (or is inline script)", bad))
		}
	}
	for _, in := range reInput.FindAllStringSubmatch(html, -1) {
		a := attrs(in[1])
		if a["type"] == "hidden" {
			continue
		}
		if a["id"] == "" || !strings.Contains(html, `<label for="`+a["id"]+`">`) {
			out = append(out, fmt.Sprintf("field %q has no label", in[0]))
		}
	}
	for _, b := range append(reButton.FindAllStringSubmatch(html, -1), reLink.FindAllStringSubmatch(html, -1)...) {
		if strings.TrimSpace(reTag.ReplaceAllString(b[1], "")) == "" {
			out = append(out, fmt.Sprintf("%q has no accessible name", b[0]))
		}
	}
	for _, form := range regexp.MustCompile(`(?s)<form method="post" action="/ui[^"]*">(.*?)</form>`).FindAllStringSubmatch(html, -1) {
		if !strings.Contains(form[1], `name="csrf"`) {
			out = append(out, "a form without CSRF token")
		}
	}
	return out
}

// TestA11yCheckFails: the check finds each kind of fault in a page that
// is otherwise fine (so it cannot pass on a page that lacks them).
func TestA11yCheckFails(t *testing.T) {
	good := `<!DOCTYPE html><html lang="en"><head><title>T</title></head><body><main><h1>T</h1>` +
		`<form method="post" action="/ui/v2/login/login"><input type="hidden" name="csrf" value="c">` +
		`<label for="loginName">Login name</label><input type="text" id="loginName" name="loginName">` +
		`<button type="submit">Continue</button></form></main></body></html>`
	if p := a11yProblems(good); len(p) != 0 {
		t.Fatalf("a good page: %v", p)
	}
	for fault, html := range map[string]string{
		"no label":          strings.Replace(good, `<label for="loginName">Login name</label>`, "", 1),
		"label of another":  strings.Replace(good, `<label for="loginName">`, `<label for="other">`, 1),
		"field without id":  strings.Replace(good, ` id="loginName"`, "", 1),
		"button no text":    strings.Replace(good, ">Continue</button>", `><span></span></button>`, 1),
		"no main":           strings.NewReplacer("<main>", "<div>", "</main>", "</div>").Replace(good),
		"two mains":         strings.Replace(good, "</main>", "</main><main></main>", 1),
		"no lang":           strings.Replace(good, ` lang="en"`, "", 1),
		"empty lang":        strings.Replace(good, ` lang="en"`, ` lang=""`, 1),
		"inline script":     strings.Replace(good, "</main>", "</main><script>x()</script>", 1),
		"form without csrf": strings.Replace(good, `<input type="hidden" name="csrf" value="c">`, "", 1),
	} {
		if p := a11yProblems(html); len(p) == 0 {
			t.Errorf("%s: not found", fault)
		}
	}
}

// TestEveryPageRenders renders every page in every language with data that
// reach every branch, and checks it for accessibility.
func TestEveryPageRenders(t *testing.T) {
	ps, err := loadPages(assets)
	if err != nil {
		t.Fatal(err)
	}
	shots := fullPages()
	for _, name := range Pages {
		if len(shots[name]) == 0 {
			t.Errorf("no test data for page %s", name)
		}
	}
	for _, lang := range ps.Languages() {
		for name, variants := range shots {
			for i, p := range variants {
				b, err := ps.execute(lang, name, p)
				if err != nil {
					t.Errorf("%s/%s #%d: %v", lang, name, i, err)
					continue
				}
				checkAccessible(t, lang+"/"+name, string(b))
			}
		}
	}
	// The pages' colours: the style sheets' contrast (contrast_test.go).
	checkContrast(t)
}

// TestCatalogueKeys: every key the templates and the code name is in every
// catalogue, every catalogue has the same keys, and none is unused.
func TestCatalogueKeys(t *testing.T) {
	ps, err := loadPages(assets)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	tmpls, _ := fs.Glob(assets, "templates/*.html")
	for _, f := range tmpls {
		b, _ := fs.ReadFile(assets, f)
		for _, m := range reTextKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	gos, _ := filepath.Glob("*.go")
	for _, f := range gos {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range reGoKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	en := ps.cats[defaultLang]
	for lang, cat := range ps.cats {
		for k := range used {
			if _, ok := cat[k]; !ok {
				t.Errorf("%s: missing key %q", lang, k)
			}
		}
		for k, v := range cat {
			if _, ok := en[k]; !ok {
				t.Errorf("%s: key %q is not in %s", lang, k, defaultLang)
			}
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: empty text %q", lang, k)
			}
		}
	}
	for k := range en {
		if !used[k] {
			t.Errorf("unused key %q", k)
		}
	}
	if !slices.Contains(ps.Languages(), "en") {
		t.Error("no English catalogue")
	}
}

// TestMissingKeyFails: a template naming a key no catalogue has does not
// render.
func TestMissingKeyFails(t *testing.T) {
	if _, err := (catalogue{}).text("no.such"); err == nil {
		t.Fatal("a missing key rendered")
	}
}
