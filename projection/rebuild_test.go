package projection

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The test projection: items with a name, and their links. Its own tables,
// so these tests do not depend on the areas' reducers.
const itemsSchema = `
CREATE TABLE test_items (
    instance_id text NOT NULL,
    id          text NOT NULL,
    owner       text NOT NULL,
    name        text NOT NULL CHECK (name <> 'bad-sql'),
    version     bigint NOT NULL,
    changed_at  timestamptz NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX test_items_owner_idx ON test_items (instance_id, owner, name);
CREATE TABLE test_links (
    instance_id text NOT NULL,
    item_id     text NOT NULL,
    link        text NOT NULL,
    PRIMARY KEY (instance_id, item_id, link)
);`

type itemPayload struct {
	DisplayName string `json:"displayName,omitempty"`
	Link        string `json:"link,omitempty"`
}

func itemsProjection(name string, tables ...string) *Projection {
	items, links := "test_items", "test_links"
	if len(tables) == 2 {
		items, links = tables[0], tables[1]
	}
	return &Projection{
		Name:       name,
		Tables:     []string{items, links},
		EventTypes: []string{"testitem."},
		Reduce: func(e *eventstore.Event, t Tables) ([]Statement, error) {
			var p itemPayload
			if err := e.Unmarshal(&p); err != nil {
				return nil, err
			}
			it, ln := t.T(items), t.T(links)
			switch e.Type {
			case "testitem.added":
				return []Statement{{SQL: "INSERT INTO " + it + " (instance_id, id, owner, name, version, changed_at) VALUES ($1, $2, $3, $4, $5, $6)",
					Args: []any{e.InstanceID, e.AggregateID, e.ResourceOwner, p.DisplayName, int64(e.Sequence), e.CreatedAt}}}, nil
			case "testitem.renamed":
				return []Statement{{SQL: "UPDATE " + it + " SET name = $3, version = $4, changed_at = $5 WHERE instance_id = $1 AND id = $2",
					Args: []any{e.InstanceID, e.AggregateID, p.DisplayName, int64(e.Sequence), e.CreatedAt}}}, nil
			case "testitem.linked":
				return []Statement{{SQL: "INSERT INTO " + ln + " (instance_id, item_id, link) VALUES ($1, $2, $3)",
					Args: []any{e.InstanceID, e.AggregateID, p.Link}}}, nil
			case "testitem.unlinked":
				return []Statement{{SQL: "DELETE FROM " + ln + " WHERE instance_id = $1 AND item_id = $2 AND link = $3",
					Args: []any{e.InstanceID, e.AggregateID, p.Link}}}, nil
			case "testitem.removed":
				return []Statement{
					{SQL: "DELETE FROM " + ln + " WHERE instance_id = $1 AND item_id = $2", Args: []any{e.InstanceID, e.AggregateID}},
					{SQL: "DELETE FROM " + it + " WHERE instance_id = $1 AND id = $2", Args: []any{e.InstanceID, e.AggregateID}},
				}, nil
			}
			return nil, nil
		},
	}
}

// writeUntilStopped calls write(0), write(1), … in a goroutine, each after
// a pause (none when pause is 0), until stop is called or write fails.
// stop waits for the goroutine and returns write's error.
func writeUntilStopped(pause time.Duration, write func(i int) error) (stop func() error) {
	quit, done := make(chan struct{}), make(chan struct{})
	var err error
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			default:
			}
			if pause > 0 {
				select {
				case <-quit:
					return
				case <-time.After(pause):
				}
			}
			if err = write(i); err != nil {
				return
			}
		}
	}()
	return func() error {
		close(quit)
		<-done
		return err
	}
}

type env struct {
	pool  *pgxpool.Pool
	store *eventstore.Postgres
	reg   *Registry
}

func setup(t *testing.T, reg *Registry, schema string) *env {
	t.Helper()
	pool := pgtest.Pool(t)
	if schema != "" {
		if _, err := pool.Exec(context.Background(), schema); err != nil {
			t.Fatal(err)
		}
	}
	return &env{pool: pool, store: eventstore.NewPostgres(pool, reg), reg: reg}
}

