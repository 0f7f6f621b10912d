package api

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/errs"
)

// Abuse limits (issue 10, docs/security.md "Faults and abuse limits"): the
// failed-authentication limiter, the per-request timeout and the admission
// semaphore in front of the database pool. All three are in memory and per
// replica.

// Error IDs of the limits.
const (
	AuthRateLimitedID = "AUTH-Rate1"
	BusyID            = "API-Busy1"
)

// Bounds of the limiter's memory: a flood from many addresses must not grow
// it without limit.
const (
	maxTrackedClients = 100_000
	maxKnownTokens    = 10_000
	// knownTokenTTL is how long a token that authenticated successfully
	// still passes the limiter of an address that is over its limit.
	knownTokenTTL = 10 * time.Minute
)

// AuthLimiter counts failed authentication attempts per client address (an
// IPv4 address, or the /64 of an IPv6 one) in fixed windows. Once an address
// has failed max times in its window, its requests are answered 429 without
// a token lookup until the window ends, unless they carry a token that has
// authenticated successfully before (from any address) in the last
// knownTokenTTL: a valid caller behind the same NAT as an attacker keeps
// working, while guesses cost no database work and reveal nothing.
//
// A nil *AuthLimiter limits nothing.
type AuthLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	clients map[netip.Prefix]*failWindow
	known   map[[sha256.Size]byte]time.Time
}

type failWindow struct {
	start    time.Time
	failures int
}

// NewAuthLimiter allows max failed attempts per window and client; max <= 0
// returns nil (no limit). now is the clock; nil is time.Now.
func NewAuthLimiter(max int, window time.Duration, now func() time.Time) *AuthLimiter {
	if max <= 0 || window <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &AuthLimiter{max: max, window: window, now: now,
		clients: map[netip.Prefix]*failWindow{}, known: map[[sha256.Size]byte]time.Time{}}
}

// clientKey is the unit of limiting: an IPv6 client usually controls its
// whole /64, so counting single addresses would not limit it.
func clientKey(ip string) (netip.Prefix, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return netip.PrefixFrom(a, 32), true
	}
	p, _ := a.Prefix(64)
	return p, true
}

// Check reports whether a request from ip carrying token must be refused,
// and for how long the client stays limited.
func (l *AuthLimiter) Check(ip, token string) (retryAfter time.Duration, limited bool) {
	if l == nil {
		return 0, false
	}
	key, ok := clientKey(ip)
	if !ok {
		return 0, false
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.clients[key]
	if w == nil || now.Sub(w.start) >= l.window {
		return 0, false
	}
	if w.failures < l.max {
		return 0, false
	}
	if token != "" {
		if at, ok := l.known[sha256.Sum256([]byte(token))]; ok && now.Sub(at) < knownTokenTTL {
			return 0, false
		}
	}
	return w.start.Add(l.window).Sub(now), true
}

// Failed counts a failed authentication attempt of ip.
func (l *AuthLimiter) Failed(ip string) {
	if l == nil {
		return
	}
	key, ok := clientKey(ip)
	if !ok {
		return
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.clients[key]
	if w == nil || now.Sub(w.start) >= l.window {
		if w == nil && len(l.clients) >= maxTrackedClients {
			l.sweepClients(now)
			if len(l.clients) >= maxTrackedClients {
				// Fail open for new addresses rather than evict counting
				// ones: an attacker with that many addresses gains nothing
				// against 256-bit tokens, and memory stays bounded.
				return
			}
		}
		w = &failWindow{start: now}
		l.clients[key] = w
	}
	w.failures++
}

// Succeeded remembers that token authenticated successfully.
func (l *AuthLimiter) Succeeded(token string) {
	if l == nil || token == "" {
		return
	}
	now := l.now()
	h := sha256.Sum256([]byte(token))
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.known[h]; !ok && len(l.known) >= maxKnownTokens {
		for k, at := range l.known {
			if now.Sub(at) >= knownTokenTTL {
				delete(l.known, k)
			}
		}
		if len(l.known) >= maxKnownTokens {
			return
		}
	}
	l.known[h] = now
}

func (l *AuthLimiter) sweepClients(now time.Time) {
	for k, w := range l.clients {
		if now.Sub(w.start) >= l.window {
			delete(l.clients, k)
		}
	}
}

// errAuthRateLimited is the 429 of a limited client.
func errAuthRateLimited() error {
	return errs.ResourceExhausted(AuthRateLimitedID, "too many failed authentication attempts")
}

type authLimiterKey struct{}

// WithAuthLimiter makes authenticate consult l for every request below it.
// It is a middleware rather than a field of API so that the limiter, which
// is per process, is wired by the application next to the other limits.
func WithAuthLimiter(l *AuthLimiter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if l == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authLimiterKey{}, l)))
		})
	}
}

func authLimiterFrom(ctx context.Context) *AuthLimiter {
	l, _ := ctx.Value(authLimiterKey{}).(*AuthLimiter)
	return l
}

// writeRateLimited answers 429 with a Retry-After in whole seconds.
func writeRateLimited(w http.ResponseWriter, r *http.Request, retryAfter time.Duration) {
	secs := int((retryAfter + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	gateway.WriteError(w, r, errAuthRateLimited())
}

// RequestTimeout bounds each request's context by d, so that its database
// work is cancelled (and answered 503 by gateway.WriteError) rather than
// left hanging. skip exempts long-lived routes such as the event stream.
// d <= 0 disables it.
func RequestTimeout(d time.Duration, skip func(*http.Request) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if d <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if skip != nil && skip(r) {
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// Admission bounds the requests in flight, normally to the size of the
// database pool: a request that finds no free slot within wait is answered
// at once with 503 API-Busy1 and Retry-After: 1, instead of queueing on the
// pool until its timeout while more requests pile up behind it.
type Admission struct {
	slots chan struct{}
	wait  time.Duration
	skip  func(*http.Request) bool
}

// NewAdmission allows n requests in flight, waiting up to wait for a slot.
// Requests for which skip reports true are not counted. n <= 0 returns nil,
// which admits everything.
func NewAdmission(n int, wait time.Duration, skip func(*http.Request) bool) *Admission {
	if n <= 0 {
		return nil
	}
	return &Admission{slots: make(chan struct{}, n), wait: wait, skip: skip}
}

// InFlight is the number of requests holding a slot.
func (a *Admission) InFlight() int {
	if a == nil {
		return 0
	}
	return len(a.slots)
}

// Middleware admits requests; a nil *Admission admits everything.
func (a *Admission) Middleware(next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.skip != nil && a.skip(r) {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case a.slots <- struct{}{}:
		default:
			t := time.NewTimer(a.wait)
			select {
			case a.slots <- struct{}{}:
				t.Stop()
			case <-t.C:
				w.Header().Set("Retry-After", "1")
				gateway.WriteError(w, r, errs.Unavailable(BusyID, "service busy"))
				return
			case <-r.Context().Done():
				t.Stop()
				gateway.WriteError(w, r, r.Context().Err())
				return
			}
		}
		defer func() { <-a.slots }()
		next.ServeHTTP(w, r)
	})
}
