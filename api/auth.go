package api

import (
	"net"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
)

// OrgIDHeader names the context org of a request.
const OrgIDHeader = "x-zitadel-orgid"

// maxUserAgent bounds the user agent recorded on events.
const maxUserAgent = 256

// authenticate resolves, in this order, the instance from the Host header
// (404 QUERY-InstNF when no instance answers to it), the caller from the
// bearer token (401 AUTH-7fs1e), and the context org from x-zitadel-orgid
// (403 AUTH-Bs7Ds when it names no org of the instance). The handlers below
// find the caller with authz.CallerFrom; commands find the request metadata
// that they record on events.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		// [faults] Failed-authentication rate limiting (limits.go): a
		// limited client is refused before any lookup.
		lim, ip := authLimiterFrom(ctx), ""
		if lim != nil {
			ip = gateway.ClientIP(r, a.origin.TrustedProxies)
			tok, _ := bearerToken(r)
			if wait, limited := lim.Check(ip, tok); limited {
				writeRateLimited(w, r, wait)
				return
			}
		}
		instanceID, err := a.q.InstanceByHost(ctx, RequestHost(r))
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		token, err := bearerToken(r)
		if err != nil {
			a.authFailed(lim, ip, r, err)
			gateway.WriteError(w, r, err)
			return
		}
		cl, err := a.q.CallerByToken(ctx, instanceID, token)
		if err != nil && a.opTokens != nil && errs.KindOf(err) == errs.KindUnauthenticated {
			// Not a PAT: an access token of the OpenID Provider, whose
			// audience must hold the instance's project.
			cl, err = a.opTokens.APICaller(ctx, instanceID, token)
		}
		if err != nil {
			a.authFailed(lim, ip, r, err)
			gateway.WriteError(w, r, err)
			return
		}
		lim.Succeeded(token)
		if err := a.contextOrg(r, cl); err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		if err := pathParamsText(r); err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		gateway.SetCaller(ctx, cl.UserID)
		ctx = authz.WithCaller(ctx, cl)
		ctx = command.WithMetadata(ctx, command.Metadata{
			Creator:   cl.UserID,
			RequestID: gateway.RequestIDFrom(ctx),
			ClientIP:  a.clientIP(r),
			UserAgent: a.userAgent(r),
		})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authFailed counts a rejected credential against the client's limit
// ([faults]). A request without any Authorization header presented no
// credential, and errors other than Unauthenticated (a database outage) are
// not the client's failure.
func (a *API) authFailed(lim *AuthLimiter, ip string, r *http.Request, err error) {
	if lim != nil && r.Header.Get("Authorization") != "" && errs.KindOf(err) == errs.KindUnauthenticated {
		lim.Failed(ip)
	}
}

// contextOrg sets cl.OrgID from x-zitadel-orgid, which must name an org of
// the caller's instance.
func (a *API) contextOrg(r *http.Request, cl *authz.Caller) error {
	org := strings.TrimSpace(r.Header.Get(OrgIDHeader))
	if org == "" || org == cl.UserOrgID {
		return nil
	}
	ok, err := a.q.OrgExists(r.Context(), cl.InstanceID, org)
	if err != nil {
		return err
	}
	if !ok {
		return errs.PermissionDenied("AUTH-Bs7Ds", "Organisation doesn't exist")
	}
	cl.OrgID = org
	return nil
}

// RequestHost is the host a request was sent to, without the port and the
// brackets of an IPv6 literal, in lower case: "[::1]:8080" → "::1".
func RequestHost(r *http.Request) string {
	h := r.Host
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.ToLower(h)
}

// bearerToken extracts the token of "Authorization: Bearer <token>". A
// request with more than one Authorization header is ambiguous (a proxy may
// have added one, and another hop may read the other) and is refused.
func bearerToken(r *http.Request) (string, error) {
	hs := r.Header.Values("Authorization")
	if len(hs) > 1 {
		return "", errs.Unauthenticated("AUTH-7fs1e", "more than one auth header")
	}
	h := ""
	if len(hs) == 1 {
		h = hs[0]
	}
	if h == "" {
		return "", errs.Unauthenticated("AUTH-7fs1e", "auth header missing")
	}
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "bearer") || token == "" || len(token) > 2048 {
		return "", errs.Unauthenticated("AUTH-7fs1e", "invalid auth header")
	}
	return token, nil
}

// clientIP is the address recorded on events: the peer, or what trusted
// proxies forwarded (X-Forwarded-For from anyone else is the client's to
// forge), or nothing when recording is off.
func (a *API) clientIP(r *http.Request) string {
	if a.origin.Off {
		return ""
	}
	return gateway.ClientIP(r, a.origin.TrustedProxies)
}

// userAgent is the user agent recorded on events, unless recording is off.
func (a *API) userAgent(r *http.Request) string {
	if a.origin.Off {
		return ""
	}
	return truncateUTF8(r.UserAgent(), maxUserAgent)
}

// truncateUTF8 returns valid UTF-8 of at most n bytes, cut at a rune
// boundary.
func truncateUTF8(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// pathParamsText rejects path parameters that are not valid UTF-8 or hold a
// NUL ("%FF", "%00"): they name no object, and PostgreSQL refuses them as
// text, which would otherwise surface as a 500. Errors: InvalidArgument,
// naming the parameter but not echoing its bytes.
func pathParamsText(r *http.Request) error {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return nil
	}
	for i, v := range rctx.URLParams.Values {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			name := ""
			if i < len(rctx.URLParams.Keys) {
				name = rctx.URLParams.Keys[i]
			}
			return errs.InvalidArgument("", "invalid path parameter "+name+": value must be valid UTF-8 without NUL characters")
		}
	}
	return nil
}
