package gateway

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"
)

// NewRouter returns a chi router with the middleware every route shares, in
// order: RequestID, Logger(log), Recover and BodyLimit(MaxBodyBytes). Unknown
// routes get NotFoundHandler; a known path with another method gets
// MethodNotAllowedHandler (chi answers 405 only for paths it has routes for).
func NewRouter(log zerolog.Logger) *chi.Mux {
	r := chi.NewRouter()
	r.Use(RequestID, Logger(log), Recover, BodyLimit(MaxBodyBytes))
	r.NotFound(NotFoundHandler)
	r.MethodNotAllowed(MethodNotAllowedHandler)
	return r
}

// allowedMethods lists the methods the router serves for r's path, for the
// Allow header of a 405. chi knows them but does not pass them to a custom
// MethodNotAllowed handler, so they are looked up again, only on this path.
func allowedMethods(r *http.Request) string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || rctx.Routes == nil {
		return ""
	}
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		if rctx.Routes.Match(chi.NewRouteContext(), m, path) {
			allowed = append(allowed, m)
		}
	}
	return strings.Join(allowed, ", ")
}
