package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/idledger/idledger/audit"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

type delayHook struct{}

// ApplyInline holds some appends' transactions open for a moment, so that
// later transactions commit first: the order a follower must not be fooled by.
func (delayHook) ApplyInline(context.Context, pgx.Tx, []eventstore.Event) error {
	if rand.Intn(3) == 0 {
		time.Sleep(time.Duration(rand.Intn(20)) * time.Millisecond)
	}
	return nil
}

// concurrentWriters appends writers×perWriter commands (some with two
// events) through a store whose commits are delayed at random, and returns
// how many events were written.
func concurrentWriters(t *testing.T, writer *eventstore.Postgres, writers, perWriter int) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				evs := []eventstore.PendingEvent{{Type: "org.added", Payload: map[string]string{"name": fmt.Sprint(w, "-", i)}}}
				if i%4 == 0 {
					evs = append(evs, eventstore.PendingEvent{Type: "org.member.added", Payload: map[string]any{"userId": "u"}})
				}
				_, err := writer.Append(context.Background(), eventstore.Append{
					Aggregates: []eventstore.AggregateAppend{agg("i9", "org", fmt.Sprintf("w%d-%d", w, i), 0, "x", evs...)},
					Meta:       eventstore.Metadata{Creator: fmt.Sprint("writer-", w)},
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total += len(evs)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	return total
}

func TestListFollowConcurrentWriters(t *testing.T) {
	pool := pgtest.Pool(t)
	reader := eventstore.NewPostgres(pool, nil)
	writer := eventstore.NewPostgres(pool, delayHook{})
	// Something before the follow starts, to check the catch-up part.
	if _, err := reader.Append(context.Background(), eventstore.Append{
		Aggregates: []eventstore.AggregateAppend{agg("i9", "instance", "i9", 0, "i9", ev("instance.added", map[string]string{"name": "n"}))},
		Meta:       eventstore.Metadata{Creator: "system"},
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &apptest.LogBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- audit.List(ctx, reader, listArgs(t, "--follow", "--format", "jsonl", "--instance", "i9"), out)
	}()
	total := 1 + concurrentWriters(t, writer, 6, 40)

	deadline := time.Now().Add(20 * time.Second)
	for len(parseJSONL(t, out.String())) < total && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // a duplicate would show up now
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("follow ended with %v", err)
	}
	var got []int64
	for _, r := range parseJSONL(t, out.String()) {
		got = append(got, r.Position)
	}
	reader.Barrier(context.Background(), 5*time.Second) //nolint:errcheck // a one-shot read follows
	all, err := reader.Read(context.Background(), eventstore.Filter{InstanceID: "i9"})
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, e := range all {
		want = append(want, e.Position)
	}
	if len(want) != total {
		t.Fatalf("store holds %d events, wrote %d", len(want), total)
	}
	if !slices.Equal(got, want) {
		t.Errorf("follow delivered %d events, want %d in the gap-free order\n got %v\nwant %v", len(got), len(want), got, want)
	}
}

func TestListFollowLimit(t *testing.T) {
	h := newHistory(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := audit.List(ctx, h.store, listArgs(t, "--follow", "--format", "jsonl", "--limit", "3"), &out); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("follow with a limit did not stop by itself")
	}
	if n := len(parseJSONL(t, out.String())); n != 3 {
		t.Errorf("got %d events, want 3", n)
	}
}