func item(id string, expected uint64, evs ...eventstore.PendingEvent) eventstore.AggregateAppend {
	return eventstore.AggregateAppend{
		Aggregate:     eventstore.AggregateRef{InstanceID: "inst1", Type: "testitem", ID: id},
		ResourceOwner: "org" + id[len(id)-1:], Expected: expected, Events: evs,
	}
}

func ev(typ string, p itemPayload) eventstore.PendingEvent {
	return eventstore.PendingEvent{Type: typ, Revision: 2, Payload: p}
}

// workload appends a mixed history to items prefix0..prefix(n-1), many
// aggregates per append: adds, renames, links, unlinks and removals.
func workload(t testing.TB, s eventstore.Store, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	const perAppend = 100
	for start := 0; start < n; start += perAppend {
		var a eventstore.Append
		for i := start; i < min(n, start+perAppend); i++ {
			id := fmt.Sprintf("%s%d", prefix, i)
			evs := []eventstore.PendingEvent{
				ev("testitem.added", itemPayload{DisplayName: "item " + id}),
				ev("testitem.linked", itemPayload{Link: "a"}),
				ev("testitem.linked", itemPayload{Link: "b"}),
			}
			if i%3 == 0 {
				evs = append(evs, ev("testitem.renamed", itemPayload{DisplayName: "renamed " + id}))
			}
			if i%4 == 0 {
				evs = append(evs, ev("testitem.unlinked", itemPayload{Link: "a"}))
			}
			if i%7 == 0 {
				evs = append(evs, ev("testitem.removed", itemPayload{}))
			}
			a.Aggregates = append(a.Aggregates, item(id, 0, evs...))
		}
		if _, err := s.Append(ctx, a); err != nil {
			t.Fatalf("workload append: %v", err)
		}
	}
}

func checksum(t testing.TB, pool *pgxpool.Pool, tables ...string) string {
	t.Helper()
	var parts []string
	for _, tbl := range tables {
		var sum *string
		if err := pool.QueryRow(context.Background(), "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM "+ident(tbl)+" t").Scan(&sum); err != nil {
			t.Fatalf("checksum %s: %v", tbl, err)
		}
		s := "empty"
		if sum != nil {
			s = *sum
		}
		parts = append(parts, tbl+"="+s)
	}
	return strings.Join(parts, " ")
}

