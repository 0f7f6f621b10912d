package eventstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Subscribe delivers every event matching f after f.After, strictly in the
// gap-free order, then keeps delivering new ones until ctx ends or handle
// fails. LISTEN/NOTIFY wakes it at once after a commit; poll is the safety net
// for a lost notification or a dropped listener connection.
func (s *Postgres) Subscribe(ctx context.Context, f Filter, poll time.Duration, handle func(Event) error) error {
	if poll <= 0 {
		poll = time.Second
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	wake := make(chan struct{}, 1)
	go s.listen(ctx, wake)
	for {
		// Every event of a transaction below this horizon is final, and the
		// read after it (same round trip, a later snapshot) sees at least
		// all of them.
		horizon, batch, err := s.horizonAndRead(ctx, f)
		if err != nil {
			return err
		}
		for _, e := range batch {
			if err := handle(e); err != nil {
				return err
			}
			f.After = e.Cursor()
		}
		if len(batch) == f.Limit {
			continue
		}
		// All matching events below the horizon are delivered: move the
		// cursor past the non-matching ones too, so a filtered subscriber
		// does not rescan them on every wake-up.
		if past := (Cursor{TxID: horizon - 1, Position: math.MaxInt64}); horizon > 0 && f.After.Less(past) {
			f.After = past
		}
		// Nothing more below the horizon: wait for a commit or the poll tick.
		// A running transaction can hold the horizon back, so a short poll
		// keeps latency low after it ends.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-time.After(poll):
		}
	}
}

// horizonAndRead returns the snapshot xmin (every transaction below it has
// ended) and then Read(f), in one round trip: the two statements of one
// batch, the read's snapshot taken after the horizon's.
func (s *Postgres) horizonAndRead(ctx context.Context, f Filter) (uint64, []Event, error) {
	b := &pgx.Batch{}
	b.Queue("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
	q, args := readQuery(f, true)
	b.Queue(q, args...)
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	var x string
	if err := br.QueryRow().Scan(&x); err != nil {
		return 0, nil, fmt.Errorf("read horizon: %w", err)
	}
	horizon, err := strconv.ParseUint(x, 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("read horizon: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return 0, nil, fmt.Errorf("read events: %w", err)
	}
	evs, err := collect(rows, f.Limit)
	if err != nil {
		return 0, nil, fmt.Errorf("read events: %w", err)
	}
	return horizon, evs, br.Close()
}

func (s *Postgres) listen(ctx context.Context, wake chan<- struct{}) {
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		_ = err // the poll keeps the subscriber going; retry the listener shortly
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *Postgres) listenOnce(ctx context.Context, wake chan<- struct{}) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A listening connection must not go back to the pool.
	conn := pc.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	for {
		_, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// Barrier waits until every transaction that was running when it was called
// has ended, so a following Read sees everything committed before the call
// (read-your-writes for one-shot reads), within timeout. A long transaction
// anywhere in the cluster holds the horizon back; then Barrier returns nil
// after timeout and the read is still gap-free, only not yet complete.
func (s *Postgres) Barrier(ctx context.Context, timeout time.Duration) error {
	var target string
	if err := s.pool.QueryRow(ctx, "SELECT pg_snapshot_xmax(pg_current_snapshot())::text").Scan(&target); err != nil {
		return fmt.Errorf("barrier: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		var done bool
		if err := s.pool.QueryRow(ctx, "SELECT pg_snapshot_xmin(pg_current_snapshot()) >= $1::text::xid8", target).Scan(&done); err != nil {
			return fmt.Errorf("barrier: %w", err)
		}
		if done || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}
