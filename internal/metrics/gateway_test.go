package metrics

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/api/gateway"
)

// TestWithGatewayRouter installs the middleware the way the server does:
// on gateway.NewRouter, after its request ID, access log and recovery.
func TestWithGatewayRouter(t *testing.T) {
	m := New(BuildInfo{Version: "dev"})
	var logs bytes.Buffer
	r := gateway.NewRouter(zerolog.New(&logs))
	r.Use(Middleware(m))
	r.Group(func(r chi.Router) {
		r.Get("/v2/idps/{id}", func(w http.ResponseWriter, _ *http.Request) {
			gateway.WriteJSON(w, http.StatusOK, map[string]string{"id": "1"})
		})
		r.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	})
	r.Method(http.MethodGet, "/metrics", m.Handler())

	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/v2/idps/7?secret=x", nil),
		httptest.NewRequest(http.MethodGet, "/boom", nil),
		httptest.NewRequest(http.MethodGet, "/nope", nil),
		httptest.NewRequest(http.MethodPost, "/v2/idps/7", nil),
	} {
		r.ServeHTTP(httptest.NewRecorder(), req)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`idledger_http_requests_total{code="200",method="GET",route="/v2/idps/{id}"} 1`,
		`idledger_http_requests_total{code="500",method="GET",route="/boom"} 1`,
		`idledger_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`idledger_http_requests_total{code="405",method="POST",`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	// The access log still sees the status through the metrics wrapper,
	// and never the query string.
	if !strings.Contains(logs.String(), `"route":"/v2/idps/{id}"`) || !strings.Contains(logs.String(), `"status":500`) {
		t.Errorf("access log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("access log leaks the query string:\n%s", logs.String())
	}
}
