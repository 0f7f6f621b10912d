package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// sqlTracer sits on the server's pool. It always counts statements and round
// trips (two atomic adds per query, negligible), and while capturing it also
// records each statement with its arguments, so a baseline can replay
// exactly the SQL the server ran for a request.
//
// A statement counts for the request path when its context is an HTTP
// request's (net/http puts http.ServerContextKey in every one); the rest is
// background work of the process: the commit notifier and the event
// subscriptions that catch caches and projections up, which coalesce under
// load and are reported apart.
type sqlTracer struct {
	statements atomic.Int64
	roundTrips atomic.Int64
	// bgStatements and bgRoundTrips are the background's.
	bgStatements atomic.Int64
	bgRoundTrips atomic.Int64

	capturing atomic.Bool
	mu        sync.Mutex
	captured  []stmt

	// timing, while set, sums the time of each distinct statement (a batch
	// counts as one, named after its first statement): --sql-profile.
	timing atomic.Bool
	times  map[string]*sqlTime
}

// sqlTime is the time spent in one statement text.
type sqlTime struct {
	Calls int64
	Total time.Duration
}

type traceStart struct{}

type traceInfo struct {
	sql   string
	start time.Time
}

// stmt is one captured statement.
type stmt struct {
	SQL  string `json:"sql"`
	Args []any  `json:"-"`
}

var (
	_ pgx.QueryTracer = (*sqlTracer)(nil)
	_ pgx.BatchTracer = (*sqlTracer)(nil)
)

// inRequest reports whether ctx is (derived from) an HTTP request's.
func inRequest(ctx context.Context) bool { return ctx.Value(http.ServerContextKey) != nil }

func (t *sqlTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if inRequest(ctx) {
		t.statements.Add(1)
		t.roundTrips.Add(1)
	} else {
		t.bgStatements.Add(1)
		t.bgRoundTrips.Add(1)
	}
	t.record(d.SQL, d.Args)
	if t.timing.Load() {
		ctx = context.WithValue(ctx, traceStart{}, traceInfo{sql: d.SQL, start: time.Now()})
	}
	return ctx
}

func (t *sqlTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	t.endTiming(ctx)
}

func (t *sqlTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	if inRequest(ctx) {
		t.roundTrips.Add(1)
	} else {
		t.bgRoundTrips.Add(1)
	}
	if t.timing.Load() && d.Batch != nil && len(d.Batch.QueuedQueries) > 0 {
		name := fmt.Sprintf("batch of %d: %s", len(d.Batch.QueuedQueries), d.Batch.QueuedQueries[0].SQL)
		ctx = context.WithValue(ctx, traceStart{}, traceInfo{sql: name, start: time.Now()})
	}
	return ctx
}

func (t *sqlTracer) endTiming(ctx context.Context) {
	ti, ok := ctx.Value(traceStart{}).(traceInfo)
	if !ok {
		return
	}
	d := time.Since(ti.start)
	t.mu.Lock()
	if t.times == nil {
		t.times = map[string]*sqlTime{}
	}
	st := t.times[ti.sql]
	if st == nil {
		st = &sqlTime{}
		t.times[ti.sql] = st
	}
	st.Calls++
	st.Total += d
	t.mu.Unlock()
}

// startTiming clears the statement times and starts summing them.
func (t *sqlTracer) startTiming() {
	t.mu.Lock()
	t.times = nil
	t.mu.Unlock()
	t.timing.Store(true)
}

// stopTiming stops summing and returns the statements by total time, most
// first.
func (t *sqlTracer) stopTiming() []sqlProfileEntry {
	t.timing.Store(false)
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []sqlProfileEntry
	for q, st := range t.times {
		out = append(out, sqlProfileEntry{SQL: oneLine(q), Calls: st.Calls, Total: st.Total})
	}
	slices.SortFunc(out, func(a, b sqlProfileEntry) int { return cmp.Compare(b.Total, a.Total) })
	return out
}

// sqlProfileEntry is one statement's share of a run (--sql-profile).
type sqlProfileEntry struct {
	SQL   string        `json:"sql"`
	Calls int64         `json:"calls"`
	Total time.Duration `json:"total_ns"`
}

func (t *sqlTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	if inRequest(ctx) {
		t.statements.Add(1)
	} else {
		t.bgStatements.Add(1)
	}
	t.record(d.SQL, d.Args)
}

func (t *sqlTracer) TraceBatchEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchEndData) {
	t.endTiming(ctx)
}

func (t *sqlTracer) record(sql string, args []any) {
	if !t.capturing.Load() {
		return
	}
	t.mu.Lock()
	t.captured = append(t.captured, stmt{SQL: sql, Args: append([]any(nil), args...)})
	t.mu.Unlock()
}

