package command

import (
	"context"
	"fmt"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
)

// aggregate is what every write model knows of its aggregate: which one it
// is, the head sequence an append decided on it states as expected, and
// when it began. Write models embed it and are loaded by Commands.load.
type aggregate struct {
	ref     eventstore.AggregateRef
	head    uint64    // the aggregate's last sequence, of any event type
	created time.Time // time of its first event (sequence 1)
}

func (a *aggregate) agg() *aggregate { return a }

// model is a write model: an embedded aggregate and a reducer of its events.
type model interface {
	agg() *aggregate
	reduce(e *eventstore.Event) error
}

// loadErrs are the errs.Internal IDs a load answers with when the read or a
// reduce fails. An empty ID returns the error without a kind (a command's
// execute then answers it as COMMAND-Push1).
type loadErrs struct{ read, reduce string }

// load folds into m the events of its aggregate (m.agg().ref) whose type is
// one of types (an entry ending in "." is a prefix), in sequence order; nil
// types fold every event. It sets the head to the aggregate's last
// sequence, whatever types skip, and created to the time of its first event
// before reducing it, so a reducer may override created (e.g. per
// incarnation).
func (c *Commands) load(ctx context.Context, m model, types []string, ids loadErrs) error {
	evs, head, err := c.events(ctx, m.agg().ref, types)
	if err != nil {
		m.agg().head = head
		return internalErr(ids.read, fmt.Errorf("load %s: %w", m.agg().ref, err))
	}
	return fold(m, evs, head, ids)
}

// fold is load's second half: it reduces evs, the events load read, into m
// and sets m's head and created.
func fold(m model, evs []eventstore.Event, head uint64, ids loadErrs) error {
	a := m.agg()
	a.head = head
	for i := range evs {
		e := &evs[i]
		if e.Sequence == 1 {
			a.created = e.CreatedAt
		}
		if err := m.reduce(e); err != nil {
			return internalErr(ids.reduce, fmt.Errorf("reduce %s %s: %w", a.ref, e.Type, err))
		}
	}
	return nil
}

func internalErr(id string, err error) error {
	if id == "" {
		return err
	}
	return errs.Internal(id, err)
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
