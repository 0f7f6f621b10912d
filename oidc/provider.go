package oidc

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/query"
	"github.com/idledger/idledger/secretbox"
	"github.com/idledger/idledger/ui/authbind"
)

// ZITADEL's endpoint paths (internal/api/oidc, cmd/defaults.yaml).
const (
	PathDiscovery  = "/.well-known/openid-configuration"
	PathAuthorize  = "/oauth/v2/authorize"
	PathToken      = "/oauth/v2/token"
	PathIntrospect = "/oauth/v2/introspect"
	PathRevoke     = "/oauth/v2/revoke"
	PathKeys       = "/oauth/v2/keys"
	PathUserinfo   = "/oidc/v1/userinfo"
	PathEndSession = "/oidc/v1/end_session"
	PathDevice     = "/oauth/v2/device_authorization"
)

// Routes are the OP's paths and the methods each answers.
var Routes = map[string][]string{
	PathDiscovery:  {http.MethodGet},
	PathAuthorize:  {http.MethodGet, http.MethodPost},
	PathToken:      {http.MethodPost},
	PathIntrospect: {http.MethodPost},
	PathRevoke:     {http.MethodPost},
	PathKeys:       {http.MethodGet},
	PathUserinfo:   {http.MethodGet, http.MethodPost},
	PathEndSession: {http.MethodGet, http.MethodPost},
}

// Deps are the collaborators of the OP.
type Deps struct {
	Commands *command.Commands
	Queries  *query.Queries
	// Keys seal the opaque access tokens and codes (the master keyring).
	Keys *secretbox.Keyring
	// ExternalSecure makes the issuer https:// (behind a TLS proxy); without
	// it the OP allows http issuers.
	ExternalSecure bool
	// LoginURL is --login-url: the base URL of the external login UI that
	// apps without a login base URI send the browser to
	// (<base>/login?authRequest=V2_<id>); "" is the hosted login at
	// /ui/v2/login.
	LoginURL string
}

// OP is the OpenID Provider.
type OP struct {
	provider *op.Provider
	storage  *storage
	q        *query.Queries
	secure   bool
	replays  replayCache
	keys     *secretbox.Keyring
}

// New builds the OP.
func New(d Deps) (*OP, error) {
	st := &storage{cmds: d.Commands, q: d.Queries, crypto: keyringCrypto{keys: d.Keys}, loginURL: d.LoginURL}
	cfg := &op.Config{
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		AuthMethodPrivateKeyJWT:  true,
		GrantTypeRefreshToken:    true,
		RequestObjectSupported:   true,
		SupportedUILocales:       []language.Tag{language.English, language.German},
		DefaultLogoutRedirectURI: "/ui/v2/login/logout",
	}
	o := &OP{storage: st, q: d.Queries, secure: d.ExternalSecure, keys: d.Keys}
	opts := []op.Option{
		op.WithCrypto(st.crypto),
		// The library logs request errors on its own; the access log and
		// the OAuth error bodies already tell them, and a library log line
		// must never be where a token could end up.
		op.WithLogger(slog.New(slog.DiscardHandler)),
		op.WithCustomAuthEndpoint(op.NewEndpoint(PathAuthorize)),
		op.WithCustomTokenEndpoint(op.NewEndpoint(PathToken)),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(PathIntrospect)),
		op.WithCustomRevocationEndpoint(op.NewEndpoint(PathRevoke)),
		op.WithCustomKeysEndpoint(op.NewEndpoint(PathKeys)),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint(PathUserinfo)),
		op.WithCustomEndSessionEndpoint(op.NewEndpoint(PathEndSession)),
		op.WithCustomDeviceAuthorizationEndpoint(op.NewEndpoint(PathDevice)),
	}
	if !d.ExternalSecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	p, err := op.NewProvider(cfg, st, func(bool) (op.IssuerFromRequest, error) { return o.issuer, nil }, opts...)
	if err != nil {
		return nil, err
	}
	o.provider = p
	return o, nil
}

