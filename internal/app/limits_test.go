package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/api"
	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
)

// limitedServer is an app with limits on its own pool of maxConns
// connections, bootstrapped and served over HTTP.
func limitedServer(t *testing.T, maxConns int32, l app.Limits, origin api.Origin) (*app.App, *httptest.Server, string, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.Connect(t, pgtest.URL(t), maxConns)
	a := apptest.Wire(t, app.Options{Pool: pool, Log: zerolog.Nop(), Limits: l, Origin: origin})
	inst, err := a.Bootstrap(context.Background(), "localhost", nil, "")
	if err != nil || inst == nil {
		t.Fatalf("bootstrap: %v", err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return a, srv, inst.AdminPAT, pool
}

type reply struct {
	status int
	body   string
	header http.Header
	took   time.Duration
}

func send(t *testing.T, method, url, token string, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "localhost"
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return reply{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, string(b), resp.Header, time.Since(start)}
}

type stdBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		ID string `json:"id"`
	} `json:"details"`
}

func parseBody(t *testing.T, r reply) stdBody {
	t.Helper()
	var b stdBody
	if err := json.Unmarshal([]byte(r.body), &b); err != nil {
		t.Errorf("not the standard body: %q", r.body)
	}
	return b
}

// TestAuthRateLimit: after the allowed failures, a client's requests with an
// unknown or malformed token get 429 AUTH-Rate1 (with Retry-After) until the
// window passes; a token that authenticated before keeps working; other
// clients and requests without credentials are not affected.
func TestAuthRateLimit(t *testing.T) {
	t.Parallel()
	_, srv, pat, _ := limitedServer(t, 4, app.Limits{AuthFailures: 3, AuthWindow: 1500 * time.Millisecond},
		api.Origin{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	me := srv.URL + "/management/v1/orgs/me"
	admin := "Bearer " + pat
	attacker := []string{"X-Forwarded-For", "203.0.113.9"}
	if r := send(t, "GET", me, admin, attacker...); r.status != 200 {
		t.Fatalf("admin before any failure: %d %s", r.status, r.body)
	}
	// Requests without any credentials are not failed attempts.
	for i := 0; i < 5; i++ {
		if r := send(t, "GET", me, "", attacker...); r.status != 401 {
			t.Fatalf("no token: %d", r.status)
		}
	}
	for i := 0; i < 3; i++ {
		if r := send(t, "GET", me, "Bearer unknown-token", attacker...); r.status != 401 {
			t.Fatalf("failure %d: %d %s", i+1, r.status, r.body)
		}
	}
	for _, tok := range []string{"Bearer unknown-token", "Basic abc", "Bearer another-guess", ""} {
		r := send(t, "GET", me, tok, attacker...)
		b := parseBody(t, r)
		if r.status != 429 || b.Code != 8 || b.Message != "too many failed authentication attempts (AUTH-Rate1)" ||
			len(b.Details) != 1 || b.Details[0].ID != "AUTH-Rate1" {
			t.Errorf("limited client, token %q: %d %s", tok, r.status, r.body)
		}
		if ra := r.header.Get("Retry-After"); ra != "1" && ra != "2" {
			t.Errorf("Retry-After %q", ra)
		}
	}
	if r := send(t, "GET", me, admin, attacker...); r.status != 200 {
		t.Errorf("a known valid token from the limited client: %d %s", r.status, r.body)
	}
	if r := send(t, "GET", me, "Bearer unknown-token", "X-Forwarded-For", "198.51.100.1"); r.status != 401 {
		t.Errorf("another client: %d, want 401", r.status)
	}
	time.Sleep(1600 * time.Millisecond)
	if r := send(t, "GET", me, "Bearer unknown-token", attacker...); r.status != 401 {
		t.Errorf("after the window: %d, want 401", r.status)
	}
}

// TestPoolExhaustionFast503 holds every connection of a two-connection pool:
// the two requests admitted wait for a connection until the request timeout
// and get 503; every other request gets 503 API-Busy1 after the short
// admission wait instead of queueing. Probes still answer, and the API
// recovers once the connections are back.
func TestPoolExhaustionFast503(t *testing.T) {
	t.Parallel()
	const timeout = 1500 * time.Millisecond
	a, srv, pat, pool := limitedServer(t, 2, app.Limits{MaxInFlight: 2, RequestTimeout: timeout, AdmissionWait: 100 * time.Millisecond}, api.Origin{})
	user := srv.URL + "/v2/users/" + adminUserID(t, a)
	admin := "Bearer " + pat
	if r := send(t, "GET", user, admin); r.status != 200 {
		t.Fatalf("before: %d %s", r.status, r.body)
	}
	var held []*pgxpool.Conn
	for i := 0; i < 2; i++ {
		c, err := pool.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	const n = 10
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i] = send(t, "GET", user, admin)
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if r := send(t, "GET", srv.URL+"/healthz", ""); r.status != 200 || r.took > 200*time.Millisecond {
		t.Errorf("/healthz while saturated: %d after %v", r.status, r.took)
	}
	wg.Wait()
	busy, timedOut := 0, 0
	for _, r := range replies {
		b := parseBody(t, r)
		switch {
		case r.status == 503 && b.Message == "service busy (API-Busy1)":
			busy++
			if r.took > 700*time.Millisecond {
				t.Errorf("a busy answer took %v", r.took)
			}
		case r.status == 503 && b.Code == 14:
			timedOut++
			if r.took < timeout-100*time.Millisecond || r.took > timeout+time.Second {
				t.Errorf("an admitted request ended after %v; the request timeout is %v", r.took, timeout)
			}
		default:
			t.Errorf("saturated pool: %d %s after %v", r.status, r.body, r.took)
		}
		if b.Code != 14 || strings.Contains(r.body, "pool") {
			t.Errorf("body %s", r.body)
		}
	}
	if busy < n-2 || timedOut > 2 {
		t.Errorf("%d busy, %d timed out; want at least %d busy", busy, timedOut, n-2)
	}
	t.Logf("%d requests answered busy, %d timed out waiting for a connection", busy, timedOut)
	for _, c := range held {
		c.Release()
	}
	if r := send(t, "GET", user, admin); r.status != 200 {
		t.Errorf("after release: %d %s", r.status, r.body)
	}
	if in := a.Admission().InFlight(); in != 0 {
		t.Errorf("%d slots still held", in)
	}
}

func adminUserID(t *testing.T, a *app.App) string {
	t.Helper()
	var id string
	if err := a.Pool().QueryRow(context.Background(), "SELECT user_id FROM pats LIMIT 1").Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
