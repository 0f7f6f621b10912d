package ui_test

import (
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/idledger/idledger/internal/app/apptest"
)

// upstreamUsers is the upstream OP's user store.
type upstreamUsers map[string]*storage.User

func (s upstreamUsers) GetUserByID(id string) *storage.User { return s[id] }
func (s upstreamUsers) GetUserByUsername(name string) *storage.User {
	for _, u := range s {
		if u.Username == name {
			return u
		}
	}
	return nil
}
func (upstreamUsers) ExampleClientID() string { return "service" }

// upstreamOP is zitadel/oidc's example OpenID Provider on loopback, with
// a client for idledger's IdP callback.
func upstreamOP(t *testing.T, env *apptest.Env, users upstreamUsers) string {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	clients := map[string]*storage.Client{"login": storage.WebClient("login", "s3cret-login", env.URL+"/idps/callback")}
	h = exampleop.SetupServer(srv.URL, storage.NewStorageWithClients(users, clients), slog.New(slog.DiscardHandler), false)
	return srv.URL
}

var (
	reHref   = regexp.MustCompile(`<a class="button" href="([^"]+)"`)
	reOPForm = regexp.MustCompile(`name="id" value="([^"]+)"`)
)

// follow GETs (or POSTs form to) u, following redirects, and returns the
// last answer and its URL.
func (b *browser) follow(method, u string, form url.Values) (answer, string) {
	b.t.Helper()
	for range 15 {
		var res *http.Response
		var err error
		if method == http.MethodPost {
			res, err = b.c.PostForm(u, form)
		} else {
			res, err = b.c.Get(u)
		}
		if err != nil {
			b.t.Fatalf("%s %s: %v", method, u, err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusFound && res.StatusCode != http.StatusSeeOther {
			return answer{status: res.StatusCode, header: res.Header, body: string(raw)}, u
		}
		next, err := res.Request.URL.Parse(res.Header.Get("Location"))
		if err != nil {
			b.t.Fatal(err)
		}
		method, u = http.MethodGet, next.String()
	}
	b.t.Fatalf("too many redirects at %s", u)
	return answer{}, ""
}

// idpLogin presses the IdP's button on the login page, signs in at the
// upstream OP as username, and returns the page the hosted login shows on
// return.
func (b *browser) idpLogin(orgID, idpID, username string) answer {
	b.t.Helper()
	login := b.do("GET", "/ui/v2/login/login?organization="+orgID, nil)
	start := b.do("POST", "/ui/v2/login/idp", url.Values{"csrf": {csrf(b.t, login)}, "idpId": {idpID}})
	wantText(b.t, start, http.StatusOK, `http-equiv="refresh"`)
	m := reHref.FindStringSubmatch(start.body)
	if m == nil {
		b.t.Fatalf("no link to the IdP: %s", start.body)
	}
	form, at := b.follow(http.MethodGet, html.UnescapeString(m[1]), nil)
	id := reOPForm.FindStringSubmatch(form.body)
	if id == nil {
		b.t.Fatalf("no login form at the OP (%s): %s", at, form.body)
	}
	back, _ := b.follow(http.MethodPost, at, url.Values{"username": {username}, "password": {"pw"}, "id": {id[1]}})
	return back
}

// TestIDPLogin runs IdP logins through the hosted login against a real
// upstream OP: auto-creation signs a new user in (and the second login the
// same user), manual linking signs in to an existing account with its
// password and links it, and the link then signs in alone.
func TestIDPLogin(t *testing.T) {
	env := apptest.New(t)
	create, link, register, refuse := idpSetup(t, env)
	b := newBrowser(t, env)
	page := b.do("GET", "/ui/v2/login/login?organization="+env.DefaultOrgID, nil)
	wantText(t, page, http.StatusOK, ">Corp</button>", ">Partner</button>")

	// Auto-creation: a new user, signed in; the second login is the same user.
	b = newBrowser(t, env)
	wantText(t, b.idpLogin(env.DefaultOrgID, create, "newbie"), http.StatusOK, "You are signed in", `class="who">newbie`)
	wantText(t, b.idpLogin(env.DefaultOrgID, create, "newbie"), http.StatusOK, "You are signed in", `class="who">newbie`)

	// Manual linking: sign in to jane with her password, then the link.
	offer := b.idpLogin(env.DefaultOrgID, link, "jd")
	wantText(t, offer, http.StatusOK, "Link your account", `<label for="password">Password</label>`)
	wrong := b.do("POST", "/ui/v2/login/idp/link", url.Values{"csrf": {csrf(t, offer)}, "loginName": {"jane"}, "password": {"nope"}})
	wantText(t, wrong, http.StatusOK, "The login name or password is not correct")
	linked := b.do("POST", "/ui/v2/login/idp/link", url.Values{"csrf": {csrf(t, wrong)}, "loginName": {"jane"}, "password": {pw}})
	wantText(t, linked, http.StatusOK, "You are signed in", `class="who">jane<`)
	wantText(t, b.idpLogin(env.DefaultOrgID, link, "jd"), http.StatusOK, "You are signed in", `class="who">jane<`)

	// Registration offered: the form is prefilled from the claims; the
	// intent is the registration's capability (RegisterUserFromIntent).
	b = newBrowser(t, env)
	reg := b.idpLogin(env.DefaultOrgID, register, "newbie")
	wantText(t, reg, http.StatusOK, "Create your account", `value="newbie"`, `value="New"`, `value="Bie"`, `value="newbie@example.com"`)
	// A form the server refuses (no given name) shows the form again.
	wantText(t, b.do("POST", "/ui/v2/login/idp/register", url.Values{"csrf": {csrf(t, reg)}, "username": {"newbie2"},
		"givenName": {""}, "familyName": {"Bie"}, "email": {"newbie@example.com"}}), http.StatusOK, "Create your account")
	done := b.do("POST", "/ui/v2/login/idp/register", url.Values{"csrf": {csrf(t, reg)}, "username": {"newbie2"},
		"givenName": {"New"}, "familyName": {"Bie"}, "email": {"newbie@example.com"}})
	wantText(t, done, http.StatusOK, "You are signed in", `class="who">newbie2<`)
	// The new user is linked: the next IdP login signs it in at once.
	wantText(t, b.idpLogin(env.DefaultOrgID, register, "newbie"), http.StatusOK, "You are signed in", `class="who">newbie2<`)
	// The flow is over: the form cannot be replayed.
	wantText(t, b.do("POST", "/ui/v2/login/idp/register", url.Values{"csrf": {csrf(t, reg)}, "username": {"newbie3"},
		"givenName": {"New"}, "familyName": {"Bie"}, "email": {"newbie@example.com"}}), http.StatusForbidden)

	// Registration where the IdP does not allow creation: refused until
	// the policy allows registration.
	b = newBrowser(t, env)
	offer = b.idpLogin(env.DefaultOrgID, link, "newbie")
	wantText(t, offer, http.StatusOK, "Link your account")
	form := url.Values{"csrf": {csrf(t, offer)}, "username": {"guest"}, "givenName": {"New"}, "familyName": {"Bie"},
		"email": {"newbie@example.com"}}
	wantText(t, b.do("POST", "/ui/v2/login/idp/register", form), http.StatusForbidden, "Ask your administrator to create your account")
	// Nothing allowed (and allowRegister off): refused, with what to do.
	wantText(t, newBrowser(t, env).idpLogin(env.DefaultOrgID, refuse, "jd"), http.StatusForbidden, "Ask your administrator to allow it")
	env.MustDo(t, http.StatusOK, "PUT", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"allowExternalIdp": true, "allowRegister": true}, "x-zitadel-orgid", env.DefaultOrgID)
	wantText(t, b.do("POST", "/ui/v2/login/idp/register", form), http.StatusOK, "You are signed in", `class="who">guest<`)
	// allowRegister on: the IdP that allows nothing offers registration.
	wantText(t, newBrowser(t, env).idpLogin(env.DefaultOrgID, refuse, "jd"), http.StatusOK, "Create your account")
	if strings.Contains(linked.body, "s3cret") {
		t.Fatal("a secret on the page")
	}
}

// idpSetup is jane (a password user of the default org), an upstream OP
// with two users, and four generic-OIDC IdPs at it in the default org's
// policy: auto-creation, linking, registration, and none of them.
func idpSetup(t *testing.T, env *apptest.Env) (create, link, register, refuse string) {
	t.Helper()
	addUser(t, env, env.DefaultOrgID, "jane")
	op := upstreamOP(t, env, upstreamUsers{
		"x-new":  {ID: "x-new", Username: "newbie", Password: "pw", FirstName: "New", LastName: "Bie", Email: "newbie@example.com", EmailVerified: true},
		"x-jane": {ID: "x-jane", Username: "jd", Password: "pw", FirstName: "Jane", LastName: "Doe", Email: "jd@corp.example"},
	})
	newIDP := func(name string, opts map[string]any) string {
		return env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/generic_oidc", map[string]any{"name": name, "issuer": op,
			"clientId": "login", "clientSecret": "s3cret-login", "providerOptions": opts})["id"].(string)
	}
	create = newIDP("Corp", map[string]any{"isAutoCreation": true, "isCreationAllowed": true})
	link = newIDP("Partner", map[string]any{"isLinkingAllowed": true})
	register = newIDP("Guest", map[string]any{"isCreationAllowed": true})
	refuse = newIDP("Closed", map[string]any{})
	var inPolicy []map[string]any
	for _, id := range []string{create, link, register, refuse} {
		inPolicy = append(inPolicy, map[string]any{"idpId": id, "ownerType": "IDP_OWNER_TYPE_SYSTEM"})
	}
	env.MustDo(t, http.StatusOK, "POST", "/management/v1/policies/login", map[string]any{"allowUsernamePassword": true,
		"allowExternalIdp": true, "idps": inPolicy}, "x-zitadel-orgid", env.DefaultOrgID)

	return create, link, register, refuse
}
