package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// unmatchedRoute labels requests no route matched (404, and 405 for a
// known path), so that arbitrary paths cannot blow up the label space.
const unmatchedRoute = "unmatched"

// Middleware counts and times every request by its chi route pattern,
// method and status code. Install it on the top-level router with r.Use,
// before the routes are added; the pattern is read after the handler ran,
// when chi has finished routing through every sub-router. A handler that
// panics is counted as 500 before the panic continues to Recover.
func Middleware(m *Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			panicked := true
			defer func() {
				status := ww.Status()
				if panicked && status == 0 {
					status = http.StatusInternalServerError
				}
				if status == 0 {
					status = http.StatusOK // handler wrote nothing: net/http sends 200
				}
				m.observeHTTP(r, status, time.Since(start))
			}()
			next.ServeHTTP(ww, r)
			panicked = false
		})
	}
}

func (m *Metrics) observeHTTP(r *http.Request, status int, d time.Duration) {
	route := unmatchedRoute
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		if p := rctx.RoutePattern(); p != "" && p != "/*" {
			route = p
		}
	}
	m.httpRequests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route, r.Method).Observe(d.Seconds())
}
