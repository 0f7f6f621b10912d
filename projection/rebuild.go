package projection

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	// rebuildBatch is the most events one read fetches and one shadow write
	// transaction applies; with rebuildBatchBytes it bounds a rebuild's
	// memory whatever the log's size.
	rebuildBatch = 5000
	// rebuildBatchBytes bounds the payload bytes of one batch: a log of
	// large payloads (SAML metadata runs to 100 KB) is read in smaller
	// batches, sized from the previous one's average.
	rebuildBatchBytes = 8 << 20
	// catchUpThreshold: once a catch-up pass applies fewer events than this,
	// the rest is applied inside the swap, under the append lock.
	catchUpThreshold = 2000
	maxCatchUpPasses = 20
	// swapLockTimeout bounds how long the swap waits for a lock (a long read
	// of a live table) while it holds writers back; it is then retried, and
	// after swapAttempts the rebuild fails cleanly.
	swapLockTimeout = "2s"
	swapAttempts    = 5
	// rebuildFillfactor is the fillfactor of the shadows of tables whose
	// rows are updated in place (Projection.Updated). A row is updated once
	// per batch that touches it (a user's sequence by each of its link
	// events): in full pages every such update writes the new version to
	// another page and into the primary key; with half of each page free it
	// stays on its page (a HOT update), the index untouched, and pruning
	// reclaims the old version. The live table's own setting is back
	// before the swap.
	rebuildFillfactor = 50
	// indexBuilders is how many deferred indexes are built at once.
	indexBuilders = 4
)

// Projection states in projection_state.state.
const (
	StateLive       = "live"
	StateRebuilding = "rebuilding"
	StateHalted     = "halted"
)

// Rebuild replays the events through the reducers of the named projections
// (every projection of reg when names is empty) into shadow tables, catches
// up, and swaps the shadows in atomically, while appends keep running; they
// are held back only for the swap itself. progress, when not nil, is called
// with the events applied so far and the current total.
//
// A cancelled ctx or a failure before the swap leaves the live tables as they
// were, drops the shadows and restores each projection's state. A successful
// rebuild clears a halt. Errors: NotFound for an unknown name,
// FailedPrecondition when another process is rebuilding one of them, and
// otherwise the cause (a reducer or SQL error names the event's position).
func Rebuild(ctx context.Context, pool *pgxpool.Pool, store *eventstore.Postgres, reg *Registry, names []string, progress func(done, total int64)) error {
	ps, err := selectProjections(reg, names)
	if err != nil {
		return err
	}
	release, err := lockRebuild(ctx, pool, ps)
	if err != nil {
		return err
	}
	defer release()

	rb := newRebuild(pool, store, reg, ps, progress)
	// The first count of the events to apply, for the progress total only,
	// runs beside the creation of the shadows and the first pass.
	counted := rb.countAhead(ctx)
	defer counted() //nolint:errcheck // the count ends with the rebuild; run returns its error
	var first *pipeline
	begun := make(chan struct{})
	if len(rb.types) > 0 {
		first = rb.startPass(ctx, begun)
		defer first.cancel()
	}
	if err := rb.begin(ctx); err != nil {
		rb.abort()
		return err
	}
	close(begun)
	if err := rb.run(ctx, counted, first); err != nil {
		rb.abort()
		if ctx.Err() != nil {
			return fmt.Errorf("rebuild interrupted, live tables unchanged: %w", ctx.Err())
		}
		return err
	}
	return nil
}

