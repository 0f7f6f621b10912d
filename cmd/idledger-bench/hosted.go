package main

// code_flow_hosted (issue 20): a full code flow through the hosted login
// pages against an upstream OP on loopback (zitadel/oidc's example OP),
// with an HTTP client that follows the pages' forms as a browser without
// JavaScript would: authorize → the hosted login page → the IdP button →
// the upstream login form → idledger's IdP callback → the hosted login's
// return → the app's redirect URI with a code → the token exchange.

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	exstorage "github.com/zitadel/oidc/v3/example/server/storage"
)

const (
	upstreamClientID     = "bench-login"
	upstreamClientSecret = "bench-upstream-secret-0123456789"
	upstreamPassword     = "bench-upstream-pw"
)

// hostedFixture is the hosted login's upstream: the OP, its users (one per
// seeded password user, linked to it) and the IdP at it, in the
// instance's default login policy.
type hostedFixture struct {
	up       *http.Server
	upURL    string
	idpID    string
	upUsers  []string // upstream user names, by login user index
	upstream upstreamUsers
}

// upstreamUsers is the upstream OP's user store.
type upstreamUsers map[string]*exstorage.User

func (s upstreamUsers) GetUserByID(id string) *exstorage.User { return s[id] }
func (s upstreamUsers) GetUserByUsername(name string) *exstorage.User {
	return s[strings.TrimPrefix(name, "u-")]
}
func (upstreamUsers) ExampleClientID() string { return "service" }

func (h *hostedFixture) close() { _ = h.up.Close() }