// capture runs do with recording on and returns the statements it ran.
func (t *sqlTracer) capture(do func() error) ([]stmt, error) {
	t.mu.Lock()
	t.captured = nil
	t.mu.Unlock()
	t.capturing.Store(true)
	err := do()
	t.capturing.Store(false)
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.captured, err
}

// sqlCost is what the tracer counted over a run, per request: the request
// path's statements and round trips, and the background's.
type sqlCost struct {
	StatementsPerReq   float64 `json:"statements_per_req"`
	RoundTripsPerReq   float64 `json:"round_trips_per_req"`
	BgStatementsPerReq float64 `json:"background_statements_per_req"`
	BgRoundTripsPerReq float64 `json:"background_round_trips_per_req"`
}

// sqlCount is the tracer's counters at one moment.
type sqlCount struct{ statements, roundTrips, bgStatements, bgRoundTrips int64 }

func (t *sqlTracer) snapshot() sqlCount {
	return sqlCount{t.statements.Load(), t.roundTrips.Load(), t.bgStatements.Load(), t.bgRoundTrips.Load()}
}

func costSince(t *sqlTracer, c0 sqlCount, requests int) sqlCost {
	if requests == 0 {
		return sqlCost{}
	}
	c1, n := t.snapshot(), float64(requests)
	return sqlCost{
		StatementsPerReq: float64(c1.statements-c0.statements) / n, RoundTripsPerReq: float64(c1.roundTrips-c0.roundTrips) / n,
		BgStatementsPerReq: float64(c1.bgStatements-c0.bgStatements) / n, BgRoundTripsPerReq: float64(c1.bgRoundTrips-c0.bgRoundTrips) / n,
	}
}

// replayOp returns a baseline op that runs one captured request's statements
// (cycling over several captured requests, so the arguments vary as they did
// for the server) and reads every row without decoding it.
func replayOp(pool *pgxpool.Pool, sets [][]stmt) op {
	return func(ctx context.Context, w *worker) error {
		set := sets[w.iter%len(sets)]
		return w.timed(func() error {
			for _, s := range set {
				if err := drain(pool.Query(ctx, s.SQL, s.Args...)); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// drain reads every row's raw bytes: the baseline pays for the rows crossing
// the wire, not for decoding them into Go values.
func drain(rows pgx.Rows, err error) error {
	if err != nil {
		return err
	}
	for rows.Next() {
		_ = rows.RawValues()
	}
	rows.Close()
	return rows.Err()
}

// baselineTable is the durable-insert baseline's table: shaped like the
// events table (same key, same column types), without the hash chain,
// the inline projections or the unique constraints.
const baselineTable = "bench_baseline_events"

func createBaselineTable(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, `DROP TABLE IF EXISTS `+baselineTable+`;
CREATE TABLE `+baselineTable+` (
    instance_id    text        NOT NULL,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    sequence       bigint      NOT NULL,
    event_type     text        NOT NULL,
    payload        jsonb       NOT NULL,
    creator        text        NOT NULL,
    resource_owner text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    position       bigint      GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (instance_id, aggregate_type, aggregate_id, sequence)
)`)
	return err
}

func dropBaselineTable(ctx context.Context, pool *pgxpool.Pool) {
	_, _ = pool.Exec(ctx, `DROP TABLE IF EXISTS `+baselineTable)
}

// insertOp is the durable-write baseline: one autocommitted single-row
// INSERT of an event-sized row per request, on a pool whose sessions run
// with synchronous_commit on, so each answer waits for the WAL flush as the
// server's appends do.
func insertOp(pool *pgxpool.Pool, tag string) op {
	payload := []byte(`{"idpId":"312345678901234567","userId":"external-user-0000000001","displayName":"external-user-0000000001@idp"}`)
	return func(ctx context.Context, w *worker) error {
		id := fmt.Sprintf("%s-%d", tag, uniq.Add(1))
		return w.timed(func() error {
			_, err := pool.Exec(ctx, `INSERT INTO `+baselineTable+
				` (instance_id, aggregate_type, aggregate_id, sequence, event_type, payload, creator, resource_owner)
VALUES ($1, 'user', $2, 1, 'user.human.externalidp.added', $3, 'bench', 'bench-org')`,
				"bench-instance", id, payload)
			return err
		})
	}
}

// newPool opens a pool of size conns with synchronous_commit on. tracer may
// be nil.
func newPool(ctx context.Context, url string, conns int, tracer *sqlTracer) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	cfg.MaxConns = int32(conns)
	cfg.MinConns = int32(conns)
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	cfg.ConnConfig.RuntimeParams["application_name"] = "idledger-bench"
	if tracer != nil {
		cfg.ConnConfig.Tracer = tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database pool: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return pool, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