// issuer is the instance's origin as the client addressed it, without a
// path or trailing slash.
func (o *OP) issuer(r *http.Request) string {
	if o.secure {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// Mount mounts the OP's endpoints on r (the REST router, so the access
// log, metrics, body and rate limits apply as for REST).
func (o *OP) Mount(r chi.Router) {
	h := o.middleware(o.provider)
	for p, methods := range Routes {
		for _, m := range methods {
			r.Method(m, p, h)
		}
	}
}

// requestHost is the Host without port and IPv6 brackets, lower case (as
// api.RequestHost).
func requestHost(r *http.Request) string {
	h := r.Host
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
}

// middleware resolves the instance from the Host (404 as elsewhere for an
// unknown one) and sets the headers the RFCs ask for that the library
// does not: Cache-Control on the JWKS and token responses, and
// WWW-Authenticate on a 401.
func (o *OP) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inst, err := o.q.InstanceByHost(r.Context(), requestHost(r))
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		ctx := withInstance(r.Context(), inst)
		if r.Method == http.MethodPost && (r.URL.Path == PathToken || r.URL.Path == PathIntrospect || r.URL.Path == PathRevoke) {
			kind, ok := assertionKind(w, r)
			if !ok {
				return
			}
			ctx = withKeyKind(ctx, kind)
			if kind == keysApp {
				key, ok := o.clientAssertionValid(w, r.WithContext(ctx))
				if !ok {
					return
				}
				// A request that fails after the check (another error of
				// the form, a bad grant) does not use up the assertion.
				ww := &authHeaderWriter{ResponseWriter: w, r: r}
				next.ServeHTTP(ww, r.WithContext(ctx))
				if ww.status >= 400 {
					o.replays.forget(key)
				}
				return
			}
		}
		switch r.URL.Path {
		case PathKeys:
			w.Header().Set("Cache-Control", "max-age=300, must-revalidate")
		case PathToken:
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Pragma", "no-cache")
			// A body that does not parse as a form (a bad escape, over the
			// body limit) is invalid_request; the library would read the
			// pairs before the error and go on.
			if r.Method == http.MethodPost && r.ParseForm() != nil {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"error parsing form"}`))
				return
			}
		case PathUserinfo:
			if o.patUserinfo(w, r.WithContext(ctx), inst) {
				return
			}
		}
		if r.URL.Path == PathAuthorize {
			// The hand-off to the hosted login binds the auth request to
			// this browser (ui/authbind).
			w = &bindWriter{ResponseWriter: w, r: r, keys: o.keys, instanceID: inst, secure: o.secure}
		}
		ww := &authHeaderWriter{ResponseWriter: w, r: r}
		next.ServeHTTP(ww, r.WithContext(ctx))
	})
}

// bindWriter adds the authbind cookie to a redirect to the hosted login
// (?authRequest=…); a redirect to an app's own login UI (loginV2.baseUri)
// or anywhere else is left alone.
type bindWriter struct {
	http.ResponseWriter
	r          *http.Request
	keys       *secretbox.Keyring
	instanceID string
	secure     bool
	done       bool
}

func (w *bindWriter) WriteHeader(status int) {
	if !w.done && (status == http.StatusFound || status == http.StatusSeeOther) {
		w.done = true
		if id, ok := hostedLoginRequest(w.r, w.Header().Get("Location")); ok {
			// A cookie that cannot be sealed leaves the hosted login to
			// refuse the link; the redirect itself goes on.
			_ = authbind.Bind(w.Header(), w.r, w.keys, w.instanceID, id, w.secure)
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *bindWriter) Write(b []byte) (int, error) {
	w.done = true
	return w.ResponseWriter.Write(b)
}

func (w *bindWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// hostedLoginRequest is the auth request ID of a Location that is the
// hosted login's login page on this host.
func hostedLoginRequest(r *http.Request, location string) (string, bool) {
	if location == "" {
		return "", false
	}
	u, err := url.Parse(location)
	if err != nil || u.Path != hostedLoginPath || (u.Host != "" && !strings.EqualFold(u.Host, r.Host)) {
		return "", false
	}
	id := u.Query().Get("authRequest")
	return id, id != ""
}

// hostedLoginPath is the hosted login's login page (ui.BasePath + "/login").
const hostedLoginPath = "/ui/v2/login/login"

// maxClientAssertion is the largest client_assertion read: an RS512 JWT
// of a 4096-bit key with ZITADEL's claims is about 1.5 KB.
const maxClientAssertion = 8 << 10

// assertionKind reads the form of a token, introspection or revocation
// request and tells which keys verify its assertion: machine keys for the
// JWT-profile grant, app keys for a client assertion. It answers
// invalid_request for a form that does not parse and invalid_client for
// an oversized client assertion, and then reports false.
func assertionKind(w http.ResponseWriter, r *http.Request) (keyKind, bool) {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the form cannot be parsed")
		return keysNone, false
	}
	if r.Form.Get("grant_type") == string(oidc.GrantTypeBearer) && r.URL.Path == PathToken {
		return keysMachine, true
	}
	if a := r.Form.Get("client_assertion"); a != "" {
		if len(a) > maxClientAssertion {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+r.Host+`"`)
			writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client assertion too large")
			return keysNone, false
		}
		return keysApp, true
	}
	return keysNone, true
}

// clientAssertionValid verifies a request's client assertion as the
// library will (signature by a key of the app, iss = sub, aud holding the
// issuer, exp, iat at most an hour old), refuses a jti seen before
// (replayCache), and answers a bad one with
// invalid_client (RFC 6749 §5.2), where the library's token and revocation
// endpoints would answer invalid_grant. It reports whether it is valid.
func (o *OP) clientAssertionValid(w http.ResponseWriter, r *http.Request) (string, bool) {
	v := op.NewJWTProfileVerifier(o.storage, o.issuer(r), time.Hour, time.Second)
	a, err := op.VerifyJWTAssertion(r.Context(), r.Form.Get("client_assertion"), v)
	var key string
	if err == nil {
		var first bool
		if key, first = o.replays.firstUse(instanceFrom(r.Context()), a.Issuer, a.JWTID, a.ExpiresAt.AsTime()); !first {
			err = errors.New("client assertion replayed")
		}
	}
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+r.Host+`"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client assertion invalid")
		return "", false
	}
	return key, true
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error":"` + code + `","error_description":"` + desc + `"}`))
}

