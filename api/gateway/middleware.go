package gateway

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/errs"
)

// RequestIDHeader carries the request ID, in and out.
const RequestIDHeader = "X-Request-Id"

type ctxKey int

const requestKey ctxKey = iota

// requestState is what RequestID and Logger keep of one request, in one
// context value: its ID, the caller that authentication found (for the
// access log line), and the request's logger, made when something first
// logs (most requests log nothing but their access line, which needs none).
type requestState struct {
	id     string
	caller atomic.Pointer[string] // atomic: a handler may hand the context to other goroutines
	base   *zerolog.Logger        // Logger's; nil without Logger
	once   sync.Once
	log    zerolog.Logger // base with the request ID, made by LogFrom
}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(requestKey).(*requestState)
	return st
}

// RequestID takes the request ID from the X-Request-Id header when it is a
// sane token (1 to 64 of [A-Za-z0-9._-]) and generates a UUID otherwise. It
// sets the response header and stores the ID for RequestIDFrom.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !saneRequestID(id) {
			id = uuid.NewString()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestKey, &requestState{id: id})))
	})
}

// RequestIDFrom returns the request ID that RequestID stored, or "".
func RequestIDFrom(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil {
		return st.id
	}
	return ""
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c == '.' || c == '_' || c == '-' || isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// SetCaller records the authenticated caller's user ID for the access log
// line. It does nothing when Logger is not installed.
func SetCaller(ctx context.Context, id string) {
	if st := stateFrom(ctx); st != nil && st.base != nil {
		st.caller.Store(&id)
	}
}

// LogFrom returns the request's logger: Logger's, with the request ID.
// Without Logger it is zerolog.Ctx(ctx).
func LogFrom(ctx context.Context) *zerolog.Logger {
	st := stateFrom(ctx)
	if st == nil || st.base == nil {
		return zerolog.Ctx(ctx)
	}
	st.once.Do(func() { st.log = st.base.With().Str("request_id", st.id).Logger() })
	return &st.log
}

// Logger writes one line per request when it completes: request ID, method,
// route pattern, status, latency, bytes written and caller. It never logs
// headers, query strings or bodies, which may hold tokens and secrets. The
// request's logger, with the request ID, is LogFrom(ctx).
func Logger(log zerolog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			st := stateFrom(r.Context())
			if st == nil || st.base != nil {
				// No RequestID before this one, or another Logger
				// already has the request: a state of its own.
				st = &requestState{id: RequestIDFrom(r.Context())}
				r = r.WithContext(context.WithValue(r.Context(), requestKey, st))
			}
			st.base = &log
			reqID := st.id
			rec := recorderFor(w)
			// Deferred so that a request that ends in a re-raised panic is
			// logged too.
			defer func() {
				ev := log.Info()
				if rec.err != nil {
					ev = log.Error().AnErr("error", rec.err)
				}
				ev = ev.Str("request_id", reqID).Str("method", r.Method)
				if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RoutePattern() != "" {
					ev = ev.Str("route", rctx.RoutePattern())
				} else {
					ev = ev.Str("path", r.URL.Path) // unmatched; never the query
				}
				if id := st.caller.Load(); id != nil {
					ev = ev.Str("caller", *id)
				}
				ev.Int("status", rec.statusOr200()).
					Float64("latency_ms", float64(time.Since(start).Microseconds())/1000).
					Int64("bytes", rec.bytes).
					Msg("request")
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// Recover turns a panic into 500 with the standard body ("Internal error")
// and logs the panic value and stack once; neither reaches the client. When
// the response has already started, it aborts the connection instead, so the
// client sees a broken response rather than a truncated one that looks whole.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := recorderFor(w)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // net/http's way to abort a response on purpose
			}
			LogFrom(r.Context()).Error().
				Str("panic", fmt.Sprint(v)).
				Str("stack", string(debug.Stack())).
				Msg("handler panicked")
			if rec.status != 0 {
				panic(http.ErrAbortHandler)
			}
			writeJSONBody(rec, http.StatusInternalServerError, publicBody(int(errs.KindInternal), "", msgInternal))
		}()
		next.ServeHTTP(rec, r)
	})
}

// BodyLimit caps request bodies at n bytes; reading past it fails with an
// *http.MaxBytesError, which Decode and WriteError answer with 413.
func BodyLimit(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// responseRecorder notes the status and size of a response, and an encoding
// error for the access log (see WriteJSON).
type responseRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	err    error
}

// recorderFor reuses w when it already records, so that Logger and Recover
// share one wrapper.
func recorderFor(w http.ResponseWriter) *responseRecorder {
	if rec, ok := w.(*responseRecorder); ok {
		return rec
	}
	return &responseRecorder{ResponseWriter: w}
}

func (rec *responseRecorder) WriteHeader(status int) {
	if rec.status == 0 && status >= 200 {
		rec.status = status
	}
	rec.ResponseWriter.WriteHeader(status)
}

func (rec *responseRecorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rec *responseRecorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// Flush sends what was written so far: gRPC and the event stream need it,
// and connect asks for an http.Flusher itself.
func (rec *responseRecorder) Flush() {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	_ = http.NewResponseController(rec.ResponseWriter).Flush()
}

func (rec *responseRecorder) statusOr200() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}

// noteError records err for the access log line, if Logger is installed
// anywhere in w's wrapping.
func noteError(w http.ResponseWriter, err error) {
	for {
		if rec, ok := w.(*responseRecorder); ok {
			if rec.err == nil {
				rec.err = err
			}
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}