func selectProjections(reg *Registry, names []string) ([]*Projection, error) {
	if len(names) == 0 {
		return reg.Projections(), nil
	}
	var ps []*Projection
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		p, ok := reg.ByName(n)
		if !ok {
			return nil, errs.NotFound("PROJ-Rb404", fmt.Sprintf("projection %q does not exist", n))
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// advisoryKey derives a stable lock key per purpose and projection.
func advisoryKey(purpose, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("idledger.projection." + purpose + ":" + name))
	return int64(h.Sum64())
}

func rebuildKey(name string) int64 { return advisoryKey("rebuild", name) }
func runKey(name string) int64     { return advisoryKey("run", name) }

// lockRebuild takes a session-level advisory lock per projection on a
// connection held for the whole rebuild. If this process dies, PostgreSQL
// ends the session and the lock goes with it: no stale lock is possible.
func lockRebuild(ctx context.Context, pool *pgxpool.Pool, ps []*Projection) (func(), error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("rebuild: acquire lock connection: %w", err)
	}
	var held []int64
	release := func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		for _, k := range held {
			if _, err := conn.Exec(cctx, "SELECT pg_advisory_unlock($1)", k); err != nil {
				// Never hand a connection that may still hold the lock back
				// to the pool: closing it ends the session and the lock.
				_ = conn.Hijack().Close(cctx)
				return
			}
		}
		conn.Release()
	}
	for _, p := range ps {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", rebuildKey(p.Name)).Scan(&ok); err != nil {
			release()
			return nil, fmt.Errorf("rebuild: take lock: %w", err)
		}
		if !ok {
			release()
			return nil, errs.FailedPrecondition("PROJ-Rb409",
				fmt.Sprintf("projection %s is already being rebuilt (by another process)", p.Name))
		}
		held = append(held, rebuildKey(p.Name))
	}
	return release, nil
}

type rebuild struct {
	pool     *pgxpool.Pool
	store    *eventstore.Postgres
	reg      *Registry
	ps       []*Projection
	tables   []string // live table names
	shadow   Tables   // logical -> shadow
	types    []string // union of event type prefixes
	prev     map[string]string
	deferred []string              // CREATE INDEX statements to run after the bulk load
	updated  map[string]bool       // live tables whose rows are updated in place
	roomy    []string              // shadows given rebuildFillfactor, to reset before the swap
	infos    map[string]*tableInfo // shadow tables, for set-based batches
	cursor   eventstore.Cursor
	mu       sync.Mutex // done, total and the calls of progress
	done     int64
	total    int64
	progress func(done, total int64)
}

func newRebuild(pool *pgxpool.Pool, store *eventstore.Postgres, reg *Registry, ps []*Projection, progress func(done, total int64)) *rebuild {
	rb := &rebuild{pool: pool, store: store, reg: reg, ps: ps, shadow: Tables{}, prev: map[string]string{},
		infos: map[string]*tableInfo{}, progress: progress}
	seenT, seenE := map[string]bool{}, map[string]bool{}
	rb.updated = map[string]bool{}
	for _, p := range ps {
		for _, t := range p.Updated {
			rb.updated[t] = true
		}
		for _, t := range p.Tables {
			if !seenT[t] {
				seenT[t] = true
				rb.tables = append(rb.tables, t)
				rb.shadow[t] = t + "_shadow"
			}
		}
		for _, e := range p.EventTypes {
			if !seenE[e] {
				seenE[e] = true
				rb.types = append(rb.types, e)
			}
		}
	}
	return rb
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// begin marks the projections rebuilding and creates empty shadow tables.
//
// The shadows are made side by side, each in a transaction of its own, on
// up to indexBuilders connections: a shadow is about eight statements, and
// one after another they took a tenth of a 90,000-event rebuild. A failure
// in any leaves what exists to abort, as before.
func (rb *rebuild) begin(ctx context.Context) error {
	if err := rb.markRebuilding(ctx); err != nil {
		return err
	}
	type shadow struct {
		deferred []string
		roomy    bool
		info     *tableInfo
	}
	made := make([]shadow, len(rb.tables))
	err := sideBySide(len(rb.tables), func(i int) error {
		t := rb.tables[i]
		return pgx.BeginFunc(ctx, rb.pool, func(tx pgx.Tx) error {
			sh := ident(t + "_shadow")
			if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+sh+", "+ident(t+"_old")); err != nil {
				return fmt.Errorf("rebuild: drop stale shadow of %s: %w", t, err)
			}
			if _, err := tx.Exec(ctx, "CREATE TABLE "+sh+" (LIKE "+ident(t)+" INCLUDING ALL)"); err != nil {
				return fmt.Errorf("rebuild: create shadow of %s: %w", t, err)
			}
			var err error
			if made[i].roomy, err = rb.storageParams(ctx, tx, t); err != nil {
				return err
			}
			if made[i].deferred, err = dropPlainIndexes(ctx, tx, t+"_shadow"); err != nil {
				return err
			}
			made[i].info, err = loadTableInfo(ctx, tx, t+"_shadow")
			return err
		})
	})
	if err != nil {
		return err
	}
	for i, t := range rb.tables {
		rb.deferred = append(rb.deferred, made[i].deferred...)
		if made[i].roomy {
			rb.roomy = append(rb.roomy, t+"_shadow")
		}
		rb.infos[t+"_shadow"] = made[i].info
	}
	return nil
}

