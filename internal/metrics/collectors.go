package metrics

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// collectTimeout bounds the projection query run on each scrape.
const collectTimeout = 5 * time.Second

// ProjectionStat is one projection's state as `projections status` shows it.
type ProjectionStat struct {
	Name     string
	Position int64 // global position of the last event applied
	Lag      int64 // events behind the head of the log
	Halted   bool
}

// ProjectionStats reports every projection's state. It is called on each
// scrape, so it should be one cheap query.
type ProjectionStats func(ctx context.Context) ([]ProjectionStat, error)

var (
	projPositionDesc = prometheus.NewDesc(namespace+"_projection_position",
		"Global position of the last event the projection applied.", []string{"projection"}, nil)
	projLagDesc = prometheus.NewDesc(namespace+"_projection_lag_events",
		"Events the projection is behind the head of the event log.", []string{"projection"}, nil)
	projHaltedDesc = prometheus.NewDesc(namespace+"_projection_halted",
		"1 while the projection is halted on an event it could not apply, else 0.", []string{"projection"}, nil)
	projUpDesc = prometheus.NewDesc(namespace+"_projection_stats_up",
		"1 when the last scrape could read the projections' state, else 0.", nil, nil)
)

type projectionCollector struct{ stats ProjectionStats }

// RegisterProjections adds the projection gauges, read through stats on
// every scrape. Errors: a projection collector is already registered.
func (m *Metrics) RegisterProjections(stats ProjectionStats) error {
	return m.reg.Register(projectionCollector{stats: stats})
}

func (c projectionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- projPositionDesc
	ch <- projLagDesc
	ch <- projHaltedDesc
	ch <- projUpDesc
}

func (c projectionCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	list, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(projUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(projUpDesc, prometheus.GaugeValue, 1)
	for _, s := range list {
		halted := 0.0
		if s.Halted {
			halted = 1
		}
		ch <- prometheus.MustNewConstMetric(projPositionDesc, prometheus.GaugeValue, float64(s.Position), s.Name)
		ch <- prometheus.MustNewConstMetric(projLagDesc, prometheus.GaugeValue, float64(s.Lag), s.Name)
		ch <- prometheus.MustNewConstMetric(projHaltedDesc, prometheus.GaugeValue, halted, s.Name)
	}
}

// PoolStater is what the pool collector needs; *pgxpool.Pool has it.
type PoolStater interface {
	Stat() *pgxpool.Stat
}

func poolDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(namespace+"_db_pool_"+name, help, nil, nil)
}

var (
	poolAcquired        = poolDesc("acquired_conns", "Connections currently acquired (in use).")
	poolIdle            = poolDesc("idle_conns", "Idle connections in the pool.")
	poolTotal           = poolDesc("total_conns", "Connections in the pool: acquired, idle and being constructed.")
	poolMax             = poolDesc("max_conns", "Maximum size of the pool.")
	poolAcquireCount    = poolDesc("acquire_count_total", "Successful connection acquisitions.")
	poolAcquireDuration = poolDesc("acquire_duration_seconds_total", "Total time spent waiting for connections.")
	poolEmptyAcquire    = poolDesc("empty_acquire_count_total", "Acquisitions that had to wait because the pool was empty.")
	poolCanceledAcquire = poolDesc("canceled_acquire_count_total", "Acquisitions canceled by their context.")
	poolNewConns        = poolDesc("new_conns_total", "Connections opened.")
)

type poolCollector struct{ pool PoolStater }

// RegisterPool adds the database pool gauges and counters, read from
// p.Stat() on every scrape. Errors: a pool collector is already registered.
func (m *Metrics) RegisterPool(p PoolStater) error {
	return m.reg.Register(poolCollector{pool: p})
}

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolAcquired, poolIdle, poolTotal, poolMax, poolAcquireCount,
		poolAcquireDuration, poolEmptyAcquire, poolCanceledAcquire, poolNewConns} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(poolAcquired, float64(s.AcquiredConns()))
	gauge(poolIdle, float64(s.IdleConns()))
	gauge(poolTotal, float64(s.TotalConns()))
	gauge(poolMax, float64(s.MaxConns()))
	counter(poolAcquireCount, float64(s.AcquireCount()))
	counter(poolAcquireDuration, s.AcquireDuration().Seconds())
	counter(poolEmptyAcquire, float64(s.EmptyAcquireCount()))
	counter(poolCanceledAcquire, float64(s.CanceledAcquireCount()))
	counter(poolNewConns, float64(s.NewConnsCount()))
}
