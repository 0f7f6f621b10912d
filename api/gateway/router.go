package gateway

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"
)

// NewRouter returns a chi router with the middleware every route shares, in
// order: StackForHTTP2, RequestID, Logger(log), Recover and
// BodyLimit(MaxBodyBytes). Unknown
// routes get NotFoundHandler; a known path with another method gets
// MethodNotAllowedHandler (chi answers 405 only for paths it has routes for).
func NewRouter(log zerolog.Logger) *chi.Mux {
	r := chi.NewRouter()
	r.Use(StackForHTTP2, RequestID, Logger(log), Recover, BodyLimit(MaxBodyBytes))
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

// StackForHTTP2 grows the goroutine stack of an HTTP/2 request to what the
// handler chain needs, in one step while the stack is still shallow.
// Go's HTTP/2 server runs every request (every gRPC call) on a goroutine of
// its own, which starts with a small stack and doubles it, copying the
// frames on it, each time a deeper call needs more: four copies of a deep
// stack for one GetIDPByID, 7 % of the process's CPU in the gRPC bench. An
// HTTP/1 connection's goroutine keeps its grown stack from one request to
// the next, so it is left alone.
func StackForHTTP2(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor >= 2 {
			growStack(r.ProtoMajor)
		}
		next.ServeHTTP(w, r)
	})
}

// requestStackBytes is the frame growStack takes: the runtime then doubles
// the stack until the frame fits, to 16 KiB, the largest stack it still
// takes from its per-P cache.
const requestStackBytes = 12 << 10

// growStack takes a frame of requestStackBytes; i only keeps the compiler
// from dropping the array.
//
//go:noinline
func growStack(i int) byte {
	var pad [requestStackBytes]byte
	return pad[i%len(pad)]
}
