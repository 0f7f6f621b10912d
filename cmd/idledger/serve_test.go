package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/internal/pgtest"
)

func handlerFor(t *testing.T, pool *pgxpool.Pool) http.Handler {
	t.Helper()
	a, err := buildApp(context.Background(), deps{Log: zerolog.Nop(), Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	return a.Handler()
}

func serveOnce(h http.Handler, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	h := handlerFor(t, pgtest.Pool(t))
	for _, path := range []string{"/healthz", "/readyz"} {
		rec := serveOnce(h, http.MethodGet, path)
		if rec.Code != http.StatusOK || rec.Body.String() != `{"status":"ok"}` {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
	}
}

// TestReadyzUnavailable points the pool at a server that accepts TCP
// connections and never answers: /readyz must give up after a second and
// answer 503 with the standard error body.
func TestReadyzUnavailable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@"+ln.Addr().String()+"/none?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	start := time.Now()
	rec := serveOnce(handlerFor(t, pool), http.MethodGet, "/readyz")
	took := time.Since(start)
	if took > 3*time.Second {
		t.Errorf("/readyz took %v; its ping timeout is %v", took, time.Second)
	}
	var body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Type string `json:"@type"`
			ID   string `json:"id"`
		} `json:"details"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if rec.Code != http.StatusServiceUnavailable || body.Code != 14 ||
		body.Message != "database is not reachable (HEALTH-d8Rq2)" ||
		len(body.Details) != 1 || body.Details[0].ID != "HEALTH-d8Rq2" {
		t.Fatalf("GET /readyz: %d %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "nobody") || strings.Contains(rec.Body.String(), ln.Addr().String()) {
		t.Errorf("the 503 body leaks the cause: %s", rec.Body)
	}
}

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	h := handlerFor(t, pgtest.Pool(t))
	if rec := serveOnce(h, http.MethodGet, "/nope"); rec.Code != http.StatusNotFound || rec.Body.String() != `{"code":5,"message":"Not Found"}` {
		t.Errorf("GET /nope: %d %s", rec.Code, rec.Body)
	}
	if rec := serveOnce(h, http.MethodPost, "/healthz"); rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Body.String(), `"code":12`) {
		t.Errorf("POST /healthz: %d %s", rec.Code, rec.Body)
	}
}

func TestServerTimeouts(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler(), zerolog.Nop())
	if srv.ReadHeaderTimeout != 5*time.Second || srv.ReadTimeout != 30*time.Second ||
		srv.WriteTimeout != 60*time.Second || srv.IdleTimeout != 120*time.Second {
		t.Fatalf("timeouts: header %v read %v write %v idle %v",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	if drainTimeout != 20*time.Second {
		t.Fatalf("drain timeout %v", drainTimeout)
	}
}

// TestServeHTTPDrains cancels the serve context while a request is in
// flight: the request completes, new connections are refused, and serveHTTP
// returns nil.
func TestServeHTTPDrains(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		time.Sleep(300 * time.Millisecond)
		if r.Context().Err() != nil {
			t.Error("the shutdown cancelled the request's context")
		}
		_, _ = io.WriteString(w, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- serveHTTP(ctx, ln, h, zerolog.Nop()) }()

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{resp.StatusCode, string(b), err}
	}()
	<-entered
	cancel()
	r := <-got
	if r.err != nil || r.status != http.StatusOK || r.body != "done" {
		t.Fatalf("in-flight request: %d %q %v", r.status, r.body, r.err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serveHTTP: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serveHTTP did not return after draining")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("the listener still accepts connections after shutdown")
	}
}

func TestServerURL(t *testing.T) {
	addr := func(s string) net.Addr { a, _ := net.ResolveTCPAddr("tcp", s); return a }
	cases := []struct{ listen, bound, want string }{
		{"127.0.0.1:8080", "127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"127.0.0.1:0", "127.0.0.1:41234", "http://127.0.0.1:41234"},
		{":8080", "[::]:8080", "http://localhost:8080"},
		{"0.0.0.0:8080", "0.0.0.0:8080", "http://localhost:8080"},
		{"[::1]:9000", "[::1]:9000", "http://[::1]:9000"},
		{"auth.example.com:443", "10.0.0.1:443", "http://auth.example.com:443"},
	}
	for _, c := range cases {
		if got := serverURL(c.listen, addr(c.bound)); got != c.want {
			t.Errorf("serverURL(%q, %s) = %q, want %q", c.listen, c.bound, got, c.want)
		}
	}
}
