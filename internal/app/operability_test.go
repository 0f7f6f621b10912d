package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/openapi"
	"github.com/idledger/idledger/internal/app/apptest"
)

// TestRoutesMatchOpenAPI fails when a route is registered without being in
// openapi.yaml, or documented without being registered.
func TestRoutesMatchOpenAPI(t *testing.T) {
	env := apptest.New(t)
	routes, ok := env.App.Handler().(chi.Routes)
	if !ok {
		t.Fatal("the handler is not a chi router")
	}
	openapi.CheckRoutes(t, routes)
}

// TestMetricsAfterScenario runs a small end-to-end scenario, including a
// concurrency conflict, and then expects a non-zero series in every metric
// family /metrics promises (issue 11).
func TestMetricsAfterScenario(t *testing.T) {
	env := apptest.New(t)
	org := env.CreateOrg(t, "metrics-org")
	user := env.CreateHuman(t, org, "metrics-user")
	body := env.MustDo(t, 200, "POST", "/admin/v1/idps/google", map[string]any{"clientId": "c", "clientSecret": "s"})
	idpID := body["id"].(string)
	env.MustDo(t, 200, "POST", "/v2/users/"+user+"/links", map[string]any{"idpLink": map[string]any{"idpId": idpID, "userId": "x1", "userName": "x"}})
	env.MustDo(t, 200, "GET", "/v2/idps/"+idpID, nil)
	// Concurrent updates of one IdP: some are retried on fresh state.
	done := make(chan struct{})
	for i := 0; i < 8; i++ {
		go func(i int) {
			defer func() { done <- struct{}{} }()
			env.Do(t, "PUT", "/admin/v1/idps/google/"+idpID, map[string]any{"clientId": "c" + string(rune('a'+i))})
		}(i)
	}
	for i := 0; i < 8; i++ {
		<-done
	}
	// One RPC over Connect JSON, which idledger_rpc_requests_total counts.
	req, _ := http.NewRequest(http.MethodPost, env.URL+"/zitadel.idp.v2.IdentityProviderService/GetIDPByID",
		strings.NewReader(`{"id":"`+idpID+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+env.AdminPAT)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GetIDPByID over Connect: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	resp, err := http.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	text := string(raw)
	for _, family := range []string{
		"idledger_http_requests_total", "idledger_http_request_duration_seconds_count",
		"idledger_eventstore_append_duration_seconds_count", "idledger_eventstore_concurrency_retries_total",
		"idledger_projection_position", "idledger_projection_lag_events", "idledger_projection_halted",
		"idledger_db_pool", "idledger_build_info",
		`idledger_rpc_requests_total{code="ok",procedure="/zitadel.idp.v2.IdentityProviderService/GetIDPByID"}`,
	} {
		if !hasNonZero(text, family) {
			t.Errorf("/metrics has no non-zero series of %s", family)
		}
	}
}

// hasNonZero reports whether a sample line of a metric whose name starts
// with prefix has a value other than 0. Gauges that are legitimately 0 (lag,
// halted) count when the series exists.
func hasNonZero(text, prefix string) bool {
	zeroOK := strings.Contains(prefix, "lag") || strings.Contains(prefix, "halted")
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		fields := strings.Fields(line)
		if zeroOK || fields[len(fields)-1] != "0" {
			return true
		}
	}
	return false
}
