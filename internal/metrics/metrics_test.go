package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	dto "github.com/prometheus/client_model/go"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// value sums a family's samples: counter and gauge values, histogram counts.
func value(f *dto.MetricFamily) float64 {
	var sum float64
	for _, m := range f.Metric {
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

func TestEveryFamilyHasSeries(t *testing.T) {
	ctx := context.Background()
	m := New(BuildInfo{Version: "v1.2.3", Commit: "abc123"})

	// HTTP: a matched route, a nested one with a parameter, an unmatched path and a panic.
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler { // stands in for gateway.Recover
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if recover() != nil {
					w.WriteHeader(http.StatusInternalServerError)
				}
			}()
			next.ServeHTTP(w, r)
		})
	})
	r.Use(Middleware(m))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	r.Route("/v2", func(r chi.Router) {
		r.Get("/idps/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
	})
	r.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	r.Method(http.MethodGet, "/metrics", m.Handler())
	for _, p := range []string{"/healthz", "/v2/idps/1", "/v2/idps/2", "/nope", "/boom"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}

	// Event store: one append, one conflict, one aborted command.
	store := m.InstrumentStore(eventstore.NewMemory())
	ref := eventstore.AggregateRef{InstanceID: "i1", Type: "user", ID: "u1"}
	app := eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
		Aggregate: ref, ResourceOwner: "o1", Expected: 0,
		Events: []eventstore.PendingEvent{{Type: "user.added"}},
	}}}
	if _, err := store.Append(ctx, app); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, app); !eventstore.IsConcurrency(err) {
		t.Fatalf("second append with expected 0: want a concurrency error, got %v", err)
	}
	m.ObserveCommand(errs.Aborted("EVENT-Abrt1", "changed concurrently"))
	m.ObserveCommand(errs.NotFound("X-1", "not counted"))
	m.ObserveCommand(nil)

	// Projections and the pool.
	if err := m.RegisterProjections(func(context.Context) ([]ProjectionStat, error) {
		return []ProjectionStat{{Name: "idp_templates", Position: 42, Lag: 3, Halted: true}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	pool := pgtest.Pool(t)
	if err := pool.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterPool(pool); err != nil {
		t.Fatal(err)
	}

	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range families {
		byName[f.GetName()] = f
	}
	for _, name := range []string{
		"idledger_http_requests_total",
		"idledger_http_request_duration_seconds",
		"idledger_eventstore_append_duration_seconds",
		"idledger_eventstore_concurrency_retries_total",
		"idledger_command_aborted_total",
		"idledger_projection_position",
		"idledger_projection_lag_events",
		"idledger_projection_halted",
		"idledger_projection_stats_up",
		"idledger_db_pool_acquire_count_total",
		"idledger_db_pool_total_conns",
		"idledger_db_pool_max_conns",
		"idledger_db_pool_idle_conns",
		"idledger_build_info",
		"go_goroutines",
	} {
		f := byName[name]
		if f == nil {
			t.Errorf("%s is missing", name)
			continue
		}
		if value(f) == 0 {
			t.Errorf("%s has no non-zero series", name)
		}
	}
	if got := value(byName["idledger_command_aborted_total"]); got != 1 {
		t.Errorf("aborted = %v, want 1", got)
	}
	if got := value(byName["idledger_eventstore_concurrency_retries_total"]); got != 1 {
		t.Errorf("retries = %v, want 1", got)
	}

	// The scrape itself, with the labels that dashboards group by.
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`idledger_http_requests_total{code="200",method="GET",route="/healthz"} 1`,
		`idledger_http_requests_total{code="404",method="GET",route="/v2/idps/{id}"} 2`,
		`idledger_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`idledger_http_requests_total{code="500",method="GET",route="/boom"} 1`,
		`idledger_eventstore_append_duration_seconds_count{result="conflict"} 1`,
		`idledger_projection_halted{projection="idp_templates"} 1`,
		`idledger_projection_position{projection="idp_templates"} 42`,
		`idledger_build_info{commit="abc123",goversion="go`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}

func TestProjectionErrorKeepsScrape(t *testing.T) {
	m := New(BuildInfo{Version: "dev"})
	if err := m.RegisterProjections(func(context.Context) ([]ProjectionStat, error) {
		return nil, errors.New("database down")
	}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if !strings.Contains(body, "idledger_projection_stats_up 0") || !strings.Contains(body, "idledger_build_info") {
		t.Errorf("scrape:\n%s", body)
	}
}
