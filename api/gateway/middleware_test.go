package gateway_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/api/gateway"
)

// newTestRouter returns a router with a few routes and the buffer its logs
// go to.
func newTestRouter(t *testing.T) (*chi.Mux, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	r := gateway.NewRouter(zerolog.New(&logs))
	r.Get("/v2/idps/{id}", func(w http.ResponseWriter, r *http.Request) {
		gateway.SetCaller(r.Context(), "user-42")
		gateway.WriteJSON(w, http.StatusOK, map[string]string{"id": chi.URLParam(r, "id")})
	})
	r.Post("/echo", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Name string `json:"name"`
		}
		if err := gateway.Decode(r, &body); err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		gateway.WriteJSON(w, http.StatusOK, body)
	})
	r.Get("/panic", func(http.ResponseWriter, *http.Request) {
		panic("boom: secret-panic-value")
	})
	r.Get("/panic-late", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("partial"))
		panic("late")
	})
	return r, &logs
}

func serve(h http.Handler, method, target, body string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestRouterRoutingErrors(t *testing.T) {
	r, _ := newTestRouter(t)
	w := serve(r, http.MethodGet, "/nope", "", nil)
	if w.Code != 404 || w.Body.String() != `{"code":5,"message":"Not Found"}` {
		t.Errorf("404: %d %s", w.Code, w.Body)
	}
	w = serve(r, http.MethodDelete, "/v2/idps/1", "", nil)
	if w.Code != 405 || w.Body.String() != `{"code":12,"message":"Method Not Allowed"}` {
		t.Errorf("405: %d %s", w.Code, w.Body)
	}
	if allow := w.Header().Get("Allow"); allow != "GET" {
		t.Errorf("Allow = %q, want GET", allow)
	}
	sub := chi.NewRouter()
	sub.Post("/policies/login/idps", func(http.ResponseWriter, *http.Request) {})
	sub.Delete("/policies/login/idps", func(http.ResponseWriter, *http.Request) {})
	r.Mount("/admin/v1", sub)
	w = serve(r, http.MethodGet, "/admin/v1/policies/login/idps", "", nil)
	if w.Code != 405 || w.Header().Get("Allow") != "POST, DELETE" || !strings.HasPrefix(w.Body.String(), `{"code":12`) {
		t.Errorf("mounted 405: %d %s Allow=%q", w.Code, w.Body, w.Header().Get("Allow"))
	}
	w = serve(r, http.MethodGet, "/admin/v1/nope", "", nil)
	if w.Code != 404 || w.Body.String() != `{"code":5,"message":"Not Found"}` {
		t.Errorf("mounted 404: %d %s", w.Code, w.Body)
	}
}

func TestRouterBodyTooLarge(t *testing.T) {
	r, _ := newTestRouter(t)
	body := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	w := serve(r, http.MethodPost, "/echo", body, nil)
	if w.Code != 413 || w.Body.String() != `{"code":8,"message":"request body too large"}` {
		t.Errorf("got %d %.200s", w.Code, w.Body)
	}
	w = serve(r, http.MethodPost, "/echo", `{"name":"ok"}`, nil)
	if w.Code != 200 || w.Body.String() != `{"name":"ok"}` {
		t.Errorf("small body: %d %s", w.Code, w.Body)
	}
}

func TestRouterRecoversPanic(t *testing.T) {
	r, logs := newTestRouter(t)
	w := serve(r, http.MethodGet, "/panic", "", map[string]string{"X-Request-Id": "req-panic"})
	if w.Code != 500 || w.Body.String() != `{"code":13,"message":"Internal error"}` {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "boom") || strings.Contains(w.Body.String(), "goroutine") {
		t.Errorf("panic leaked to the client: %s", w.Body)
	}
	if n := strings.Count(logs.String(), "secret-panic-value"); n != 1 {
		t.Errorf("panic value logged %d times: %s", n, logs)
	}
	if !strings.Contains(logs.String(), "runtime/debug.Stack") || !strings.Contains(logs.String(), `"request_id":"req-panic"`) {
		t.Errorf("stack or request ID missing from the log: %s", logs)
	}
}

func TestRouterPanicAfterWriteAborts(t *testing.T) {
	r, _ := newTestRouter(t)
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
	}()
	serve(r, http.MethodGet, "/panic-late", "", nil)
}