// seedHosted starts the upstream OP with one user per seeded password
// user, adds a generic OIDC IdP at it to the instance's default login
// policy, and links each upstream user to its idledger user, so that each
// hosted login signs an existing user in.
func seedHosted(ctx context.Context, c *client, lf *loginFixture, log io.Writer) (*hostedFixture, error) {
	h := &hostedFixture{upstream: upstreamUsers{}, upUsers: make([]string, len(lf.userIDs))}
	for i := range lf.userIDs {
		id := fmt.Sprintf("bench-up-%05d", i)
		h.upstream[id] = &exstorage.User{ID: id, Username: "u-" + id, Password: upstreamPassword,
			FirstName: "Bench", LastName: "Upstream", Email: id + "@upstream.bench.example", EmailVerified: true}
		h.upUsers[i] = "u-" + id
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h.upURL = "http://" + ln.Addr().String()
	clients := map[string]*exstorage.Client{upstreamClientID: exstorage.WebClient(upstreamClientID, upstreamClientSecret,
		"http://"+c.host+"/idps/callback")}
	router := exampleop.SetupServer(h.upURL, exstorage.NewStorageWithClients(h.upstream, clients),
		slog.New(slog.NewJSONHandler(io.Discard, nil)), false)
	h.up = &http.Server{Handler: router, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = h.up.Serve(ln) }()
	fail := func(err error) (*hostedFixture, error) { h.close(); return nil, err }

	if h.idpID, err = addIDPBody(ctx, c, "/admin/v1", "", "generic_oidc", map[string]any{
		"name": "bench-hosted-oidc", "issuer": h.upURL, "clientId": upstreamClientID, "clientSecret": upstreamClientSecret,
		"scopes": []string{"openid", "profile", "email"}, "providerOptions": map[string]any{"isLinkingAllowed": true},
	}); err != nil {
		return fail(err)
	}
	if err := c.doJSON(ctx, "POST", "/admin/v1/policies/login/idps", "", map[string]any{"idpId": h.idpID}, nil); err != nil {
		return fail(fmt.Errorf("add the hosted login's IdP to the instance policy: %w", err))
	}
	step := seedStep(ctx, 16, log)
	if err := step("upstream links", len(lf.userIDs), func(ctx context.Context, i int) error {
		return c.doJSON(ctx, "POST", "/v2/users/"+lf.userIDs[i]+"/links", "",
			map[string]any{"idpLink": map[string]any{"idpId": h.idpID, "userId": fmt.Sprintf("bench-up-%05d", i), "userName": h.upUsers[i]}}, nil)
	}); err != nil {
		return fail(err)
	}
	return h, nil
}

// hostTransport sends requests for the instance's host (as the pages'
// absolute URLs name it, without the listener's port) to the server's
// listener, keeping the Host header: the cookie jar sees the host the
// pages name, as a browser would.
type hostTransport struct {
	host, addr string
	next       http.RoundTripper
}

func (t hostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == t.host {
		r = r.Clone(r.Context())
		r.URL.Host = t.addr
		r.Host = t.host
	}
	return t.next.RoundTrip(r)
}

var (
	reCSRF   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	reIDPBtn = regexp.MustCompile(`name="idpId" value="([^"]+)"`)
	reButton = regexp.MustCompile(`<a class="button" href="([^"]+)"`)
	reOPID   = regexp.MustCompile(`name="id" value="([^"]+)"`)
)

// shownPage is an answer the browser shows: its status, URL and body.
type shownPage struct {
	status int
	url    *url.URL
	body   string
}

// hostedBrowser is one browser: its own cookie jar, following redirects
// itself so that each page's URL is known.
type hostedBrowser struct {
	hc *http.Client
	// around, when set, runs each request (the baseline's capture).
	around func(do func() error) error
}

func (br *hostedBrowser) do(f func() error) error {
	if br.around != nil {
		return br.around(f)
	}
	return f()
}

func newHostedBrowser(b *bench) (*hostedBrowser, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	su, err := url.Parse(b.c.base)
	if err != nil {
		return nil, err
	}
	tr := hostTransport{host: b.c.host, addr: su.Host, next: b.c.http.Transport}
	return &hostedBrowser{hc: &http.Client{Transport: tr, Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

// visit GETs u (or POSTs form to it) and follows redirects to the page
// that is shown.
func (br *hostedBrowser) visit(ctx context.Context, method, u string, form url.Values) (shownPage, error) {
	for range 15 {
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, u, body)
		if err != nil {
			return shownPage{}, err
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		var res *http.Response
		var raw []byte
		if err := br.do(func() error {
			var err error
			if res, err = br.hc.Do(req); err != nil {
				return err
			}
			raw, err = io.ReadAll(res.Body)
			res.Body.Close()
			return err
		}); err != nil {
			return shownPage{}, err
		}
		if res.StatusCode != http.StatusFound && res.StatusCode != http.StatusSeeOther {
			return shownPage{status: res.StatusCode, url: req.URL, body: string(raw)}, nil
		}
		next, err := req.URL.Parse(res.Header.Get("Location"))
		if err != nil {
			return shownPage{}, err
		}
		if strings.HasPrefix(next.String(), codeRedirect) {
			return shownPage{status: res.StatusCode, url: next}, nil
		}
		method, u, form = http.MethodGet, next.String(), nil
	}
	return shownPage{}, fmt.Errorf("too many redirects at %s", u)
}

// pageError describes an unexpected page.
func pageError(step string, p shownPage) error {
	body := p.body
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	return fmt.Errorf("code_flow_hosted: %s: HTTP %d at %s: %s", step, p.status, p.url, truncate([]byte(body), 300))
}

// hostedFlow runs one whole flow for login user i; around, when set,
// runs each request.
func hostedFlow(ctx context.Context, b *bench, i int, around func(do func() error) error) error {
	of, h := b.fx.oauth, b.fx.hosted
	br, err := newHostedBrowser(b)
	if err != nil {
		return err
	}
	br.around = around
	n := uniq.Add(1)
	state := fmt.Sprintf("h%d", n)
	verifier, challenge := pkce(n)
	f := codeFlowClient{b: b}
	// authorize → the hosted login page.
	login, err := br.visit(ctx, http.MethodGet, "http://"+b.c.host+f.authorizeURL(state, challenge), nil)
	if err != nil {
		return err
	}
	if login.status == http.StatusNotFound && strings.HasPrefix(login.url.Path, "/ui/v2/login/login") {
		return errors.New("code_flow_hosted: the hosted login answers 404 to the auth request's login page: " +
			"it cannot read auth requests (ui.AuthRequests is nil: the hosted login is not wired to the OP yet)")
	}
	csrf, btn := reCSRF.FindStringSubmatch(login.body), reIDPBtn.FindAllStringSubmatch(login.body, -1)
	if login.status != http.StatusOK || csrf == nil {
		return pageError("login page", login)
	}
	found := false
	for _, m := range btn {
		found = found || m[1] == h.idpID
	}
	if !found {
		return pageError("login page without the IdP's button", login)
	}
	// The IdP button → the page that sends the browser to the IdP.
	start, err := br.visit(ctx, http.MethodPost, "http://"+b.c.host+"/ui/v2/login/idp", url.Values{"csrf": {csrf[1]}, "idpId": {h.idpID}})
	if err != nil {
		return err
	}
	link := reButton.FindStringSubmatch(start.body)
	if start.status != http.StatusOK || link == nil {
		return pageError("IdP button", start)
	}
	// The upstream OP's login form.
	form, err := br.visit(ctx, http.MethodGet, html.UnescapeString(link[1]), nil)
	if err != nil {
		return err
	}
	id := reOPID.FindStringSubmatch(form.body)
	if form.status != http.StatusOK || id == nil {
		return pageError("upstream login form", form)
	}
	// Sign in upstream → idledger's callback → the hosted login's return
	// → the page that sends the browser back to the app.
	back, err := br.visit(ctx, http.MethodPost, form.url.String(), url.Values{"username": {h.upUsers[i]}, "password": {upstreamPassword}, "id": {id[1]}})
	if err != nil {
		return err
	}
	if back.status == http.StatusOK {
		if m := reButton.FindStringSubmatch(back.body); m != nil && strings.HasPrefix(html.UnescapeString(m[1]), codeRedirect+"?") {
			back.url, _ = url.Parse(html.UnescapeString(m[1]))
		}
	}
	if !strings.HasPrefix(back.url.String(), codeRedirect+"?") {
		return pageError("return from the IdP", back)
	}
	q := back.url.Query()
	if q.Get("state") != state || q.Get("code") == "" {
		return fmt.Errorf("code_flow_hosted: app callback %s", back.url)
	}
	return br.do(func() error {
		_, err := b.tokens().token(ctx, "/oauth/v2/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
			"redirect_uri": {codeRedirect}, "client_id": {of.clientID}, "code_verifier": {verifier}}, "", "")
		return err
	})
}

// codeFlowHosted is one whole hosted flow per sample.
func codeFlowHosted(b *bench) op {
	return func(ctx context.Context, w *worker) error {
		i := loginUser(b, w)
		return w.timed(func() error { return hostedFlow(ctx, b, i, nil) })
	}
}

// codeFlowHostedBaseline captures 4 hosted flows request by request
// (each page, redirect and the token exchange) and replays each request's
// reads and appends. The upstream OP's work, idledger's code exchange with
// it, the ID token's verification and the pages' rendering are the
// server's own cost.
func codeFlowHostedBaseline(ctx context.Context, b *bench) (op, []string, error) {
	lf := b.fx.login
	var flows [][]flowStep
	for k := range 4 {
		var steps []flowStep
		around := func(do func() error) error {
			st, _, err := captureStep(ctx, b, do)
			if err == nil && (len(st.reads) > 0 || st.events > 0) {
				steps = append(steps, st)
			}
			return err
		}
		if err := hostedFlow(ctx, b, len(lf.names)-1-k, around); err != nil {
			return nil, nil, fmt.Errorf("code_flow_hosted baseline: %w", err)
		}
		flows = append(flows, steps)
	}
	return flowBaseline(b, flows, nil), flowSQL(flows[0]), nil
}