// markRebuilding marks the projections rebuilding, keeping their states
// for abort.
func (rb *rebuild) markRebuilding(ctx context.Context) error {
	return pgx.BeginFunc(ctx, rb.pool, func(tx pgx.Tx) error {
		for _, p := range rb.ps {
			if _, err := tx.Exec(ctx, "INSERT INTO projection_state (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", p.Name); err != nil {
				return fmt.Errorf("rebuild %s: create state: %w", p.Name, err)
			}
			var state string
			if err := tx.QueryRow(ctx, "SELECT state FROM projection_state WHERE name = $1 FOR UPDATE", p.Name).Scan(&state); err != nil {
				return fmt.Errorf("rebuild %s: read state: %w", p.Name, err)
			}
			if state == StateRebuilding {
				// a rebuild that died before its swap left it marked
				state = StateLive
			}
			rb.prev[p.Name] = state
			if _, err := tx.Exec(ctx, `UPDATE projection_state SET state = $2, updated_at = clock_timestamp() WHERE name = $1`,
				p.Name, StateRebuilding); err != nil {
				return fmt.Errorf("rebuild %s: mark rebuilding: %w", p.Name, err)
			}
		}
		return nil
	})
}

// storageParams gives the shadow of t the storage parameters of t (LIKE
// copies none), and rebuildFillfactor when t's rows are updated in place and
// t has no fillfactor of its own (roomy: reset it before the swap).
func (rb *rebuild) storageParams(ctx context.Context, tx pgx.Tx, t string) (roomy bool, err error) {
	var opts []string
	if err := tx.QueryRow(ctx, "SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = $1::text::regclass", ident(t)).Scan(&opts); err != nil {
		return false, fmt.Errorf("rebuild: read storage parameters of %s: %w", t, err)
	}
	var set []string
	own := false
	for _, o := range opts {
		name, value, _ := strings.Cut(o, "=")
		own = own || name == "fillfactor"
		set = append(set, ident(name)+" = "+quoteLiteral(value))
	}
	if rb.updated[t] && !own {
		set = append(set, "fillfactor = "+strconv.Itoa(rebuildFillfactor))
		roomy = true
	}
	if len(set) == 0 {
		return false, nil
	}
	if _, err := tx.Exec(ctx, "ALTER TABLE "+ident(t+"_shadow")+" SET ("+strings.Join(set, ", ")+")"); err != nil {
		return false, fmt.Errorf("rebuild: set storage parameters of %s: %w", t+"_shadow", err)
	}
	return roomy, nil
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// dropPlainIndexes drops the indexes of table that enforce nothing (not
// unique, not a constraint) and returns the statements that recreate them.
// Building such an index once after the bulk load is far cheaper than
// maintaining it row by row; unique ones stay, so the shadow rejects exactly
// what the live table would.
func dropPlainIndexes(ctx context.Context, tx pgx.Tx, table string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT c.relname, pg_get_indexdef(i.indexrelid)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid = $1::text::regclass AND NOT i.indisunique AND NOT i.indisexclusion
		AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)`, ident(table))
	if err != nil {
		return nil, fmt.Errorf("rebuild: list indexes of %s: %w", table, err)
	}
	var names, defs []string
	var name, def string
	if _, err := pgx.ForEachRow(rows, []any{&name, &def}, func() error {
		names, defs = append(names, name), append(defs, def)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("rebuild: list indexes of %s: %w", table, err)
	}
	for _, n := range names {
		if _, err := tx.Exec(ctx, "DROP INDEX "+ident(n)); err != nil {
			return nil, fmt.Errorf("rebuild: drop index %s: %w", n, err)
		}
	}
	return defs, nil
}

// buildIndexes creates the indexes dropPlainIndexes deferred, and gives the
// shadows the fillfactor of their live tables back: the few events left to
// catch up on fill pages as the live path does, and the swapped-in tables
// have the schema the live ones had.
//
// The indexes are built side by side, on up to indexBuilders connections:
// each build of a small index is mostly its end, which waits for the new
// index file to reach the disk; builds on one table share its lock mode.
func (rb *rebuild) buildIndexes(ctx context.Context) error {
	if err := sideBySide(len(rb.deferred), func(i int) error {
		if _, err := rb.pool.Exec(ctx, rb.deferred[i]); err != nil {
			return fmt.Errorf("rebuild: build index: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	rb.deferred = nil
	for _, sh := range rb.roomy {
		if _, err := rb.pool.Exec(ctx, "ALTER TABLE "+ident(sh)+" RESET (fillfactor)"); err != nil {
			return fmt.Errorf("rebuild: reset fillfactor of %s: %w", sh, err)
		}
	}
	rb.roomy = nil
	return nil
}

// sideBySide runs f(0) … f(n-1) on up to indexBuilders goroutines and
// returns their errors.
func sideBySide(n int, f func(int) error) error {
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(indexBuilders, n) {
		wg.Go(func() {
			for i := range next {
				errs[i] = f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// abort drops the shadows and puts each projection's state back, unless a
// runner halted it meanwhile. It runs after ctx may have been cancelled.
func (rb *rebuild) abort() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, t := range rb.tables {
		_, _ = rb.pool.Exec(ctx, "DROP TABLE IF EXISTS "+ident(t+"_shadow"))
	}
	for name, st := range rb.prev {
		_, _ = rb.pool.Exec(ctx, `UPDATE projection_state SET state = $2, updated_at = clock_timestamp()
			WHERE name = $1 AND state = $3`, name, st, StateRebuilding)
	}
}

func (rb *rebuild) report() { rb.advance(0, -1) }

// advance adds n events to those applied, sets the total when total is not
// negative, and reports progress.
func (rb *rebuild) advance(n, total int64) {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	rb.done += n
	if total >= 0 {
		rb.total = total
	}
	rb.total = max(rb.total, rb.done)
	if rb.progress != nil {
		rb.progress(rb.done, rb.total)
	}
}

// countAhead counts, beside the rest of the rebuild, the events of the
// first pass for the progress total; wait waits for it and returns its
// error. The count costs as much as a tenth of a small rebuild, and the
// rebuild needs it for nothing else.
func (rb *rebuild) countAhead(ctx context.Context) (wait func() error) {
	out := make(chan error, 1)
	if len(rb.types) == 0 {
		out <- nil
	} else {
		go func() {
			n, err := countPending(ctx, rb.pool, eventstore.Cursor{}, rb.types)
			if err == nil {
				// the next report shows it: progress is only called
				// once the rebuild has begun
				rb.mu.Lock()
				rb.total = max(rb.total, n)
				rb.mu.Unlock()
			}
			out <- err
		}()
	}
	return sync.OnceValue(func() error { return <-out })
}

// run streams the log into the shadows, catches up, then swaps.
func (rb *rebuild) run(ctx context.Context, counted func() error, first *pipeline) error {
	for pass := 0; len(rb.types) > 0; pass++ {
		if pass > 0 {
			pending, err := countPending(ctx, rb.pool, rb.cursor, rb.types)
			if err != nil {
				return err
			}
			rb.advance(0, rb.done+pending)
		}
		var n int64
		var err error
		if pass == 0 {
			n, err = rb.drain(ctx, first)
		} else {
			n, err = rb.pass(ctx)
		}
		if err != nil {
			return err
		}
		if pass == 0 {
			if err := counted(); err != nil {
				return err
			}
		}
		if n < catchUpThreshold || pass >= maxCatchUpPasses {
			break
		}
	}
	if err := rb.buildIndexes(ctx); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		// Catch up on what arrived meanwhile, so the swap, which holds
		// writers back, has little left to apply.
		if _, err := rb.pass(ctx); err != nil {
			return err
		}
		err := rb.swap(ctx)
		var pgErr *pgconn.PgError
		if err == nil || attempt == swapAttempts || !errors.As(err, &pgErr) || pgErr.Code != "55P03" {
			return err
		}
		// A long read held a live table: writers were held back for
		// swapLockTimeout at most; let them through and try again.
	}
}

// pass applies every event below the horizon after the cursor, in three
// overlapping stages: read the next batch, reduce the one before it, and
// write the one before that. Channels of one slot bound memory to a few
// batches whatever the size of the log.
func (rb *rebuild) pass(ctx context.Context) (int64, error) {
	return rb.drain(ctx, rb.startPass(ctx, nil))
}

// A readBatch travels the stages of a pass.
type readBatch struct {
	events []eventstore.Event
	stmts  *plan
	err    error
}

// A pipeline is the read and reduce stages of a pass.
type pipeline struct {
	ctx     context.Context
	cancel  context.CancelFunc
	reduced chan readBatch
}

// startPass starts the read and reduce stages of a pass from the cursor.
// The reduce stage folds its first batch into statements on the shadows
// only once begun is closed (nil: at once): the first pass starts reading
// and reducing while begin still makes the shadows (a tenth of a small
// rebuild, mostly waiting on DDL).
func (rb *rebuild) startPass(ctx context.Context, begun <-chan struct{}) *pipeline {
	if begun == nil {
		now := make(chan struct{})
		close(now)
		begun = now
	}
	ctx, cancel := context.WithCancel(ctx)
	pl := &pipeline{ctx: ctx, cancel: cancel, reduced: make(chan readBatch, 1)}
	send := func(ch chan<- readBatch, b readBatch) bool {
		select {
		case ch <- b:
			return b.err == nil
		case <-ctx.Done():
			return false
		}
	}
	read := make(chan readBatch, 1)
	go func() {
		defer close(read)
		after, limit := rb.cursor, rebuildBatch/5
		for {
			evs, err := rb.store.ReadLean(ctx, eventstore.Filter{After: after, EventTypes: rb.types, Limit: limit})
			if len(evs) == 0 && err == nil {
				return
			}
			if !send(read, readBatch{events: evs, err: err}) || len(evs) < limit {
				return
			}
			after, limit = evs[len(evs)-1].Cursor(), batchLimit(evs)
		}
	}()
	go func() {
		defer close(pl.reduced)
		// One batcher for the pass: the updates it carries from batch to
		// batch are flushed by the last one, before the pass ends.
		var bt *batcher
		for b := range read {
			if b.err == nil {
				var reduced [][]Statement
				if reduced, b.err = rb.reduce(b.events); b.err != nil {
					b.err = &reduceError{b.err}
				} else {
					if bt == nil {
						select {
						case <-begun:
						case <-ctx.Done():
							return
						}
						bt = newBatcher(rb.shadow, rb.infos)
					}
					b.stmts = carryStatements(bt, reduced)
				}
			}
			if !send(pl.reduced, b) {
				return
			}
		}
		if ctx.Err() == nil && bt != nil && bt.carried() > 0 {
			last := &plan{}
			last.Queue(noSyncCommit)
			bt.start(last)
			bt.flushAll()
			send(pl.reduced, readBatch{stmts: last})
		}
	}()
	return pl
}

// drain is a pass's write stage: it applies what pl reduces, in order, and
// ends pl.
func (rb *rebuild) drain(ctx context.Context, pl *pipeline) (int64, error) {
	defer pl.cancel()
	var n int64
	for b := range pl.reduced {
		if b.err != nil {
			return n, b.err
		}
		if err := rb.applyTx(ctx, b.events, b.stmts); err != nil {
			return n, err
		}
		if len(b.events) == 0 {
			continue // the carried updates, after the last batch
		}
		rb.cursor = b.events[len(b.events)-1].Cursor()
		n += int64(len(b.events))
		rb.advance(int64(len(b.events)), -1)
	}
	if err := ctx.Err(); err != nil {
		return n, err
	}
	return n, pl.ctx.Err()
}

// noSyncCommit: shadow rows are worthless until the swap commits, so the
// batches that write them skip the WAL flush.
const noSyncCommit = "SET LOCAL synchronous_commit = off"

// carryLimit bounds the updates a pass carries from one batch to the next
// (batcher.carry): about 300 bytes each.
const carryLimit = 50000

// carryStatements folds one batch of a pass's reduced statements into a
// plan on bt, which carries the updates it may (batcher.carry) to the next
// batch.
func carryStatements(bt *batcher, reduced [][]Statement) *plan {
	b := &plan{}
	b.Queue(noSyncCommit)
	bt.start(b)
	for _, st := range reduced {
		for _, s := range st {
			bt.add(s)
		}
	}
	bt.carry(carryLimit)
	return b
}

// batchLimit sizes the next batch from the payloads of the last one, so that
// it holds about rebuildBatchBytes, between 50 and rebuildBatch events.
func batchLimit(last []eventstore.Event) int {
	var n int
	for _, e := range last {
		n += len(e.Payload)
	}
	avg := n/max(len(last), 1) + 1
	return min(max(rebuildBatchBytes/avg, 50), rebuildBatch)
}

// applyTx writes one batch to the shadows in its own transaction.
func (rb *rebuild) applyTx(ctx context.Context, events []eventstore.Event, stmts *plan) error {
	err := pgx.BeginFunc(ctx, rb.pool, func(tx pgx.Tx) error {
		return stmts.exec(ctx, tx)
	})
	if err != nil && ctx.Err() == nil {
		return rb.locate(ctx, events, err)
	}
	return err
}

type reduceError struct{ err error }

func (e *reduceError) Error() string { return "rebuild: " + e.err.Error() }
func (e *reduceError) Unwrap() error { return e.err }

// statements queues what the selected projections do for events, on the
// shadow tables, after the optional prefix statements, folded into set-based
// statements per table (batch.go).
//
// Each batch is folded on its own; a pass carries updates from batch to
// batch instead (carryStatements). Carrying every folded row over to later
// batches measured slower: the large flushes stall the pipeline
// (docs/performance.md).
func (rb *rebuild) statements(events []eventstore.Event, prefix ...string) (*plan, error) {
	b := &plan{}
	for _, s := range prefix {
		b.Queue(s)
	}
	reduced, err := rb.reduce(events)
	if err != nil {
		return nil, &reduceError{err}
	}
	bt := newBatcher(rb.shadow, rb.infos)
	bt.start(b)
	for _, st := range reduced {
		for _, s := range st {
			bt.add(s)
		}
	}
	bt.flushAll()
	return b, nil
}

// reduce runs the reducers over events, split into consecutive chunks
// reduced in parallel (reducers are pure functions of one event). The error
// is that of the first event that fails, as if reduced in order.
func (rb *rebuild) reduce(events []eventstore.Event) ([][]Statement, error) {
	out := make([][]Statement, len(events))
	workers := min(runtime.GOMAXPROCS(0), 4, (len(events)+255)/256)
	if workers < 1 {
		workers = 1
	}
	chunk := (len(events) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*chunk, min(len(events), (w+1)*chunk)
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				st, err := rb.reg.Statements(rb.ps, events[i], rb.shadow)
				if err != nil {
					errs[w] = err
					return
				}
				out[i] = st
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// locate re-applies a failed batch one event at a time, in a transaction
// that is rolled back, to name the event whose statements fail.
func (rb *rebuild) locate(ctx context.Context, events []eventstore.Event, cause error) error {
	tx, err := rb.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("rebuild: apply events: %w", cause)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	for _, e := range events {
		b, err := rb.statements([]eventstore.Event{e})
		if err != nil {
			return err
		}
		if err := b.exec(ctx, tx); err != nil {
			return fmt.Errorf("rebuild: apply %s (position %d): %w", e.Type, e.Position, err)
		}
	}
	return fmt.Errorf("rebuild: apply events: %w", cause)
}

// swap applies the last events and swaps the shadows in, in one transaction
// that holds the append lock exclusively: no append is in flight, so the log
// can be read to its very end, and none can start until the swap commits.
func (rb *rebuild) swap(ctx context.Context) error {
	// A failed swap rolls back the events it applied: so does the cursor.
	rb.mu.Lock()
	cursor, done := rb.cursor, rb.done
	rb.mu.Unlock()
	err := pgx.BeginFunc(ctx, rb.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '"+swapLockTimeout+"'"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", eventstore.AppendLockKey); err != nil {
			return fmt.Errorf("rebuild: take append lock: %w", err)
		}
		// An async runner's batch in flight would apply to the table being
		// swapped out; wait for it, and keep the next one out until commit.
		for _, p := range rb.ps {
			if rb.reg.IsAsync(p) {
				if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", runKey(p.Name)); err != nil {
					return fmt.Errorf("rebuild: take runner lock of %s: %w", p.Name, err)
				}
			}
		}
		if len(rb.types) > 0 {
			for limit := rebuildBatch / 5; ; {
				evs, err := eventstore.ReadAll(ctx, tx, eventstore.Filter{After: rb.cursor, EventTypes: rb.types, Limit: limit})
				if err != nil {
					return err
				}
				if len(evs) == 0 {
					break
				}
				b, err := rb.statements(evs)
				if err != nil {
					return err
				}
				if err := b.exec(ctx, tx); err != nil {
					return fmt.Errorf("rebuild: apply final events: %w", err)
				}
				rb.cursor = evs[len(evs)-1].Cursor()
				rb.advance(int64(len(evs)), -1)
				if len(evs) < limit {
					break
				}
				limit = batchLimit(evs)
			}
		}
		// Async projections resume after the last event of the whole log.
		head, err := headCursor(ctx, tx, false)
		if err != nil {
			return err
		}
		if rb.cursor.Less(head) {
			rb.cursor = head
		}
		if err := swapTables(ctx, tx, rb.tables); err != nil {
			return err
		}
		names := make([]string, len(rb.ps))
		for i, p := range rb.ps {
			names[i] = p.Name
		}
		if _, err := tx.Exec(ctx, `UPDATE projection_state SET tx_id = $2::text::xid8, position = $3, state = $4,
			error = '', failed_position = NULL, last_rebuild = clock_timestamp(), updated_at = clock_timestamp()
			WHERE name = ANY($1)`, names, strconv.FormatUint(rb.cursor.TxID, 10), rb.cursor.Position, StateLive); err != nil {
			return fmt.Errorf("rebuild: record position: %w", err)
		}
		return nil
	})
	if err != nil {
		rb.mu.Lock()
		rb.cursor, rb.done = cursor, done
		rb.mu.Unlock()
		return err
	}
	rb.report()
	return nil
}

// swapTables replaces each live table by its shadow and gives the shadow's
// indexes (and so their constraints) the names the live ones had, so every
// rebuild leaves the same schema behind. It runs in four round trips
// whatever the number of tables: the swap holds every append back.
func swapTables(ctx context.Context, tx pgx.Tx, tables []string) error {
	names, err := indexNames(ctx, tx, tables)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	for _, t := range tables {
		for _, q := range []string{
			"ALTER TABLE " + ident(t) + " RENAME TO " + ident(t+"_old"),
			"ALTER TABLE " + ident(t+"_shadow") + " RENAME TO " + ident(t),
			"DROP TABLE " + ident(t+"_old"),
		} {
			b.Queue(q)
		}
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("rebuild: swap tables: %w", err)
	}
	fresh, err := indexNames(ctx, tx, tables)
	if err != nil {
		return err
	}
	b = &pgx.Batch{}
	for i := range tables {
		for def, name := range fresh[i] {
			if old, ok := names[i][def]; ok && old != name {
				b.Queue("ALTER INDEX " + ident(name) + " RENAME TO " + ident(old))
			}
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("rebuild: rename the indexes of the swapped tables: %w", err)
	}
	return nil
}

// indexNames maps, for each table, each of its indexes, by its definition
// without names, to its name.
func indexNames(ctx context.Context, tx pgx.Tx, tables []string) ([]map[string]string, error) {
	quoted := make([]string, len(tables))
	for i, t := range tables {
		quoted[i] = ident(t)
	}
	rows, err := tx.Query(ctx, `SELECT t.n, c.relname, i.indisunique::text || substring(pg_get_indexdef(i.indexrelid) FROM ' USING .*$')
		FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n)
		JOIN pg_index i ON i.indrelid = t.name::regclass
		JOIN pg_class c ON c.oid = i.indexrelid
		ORDER BY t.n, c.relname`, quoted)
	if err != nil {
		return nil, fmt.Errorf("rebuild: list indexes: %w", err)
	}
	out := make([]map[string]string, len(tables))
	for i := range out {
		out[i] = map[string]string{}
	}
	var n int64
	var name, def string
	_, err = pgx.ForEachRow(rows, []any{&n, &name, &def}, func() error {
		if _, dup := out[n-1][def]; !dup {
			out[n-1][def] = name
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rebuild: list indexes: %w", err)
	}
	return out, nil
}

// rebuildHeap is how far beyond what the process holds TuneGC lets a
// rebuild grow the process's memory before the collector runs.
const rebuildHeap = 160 << 20

// TuneGC has the garbage collector of a process whose job is a rebuild (the
// CLI, the benchmark) run only when the process's memory has grown by 160
// MiB, instead of whenever the heap doubles. A rebuild allocates fast and
// keeps little (a few batches, about 30 MiB), so this saves most of the
// collection work, about a tenth of a rebuild's time; the CLI's peak RSS
// stays under 256 MiB. GOGC or GOMEMLIMIT in the environment win. The
// returned function restores the settings.
//
// The limit counts from what the process holds already: a fixed 160 MiB in a
// process that held 130 MiB (the benchmark's, after its server's load: live
// objects and the partly used spans around them) left the rebuild so little
// room that the collector ran without pause, capped at half the CPU: 12.4 of
// the 13.4 s a 78,100-event rebuild took.
func TuneGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	limit := debug.SetMemoryLimit(int64(heldMemory()) + rebuildHeap)
	percent := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}

// heldMemory is the memory the Go runtime holds from the OS: what
// GOMEMLIMIT counts.
func heldMemory() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}
