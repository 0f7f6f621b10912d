package metrics

import (
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every idledger metric.
const namespace = "idledger"

// BuildInfo labels the idledger_build_info gauge. GoVersion defaults to
// runtime.Version().
type BuildInfo struct {
	Version   string
	Commit    string
	GoVersion string
}

// Metrics is one registry with idledger's metric families. Create it once
// per server with New; all methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	rpcRequests  *prometheus.CounterVec

	appendDuration *prometheus.HistogramVec
	retries        prometheus.Counter
	aborted        prometheus.Counter
}

// New returns a registry holding the HTTP, event-store, build-info, Go
// runtime and process metrics. Projection and pool metrics are added by
// RegisterProjections and RegisterPool once those exist.
func New(b BuildInfo) *Metrics {
	if b.GoVersion == "" {
		b.GoVersion = runtime.Version()
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests by chi route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "HTTP request latency by chi route pattern and method, until the handler returns.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		rpcRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "rpc", Name: "requests_total",
			Help: "RPC methods run (gRPC, gRPC-Web, Connect) by procedure and the code they answered " +
				"(ok, or the gRPC code name); the HTTP metrics count gRPC errors as 200.",
		}, []string{"procedure", "code"}),
		appendDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "eventstore", Name: "append_duration_seconds",
			Help: "Event-store append latency (one transaction: events, unique constraints, inline projections) " +
				"by result: ok, conflict (optimistic concurrency), constraint (unique value taken), error.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"result"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "eventstore", Name: "concurrency_retries_total",
			Help: "Appends rejected by the optimistic concurrency check; each makes the command reload, " +
				"decide and append again, or answer Aborted after its last attempt.",
		}),
		aborted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "command", Name: "aborted_total",
			Help: "Commands answered Aborted because concurrency conflicts outlasted every retry.",
		}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help: "Always 1; the labels carry idledger's version, commit and Go version.",
	}, []string{"version", "commit", "goversion"})
	build.WithLabelValues(b.Version, b.Commit, b.GoVersion).Set(1)

	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.rpcRequests, m.appendDuration, m.retries, m.aborted, build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Pre-create the result series so dashboards see zeros, not gaps.
	for _, r := range []string{resultOK, resultConflict, resultConstraint, resultError} {
		m.appendDuration.WithLabelValues(r)
	}
	return m
}

// ObserveRPC counts one RPC method run: its procedure
// ("/zitadel.idp.v2.IdentityProviderService/GetIDPByID") and the code it
// answered ("ok", "not_found", ...). Only served methods reach it, so the
// procedure label is bounded.
func (m *Metrics) ObserveRPC(procedure, code string) {
	m.rpcRequests.WithLabelValues(procedure, code).Inc()
}

// Registry returns the registry, for tests and for registering further
// collectors. It is never the global default registry.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format for
// GET /metrics. A collector that fails (e.g. the projection query while the
// database is down) drops only its own series; the rest is still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          m.reg, // promhttp_metric_handler_errors_total
		EnableOpenMetrics: false,
	})
}

// IncRetry counts one optimistic-concurrency conflict. InstrumentStore calls
// it; call it yourself only for a store that is not instrumented.
func (m *Metrics) IncRetry() { m.retries.Inc() }

// IncAborted counts one command answered Aborted.
func (m *Metrics) IncAborted() { m.aborted.Inc() }

// ObserveAppend records one append's latency and result. InstrumentStore
// calls it; call it yourself only for a store that is not instrumented.
func (m *Metrics) ObserveAppend(d time.Duration, err error) {
	r := appendResult(err)
	m.appendDuration.WithLabelValues(r).Observe(d.Seconds())
	if r == resultConflict {
		m.retries.Inc()
	}
}
