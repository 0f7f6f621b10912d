package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type hookFunc func(ctx context.Context, tx pgx.Tx, events []eventstore.Event) error

func (f hookFunc) ApplyInline(ctx context.Context, tx pgx.Tx, events []eventstore.Event) error {
	return f(ctx, tx, events)
}

// TestNoSkippedEvents: writers whose commits are deliberately delayed (their
// transaction holds its events open while later ones commit) against a reader
// that polls and resumes from its cursor. The reader must see every committed
// event exactly once, in cursor order.
func TestNoSkippedEvents(t *testing.T) {
	pool := pgtest.Pool(t)
	delay := hookFunc(func(ctx context.Context, tx pgx.Tx, events []eventstore.Event) error {
		if rand.Intn(3) == 0 {
			time.Sleep(time.Duration(rand.Intn(15)) * time.Millisecond)
		}
		return nil
	})
	s := eventstore.NewPostgres(pool, delay)
	ctx := context.Background()
	const writers, perWriter = 8, 300
	var done atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				a := one(agg(fmt.Sprintf("w%d-%d", w, i)), 0, "thing.added")
				if i%5 == 0 {
					a.Aggregates[0].Events = append(a.Aggregates[0].Events, eventstore.PendingEvent{Type: "thing.more"})
				}
				if _, err := s.Append(ctx, a); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	go func() { wg.Wait(); done.Store(true) }()

	seen := map[int64]int{}
	var cursor eventstore.Cursor
	read := func() int {
		batch, err := s.Read(ctx, eventstore.Filter{After: cursor, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range batch {
			if !cursor.Less(e.Cursor()) {
				t.Fatalf("out of order: %v after %v", e.Cursor(), cursor)
			}
			cursor = e.Cursor()
			seen[e.Position]++
		}
		return len(batch)
	}
	for !done.Load() {
		read()
		time.Sleep(time.Millisecond)
	}
	for read() > 0 {
	}
	var total int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&total); err != nil {
		t.Fatal(err)
	}
	want := writers * (perWriter + perWriter/5)
	if total != want || len(seen) != total {
		t.Fatalf("table has %d events (want %d); reader saw %d distinct", total, want, len(seen))
	}
	for p, n := range seen {
		if n != 1 {
			t.Fatalf("position %d seen %d times", p, n)
		}
	}
}

// TestSubscribeDeliversInOrder checks the LISTEN/NOTIFY-driven subscription.
func TestSubscribeDeliversInOrder(t *testing.T) {
	pool := pgtest.Pool(t)
	s := eventstore.NewPostgres(pool, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 200
	got := make(chan eventstore.Event, n)
	go func() {
		_ = s.Subscribe(ctx, eventstore.Filter{}, 2*time.Second, func(e eventstore.Event) error {
			got <- e
			return nil
		})
	}()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < n/4; i++ {
				if _, err := s.Append(ctx, one(agg(fmt.Sprintf("s%d-%d", w, i)), 0, "thing.added")); err != nil {
					t.Error(err)
				}
			}
		}(w)
	}
	wg.Wait()
	var last eventstore.Cursor
	for i := 0; i < n; i++ {
		select {
		case e := <-got:
			if !last.Less(e.Cursor()) {
				t.Fatalf("out of order at %d", i)
			}
			last = e.Cursor()
		case <-ctx.Done():
			t.Fatalf("only %d of %d delivered", i, n)
		}
	}
}