func indexesOf(t testing.TB, pool *pgxpool.Pool, table string) string {
	t.Helper()
	var s string
	err := pool.QueryRow(context.Background(), `SELECT string_agg(indexname || ':' || indexdef, '; ' ORDER BY indexname)
		FROM pg_indexes WHERE tablename = $1`, table).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// leftLive checks that a failed rebuild left the live tables as they were
// (before is their checksum) and the projection live.
func leftLive(t *testing.T, e *env, before string) {
	t.Helper()
	if got := checksum(t, e.pool, "test_items", "test_links"); got != before {
		t.Fatal("live tables changed by a failed rebuild")
	}
	if state, _, _, _ := stateOf(t, e.pool, "items"); state != StateLive {
		t.Fatalf("state after a failed rebuild: %s", state)
	}
}

func stateOf(t testing.TB, pool *pgxpool.Pool, name string) (state, errText string, pos int64, rebuilt bool) {
	t.Helper()
	err := pool.QueryRow(context.Background(), `SELECT state, error, position, last_rebuild IS NOT NULL FROM projection_state WHERE name = $1`, name).
		Scan(&state, &errText, &pos, &rebuilt)
	if err != nil {
		t.Fatalf("state of %s: %v", name, err)
	}
	return
}

func shadowCount(t testing.TB, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_tables WHERE tablename LIKE '%\_shadow' OR tablename LIKE '%\_old'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRebuildIsExact(t *testing.T) {
	ctx := context.Background()
	reg := NewRegistry(itemsProjection("items"))
	e := setup(t, reg, itemsSchema)
	workload(t, e.store, "x", 1500)
	before := checksum(t, e.pool, "test_items", "test_links")
	idxBefore := indexesOf(t, e.pool, "test_items")

	var calls, lastDone, lastTotal int64
	err := Rebuild(ctx, e.pool, e.store, reg, nil, func(done, total int64) {
		calls++
		lastDone, lastTotal = done, total
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := checksum(t, e.pool, "test_items", "test_links"); got != before {
		t.Fatalf("checksum after rebuild\n got %s\nwant %s", got, before)
	}
	var events int64
	_ = e.pool.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&events)
	if calls == 0 || lastDone != events || lastTotal != events {
		t.Errorf("progress: %d calls, last %d/%d, want %d/%d", calls, lastDone, lastTotal, events, events)
	}
	state, _, pos, rebuilt := stateOf(t, e.pool, "items")
	var head int64
	_ = e.pool.QueryRow(ctx, "SELECT max(position) FROM events").Scan(&head)
	if state != StateLive || pos != head || !rebuilt {
		t.Errorf("state = %s position %d (head %d) rebuilt %v", state, pos, head, rebuilt)
	}
	// A second rebuild works too, and leaves the same schema behind.
	if err := Rebuild(ctx, e.pool, e.store, reg, []string{"items"}, nil); err != nil {
		t.Fatalf("second rebuild: %v", err)
	}
	if got := checksum(t, e.pool, "test_items", "test_links"); got != before {
		t.Fatalf("checksum after second rebuild\n got %s\nwant %s", got, before)
	}
	if got := indexesOf(t, e.pool, "test_items"); got != idxBefore {
		t.Errorf("indexes changed\n got %s\nwant %s", got, idxBefore)
	}
	if n := shadowCount(t, e.pool); n != 0 {
		t.Errorf("%d shadow tables left", n)
	}
	// Inline writes after the swap land in the new live tables.
	workload(t, e.store, "after", 10)
	var n int
	_ = e.pool.QueryRow(ctx, "SELECT count(*) FROM test_items WHERE id LIKE 'after%'").Scan(&n)
	if n != 8 { // 10 added, after0 and after7 removed
		t.Errorf("items written after the swap: %d, want 8", n)
	}
}

func TestRebuildUnknownName(t *testing.T) {
	reg := NewRegistry(itemsProjection("items"))
	e := setup(t, reg, itemsSchema)
	err := Rebuild(context.Background(), e.pool, e.store, reg, []string{"nope"}, nil)
	if errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("err = %v, want NotFound", err)
	}
}

// A writer keeps appending during the rebuild; afterwards every acknowledged
// append is in the tables and they equal a rebuild made with no writer.
func TestRebuildOnline(t *testing.T) {
	ctx := context.Background()
	reg := NewRegistry(itemsProjection("items"))
	e := setup(t, reg, itemsSchema)
	workload(t, e.store, "seed", 2000)

	var acked []string
	var ackedN atomic.Int64
	stopWriter := writeUntilStopped(0, func(i int) error {
		id := fmt.Sprintf("live%d", i)
		_, err := e.store.Append(ctx, eventstore.Append{Aggregates: []eventstore.AggregateAppend{
			item(id, 0, ev("testitem.added", itemPayload{DisplayName: id}), ev("testitem.linked", itemPayload{Link: "z"})),
		}})
		if err != nil {
			return err
		}
		acked = append(acked, id)
		ackedN.Add(1)
		return nil
	})
	var slowed atomic.Bool
	err := Rebuild(ctx, e.pool, e.store, reg, nil, func(done, total int64) {
		// Let the writer get ahead during the first pass, so the rebuild
		// has to catch up.
		if done > 0 && slowed.CompareAndSwap(false, true) {
			time.Sleep(300 * time.Millisecond)
		}
	})
	duringRebuild := ackedN.Load()
	time.Sleep(50 * time.Millisecond)
	writerErr := stopWriter()
	if err != nil {
		t.Fatal(err)
	}
	if writerErr != nil {
		t.Fatalf("writer: %v", writerErr)
	}
	if duringRebuild == 0 {
		t.Fatal("no write was acknowledged during the rebuild")
	}
	t.Logf("%d appends acknowledged during the rebuild, %d in total", duringRebuild, len(acked))
	for _, id := range acked {
		var n int
		if err := e.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM test_items WHERE id = $1) + (SELECT count(*) FROM test_links WHERE item_id = $1)`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("acknowledged append %s: %d rows, want 2", id, n)
		}
	}
	online := checksum(t, e.pool, "test_items", "test_links")
	if err := Rebuild(ctx, e.pool, e.store, reg, nil, nil); err != nil {
		t.Fatal(err)
	}
	if fresh := checksum(t, e.pool, "test_items", "test_links"); fresh != online {
		t.Fatalf("online rebuild differs from a quiet one\nonline %s\nquiet  %s", online, fresh)
	}
}

func TestRebuildRefusesASecondRebuild(t *testing.T) {
	ctx := context.Background()
	reg := NewRegistry(itemsProjection("items"))
	e := setup(t, reg, itemsSchema)
	workload(t, e.store, "x", 10)

	started, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	var once sync.Once
	go func() {
		first <- Rebuild(ctx, e.pool, e.store, reg, nil, func(done, total int64) {
			once.Do(func() { close(started); <-release })
		})
	}()
	<-started
	err := Rebuild(ctx, e.pool, e.store, reg, []string{"items"}, nil)
	close(release)
	if errs.KindOf(err) != errs.KindFailedPrecondition || !strings.Contains(err.Error(), "projection items is already being rebuilt (by another process)") {
		t.Fatalf("second rebuild: %v", err)
	}
	if err := <-first; err != nil {
		t.Fatalf("first rebuild: %v", err)
	}
	// The lock is gone with the first rebuild.
	if err := Rebuild(ctx, e.pool, e.store, reg, nil, nil); err != nil {
		t.Fatalf("third rebuild: %v", err)
	}
}

func TestRebuildInterruptedLeavesLiveTables(t *testing.T) {
	reg := NewRegistry(itemsProjection("items"))
	e := setup(t, reg, itemsSchema)
	workload(t, e.store, "x", 1500) // more than one batch
	before := checksum(t, e.pool, "test_items", "test_links")
	// A halted projection stays halted after an interrupted rebuild.
	if _, err := e.pool.Exec(context.Background(), `INSERT INTO projection_state (name, state, error) VALUES ('items', 'halted', 'boom')`); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := Rebuild(ctx, e.pool, e.store, reg, nil, func(done, total int64) {
		if done > 0 {
			cancel() // Ctrl-C after the first batch
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := checksum(t, e.pool, "test_items", "test_links"); got != before {
		t.Fatalf("live tables changed by an interrupted rebuild")
	}
	if n := shadowCount(t, e.pool); n != 0 {
		t.Errorf("%d shadow tables left", n)
	}
	if state, errText, _, rebuilt := stateOf(t, e.pool, "items"); state != StateHalted || errText != "boom" || rebuilt {
		t.Errorf("state after interrupt: %s %q rebuilt=%v", state, errText, rebuilt)
	}
	// A rebuild after the interrupt succeeds and clears the halt.
	if err := Rebuild(context.Background(), e.pool, e.store, reg, nil, nil); err != nil {
		t.Fatal(err)
	}
	if state, errText, _, _ := stateOf(t, e.pool, "items"); state != StateLive || errText != "" {
		t.Errorf("state after rebuild: %s %q", state, errText)
	}
}

// A reducer that fails during a rebuild fails the rebuild, names the event
// and leaves the live tables alone.
func TestRebuildReducerErrorNamesEvent(t *testing.T) {
	ctx := context.Background()
	p := itemsProjection("items")
	reg := NewRegistry(p)
	e := setup(t, reg, itemsSchema)
	workload(t, e.store, "x", 20)
	before := checksum(t, e.pool, "test_items", "test_links")
	good := p.Reduce
	p.Reduce = func(ev *eventstore.Event, tb Tables) ([]Statement, error) {
		if ev.AggregateID == "x5" && ev.Type == "testitem.linked" {
			return nil, errors.New("cannot link")
		}
		return good(ev, tb)
	}
	err := Rebuild(ctx, e.pool, e.store, reg, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "cannot link") || !strings.Contains(err.Error(), "position") {
		t.Fatalf("err = %v", err)
	}
	// SQL errors name the event too.
	p.Reduce = func(ev *eventstore.Event, tb Tables) ([]Statement, error) {
		if ev.AggregateID == "x9" && ev.Type == "testitem.added" {
			return []Statement{{SQL: "INSERT INTO " + tb.T("test_items") + " (instance_id, id, owner, name, version, changed_at) VALUES ('i', 'x', 'o', 'bad-sql', 1, now())"}}, nil
		}
		return good(ev, tb)
	}
	err = Rebuild(ctx, e.pool, e.store, reg, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "apply testitem.added (position") {
		t.Fatalf("err = %v", err)
	}
	leftLive(t, e, before)
}

func TestRebuildThroughputSmall(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	res, err := RebuildThroughput(ctx, pool, 2001, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 2001 || res.ScanEvents != 2001 || res.EventsPerSec <= 0 || res.Ratio <= 0 {
		t.Fatalf("%+v", res)
	}
	var rows, removed int
	_ = pool.QueryRow(ctx, "SELECT count(*) FROM bench_items").Scan(&rows)
	_ = pool.QueryRow(ctx, "SELECT count(*) FROM events WHERE event_type = 'bench.item.removed'").Scan(&removed)
	if rows != 501-removed {
		t.Errorf("%d rows, %d removed of 501 aggregates", rows, removed)
	}
	// The synthetic events carry a valid hash chain.
	rep, err := eventstore.NewPostgres(pool, nil).Verify(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rep.First != nil || rep.Events != 2001 {
		t.Errorf("verify: %+v", rep)
	}
}

// BenchmarkRebuild reports events/s of a rebuild of 200,000 synthetic
// events (the bench command measures 1,000,000 with RebuildThroughput).
func BenchmarkRebuild(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.Pool(b)
	if err := SeedSynthetic(ctx, pool, 200_000); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := RebuildThroughput(ctx, pool, 0, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.EventsPerSec, "events/s")
		b.ReportMetric(res.Ratio, "ratio")
	}
}

// A long read holding a live table makes the swap time out; the rebuild
// lets writers through, catches up and swaps on a later attempt, and
// nothing the failed attempt applied is lost.
func TestRebuildSwapRetriesPastLongReads(t *testing.T) {
	ctx := context.Background()
	reg := NewRegistry(itemsProjection("items"))
	e := setup(t, reg, itemsSchema)
	workload(t, e.store, "x", 200)
	reader, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Rollback(ctx) //nolint:errcheck
	if _, err := reader.Exec(ctx, "SELECT count(*) FROM test_links"); err != nil {
		t.Fatal(err)
	}
	var acked []string
	stopWriter := writeUntilStopped(5*time.Millisecond, func(i int) error {
		id := fmt.Sprintf("live%d", i)
		if _, err := e.store.Append(ctx, eventstore.Append{Aggregates: []eventstore.AggregateAppend{
			item(id, 0, ev("testitem.added", itemPayload{DisplayName: id})),
		}}); err != nil {
			return err
		}
		acked = append(acked, id)
		return nil
	})
	go func() {
		time.Sleep(2500 * time.Millisecond) // past the first attempt's lock timeout
		_ = reader.Rollback(ctx)
	}()
	err = Rebuild(ctx, e.pool, e.store, reg, nil, nil)
	if werr := stopWriter(); werr != nil {
		t.Error(werr)
	}
	if err != nil {
		t.Fatal(err)
	}
	var n int
	_ = e.pool.QueryRow(ctx, "SELECT count(*) FROM test_items WHERE id LIKE 'live%'").Scan(&n)
	if n != len(acked) || n == 0 {
		t.Fatalf("%d live items for %d acknowledged appends", n, len(acked))
	}
	got := checksum(t, e.pool, "test_items", "test_links")
	if err := Rebuild(ctx, e.pool, e.store, reg, nil, nil); err != nil {
		t.Fatal(err)
	}
	if want := checksum(t, e.pool, "test_items", "test_links"); got != want {
		t.Fatal("rebuild after a retried swap differs from a quiet rebuild")
	}
}

// TestTuneGCCountsFromHeldMemory: the memory limit a rebuild runs under
// leaves it its headroom above what the process already holds, and restore
// puts the settings back.
func TestTuneGCCountsFromHeldMemory(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT set: TuneGC leaves the collector alone")
	}
	held := make([]byte, 256<<20) // more than rebuildHeap: a fixed limit would be below it
	for i := range held {
		held[i] = byte(i)
	}
	before := debug.SetMemoryLimit(-1)
	restore := TuneGC()
	limit := debug.SetMemoryLimit(-1)
	percent := debug.SetGCPercent(-1)
	restore()
	if limit < int64(len(held))+rebuildHeap {
		t.Errorf("limit %d MiB with %d MiB held, want at least %d MiB", limit>>20, len(held)>>20, (len(held)+rebuildHeap)>>20)
	}
	if percent != -1 {
		t.Errorf("GC percent %d under TuneGC, want -1 (off)", percent)
	}
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit after restore %d, want %d", got, before)
	}
	runtime.KeepAlive(held)
}

// TestRebuildKeepsUniqueIndexes: a unique index that backs no constraint
// (like user_idp_links_idp_idx): the rebuilt table has it again, under its
// name, and rows that break it fail the rebuild, leaving the live tables and
// the state as they were.
func TestRebuildKeepsUniqueIndexes(t *testing.T) {
	ctx := context.Background()
	p := itemsProjection("items")
	reg := NewRegistry(p)
	e := setup(t, reg, itemsSchema+`
CREATE UNIQUE INDEX test_items_name_uniq ON test_items (instance_id, name);`)
	workload(t, e.store, "x", 40)
	before := checksum(t, e.pool, "test_items", "test_links")
	indexes := indexesOf(t, e.pool, "test_items")
	if !strings.Contains(indexes, "test_items_name_uniq:CREATE UNIQUE INDEX") {
		t.Fatalf("indexes before: %s", indexes)
	}
	if err := Rebuild(ctx, e.pool, e.store, reg, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := checksum(t, e.pool, "test_items", "test_links"); got != before {
		t.Fatalf("rebuilt rows differ:\n before %s\n after  %s", before, got)
	}
	if got := indexesOf(t, e.pool, "test_items"); got != indexes {
		t.Fatalf("indexes after the rebuild:\n %s\nwant\n %s", got, indexes)
	}
	// the same log, reduced with a name two items share
	good := p.Reduce
	p.Reduce = func(ev *eventstore.Event, tb Tables) ([]Statement, error) {
		if ev.Type == "testitem.added" && (ev.AggregateID == "x1" || ev.AggregateID == "x2") {
			return []Statement{{SQL: "INSERT INTO " + tb.T("test_items") + " (instance_id, id, owner, name, version, changed_at) VALUES ($1, $2, 'o', 'same', 1, now())",
				Args: []any{ev.InstanceID, ev.AggregateID}}}, nil
		}
		return good(ev, tb)
	}
	err := Rebuild(ctx, e.pool, e.store, reg, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "unique") {
		t.Fatalf("a rebuild whose rows break the unique index: %v", err)
	}
	leftLive(t, e, before)
}
