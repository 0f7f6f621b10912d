package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
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
			ww := &statusWriter{ResponseWriter: w}
			panicked := true
			defer func() {
				status := ww.status
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

// statusWriter notes the status a handler answers with. It keeps the
// writer's Flush (gRPC and the event stream flush; connect asks for an
// http.Flusher) and lets http.ResponseController reach the rest.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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