// TestInlineFailureIsAtomic: a failing inline reducer leaves neither the
// events nor its rows nor the unique constraints behind.
func TestInlineFailureIsAtomic(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE TABLE side (id text PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("reducer failed")
	s := eventstore.NewPostgres(pool, hookFunc(func(ctx context.Context, tx pgx.Tx, events []eventstore.Event) error {
		if _, err := tx.Exec(ctx, "INSERT INTO side VALUES ($1)", events[0].AggregateID); err != nil {
			return err
		}
		return boom
	}))
	a := one(agg("x"), 0, "thing.added")
	a.Constraints = []eventstore.UniqueConstraint{{InstanceID: "i1", Type: "name", Value: "x"}}
	if _, err := s.Append(ctx, a); !errors.Is(err, boom) {
		t.Fatalf("want reducer error, got %v", err)
	}
	var events, rows, uniques int
	_ = pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM side), (SELECT count(*) FROM unique_constraints)").Scan(&events, &rows, &uniques)
	if events+rows+uniques != 0 {
		t.Fatalf("half-written: events=%d rows=%d uniques=%d", events, rows, uniques)
	}
}

// TestAppendTakesTheAppendLock: an append holds AppendLockKey in shared mode
// (its first event's insert takes it), so while a projection swap holds it
// exclusively an append waits, and goes through once the swap is done.
func TestAppendTakesTheAppendLock(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	s := eventstore.NewPostgres(pool, nil)
	swap, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer swap.Rollback(ctx) //nolint:errcheck
	if _, err := swap.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", eventstore.AppendLockKey); err != nil {
		t.Fatal(err)
	}
	a := one(agg("x"), 0, "thing.added", "thing.changed")
	a.Aggregates = append(a.Aggregates, one(agg("y"), 0, "thing.added").Aggregates...)
	done := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, a)
		done <- err
	}()
	for waiting := 0; waiting == 0; {
		select {
		case err := <-done:
			t.Fatalf("the append finished (%v) while the append lock was held exclusively", err)
		default:
		}
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
            AND classid = 0 AND objid = $1 AND mode = 'ShareLock'`, eventstore.AppendLockKey).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	if err := swap.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d events (%v), want 3", n, err)
	}
}

func TestEventsAreAppendOnly(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	s := eventstore.NewPostgres(pool, nil)
	if _, err := s.Append(ctx, one(agg("a"), 0, "thing.added")); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"UPDATE events SET payload = '{}'", "DELETE FROM events", "TRUNCATE events"} {
		if _, err := pool.Exec(ctx, q); err == nil {
			t.Fatalf("%s was allowed", q)
		}
	}
}

// TestVerifyDetectsTampering changes one payload byte, deletes an event and
// swaps two events, each on a fresh log, and expects Verify to name the event.
func TestVerifyDetectsTampering(t *testing.T) {
	setup := func(t *testing.T) (*eventstore.Postgres, *pgxpool.Pool) {
		pool := pgtest.Pool(t)
		s := eventstore.NewPostgres(pool, nil)
		for _, id := range []string{"a", "b"} {
			if _, err := s.Append(context.Background(), one(agg(id), 0, "thing.added", "thing.renamed", "thing.changed", "thing.removed")); err != nil {
				t.Fatal(err)
			}
		}
		r, err := s.Verify(context.Background(), 0)
		if err != nil || r.First != nil || r.Events != 8 || r.Aggregates != 2 {
			t.Fatalf("intact log: %+v %v", r, err)
		}
		return s, pool
	}
	// An attacker with table access: bypass the append-only trigger.
	tamper := func(t *testing.T, pool *pgxpool.Pool, q string) {
		ctx := context.Background()
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		for _, stmt := range []string{"SET LOCAL session_replication_role = replica", q} {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, sql string
		seq       uint64
		reason    string
	}{
		{"payload byte changed", `UPDATE events SET payload = '{"t": "thing.renamex"}' WHERE aggregate_id = 'b' AND sequence = 2`, 2, "hash mismatch"},
		{"event deleted", `DELETE FROM events WHERE aggregate_id = 'b' AND sequence = 2`, 3, "sequence gap"},
		{"events swapped", `UPDATE events SET sequence = 1000 WHERE aggregate_id = 'b' AND sequence = 2;
			UPDATE events SET sequence = 2 WHERE aggregate_id = 'b' AND sequence = 3;
			UPDATE events SET sequence = 3 WHERE aggregate_id = 'b' AND sequence = 1000`, 3, "hash mismatch"},
		{"creator changed", `UPDATE events SET creator = 'mallory' WHERE aggregate_id = 'b' AND sequence = 3`, 3, "hash mismatch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, pool := setup(t)
			tamper(t, pool, c.sql)
			r, err := s.Verify(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if r.First == nil || r.First.Aggregate.ID != "b" || r.First.Sequence != c.seq || !contains(r.First.Reason, c.reason) {
				t.Fatalf("want b/%d %q, got %+v", c.seq, c.reason, r.First)
			}
		})
	}
}

// TestCheckpointDetectsTailDeletion: deleting an aggregate's newest events,
// which its hash chain cannot show, or a whole aggregate, changes the
// checkpoint recomputed at a cursor recorded before; appends after the cursor
// do not.
func TestCheckpointDetectsTailDeletion(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ name, sql string }{
		{"newest event deleted", `DELETE FROM events WHERE aggregate_id = 'b' AND sequence = 4`},
		{"aggregate deleted", `DELETE FROM events WHERE aggregate_id = 'a'`},
		{"newest event re-hashed", `UPDATE events SET hash = sha256(hash) WHERE aggregate_id = 'b' AND sequence = 4`},
	} {
		t.Run(c.name, func(t *testing.T) {
			pool := pgtest.Pool(t)
			s := eventstore.NewPostgres(pool, nil)
			for _, id := range []string{"a", "b"} {
				if _, err := s.Append(ctx, one(agg(id), 0, "thing.added", "thing.renamed", "thing.changed", "thing.removed")); err != nil {
					t.Fatal(err)
				}
			}
			cp, err := s.Checkpoint(ctx)
			if err != nil || cp.Events != 8 || cp.Aggregates != 2 || cp.Cursor.Position == 0 {
				t.Fatalf("checkpoint %+v %v", cp, err)
			}
			parsed, err := eventstore.ParseCheckpoint(cp.String() + "\n")
			if err != nil || parsed != cp {
				t.Fatalf("round trip of %q: %+v %v", cp.String(), parsed, err)
			}
			// later appends, to a checkpointed aggregate and a new one
			for _, a := range []eventstore.Append{one(agg("a"), 4, "thing.changed"), one(agg("c"), 0, "thing.added")} {
				if _, err := s.Append(ctx, a); err != nil {
					t.Fatal(err)
				}
			}
			if again, err := s.CheckpointAt(ctx, cp.Cursor); err != nil || again != cp {
				t.Fatalf("recomputed after appends: %+v, want %+v (%v)", again, cp, err)
			}
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{"SET LOCAL session_replication_role = replica", c.sql} {
				if _, err := tx.Exec(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if after, err := s.CheckpointAt(ctx, cp.Cursor); err != nil || after.Digest == cp.Digest {
				t.Fatalf("the checkpoint did not change: %+v (%v)", after, err)
			}
		})
	}
	if _, err := eventstore.ParseCheckpoint("idledger-checkpoint v1 tx=1 position=2 events=3 aggregates=1 sha256=xyz"); err == nil {
		t.Fatal("a bad digest parsed")
	}
}

// TestCheckpointCursorOrdersTransactionIDsAsNumbers: a checkpoint is taken
// at the event with the highest transaction ID as a number (10 after 9), not
// as text. A stand-in events table holds crafted IDs.
func TestCheckpointCursorOrdersTransactionIDsAsNumbers(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	admin, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(ctx, `CREATE SCHEMA standin;
        CREATE TABLE standin.events (instance_id text, aggregate_type text, aggregate_id text, sequence bigint,
            tx_id xid8, position bigint, hash bytea);
        INSERT INTO standin.events VALUES ('i', 't', 'a', 1, '9', 7, '\x01'), ('i', 't', 'a', 2, '10', 3, '\x02')`); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = "standin"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	cp, err := eventstore.NewPostgres(pool, nil).Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Cursor.TxID != 10 || cp.Cursor.Position != 3 || cp.Events != 2 {
		t.Fatalf("checkpoint %+v, want the cursor of tx 10 position 3 and both events", cp)
	}
}

func contains(s, sub string) bool {
	return len(s) >= len(sub) && (s == sub || len(sub) == 0 || indexOf(s, sub) >= 0)
}
func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func BenchmarkAppendSingle(b *testing.B) {
	s := eventstore.NewPostgres(pgtest.Pool(b), nil)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Append(ctx, one(agg(fmt.Sprint("b", i)), 0, "thing.added")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendBatch10(b *testing.B) {
	s := eventstore.NewPostgres(pgtest.Pool(b), nil)
	ctx := context.Background()
	types := make([]string, 10)
	for i := range types {
		types[i] = "thing.changed"
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Append(ctx, one(agg(fmt.Sprint("b", i)), 0, types...)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBarrierSeesEarlierCommits: a one-shot read after Barrier sees every
// event committed before the call, even while a slower transaction that
// started earlier holds the horizon back at call time.
func TestBarrierSeesEarlierCommits(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	inserted := make(chan struct{})
	s := eventstore.NewPostgres(pool, hookFunc(func(ctx context.Context, tx pgx.Tx, ev []eventstore.Event) error {
		if ev[0].AggregateID == "slow" {
			close(inserted) // its event (and transaction ID) exists, uncommitted
			time.Sleep(300 * time.Millisecond)
		}
		return nil
	}))
	done := make(chan error, 1)
	go func() { _, err := s.Append(ctx, one(agg("slow"), 0, "thing.added")); done <- err }()
	<-inserted
	if _, err := s.Append(ctx, one(agg("fast"), 0, "thing.added")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Read(ctx, eventstore.Filter{}); len(got) != 0 {
		t.Fatalf("without the barrier the slow transaction must hold the horizon back, got %d", len(got))
	}
	if err := s.Barrier(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	got, err := s.Read(ctx, eventstore.Filter{})
	if err != nil || len(got) != 2 {
		t.Fatalf("after the barrier: %d events, %v", len(got), err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// batchHook queues its statements into the append's own batch
// (eventstore.InlineBatcher), as the projection registry does.
type batchHook func(b *pgx.Batch, events []eventstore.Event) error

func (f batchHook) ApplyInline(context.Context, pgx.Tx, []eventstore.Event) error {
	return errors.New("a batcher's transaction path must not be used")
}

func (f batchHook) QueueInline(b *pgx.Batch, events []eventstore.Event) error { return f(b, events) }

// roundTrips counts what a pool sends: each query and each batch is one
// round trip (pgx's prepares for a new statement come on top, once per
// connection). The notifier's pg_notify, sent beside the append, is left out.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if d.SQL != "SELECT pg_notify($1, '')" {
		r.n.Add(1)
	}
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// TestPipelinedAppend: with an InlineBatcher hook an append, its unique
// constraints and its inline statements are one round trip; a failure in
// any part of it (an inline statement, a taken value, a stale sequence)
// leaves nothing behind and maps to the same errors as before.
func TestPipelinedAppend(t *testing.T) {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	trips := &roundTrips{}
	cfg.ConnConfig.Tracer = trips
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, "CREATE TABLE side (id text PRIMARY KEY, at timestamptz NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	fail := ""
	s := eventstore.NewPostgres(pool, batchHook(func(b *pgx.Batch, events []eventstore.Event) error {
		for _, e := range events {
			b.Queue("INSERT INTO side VALUES ($1, $2)", e.AggregateID+":"+strconv.Itoa(int(e.Sequence)), e.CreatedAt)
			if e.AggregateID == fail {
				b.Queue("SELECT 1 / 0")
			}
		}
		return nil
	}))
	count := func() (events, rows, uniques int) {
		t.Helper()
		if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM side), (SELECT count(*) FROM unique_constraints)").Scan(&events, &rows, &uniques); err != nil {
			t.Fatal(err)
		}
		return
	}
	withName := func(a eventstore.Append, v string) eventstore.Append {
		a.Constraints = []eventstore.UniqueConstraint{{InstanceID: "i1", Type: "name", Value: v}}
		return a
	}

	// warm the connection's statement cache, then count
	if _, err := s.Append(ctx, withName(one(agg("warm"), 0, "thing.added"), "warm")); err != nil {
		t.Fatal(err)
	}
	before := trips.n.Load()
	evs, err := s.Append(ctx, withName(one(agg("a"), 0, "thing.added"), "a"))
	if err != nil {
		t.Fatal(err)
	}
	if n := trips.n.Load() - before; n != 1 {
		t.Fatalf("an append took %d round trips, want 1", n)
	}
	var at time.Time
	if err := pool.QueryRow(ctx, "SELECT created_at FROM events WHERE aggregate_id = 'a'").Scan(&at); err != nil || !at.Equal(evs[0].CreatedAt) {
		t.Fatalf("stored created_at %v, returned %v (%v)", at, evs[0].CreatedAt, err)
	}
	if err := pool.QueryRow(ctx, "SELECT at FROM side WHERE id = 'a:1'").Scan(&at); err != nil || !at.Equal(evs[0].CreatedAt) {
		t.Fatalf("inline row has %v, the event %v (%v)", at, evs[0].CreatedAt, err)
	}
	e0, r0, u0 := count()

	fail = "b"
	if _, err := s.Append(ctx, withName(one(agg("b"), 0, "thing.added"), "b")); err == nil || !strings.Contains(err.Error(), "inline projections") {
		t.Fatalf("want the inline statement's error, got %v", err)
	}
	var ce *eventstore.ConstraintError
	if _, err := s.Append(ctx, withName(one(agg("c"), 0, "thing.added"), "a")); !errors.As(err, &ce) {
		t.Fatalf("want a ConstraintError, got %v", err)
	}
	if _, err := s.Append(ctx, withName(one(agg("a"), 0, "thing.added"), "d")); !eventstore.IsConcurrency(err) {
		t.Fatalf("want a ConcurrencyError, got %v", err)
	}
	hold := eventstore.UniqueConstraint{InstanceID: "i1", Type: "name", Value: "nobody", Hold: true}
	a := one(agg("e"), 0, "thing.added")
	a.Constraints = []eventstore.UniqueConstraint{{InstanceID: "i1", Type: "name", Value: "e"}, hold}
	var cc *eventstore.ConstraintChangedError
	if _, err := s.Append(ctx, a); !errors.As(err, &cc) {
		t.Fatalf("want a ConstraintChangedError, got %v", err)
	}
	if e, r, u := count(); e != e0 || r != r0 || u != u0 {
		t.Fatalf("half-written: events %d→%d, rows %d→%d, uniques %d→%d", e0, e, r0, r, u0, u)
	}
	// and the connection is usable again, outside any transaction
	fail = ""
	if _, err := s.Append(ctx, withName(one(agg("b"), 0, "thing.added"), "b")); err != nil {
		t.Fatal(err)
	}
}

// TestStatementsKeepGenericPlans: the statements of an append and of a load
// are planned once per connection, not at every execution. PostgreSQL plans
// a prepared statement anew for its first 5 executions and then keeps a
// generic plan unless that looks costlier than the custom ones; a statement
// that stays on custom plans (as a lateral join over array parameters did)
// pays the planner on every request.
func TestStatementsKeepGenericPlans(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Connect(t, pgtest.URL(t), 1) // one session: its prepared statements
	s := eventstore.NewPostgres(pool, nil)
	for i := range 9 {
		a := one(agg("g"+strconv.Itoa(i)), 0, "thing.added", "thing.changed")
		a.Aggregates = append(a.Aggregates, one(agg("h"+strconv.Itoa(i)), 0, "thing.added").Aggregates...)
		a.Constraints = []eventstore.UniqueConstraint{{InstanceID: "i1", Type: "name", Value: "g" + strconv.Itoa(i)}}
		if i > 0 { // and a hold of the first value
			a.Constraints = append(a.Constraints, eventstore.UniqueConstraint{InstanceID: "i1", Type: "name", Value: "g0", Hold: true})
		}
		if _, err := s.Append(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := s.Load(ctx, eventstore.LoadEnds(agg("g"+strconv.Itoa(i))), eventstore.LoadEnds(agg("h"+strconv.Itoa(i))),
			eventstore.LoadAggregate(agg("g"+strconv.Itoa(i)), 0),
			eventstore.LoadTypes(agg("g"+strconv.Itoa(i)), []string{"thing.changed"})); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := pool.Query(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements
        WHERE generic_plans + custom_plans >= 8`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var stmt string
		var generic, custom int64
		if err := rows.Scan(&stmt, &generic, &custom); err != nil {
			t.Fatal(err)
		}
		n++
		if custom > 5 {
			t.Errorf("planned at every execution (%d custom, %d generic plans):\n%s", custom, generic, stmt)
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if n < 7 { // the first insert, the next insert, the claim, the hold, the ends, the aggregate, the typed load
		t.Fatalf("only %d statements ran 8 times or more", n)
	}
}

// TestReadScansEveryColumn: events read back carry exactly the columns
// stored, row after row, when a text column repeats the row before, changes,
// or becomes empty (the scanner keeps the previous row's strings and scans
// the transaction ID without a string).
func TestReadScansEveryColumn(t *testing.T) {
	s, ctx := eventstore.NewPostgres(pgtest.Pool(t), nil), context.Background()
	type w struct {
		id, owner, typ string
		meta           eventstore.Metadata
	}
	heads := map[string]uint64{}
	for i, a := range []w{
		{"a", "o1", "thing.added", eventstore.Metadata{Creator: "u1", RequestID: "r1", ClientIP: "10.0.0.1", UserAgent: "ua1"}},
		{"b", "o2", "thing.added", eventstore.Metadata{Creator: "u2", RequestID: "r2", UserAgent: "ua2"}},
		{"a", "o1", "thing.changed", eventstore.Metadata{Creator: "u1", RequestID: "r3", ClientIP: "10.0.0.1"}},
		{"a", "o1", "thing.changed", eventstore.Metadata{}},
		{"c", "o3", "thing.removed", eventstore.Metadata{Creator: "u1", RequestID: "r3", ClientIP: "10.0.0.3", UserAgent: "ua1"}},
	} {
		ag := eventstore.AggregateAppend{Aggregate: agg(a.id), ResourceOwner: a.owner, Expected: heads[a.id],
			Events: []eventstore.PendingEvent{{Type: a.typ, Payload: map[string]int{"n": i}}, {Type: a.typ + "2"}}}
		if _, err := s.Append(ctx, eventstore.Append{Aggregates: []eventstore.AggregateAppend{ag}, Meta: a.meta}); err != nil {
			t.Fatal(err)
		}
		heads[a.id] += 2
	}
	got, err := s.Read(ctx, eventstore.Filter{InstanceID: "i1"})
	if err != nil || len(got) != 10 {
		t.Fatalf("read: %d events, %v", len(got), err)
	}
	loaded, err := s.Aggregate(ctx, agg("a"), 0)
	if err != nil || len(loaded) != 6 {
		t.Fatalf("aggregate a: %d events, %v", len(loaded), err)
	}
	for _, e := range append(got, loaded...) {
		var want eventstore.Event
		var seq int64
		var tx, payload string
		if err := s.Pool().QueryRow(ctx, `SELECT instance_id, aggregate_type, aggregate_id, sequence, event_type,
            payload::text, resource_owner, creator, request_id, client_ip, user_agent, tx_id::text, hash
            FROM events WHERE position = $1`, e.Position).Scan(&want.InstanceID, &want.AggregateType, &want.AggregateID,
			&seq, &want.Type, &payload, &want.ResourceOwner, &want.Creator, &want.RequestID, &want.ClientIP,
			&want.UserAgent, &tx, &want.Hash); err != nil {
			t.Fatal(err)
		}
		txid, err := strconv.ParseUint(tx, 10, 64)
		if err != nil || txid == 0 {
			t.Fatalf("tx_id %q: %v", tx, err)
		}
		row := fmt.Sprintf("%s %s %s %d %s %s %s %s %s %s %d %x", want.InstanceID, want.AggregateType, want.AggregateID, seq,
			want.Type, want.ResourceOwner, want.Creator, want.RequestID, want.ClientIP, want.UserAgent, txid, want.Hash)
		read := fmt.Sprintf("%s %s %s %d %s %s %s %s %s %s %d %x", e.InstanceID, e.AggregateType, e.AggregateID, e.Sequence,
			e.Type, e.ResourceOwner, e.Creator, e.RequestID, e.ClientIP, e.UserAgent, e.TxID, e.Hash)
		if read != row || len(e.Hash) == 0 {
			t.Errorf("event at %d:\n read %s\n want %s", e.Position, read, row)
		}
		var p1, p2 any
		if err := json.Unmarshal(e.Payload, &p1); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal([]byte(payload), &p2)
		if fmt.Sprint(p1) != fmt.Sprint(p2) {
			t.Errorf("event at %d: payload %s, want %s", e.Position, e.Payload, payload)
		}
	}
}

// TestReadLeanIsReadWithoutRequestColumns: ReadLean returns the events Read
// returns, in the same order and with the same cursors, with only the
// request ID, client IP, user agent and hash left empty.
func TestReadLeanIsReadWithoutRequestColumns(t *testing.T) {
	pool := pgtest.Pool(t)
	s := eventstore.NewPostgres(pool, nil)
	ctx := context.Background()
	for i := range 30 {
		a := one(agg(fmt.Sprintf("lean%d", i)), 0, "thing.added", "thing.changed", "other.added")
		a.Meta = eventstore.Metadata{Creator: "u" + strconv.Itoa(i), RequestID: "r" + strconv.Itoa(i), ClientIP: "::1", UserAgent: "Mozilla/5.0 (ä)"}
		if _, err := s.Append(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	full, err := s.Read(ctx, eventstore.Filter{EventTypes: []string{"thing."}, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var after eventstore.Cursor
	var lean []eventstore.Event
	for {
		page, err := s.ReadLean(ctx, eventstore.Filter{After: after, EventTypes: []string{"thing."}, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		lean = append(lean, page...)
		if len(page) < 7 || len(lean) >= 50 {
			break
		}
		after = page[len(page)-1].Cursor()
	}
	lean = lean[:min(len(lean), 50)]
	if len(full) != 50 || len(lean) != 50 {
		t.Fatalf("read %d events, lean %d; want 50 each", len(full), len(lean))
	}
	for i, e := range full {
		if e.RequestID == "" || e.UserAgent == "" || e.ClientIP == "" || len(e.Hash) == 0 {
			t.Fatalf("event %d read without its request columns: %+v", i, e)
		}
		e.RequestID, e.ClientIP, e.UserAgent, e.Hash = "", "", "", nil
		l := lean[i]
		if fmt.Sprintf("%+v", e) != fmt.Sprintf("%+v", l) || l.Cursor() != e.Cursor() {
			t.Fatalf("event %d:\n read %+v\n lean %+v", i, e, l)
		}
	}
}
