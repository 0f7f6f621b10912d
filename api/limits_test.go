package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestAuthLimiterWindow(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := NewAuthLimiter(3, time.Minute, clock.now)
	const ip = "198.51.100.7"
	for i := 0; i < 3; i++ {
		if _, limited := l.Check(ip, "guess"); limited {
			t.Fatalf("limited after %d failures; the limit is 3", i)
		}
		l.Failed(ip)
	}
	wait, limited := l.Check(ip, "guess")
	if !limited || wait != time.Minute {
		t.Fatalf("after 3 failures: limited %v, retry after %v; want true, 1m", limited, wait)
	}
	if _, limited := l.Check(ip, ""); !limited {
		t.Error("a request without a token passes a limited client")
	}
	if _, limited := l.Check("198.51.100.8", "guess"); limited {
		t.Error("another address is limited")
	}
	// A token that authenticated before still works from a limited address.
	l.Succeeded("valid-token")
	if _, limited := l.Check(ip, "valid-token"); limited {
		t.Error("a known valid token is refused")
	}
	clock.add(40 * time.Second)
	if wait, limited := l.Check(ip, "guess"); !limited || wait != 20*time.Second {
		t.Errorf("40s into the window: %v %v", limited, wait)
	}
	clock.add(20 * time.Second)
	if _, limited := l.Check(ip, "guess"); limited {
		t.Error("still limited after the window")
	}
	// A fresh window counts from zero.
	l.Failed(ip)
	if _, limited := l.Check(ip, "guess"); limited {
		t.Error("limited after one failure of a new window")
	}
	// Known tokens expire.
	clock.add(knownTokenTTL)
	for i := 0; i < 3; i++ {
		l.Failed(ip)
	}
	if _, limited := l.Check(ip, "valid-token"); !limited {
		t.Error("a token not seen for knownTokenTTL still passes a limited client")
	}
}

func TestAuthLimiterKeys(t *testing.T) {
	l := NewAuthLimiter(1, time.Minute, nil)
	l.Failed("2001:db8:1:2::1")
	if _, limited := l.Check("2001:db8:1:2:ffff::9", "x"); !limited {
		t.Error("IPv6 addresses of one /64 are not counted together")
	}
	if _, limited := l.Check("2001:db8:1:3::1", "x"); limited {
		t.Error("another /64 is limited")
	}
	l.Failed("::ffff:192.0.2.1")
	if _, limited := l.Check("192.0.2.1", "x"); !limited {
		t.Error("an IPv4-mapped address is not the IPv4 address")
	}
	// Unparsable addresses are not limited (and not counted).
	l.Failed("not-an-ip")
	if _, limited := l.Check("not-an-ip", "x"); limited {
		t.Error("an unparsable address is limited")
	}
	var none *AuthLimiter
	none.Failed("192.0.2.1")
	none.Succeeded("t")
	if _, limited := none.Check("192.0.2.1", "x"); limited {
		t.Error("a nil limiter limits")
	}
	if NewAuthLimiter(0, time.Minute, nil) != nil {
		t.Error("a limit of 0 is not disabled")
	}
}

func TestAuthLimiterBoundedMemory(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := NewAuthLimiter(1, time.Minute, clock.now)
	for i := 0; i < maxTrackedClients+10; i++ {
		l.Failed(ipv4(i))
	}
	if n := len(l.clients); n > maxTrackedClients {
		t.Fatalf("%d clients tracked; the bound is %d", n, maxTrackedClients)
	}
	clock.add(time.Minute)
	l.Failed("203.0.113.1")
	if _, limited := l.Check("203.0.113.1", "x"); !limited {
		t.Error("expired windows were not swept to make room for a new client")
	}
	for i := 0; i < maxKnownTokens+10; i++ {
		l.Succeeded(ipv4(i))
	}
	if n := len(l.known); n > maxKnownTokens {
		t.Fatalf("%d known tokens; the bound is %d", n, maxKnownTokens)
	}
}

func ipv4(i int) string {
	return "10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
}

type errBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		ID string `json:"id"`
	} `json:"details"`
}

func TestAdmissionFast503(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	blocking := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.WriteHeader(http.StatusOK)
			return
		}
		entered <- struct{}{}
		<-release
		w.WriteHeader(http.StatusNoContent)
	})
	adm := NewAdmission(2, 100*time.Millisecond, func(r *http.Request) bool { return r.URL.Path == "/healthz" })
	h := adm.Middleware(blocking)
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
		}()
	}
	<-entered
	<-entered
	if adm.InFlight() != 2 {
		t.Fatalf("in flight %d", adm.InFlight())
	}
	start := time.Now()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	took := time.Since(start)
	var body errBody
	if rec.Code != http.StatusServiceUnavailable || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Code != 14 ||
		body.Message != "service busy (API-Busy1)" || len(body.Details) != 1 || body.Details[0].ID != BusyID {
		t.Fatalf("saturated: %d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	if took < 90*time.Millisecond || took > time.Second {
		t.Errorf("the busy answer took %v; want about the 100ms admission wait", took)
	}
	// Skipped routes pass a saturated semaphore.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("/healthz while saturated: %d", rec.Code)
	}
	close(release)
	wg.Wait()
	if adm.InFlight() != 0 {
		t.Fatalf("slots leaked: %d in flight", adm.InFlight())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if rec.Code != http.StatusNoContent {
		t.Errorf("after release: %d", rec.Code)
	}
	var none *Admission
	rec = httptest.NewRecorder()
	none.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })).
		ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if rec.Code != http.StatusNoContent {
		t.Errorf("nil admission: %d", rec.Code)
	}
}

func TestAdmissionWaitsForASlot(t *testing.T) {
	adm := NewAdmission(1, time.Second, nil)
	h := adm.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(50 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	}))
	var wg sync.WaitGroup
	codes := make(chan int, 5)
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
			codes <- rec.Code
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusNoContent {
			t.Errorf("a request that fits in the wait got %d", c)
		}
	}
}

func TestRequestTimeoutMiddleware(t *testing.T) {
	var deadline time.Time
	var has bool
	h := RequestTimeout(2*time.Second, func(r *http.Request) bool { return r.URL.Path == "/stream" })(
		http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { deadline, has = r.Context().Deadline() }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	if !has || time.Until(deadline) > 2*time.Second || time.Until(deadline) < time.Second {
		t.Errorf("deadline %v (set %v)", deadline, has)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/stream", nil))
	if has {
		t.Error("the skipped route got a deadline")
	}
	RequestTimeout(0, nil)(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, has = r.Context().Deadline()
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	if has {
		t.Error("a zero timeout set a deadline")
	}
}
