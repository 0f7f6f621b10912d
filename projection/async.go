package projection

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/idledger/idledger/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Runner applies the async projections of a registry, following the log from
// each projection's stored cursor. Any number of runners (one per replica)
// may run against one database: a batch of a projection is applied by
// whichever runner takes that projection's transaction-scoped advisory lock,
// and its cursor advances in the same transaction, so each event is applied
// exactly once and a crashed runner leaves no lock behind.
type Runner struct {
	pool  *pgxpool.Pool
	store *eventstore.Postgres
	reg   *Registry
	// Poll is the fallback wake-up interval (LISTEN/NOTIFY wakes it sooner).
	Poll time.Duration
	// Batch is the most events one transaction applies.
	Batch int
	// OnHalt, when set, is told when this runner halts a projection.
	OnHalt func(name string, position int64, err error)
	// OnError, when set, is told of transient (database) errors; the
	// runner retries after Poll.
	OnError func(name string, err error)
}

// NewRunner returns a runner for the async projections of reg.
func NewRunner(pool *pgxpool.Pool, store *eventstore.Postgres, reg *Registry) *Runner {
	return &Runner{pool: pool, store: store, reg: reg, Poll: 500 * time.Millisecond, Batch: 1000}
}

// Run applies events until ctx ends; it returns nil at once when the
// registry has no async projections, and ctx's error otherwise.
func (r *Runner) Run(ctx context.Context) error {
	if len(r.reg.Async()) == 0 {
		return nil
	}
	wake := make(chan struct{}, 1)
	go listen(ctx, r.pool, wake)
	for {
		busy, err := r.RunOnce(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			busy = false // back off until the next tick
		}
		if busy {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-time.After(r.Poll):
		}
	}
}

// RunOnce applies at most one batch of each async projection. busy reports
// whether any projection had a full batch (more is likely waiting). Errors:
// the first transient database error; halts are not errors.
func (r *Runner) RunOnce(ctx context.Context) (busy bool, err error) {
	for _, p := range r.reg.Async() {
		n, serr := r.step(ctx, p)
		if serr != nil {
			if r.OnError != nil {
				r.OnError(p.Name, serr)
			}
			if err == nil {
				err = serr
			}
			continue
		}
		if n >= r.batch() {
			busy = true
		}
	}
	return busy, err
}

func (r *Runner) batch() int {
	if r.Batch <= 0 {
		return 1000
	}
	return r.Batch
}

// step applies the next batch of p, or nothing when another runner holds p
// or p is halted. It returns how many events it read.
func (r *Runner) step(ctx context.Context, p *Projection) (int, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("projection %s: begin: %w", p.Name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	// A transaction-scoped lock ends with the transaction or the session,
	// so a runner that dies mid-batch blocks nobody. Taking it assigns no
	// transaction ID, so it does not hold back the read horizon below.
	var mine bool
	if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1)", runKey(p.Name)).Scan(&mine); err != nil {
		return 0, fmt.Errorf("projection %s: lock: %w", p.Name, err)
	}
	if !mine {
		return 0, nil
	}
	// Read after the lock: the previous holder's cursor update is visible,
	// since its commit precedes its lock release.
	var txt, state string
	var cur eventstore.Cursor
	const readState = "SELECT tx_id::text, position, state FROM projection_state WHERE name = $1"
	err = tx.QueryRow(ctx, readState, p.Name).Scan(&txt, &cur.Position, &state)
	if errors.Is(err, pgx.ErrNoRows) {
		// Created outside tx, which must not get a transaction ID before
		// the read below (it would hold the read horizon back).
		if _, err := r.pool.Exec(ctx, "INSERT INTO projection_state (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", p.Name); err != nil {
			return 0, fmt.Errorf("projection %s: create state: %w", p.Name, err)
		}
		err = tx.QueryRow(ctx, readState, p.Name).Scan(&txt, &cur.Position, &state)
	}
	if err != nil {
		return 0, fmt.Errorf("projection %s: read cursor: %w", p.Name, err)
	}
	if state == StateHalted {
		return 0, nil
	}
	cur.TxID, _ = strconv.ParseUint(txt, 10, 64)
	// Read on another connection, below the horizon; every event is read
	// (not only p's types) so the cursor, and the lag, cover the whole log.
	events, err := r.store.Read(ctx, eventstore.Filter{After: cur, Limit: r.batch()})
	if err != nil {
		return 0, fmt.Errorf("projection %s: %w", p.Name, err)
	}
	if len(events) == 0 {
		return 0, nil
	}
	last, failed, cause := r.apply(ctx, tx, p, cur, events)
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	if failed != nil {
		_, err = tx.Exec(ctx, `UPDATE projection_state SET tx_id = $2::text::xid8, position = $3, state = $4,
			error = $5, failed_position = $6, updated_at = clock_timestamp() WHERE name = $1`,
			p.Name, strconv.FormatUint(last.TxID, 10), last.Position, StateHalted, cause.Error(), failed.Position)
	} else {
		_, err = tx.Exec(ctx, `UPDATE projection_state SET tx_id = $2::text::xid8, position = $3, updated_at = clock_timestamp()
			WHERE name = $1`, p.Name, strconv.FormatUint(last.TxID, 10), last.Position)
	}
	if err != nil {
		return 0, fmt.Errorf("projection %s: advance cursor: %w", p.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("projection %s: commit: %w", p.Name, err)
	}
	if failed != nil && r.OnHalt != nil {
		r.OnHalt(p.Name, failed.Position, cause)
	}
	return len(events), nil
}