func TestRequestID(t *testing.T) {
	r, _ := newTestRouter(t)
	tests := []struct {
		in   string
		kept bool
	}{
		{"abc-123_X.y", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"has space", false},
		{"inject\"quote", false},
		{"", false},
	}
	for _, tt := range tests {
		w := serve(r, http.MethodGet, "/v2/idps/1", "", map[string]string{"X-Request-Id": tt.in})
		got := w.Header().Get("X-Request-Id")
		if tt.kept && got != tt.in || !tt.kept && (got == tt.in || len(got) != 36) {
			t.Errorf("in %q: response ID %q", tt.in, got)
		}
	}
	var seen string
	h := gateway.RequestID(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seen = gateway.RequestIDFrom(r.Context())
	}))
	serve(h, http.MethodGet, "/", "", map[string]string{"X-Request-Id": "from-client"})
	if seen != "from-client" {
		t.Errorf("RequestIDFrom = %q", seen)
	}
}

func TestLoggerLine(t *testing.T) {
	r, logs := newTestRouter(t)
	w := serve(r, http.MethodGet, "/v2/idps/77?client_secret=hunter2", "", map[string]string{
		"Authorization": "Bearer tok-very-secret",
		"X-Request-Id":  "req-log",
	})
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("want one JSON line, got %s", logs)
	}
	want := map[string]any{
		"request_id": "req-log", "method": "GET", "route": "/v2/idps/{id}",
		"status": float64(200), "bytes": float64(len(`{"id":"77"}`)), "caller": "user-42",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["latency_ms"].(float64); !ok {
		t.Errorf("latency_ms missing: %s", logs)
	}
	for _, secret := range []string{"tok-very-secret", "hunter2", "client_secret"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log holds %q: %s", secret, logs)
		}
	}

	logs.Reset()
	serve(r, http.MethodGet, "/unknown?token=abc", "", nil)
	if !strings.Contains(logs.String(), `"path":"/unknown"`) || strings.Contains(logs.String(), "token=abc") {
		t.Errorf("unmatched route line: %s", logs)
	}
}

func TestSetCallerWithoutLogger(t *testing.T) {
	gateway.SetCaller(httptest.NewRequest(http.MethodGet, "/", nil).Context(), "x") // must not panic
}

// StackForHTTP2 changes nothing of a request or its answer, over HTTP/1.1
// and HTTP/2 alike.
func TestStackForHTTP2PassesThrough(t *testing.T) {
	h := gateway.StackForHTTP2(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proto", r.Proto)
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("ok"))
	}))
	for _, major := range []int{1, 2} {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		r.ProtoMajor = major
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusTeapot || w.Body.String() != "ok" || w.Header().Get("X-Proto") != r.Proto {
			t.Fatalf("HTTP/%d: got %d %q %q", major, w.Code, w.Body.String(), w.Header())
		}
	}
}

// TestRequestLogCarriesRequestID: what a request logs besides its access
// line (a panic, an internal error's cause) is on the request's logger,
// with its request ID, as is the access line; another request's lines carry
// its own ID.
func TestRequestLogCarriesRequestID(t *testing.T) {
	r, logs := newTestRouter(t)
	r.Get("/fail", func(w http.ResponseWriter, r *http.Request) {
		gateway.WriteError(w, r, errors.New("db gone: cause-detail"))
	})
	for _, tt := range []struct{ path, id, msg string }{
		{"/panic", "req-panic", "handler panicked"},
		{"/fail", "req-fail", "request failed"},
		{"/fail", "req-fail-2", "request failed"},
	} {
		logs.Reset()
		serve(r, http.MethodGet, tt.path, "", map[string]string{"X-Request-Id": tt.id})
		msgs := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var line map[string]any
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatalf("%s: log line %q: %v", tt.path, l, err)
			}
			msg, _ := line["message"].(string)
			id, _ := line["request_id"].(string)
			msgs[msg] = id
		}
		if msgs[tt.msg] != tt.id || msgs["request"] != tt.id {
			t.Errorf("%s: lines by message → request_id %v, want %q and the access line with %s", tt.path, msgs, tt.msg, tt.id)
		}
	}
}
