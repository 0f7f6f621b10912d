package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/query"
)

// subscribePoll is the safety-net poll of the auth-cache subscription;
// LISTEN/NOTIFY wakes it at once normally.
const subscribePoll = time.Second

// Start runs the background work of one replica until ctx ends: today, the
// subscription that drops cached token lookups when a user is removed, a
// token revoked or a membership changed, on every replica. It returns once
// the subscription's start position is fixed, so events appended after
// Start returns are seen. The returned channel closes when the work has
// stopped.
//
// Errors: only from reading the event log's head.
func (a *App) Start(ctx context.Context) (<-chan struct{}, error) {
	head, err := a.headCursor(ctx)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.invalidateAuthLoop(ctx, head) }()
	go func() { defer wg.Done(); a.runProjections(ctx) }()
	go func() { wg.Wait(); close(done) }()
	return done, nil
}

// headCursor is the cursor of the newest event below the read horizon.
// Events of transactions still in flight sort after it, so a subscription
// from here misses nothing.
func (a *App) headCursor(ctx context.Context) (eventstore.Cursor, error) {
	evs, err := a.store.Read(ctx, eventstore.Filter{Descending: true, Limit: 1})
	if err != nil {
		return eventstore.Cursor{}, fmt.Errorf("app: event head: %w", err)
	}
	if len(evs) == 0 {
		return eventstore.Cursor{}, nil
	}
	return evs[0].Cursor(), nil
}

func (a *App) invalidateAuthLoop(ctx context.Context, from eventstore.Cursor) {
	f := eventstore.Filter{After: from, EventTypes: query.AuthEventTypes}
	for ctx.Err() == nil {
		err := a.store.Subscribe(ctx, f, subscribePoll, func(e eventstore.Event) error {
			a.q.InvalidateAuth(&e)
			f.After = e.Cursor()
			return nil
		})
		if ctx.Err() != nil || errors.Is(err, context.Canceled) {
			return
		}
		// The TTL keeps stale entries bounded while the subscription is
		// down; resume from the last event handled.
		a.log.Warn().Err(err).Msg("auth cache subscription failed; retrying")
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}