// authHeaderWriter adds WWW-Authenticate to a 401 (RFC 6749 §5.2, RFC
// 6750 §3): Basic after client authentication, Bearer at userinfo. It also
// turns the library's plain-text errors (http.Error at authorize,
// introspection, userinfo and end session) into OAuth error JSON, whose
// description never carries the internal cause; a plain-text 500 there is
// a request the library could not parse, so 400.
type authHeaderWriter struct {
	http.ResponseWriter
	r       *http.Request
	swallow bool
	status  int // the status sent (0: none yet, so 200)
}

func (w *authHeaderWriter) WriteHeader(status int) {
	if status == http.StatusForbidden && w.r.URL.Path == PathUserinfo {
		// The library answers a token its storage finds inactive with 403;
		// ZITADEL (and RFC 6750 §3.1) answer 401.
		status = http.StatusUnauthorized
	}
	if w.status == 0 {
		w.status = status
	}
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		if w.r.URL.Path == PathUserinfo {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		} else {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+w.r.Host+`"`)
		}
	}
	if status >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		code, desc := "invalid_request", "the request is invalid"
		switch {
		case status == http.StatusUnauthorized && w.r.URL.Path == PathUserinfo:
			code, desc = "invalid_token", "access token invalid"
		case status == http.StatusUnauthorized:
			code, desc = "invalid_client", "client authentication failed"
		case status >= 500:
			status = http.StatusBadRequest
		}
		w.Header().Del("X-Content-Type-Options")
		w.Header().Set("Content-Type", "application/json")
		w.ResponseWriter.WriteHeader(status)
		_, _ = w.ResponseWriter.Write([]byte(`{"error":"` + code + `","error_description":"` + desc + `"}`))
		w.swallow = true
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *authHeaderWriter) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *authHeaderWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// patUserinfo answers userinfo for a personal access token, as ZITADEL
// does (its PATs and OP tokens share one format; ours do not). It reports
// whether it answered.
func (o *OP) patUserinfo(w http.ResponseWriter, r *http.Request, instanceID string) bool {
	token := ""
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, t, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "bearer") {
			token = strings.TrimSpace(t)
		}
	}
	if token == "" || strings.Count(token, ".") == 2 {
		return false
	}
	if _, err := o.storage.crypto.Decrypt(token); err == nil {
		return false
	}
	cl, err := o.q.CallerByToken(r.Context(), instanceID, token)
	if err != nil {
		return false
	}
	ui := new(oidc.UserInfo)
	if err := o.storage.userinfo(r.Context(), ui, cl.UserID, []string{oidc.ScopeProfile, oidc.ScopeEmail}); err != nil {
		return false
	}
	gateway.WriteJSON(w, http.StatusOK, ui)
	return true
}

// FinishAuthRequest is CreateCallback for every login UI (REST, RPC and
// the hosted login): it links the session to auth request id or fails the
// request (command.FinishAuthRequest, as the caller in ctx), then answers
// the finished request and the URL the browser goes to: the code
// response, or the error response.
func (o *OP) FinishAuthRequest(ctx context.Context, instanceID, id string, in command.AuthRequestFinish) (*command.AuthRequest, string, error) {
	ar, err := o.storage.cmds.FinishAuthRequest(ctx, id, in)
	if err != nil {
		return nil, "", err
	}
	reason, desc := "", ""
	if ar.Status == command.AuthRequestFailedState {
		reason, desc = in.Reason, in.Description
	}
	url, err := o.CallbackURL(ctx, instanceID, ar, reason, desc)
	if err != nil {
		return nil, "", err
	}
	return ar, url, nil
}

// CallbackURL is where a login UI sends the browser after CreateCallback:
// the code response for a linked auth request, the error response for a
// failed one (reason, description).
func (o *OP) CallbackURL(ctx context.Context, instanceID string, ar *command.AuthRequest, reason, description string) (string, error) {
	ctx = withInstance(ctx, instanceID)
	a := &authRequest{AuthRequest: ar}
	if reason != "" {
		resp := &authErrorResponse{Error: reason, Description: description, State: ar.State}
		return op.AuthResponseURL(ar.RedirectURI, a.GetResponseType(), a.GetResponseMode(), resp, o.provider.Encoder())
	}
	code, err := op.CreateAuthRequestCode(ctx, a, o.storage, o.storage.crypto)
	if err != nil {
		return "", err
	}
	resp := &op.CodeResponseType{Code: code, State: ar.State}
	return op.AuthResponseURL(ar.RedirectURI, a.GetResponseType(), a.GetResponseMode(), resp, o.provider.Encoder())
}

// authErrorResponse is the error response of an authorization (RFC 6749
// §4.1.2.1).
type authErrorResponse struct {
	Error       string `schema:"error"`
	Description string `schema:"error_description,omitempty"`
	State       string `schema:"state,omitempty"`
}
