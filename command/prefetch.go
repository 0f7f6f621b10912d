package command

import (
	"context"
	"fmt"
	"slices"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
)

// A read a decision needs, loaded ahead with others in one round trip
// (Commands.prefetch) and then found by the loader that would have read it
// alone (Commands.ends, Commands.load).
type read struct {
	load  *eventstore.Load
	ends  bool     // Store.Ends; otherwise Store.Aggregate after `after`
	after uint64   // Store.Aggregate's events after this sequence
	types []string // Store.AggregateTypes of these types
}

func endsOf(ref eventstore.AggregateRef) read {
	return read{load: eventstore.LoadEnds(ref), ends: true}
}

func eventsOf(ref eventstore.AggregateRef) read {
	return read{load: eventstore.LoadAggregate(ref, 0)}
}

// eventsAfter reads ref's events after sequence after (a cached write
// model's head: see policyModels).
func eventsAfter(ref eventstore.AggregateRef, after uint64) read {
	return read{load: eventstore.LoadAggregate(ref, after), after: after}
}

func typesOf(ref eventstore.AggregateRef, types []string) read {
	return read{load: eventstore.LoadTypes(ref, types), types: types}
}

type prefetchKey struct{}

// prefetch loads reads in one round trip and returns a context in which the
// loaders find them (and those of an earlier prefetch) instead of reading
// again. Call it inside a decision
// (each attempt of Commands.execute decides on fresh reads): what it loaded
// is as current as what the loaders would have read one after the other.
func (c *Commands) prefetch(ctx context.Context, reads ...read) (context.Context, error) {
	loads := make([]*eventstore.Load, len(reads))
	for i := range reads {
		loads[i] = reads[i].load
	}
	if err := c.store.Load(ctx, loads...); err != nil {
		return ctx, errs.Internal("COMMAND-Pre01", fmt.Errorf("load: %w", err))
	}
	earlier, _ := ctx.Value(prefetchKey{}).([]read)
	return context.WithValue(ctx, prefetchKey{}, append(reads, earlier...)), nil
}

// prefetched returns the prefetched read of ref that matches (nil if none).
func prefetched(ctx context.Context, ref eventstore.AggregateRef, match func(r read) bool) *eventstore.Load {
	reads, _ := ctx.Value(prefetchKey{}).([]read)
	for _, r := range reads {
		if r.load.Ref == ref && match(r) {
			return r.load
		}
	}
	return nil
}

// ends is Store.Ends, answered from a prefetch when it holds ref's ends.
func (c *Commands) ends(ctx context.Context, ref eventstore.AggregateRef) (eventstore.Event, eventstore.Event, bool, error) {
	if l := prefetched(ctx, ref, func(r read) bool { return r.ends && r.types == nil }); l != nil {
		return l.First, l.Last, l.Found, nil
	}
	return c.store.Ends(ctx, ref)
}

// events is what Commands.load reads: with nil types, a prefetched read of
// the whole aggregate if there is one; otherwise the store's.
func (c *Commands) events(ctx context.Context, ref eventstore.AggregateRef, types []string) ([]eventstore.Event, uint64, error) {
	if types != nil {
		if l := prefetched(ctx, ref, func(r read) bool { return slices.Equal(r.types, types) }); l != nil {
			return l.Events, l.Head, nil
		}
		return c.store.AggregateTypes(ctx, ref, types)
	}
	evs, err := c.eventsSince(ctx, ref, 0)
	return evs, lastSequence(evs), err
}

// eventsSince is Store.Aggregate(ref, after), answered from a prefetch when
// it holds that very read.
func (c *Commands) eventsSince(ctx context.Context, ref eventstore.AggregateRef, after uint64) ([]eventstore.Event, error) {
	if l := prefetched(ctx, ref, func(r read) bool { return !r.ends && r.types == nil && r.after == after }); l != nil {
		return l.Events, nil
	}
	return c.store.Aggregate(ctx, ref, after)
}

func lastSequence(evs []eventstore.Event) uint64 {
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].Sequence
}
