package projection

import (
	"context"
	"errors"
	"fmt"
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

const asyncSchema = `
CREATE TABLE good_items (LIKE test_items INCLUDING ALL);
CREATE TABLE good_links (LIKE test_links INCLUDING ALL);
CREATE TABLE bad_items (LIKE test_items INCLUDING ALL);
CREATE TABLE bad_links (LIKE test_links INCLUDING ALL);`

// poisoned wraps p so it fails on events of aggregate id while broken is set.
func poisoned(p *Projection, id string, broken *atomic.Bool) *Projection {
	good := p.Reduce
	p.Reduce = func(e *eventstore.Event, t Tables) ([]Statement, error) {
		if broken.Load() && e.AggregateID == id {
			return nil, errors.New("poisoned event")
		}
		return good(e, t)
	}
	return p
}

func runUntilIdle(t *testing.T, r *Runner) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		busy, err := r.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !busy {
			return
		}
	}
	t.Fatal("runner never became idle")
}

func statusByName(t *testing.T, e *env) map[string]Status {
	t.Helper()
	sts, err := Statuses(context.Background(), e.pool, e.reg)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Status{}
	for _, s := range sts {
		out[s.Name] = s
	}
	return out
}

func TestAsyncHaltsOnlyTheFailingProjection(t *testing.T) {
	ctx := context.Background()
	var broken atomic.Bool
	broken.Store(true)
	reg := NewRegistry(itemsProjection("items"))
	reg.AddAsync(itemsProjection("good", "good_items", "good_links"),
		poisoned(itemsProjection("bad", "bad_items", "bad_links"), "x7", &broken))
	e := setup(t, reg, itemsSchema+asyncSchema)
	r := NewRunner(e.pool, e.store, reg)
	r.Batch = 50
	var halts []string
	r.OnHalt = func(name string, pos int64, err error) {
		halts = append(halts, fmt.Sprintf("%s@%d: %v", name, pos, err))
	}

	workload(t, e.store, "x", 30)
	runUntilIdle(t, r)

	var failedPos int64
	if err := e.pool.QueryRow(ctx, `SELECT min(position) FROM events WHERE aggregate_id = 'x7'`).Scan(&failedPos); err != nil {
		t.Fatal(err)
	}
	st := statusByName(t, e)
	if s := st["good"]; s.State != StateLive || s.LagEvents != 0 {
		t.Errorf("good: %+v", s)
	}
	bad := st["bad"]
	if bad.State != StateHalted || bad.FailedPosition != failedPos || !strings.Contains(bad.Error, "poisoned event") || bad.LagEvents == 0 {
		t.Errorf("bad: %+v (failed position want %d)", bad, failedPos)
	}
	if len(halts) != 1 {
		t.Errorf("OnHalt calls: %v", halts)
	}
	halted, err := HaltedProjections(ctx, e.pool)
	if err != nil || len(halted) != 1 || halted[0].Name != "bad" || halted[0].FailedPosition != failedPos {
		t.Fatalf("HaltedProjections = %+v, %v", halted, err)
	}
	// Nothing at or after the failed event was applied; everything before was.
	var later int
	_ = e.pool.QueryRow(ctx, `SELECT count(*) FROM bad_items WHERE version > 0 AND id IN
		(SELECT aggregate_id FROM events WHERE position >= $1)`, failedPos).Scan(&later)
	if later != 0 {
		t.Errorf("%d items from events after the failure were applied", later)
	}
	var before int
	_ = e.pool.QueryRow(ctx, `SELECT count(*) FROM bad_items`).Scan(&before)
	if before == 0 || bad.Position >= failedPos {
		t.Errorf("bad applied %d items, cursor %d (failed at %d)", before, bad.Position, failedPos)
	}
	// More writes: the halted projection stays put, the good one follows.
	workload(t, e.store, "y", 5)
	runUntilIdle(t, r)
	st = statusByName(t, e)
	if st["bad"].Position != bad.Position || st["bad"].LagEvents <= bad.LagEvents || st["good"].LagEvents != 0 {
		t.Errorf("after more writes: bad %+v, good %+v", st["bad"], st["good"])
	}
	var buf strings.Builder
	if err := PrintStatus(&buf, statusSlice(st)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "halted") || !strings.Contains(buf.String(), fmt.Sprintf("at position %d: ", failedPos)) {
		t.Errorf("status table:\n%s", buf.String())
	}

	// Retrying without a fix halts again at the same event.
	if err := Retry(ctx, e.pool, "bad"); err != nil {
		t.Fatal(err)
	}
	runUntilIdle(t, r)
	if s := statusByName(t, e)["bad"]; s.State != StateHalted || s.FailedPosition != failedPos {
		t.Errorf("after retry without fix: %+v", s)
	}
	// After the fix, Retry resumes it and it converges with the good one.
	broken.Store(false)
	if err := Retry(ctx, e.pool, "bad"); err != nil {
		t.Fatal(err)
	}
	runUntilIdle(t, r)
	if s := statusByName(t, e)["bad"]; s.State != StateLive || s.LagEvents != 0 || s.Error != "" {
		t.Errorf("after fix: %+v", s)
	}
	want := strings.ReplaceAll(checksum(t, e.pool, "good_items", "good_links"), "good_", "")
	if got := strings.ReplaceAll(checksum(t, e.pool, "bad_items", "bad_links"), "bad_", ""); got != want {
		t.Errorf("bad did not converge:\n got %s\nwant %s", got, want)
	}
	if want != strings.ReplaceAll(checksum(t, e.pool, "test_items", "test_links"), "test_", "") {
		t.Error("async projections differ from the inline one")
	}

	if err := Retry(ctx, e.pool, "bad"); errs.KindOf(err) != errs.KindFailedPrecondition {
		t.Errorf("retry of a live projection: %v", err)
	}
	if err := Retry(ctx, e.pool, "nope"); errs.KindOf(err) != errs.KindNotFound {
		t.Errorf("retry of an unknown projection: %v", err)
	}
}

