package ui

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"net/netip"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/api"
	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/query"
	"github.com/idledger/idledger/secretbox"
)

// BasePath is where the hosted login is mounted.
const BasePath = "/ui/v2/login"

// Creator is the creator recorded on the events the hosted login causes
// (as ZITADEL's login records "LOGIN").
const Creator = "LOGIN"

//go:embed templates/*.html static/*.css static/*.svg locales/*.json
var assets embed.FS

// Deps are what the hosted login needs.
type Deps struct {
	Commands *command.Commands
	Queries  *query.Queries
	// Keys seal the login flow's cookie.
	Keys *secretbox.Keyring
	// AuthRequests is the OpenID Provider (internal/app wires it); without
	// it, ?authRequest= links show the "invalid link" page.
	AuthRequests AuthRequests
	// ExternalSecure: the public origin is https://, so the cookie is Secure.
	ExternalSecure bool
	// TrustedProxies are the networks whose X-Forwarded-For is believed
	// (the client IP recorded on events); RecordOriginOff records none.
	TrustedProxies  []netip.Prefix
	RecordOriginOff bool
	Log             zerolog.Logger
}

// UI is the hosted login.
type UI struct {
	d     Deps
	pages *pageSet
}

// New loads the templates and the message catalogues. It fails when a
// template does not parse or a catalogue does not load.
func New(d Deps) (*UI, error) {
	p, err := loadPages(assets)
	if err != nil {
		return nil, err
	}
	return &UI{d: d, pages: p}, nil
}

// Handler serves the pages under BasePath (mount it there).
func (u *UI) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(securityHeaders)
	static, _ := fs.Sub(assets, "static")
	r.Method(http.MethodGet, "/static/*", http.StripPrefix(BasePath+"/static/", staticFiles(http.FileServerFS(static))))
	r.Get("/login", u.loginPage)
	r.Post("/login", u.withFlow(u.loginName))
	r.Post("/password", u.withFlow(u.password))
	r.Post("/idp", u.withFlow(u.startIDP))
	r.Get("/idp/success", u.withFlowGet(u.idpSuccess))
	r.Get("/idp/failure", u.withFlowGet(u.idpFailure))
	r.Post("/idp/link", u.withFlow(u.idpLink))
	r.Post("/idp/register", u.withFlow(u.idpRegister))
	r.Get("/logout", u.logoutPage)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		u.fail(w, r, http.StatusNotFound, "error.notFound", "")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		u.fail(w, r, http.StatusMethodNotAllowed, "error.notFound", "")
	})
	return r
}

// securityHeaders are the headers of every answer (DESIGN.md §2): a strict
// CSP (a page that posts elsewhere widens form-action, see render), no
// framing, no referrer, no caching.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp(nil))
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// staticFiles lets the style sheet be cached: it is embedded, so it
// changes only with the binary.
func staticFiles(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// csp is the Content-Security-Policy with form-action widened to origins.
func csp(formOrigins []string) string {
	fa := "'self'"
	if len(formOrigins) > 0 {
		fa += " " + strings.Join(formOrigins, " ")
	}
	return "default-src 'none'; style-src 'self'; img-src 'self'; form-action " + fa +
		"; frame-ancestors 'none'; base-uri 'none'"
}

// instance resolves the request's instance (by Host) and returns a context
// in which the hosted login calls commands and queries as a login client
// of that instance, recording the browser's IP and user agent.
func (u *UI) instance(r *http.Request) (string, context.Context, error) {
	instanceID, err := u.d.Queries.InstanceByHost(r.Context(), api.RequestHost(r))
	if err != nil {
		return "", nil, err
	}
	return instanceID, u.as(r, instanceID, Creator), nil
}

// as is the login client's context for instanceID, acting for userID when
// that is a user who has just proven who they are (their own links).
func (u *UI) as(r *http.Request, instanceID, userID string) context.Context {
	cl := &authz.Caller{InstanceID: instanceID, UserID: userID,
		Memberships: []authz.Membership{{Roles: []string{authz.IAMLoginClient}}}}
	md := command.Metadata{Creator: Creator, RequestID: gateway.RequestIDFrom(r.Context())}
	if !u.d.RecordOriginOff {
		md.ClientIP = gateway.ClientIP(r, u.d.TrustedProxies)
		ua := strings.ToValidUTF8(r.UserAgent(), "")
		if len(ua) > 256 {
			ua = ua[:256]
		}
		md.UserAgent = strings.ToValidUTF8(ua, "")
	}
	return command.WithMetadata(authz.WithCaller(r.Context(), cl), md)
}
