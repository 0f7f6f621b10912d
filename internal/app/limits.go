package app

import (
	"net/http"
	"time"

	"github.com/idledger/idledger/api"
)

// Defaults of Limits' durations when the limit itself is on.
const (
	defaultAuthWindow    = time.Minute
	defaultAdmissionWait = 250 * time.Millisecond
)

// StreamPath is the long-lived NDJSON event stream, which neither the
// request timeout nor the admission semaphore applies to.
const StreamPath = "/admin/v1/events/_stream"

// Limits are the abuse limits of the HTTP API (issue 10; docs/security.md,
// "Faults and abuse limits"). The zero value turns every one of them off,
// which is what in-process tests get; serve sets them from its flags.
type Limits struct {
	// RequestTimeout bounds each API request's context, database work
	// included; 0 is no timeout.
	RequestTimeout time.Duration
	// AuthFailures is how many failed authentication attempts one client
	// may make per AuthWindow (default a minute) before it gets 429; 0 is
	// no limit.
	AuthFailures int
	AuthWindow   time.Duration
	// MaxInFlight bounds the API requests in flight (normally the pool's
	// MaxConns); a request that gets no slot within AdmissionWait (default
	// 250ms) is answered 503 API-Busy1. 0 is no bound.
	MaxInFlight   int
	AdmissionWait time.Duration
}

// unbounded says which requests the request timeout and the admission
// semaphore leave alone: probes and metrics, which must answer while the API
// is saturated, and the event stream, which lives as long as its client.
func unbounded(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/readyz", "/metrics", "/openapi.yaml", StreamPath:
		return true
	}
	return false
}

// initLimits builds the limiters of l; Handler installs them.
func (a *App) initLimits(l Limits) {
	a.limits = l
	window := l.AuthWindow
	if window <= 0 {
		window = defaultAuthWindow
	}
	a.authLimiter = api.NewAuthLimiter(l.AuthFailures, window, nil)
	wait := l.AdmissionWait
	if wait <= 0 {
		wait = defaultAdmissionWait
	}
	a.admission = api.NewAdmission(l.MaxInFlight, wait, unbounded)
}

// limitMiddlewares are, in order: admission (a saturated replica answers
// 503 fast), the request timeout, and the failed-authentication limiter
// that authenticate consults.
func (a *App) limitMiddlewares() []func(http.Handler) http.Handler {
	return []func(http.Handler) http.Handler{
		a.admission.Middleware,
		api.RequestTimeout(a.limits.RequestTimeout, unbounded),
		api.WithAuthLimiter(a.authLimiter),
	}
}

// Admission returns the admission semaphore (nil when unbounded).
func (a *App) Admission() *api.Admission { return a.admission }
