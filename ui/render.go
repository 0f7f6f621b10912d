package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/idledger/idledger/upstream"
)

// Pages is every page template (templates/<name>.html, each rendered in
// layout.html).
var Pages = []string{"login", "password", "signedin", "redirect", "formpost", "link", "register", "logout", "error"}

// defaultLang is the catalogue used when the browser asks for none we have.
const defaultLang = "en"

// page is what every template sees.
type page struct {
	Lang  string
	Base  string // BasePath
	Title string // catalogue key of the heading and title
	Error string // catalogue key of an error shown above the content
	CSRF  string

	LoginName  string
	Password   bool        // login: the login name form is shown
	IDPs       []idpButton // login: the policy's IdPs
	Candidates []string    // link: masked login names to choose among
	Prefill    registration
	Link       string // redirect, logout: where to go
	LinkText   string // redirect: catalogue key of the link
	Name       string // redirect, formpost: the IdP's name
	Refresh    bool   // redirect: go there at once (meta refresh)
	Form       *upstream.Form
	Message    string // error: catalogue key
	Again      string // where "Start again" leads
}

type idpButton struct{ ID, Name string }

// registration is the prefill of the registration form.
type registration struct{ Username, GivenName, FamilyName, Email string }

// catalogue is one language's texts by key.
type catalogue map[string]string

// pageSet is every page parsed once per language.
type pageSet struct {
	langs map[string]map[string]*template.Template // lang → page → template
	cats  map[string]catalogue
}

// loadPages parses locales/*.json and, for each language, the templates.
// A template that uses a key missing from a catalogue fails when it runs
// (and so in the render test), never silently.
func loadPages(fsys fs.FS) (*pageSet, error) {
	files, err := fs.Glob(fsys, "locales/*.json")
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("ui: no message catalogue")
	}
	ps := &pageSet{langs: map[string]map[string]*template.Template{}, cats: map[string]catalogue{}}
	for _, file := range files {
		b, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, err
		}
		var cat catalogue
		if err := json.Unmarshal(b, &cat); err != nil {
			return nil, fmt.Errorf("ui: catalogue %s: %w", file, err)
		}
		lang := strings.TrimSuffix(path.Base(file), ".json")
		ps.cats[lang] = cat
		ps.langs[lang] = map[string]*template.Template{}
		funcs := template.FuncMap{"t": cat.text}
		for _, name := range Pages {
			t, err := template.New(name).Funcs(funcs).ParseFS(fsys, "templates/layout.html", "templates/"+name+".html")
			if err != nil {
				return nil, fmt.Errorf("ui: template %s: %w", name, err)
			}
			ps.langs[lang][name] = t
		}
	}
	if ps.cats[defaultLang] == nil {
		return nil, fmt.Errorf("ui: no %s catalogue", defaultLang)
	}
	return ps, nil
}

// text is the catalogue's text for key; a missing key is an error, so the
// page fails to render instead of showing a key.
func (c catalogue) text(key string) (string, error) {
	s, ok := c[key]
	if !ok {
		return "", fmt.Errorf("ui: no text %q", key)
	}
	return s, nil
}

// Languages are the catalogues' languages, sorted.
func (ps *pageSet) Languages() []string {
	var ls []string
	for l := range ps.cats {
		ls = append(ls, l)
	}
	sort.Strings(ls)
	return ls
}

// lang picks the catalogue for the request's Accept-Language.
func (ps *pageSet) lang(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		for _, t := range []string{tag, strings.SplitN(tag, "-", 2)[0]} {
			if _, ok := ps.cats[t]; ok && t != "" {
				return t
			}
		}
	}
	return defaultLang
}

// execute renders page name in lang into a buffer.
func (ps *pageSet) execute(lang, name string, p page) ([]byte, error) {
	t := ps.langs[lang][name]
	if t == nil {
		return nil, fmt.Errorf("ui: no page %q in %q", name, lang)
	}
	p.Lang, p.Base = lang, BasePath
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// render answers page name with status; formOrigins widen the CSP's
// form-action for a form that posts to another origin (SAML's POST
// binding).
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, p page, formOrigins ...string) {
	b, err := u.pages.execute(u.pages.lang(r), name, p)
	if err != nil {
		u.d.Log.Error().Err(err).Str("page", name).Msg("hosted login: render")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if len(formOrigins) > 0 {
		w.Header().Set("Content-Security-Policy", csp(formOrigins))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// fail answers the error page: message is a catalogue key that says what
// to do; again, when set, is where "Start again" leads.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, status int, message, again string) {
	u.render(w, r, status, "error", page{Title: "error.title", Message: message, Again: again})
}