func statusSlice(m map[string]Status) []Status {
	var out []Status
	for _, s := range m {
		out = append(out, s)
	}
	return out
}

// A statement the database rejects halts the projection at that event; the
// events before it in the same batch are applied.
func TestAsyncHaltsOnSQLError(t *testing.T) {
	ctx := context.Background()
	reg := NewRegistry()
	reg.AddAsync(itemsProjection("bad", "bad_items", "bad_links"))
	e := setup(t, reg, itemsSchema+asyncSchema)
	r := NewRunner(e.pool, e.store, reg)
	workload(t, e.store, "x", 5)
	if _, err := e.store.Append(ctx, eventstore.Append{Aggregates: []eventstore.AggregateAppend{
		item("x1", 3, ev("testitem.renamed", itemPayload{DisplayName: "bad-sql"})),
	}}); err != nil {
		t.Fatal(err)
	}
	workload(t, e.store, "y", 5)
	runUntilIdle(t, r)
	var failedPos int64
	_ = e.pool.QueryRow(ctx, `SELECT position FROM events WHERE aggregate_id = 'x1' AND sequence = 4`).Scan(&failedPos)
	s := statusByName(t, e)["bad"]
	if s.State != StateHalted || s.FailedPosition != failedPos || !strings.Contains(s.Error, "check constraint") {
		t.Fatalf("status %+v, want halted at %d", s, failedPos)
	}
	var n int
	_ = e.pool.QueryRow(ctx, `SELECT count(*) FROM bad_items`).Scan(&n)
	if n != 4 { // x0..x4 added, x0 removed; nothing of y
		t.Errorf("%d items applied, want 4", n)
	}
}

// Two runners ("replicas", each with its own pool) follow the same log while
// a writer appends: every event is applied exactly once.
func TestAsyncTwoReplicasApplyOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	counter := &Projection{
		Name: "applied", Tables: []string{"test_applied"}, EventTypes: []string{"testitem."},
		Reduce: func(e *eventstore.Event, t Tables) ([]Statement, error) {
			return []Statement{{SQL: "INSERT INTO " + t.T("test_applied") + " (position) VALUES ($1)", Args: []any{e.Position}}}, nil
		},
	}
	reg := NewRegistry()
	reg.AddAsync(counter)
	url := pgtest.URL(t)
	var pools []*pgxpool.Pool
	for i := 0; i < 2; i++ {
		p, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		pools = append(pools, p)
	}
	if _, err := pools[0].Exec(ctx, itemsSchema+`CREATE TABLE test_applied (position bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	writer := eventstore.NewPostgres(pools[0], nil)
	var wg sync.WaitGroup
	var applied [2]atomic.Int64
	for i, p := range pools {
		r := NewRunner(p, eventstore.NewPostgres(p, nil), reg)
		r.Batch, r.Poll = 7, 5*time.Millisecond
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				busy, _ := r.RunOnce(ctx)
				applied[i].Add(1)
				if !busy {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	for i := 0; i < 40; i++ {
		workload(t, writer, fmt.Sprintf("w%d_", i), 5)
	}
	var total int64
	_ = pools[0].QueryRow(ctx, "SELECT count(*) FROM events").Scan(&total)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int64
		_ = pools[0].QueryRow(ctx, "SELECT count(*) FROM test_applied").Scan(&n)
		if n >= total || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let any duplicate show itself
	cancel()
	wg.Wait()
	var n, distinct int64
	_ = pools[0].QueryRow(context.Background(), "SELECT count(*), count(DISTINCT position) FROM test_applied").Scan(&n, &distinct)
	if n != total || distinct != total {
		t.Fatalf("applied %d rows (%d distinct) for %d events", n, distinct, total)
	}
	if applied[0].Load() == 0 || applied[1].Load() == 0 {
		t.Errorf("a replica never ran: %d / %d rounds", applied[0].Load(), applied[1].Load())
	}
}

// Run follows the log by itself and stops with its context; a rebuild of an
// async projection swaps under the running runner without double-applying.
func TestAsyncRunAndRebuild(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := NewRegistry(itemsProjection("items"))
	reg.AddAsync(itemsProjection("good", "good_items", "good_links"))
	e := setup(t, reg, itemsSchema+asyncSchema)
	r := NewRunner(e.pool, e.store, reg)
	r.Poll = 20 * time.Millisecond
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	workload(t, e.store, "x", 300)
	if err := Rebuild(context.Background(), e.pool, e.store, reg, []string{"good"}, nil); err != nil {
		t.Fatal(err)
	}
	workload(t, e.store, "y", 100)
	want := strings.ReplaceAll(checksum(t, e.pool, "test_items", "test_links"), "test_", "")
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := strings.ReplaceAll(checksum(t, e.pool, "good_items", "good_links"), "good_", "")
		if got == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("async projection did not converge:\n got %s\nwant %s", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
}