// apply applies events to p's live tables in tx, stopping at the first
// event that cannot be applied. It returns the cursor of the last event
// applied (cur when none was), and the failed event with its cause.
func (r *Runner) apply(ctx context.Context, tx pgx.Tx, p *Projection, cur eventstore.Cursor, events []eventstore.Event) (eventstore.Cursor, *eventstore.Event, error) {
	ps := []*Projection{p}
	stmts := make([][]Statement, 0, len(events))
	var failed *eventstore.Event
	var cause error
	for i := range events {
		st, err := r.reg.Statements(ps, events[i], Live)
		if err != nil {
			failed, cause = &events[i], err
			break
		}
		stmts = append(stmts, st)
	}
	good := events[:len(stmts)]
	// Fast path: the whole batch in one round trip, inside a savepoint so a
	// failing statement can be retried event by event to find the culprit.
	if ok := r.sendAll(ctx, tx, stmts); !ok {
		for i, st := range stmts {
			if err := sendSavepoint(ctx, tx, st); err != nil {
				failed, cause = &good[i], fmt.Errorf("projection %s: apply %s (position %d): %w", p.Name, good[i].Type, good[i].Position, err)
				good = good[:i]
				break
			}
		}
	}
	if len(good) > 0 {
		cur = good[len(good)-1].Cursor()
	}
	return cur, failed, cause
}

func (r *Runner) sendAll(ctx context.Context, tx pgx.Tx, stmts [][]Statement) bool {
	b := &pgx.Batch{}
	for _, st := range stmts {
		for _, s := range st {
			b.Queue(s.SQL, s.Args...)
		}
	}
	if b.Len() == 0 {
		return true
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return false
	}
	if err := sp.SendBatch(ctx, b).Close(); err != nil {
		_ = sp.Rollback(ctx)
		return false
	}
	return sp.Commit(ctx) == nil
}

func sendSavepoint(ctx context.Context, tx pgx.Tx, st []Statement) error {
	if len(st) == 0 {
		return nil
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	for _, s := range st {
		b.Queue(s.SQL, s.Args...)
	}
	if err := sp.SendBatch(ctx, b).Close(); err != nil {
		_ = sp.Rollback(ctx)
		return err
	}
	return sp.Commit(ctx)
}

// listen signals wake on every append notification until ctx ends; polling
// covers a dropped listener.
func listen(ctx context.Context, pool *pgxpool.Pool, wake chan<- struct{}) {
	for ctx.Err() == nil {
		_ = listenOnce(ctx, pool, wake)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func listenOnce(ctx context.Context, pool *pgxpool.Pool, wake chan<- struct{}) error {
	pc, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pc.Hijack() // a listening connection must not go back to the pool
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+eventstore.NotifyChannel); err != nil {
		return err
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}
