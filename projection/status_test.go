package projection

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idledger/idledger/internal/pgtest"
)

func TestStatusOfInlineProjections(t *testing.T) {
	ctx := context.Background()
	reg := NewRegistry(itemsProjection("items"))
	reg.AddAsync(itemsProjection("good", "good_items", "good_links"))
	e := setup(t, reg, itemsSchema+asyncSchema)
	workload(t, e.store, "x", 20)
	var head int64
	_ = e.pool.QueryRow(ctx, "SELECT max(position) FROM events").Scan(&head)

	time.Sleep(20 * time.Millisecond)
	st := statusByName(t, e)
	if s := st["items"]; s.Async || s.State != StateLive || s.Position != head || s.LagEvents != 0 || !s.LastRebuild.IsZero() {
		t.Errorf("inline before rebuild: %+v (head %d)", s, head)
	}
	// The async projection has never run: the whole log is its lag.
	if s := st["good"]; !s.Async || s.Position != 0 || s.LagEvents != head || s.LagSeconds < 0.02 {
		t.Errorf("async before running: %+v", s)
	}

	// While a rebuild runs, status says so.
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		done <- Rebuild(ctx, e.pool, e.store, reg, []string{"items"}, func(int64, int64) {
			once.Do(func() { close(started); <-release })
		})
	}()
	<-started
	if s := statusByName(t, e)["items"]; s.State != StateRebuilding {
		t.Errorf("during rebuild: %+v", s)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s := statusByName(t, e)["items"]
	if s.State != StateLive || s.LastRebuild.IsZero() {
		t.Errorf("after rebuild: %+v", s)
	}

	// A rebuild that died before its swap (no lock held) is not reported as
	// still running.
	if _, err := e.pool.Exec(ctx, "UPDATE projection_state SET state = 'rebuilding' WHERE name = 'items'"); err != nil {
		t.Fatal(err)
	}
	if s := statusByName(t, e)["items"]; s.State != StateLive {
		t.Errorf("stale rebuilding: %+v", s)
	}

	var b strings.Builder
	sts, _ := Statuses(ctx, e.pool, reg)
	if err := PrintStatus(&b, sts); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "items ") || !strings.Contains(lines[2], "async") {
		t.Errorf("status table:\n%s", b.String())
	}
}

// TestHeadCursorOrdersTransactionIDsAsNumbers: the last event is the one with
// the highest transaction ID as a number (1000 after 999), not as text. A
// stand-in events table holds crafted IDs.
func TestHeadCursorOrdersTransactionIDsAsNumbers(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, q := range []string{
		"CREATE SCHEMA standin",
		"SET LOCAL search_path = standin",
		"CREATE TABLE events (tx_id xid8 NOT NULL, position bigint NOT NULL)",
		"INSERT INTO events VALUES ('999', 7), ('1000', 3), ('98', 9)",
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	c, err := headCursor(ctx, tx, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.TxID != 1000 || c.Position != 3 {
		t.Fatalf("head = %+v, want tx 1000 position 3", c)
	}
}
