package eventstore

import (
	"context"
	"errors"

	"github.com/idledger/idledger/errs"
)

// DefaultAttempts bounds how often Execute re-runs a decision after a
// concurrency conflict.
const DefaultAttempts = 5

// ErrNothingToDo may be returned by a Decide function whose decision is to
// write nothing (a no-op update); Execute then returns no events and no error.
var ErrNothingToDo = errors.New("nothing to append")

// Decide loads the current state, validates the command against it and
// returns what to append. It must be a pure function of what it reads, because
// Execute calls it again from scratch after a conflict.
type Decide func(ctx context.Context) (Append, error)

// Execute runs decide and appends its result. On a *ConcurrencyError it
// re-runs the whole decision (reload, validate, decide) on fresh state, up to
// attempts times, so a decision based on stale state is never written. When
// the attempts are used up it returns an Aborted error (ID "EVENT-Abrt1").
// Errors from decide and every other append error are returned unchanged.
func Execute(ctx context.Context, s Store, attempts int, decide Decide) ([]Event, error) {
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	var last error
	for i := 0; i < attempts; i++ {
		a, err := decide(ctx)
		if errors.Is(err, ErrNothingToDo) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		events, err := s.Append(ctx, a)
		if err == nil {
			return events, nil
		}
		if !IsConcurrency(err) {
			return nil, err
		}
		last = err
	}
	return nil, errs.Aborted("EVENT-Abrt1", "the object was changed concurrently; please retry").WithCause(last)
}
