package command

import (
	"context"
	"fmt"
	"time"

	"github.com/idledger/idledger/eventstore"
)

// loadModel is the one loader of every write model: it reads the events of
// aggregate ref whose type is one of types (prefixes such as "org.member."
// work; none means all) and hands them to reduce in sequence order. It
// returns the aggregate's head, which counts the events of every type, and
// the time of its first event when types include it (zero otherwise).
//
// Errors: the store's, or reduce's, wrapped with the aggregate.
func (c *Commands) loadModel(ctx context.Context, ref eventstore.AggregateRef, types []string,
	reduce func(e *eventstore.Event) error) (head uint64, created time.Time, err error) {
	var evs []eventstore.Event
	if len(types) == 0 {
		evs, err = c.store.Aggregate(ctx, ref, 0)
		if len(evs) > 0 {
			head = evs[len(evs)-1].Sequence
		}
	} else {
		evs, head, err = c.store.AggregateTypes(ctx, ref, types)
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("load %s: %w", ref, err)
	}
	for i := range evs {
		e := &evs[i]
		if e.Sequence == 1 {
			created = e.CreatedAt
		}
		if err := reduce(e); err != nil {
			return 0, time.Time{}, fmt.Errorf("load %s: %s at sequence %d: %w", ref, e.Type, e.Sequence, err)
		}
	}
	return head, created, nil
}

// aggregateDetails returns the details of ref after an append of evs: the
// sequence, date and owner of its last appended event, created as given.
func aggregateDetails(evs []eventstore.Event, ref eventstore.AggregateRef, created time.Time) Details {
	d := Details{ID: ref.ID, Created: created}
	for i := range evs {
		e := &evs[i]
		if e.InstanceID == ref.InstanceID && e.AggregateType == ref.Type && e.AggregateID == ref.ID {
			d.Sequence, d.Changed, d.ResourceOwner = e.Sequence, e.CreatedAt, e.ResourceOwner
			if d.Created.IsZero() {
				d.Created = e.CreatedAt
			}
		}
	}
	return d
}
