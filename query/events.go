package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
)

// Event is an event as the log holds it, with its metadata and position.
// Readers of the log (the event API, `events list`) get it from EventLog.
type Event = eventstore.Event

// EventSource is what EventLog reads; *eventstore.Postgres implements it.
type EventSource interface {
	CursorResolver
	Read(ctx context.Context, f eventstore.Filter) ([]eventstore.Event, error)
	Subscribe(ctx context.Context, f eventstore.Filter, poll time.Duration, handle func(eventstore.Event) error) error
	Barrier(ctx context.Context, timeout time.Duration) error
}

var _ EventSource = (*eventstore.Postgres)(nil)

// EventLog is the one search of the event log, used by the event API and
// `events list` alike.
type EventLog struct{ store EventSource }

// NewEventLog returns the search over store.
func NewEventLog(store EventSource) *EventLog { return &EventLog{store: store} }

// EventSearch selects events. Empty fields do not filter.
type EventSearch struct {
	InstanceID     string // the API always sets it to the caller's instance
	AggregateTypes []string
	AggregateIDs   []string
	ExactTypes     []string // event types matched exactly (ZITADEL's rule)
	TypePrefixes   []string // event types matched by prefix ("idp.")
	Creator        string
	ResourceOwner  string
	Since, Until   time.Time // creation time: inclusive, exclusive
	// AfterPosition starts after the event at this global position (0: the
	// start); in descending order, below it.
	AfterPosition int64
	// AfterSequence keeps events whose aggregate sequence is beyond it
	// (ascending: greater; descending: smaller); 0 keeps all.
	AfterSequence uint64
	Descending    bool
	Limit         int // 0: no limit
}

// Page sizes and timings of the log reads.
const (
	// eventPage is how many events one store read fetches; a search pages
	// with the cursor, so memory stays flat however long the history is.
	eventPage = 500
	// barrierTimeout bounds how long a one-shot search waits for the
	// transactions running when it started (eventstore.Postgres.Barrier).
	barrierTimeout = 2 * time.Second
)

// ErrStop may be returned by a Search or Follow callback to end the read
// early without an error.
var ErrStop = errors.New("query: stop reading")

// CursorResolver turns a global position into a cursor; *eventstore.Postgres
// implements it.
type CursorResolver interface {
	CursorAt(ctx context.Context, position int64) (eventstore.Cursor, error)
}

// ResolvePosition returns the cursor of the event at global position p
// (the zero cursor for 0).
//
// Errors: InvalidArgument AUDIT-Pos02 when no event has that position;
// Internal AUDIT-Pos03 when the store fails.
func ResolvePosition(ctx context.Context, store CursorResolver, p int64) (eventstore.Cursor, error) {
	if p == 0 {
		return eventstore.Cursor{}, nil
	}
	c, err := store.CursorAt(ctx, p)
	if errors.Is(err, eventstore.ErrUnknownPosition) {
		return c, errs.InvalidArgument("AUDIT-Pos02", fmt.Sprintf("no event has position %d", p))
	}
	if err != nil {
		return c, errs.Internal("AUDIT-Pos03", err)
	}
	return c, nil
}

// Search calls emit for each event that s selects, in the gap-free global
// order (or its reverse), after waiting for the transactions that were
// running when it started: a search shows everything committed before it.
// It stops at s.Limit events, at the end of the log, or when emit returns
// ErrStop (no error) or another error (returned as it is).
//
// Errors: those of ResolvePosition; Internal EVENT-Read1 / EVENT-Read2 when the
// store fails; emit's.
func (l *EventLog) Search(ctx context.Context, s EventSearch, emit func(*Event) error) error {
	f, err := l.filter(ctx, s)
	if err != nil {
		return err
	}
	if err := l.store.Barrier(ctx, barrierTimeout); err != nil {
		return errs.Internal("EVENT-Read2", err)
	}
	n := 0
	for {
		f.Limit = eventPage
		batch, err := l.store.Read(ctx, f)
		if err != nil {
			return errs.Internal("EVENT-Read1", err)
		}
		for i := range batch {
			if !s.matches(&batch[i]) {
				continue
			}
			if err := emit(&batch[i]); err != nil {
				if errors.Is(err, ErrStop) {
					return nil
				}
				return err
			}
			if n++; s.Limit > 0 && n >= s.Limit {
				return nil
			}
		}
		if len(batch) < f.Limit {
			return nil
		}
		last := batch[len(batch)-1].Cursor()
		if s.Descending {
			f.AtOrBefore = eventstore.Cursor{TxID: last.TxID, Position: last.Position - 1}
		} else {
			f.After = last
		}
	}
}

// Follow calls emit for each event that s selects, first those already
// committed after s.AfterPosition, then each new one as it commits, until
// ctx ends, s.Limit events were emitted or emit returns ErrStop (all nil)
// or another error. s.Descending is ignored: a follow goes forward.
//
// Errors: those of ResolvePosition; emit's; the store's as they are (the stream
// has usually started; the caller decides how to report it).
func (l *EventLog) Follow(ctx context.Context, s EventSearch, poll time.Duration, emit func(*Event) error) error {
	s.Descending = false
	f, err := l.filter(ctx, s)
	if err != nil {
		return err
	}
	n := 0
	err = l.store.Subscribe(ctx, f, poll, func(e eventstore.Event) error {
		if !s.matches(&e) {
			return nil
		}
		if err := emit(&e); err != nil {
			return err
		}
		if n++; s.Limit > 0 && n >= s.Limit {
			return ErrStop
		}
		return nil
	})
	if errors.Is(err, ErrStop) || ctx.Err() != nil {
		return nil
	}
	return err
}

// filter is the store filter of s: what the store can select itself.
func (l *EventLog) filter(ctx context.Context, s EventSearch) (eventstore.Filter, error) {
	f := eventstore.Filter{
		InstanceID: s.InstanceID, AggregateTypes: s.AggregateTypes, AggregateIDs: s.AggregateIDs,
		EventTypes: append(slices.Clone(s.TypePrefixes), s.ExactTypes...),
		Creator:    s.Creator, ResourceOwner: s.ResourceOwner,
		Since: s.Since, Until: s.Until, Descending: s.Descending,
	}
	c, err := ResolvePosition(ctx, l.store, s.AfterPosition)
	if err != nil {
		return f, err
	}
	if c != (eventstore.Cursor{}) {
		if s.Descending {
			// Descending pages continue below the cursor; (tx, pos-1) is
			// the exclusive form of the inclusive bound.
			f.AtOrBefore = eventstore.Cursor{TxID: c.TxID, Position: c.Position - 1}
		} else {
			f.After = c
		}
	}
	return f, nil
}

// matches applies what the store cannot: exact types (the store matched
// every type as a prefix) and the aggregate-sequence bound.
func (s *EventSearch) matches(e *Event) bool {
	if len(s.ExactTypes) > 0 && !slices.Contains(s.ExactTypes, e.Type) &&
		!slices.ContainsFunc(s.TypePrefixes, func(p string) bool { return strings.HasPrefix(e.Type, p) }) {
		return false
	}
	if q := s.AfterSequence; q > 0 && ((!s.Descending && e.Sequence <= q) || (s.Descending && e.Sequence >= q)) {
		return false
	}
	return true
}

// CheckPosition reports whether some event has global position p (0, the
// start, always does), so that a stream can refuse a bad position before
// it starts. Errors: those of ResolvePosition.
func (l *EventLog) CheckPosition(ctx context.Context, p int64) error {
	_, err := ResolvePosition(ctx, l.store, p)
	return err
}
