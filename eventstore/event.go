package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Event is a stored event, as read back from the log.
type Event struct {
	InstanceID    string
	AggregateType string
	AggregateID   string
	Sequence      uint64 // 1-based, contiguous per aggregate
	Type          string // dotted: <aggregate>.<thing>.<verb>
	Revision      uint16 // payload schema version
	Payload       json.RawMessage
	ResourceOwner string
	Creator       string
	RequestID     string
	ClientIP      string
	UserAgent     string
	CreatedAt     time.Time // when the appending process sent it (microseconds; one value per append)
	Position      int64     // global identity; unique, not commit-ordered
	TxID          uint64    // pg_current_xact_id() of the appending transaction
	Hash          []byte
}

// Cursor is a point in the gap-free global order, which is (TxID, Position).
func (e *Event) Cursor() Cursor { return Cursor{TxID: e.TxID, Position: e.Position} }

// Unmarshal decodes the payload into v.
func (e *Event) Unmarshal(v any) error {
	if len(e.Payload) == 0 {
		return nil
	}
	if err := jsonv1.Unmarshal(e.Payload, v); err != nil {
		return fmt.Errorf("decode %s payload (position %d): %w", e.Type, e.Position, err)
	}
	return nil
}

// Cursor orders events globally. The zero cursor is before every event.
type Cursor struct {
	TxID     uint64
	Position int64
}

// Less reports whether c sorts before o.
func (c Cursor) Less(o Cursor) bool {
	if c.TxID != o.TxID {
		return c.TxID < o.TxID
	}
	return c.Position < o.Position
}

// AggregateRef names one aggregate within an instance.
type AggregateRef struct {
	InstanceID string
	Type       string
	ID         string
}

func (a AggregateRef) String() string { return a.Type + "/" + a.ID }

// PendingEvent is an event a command wants to append.
type PendingEvent struct {
	Type     string
	Revision uint16 // 0 means 1
	Payload  any    // marshalled with encoding/json; nil means no payload
}

// AggregateAppend is the events for one aggregate, with the sequence the
// command based its decision on (0 for a new aggregate).
type AggregateAppend struct {
	Aggregate     AggregateRef
	ResourceOwner string
	Expected      uint64
	Events        []PendingEvent
}

// UniqueConstraint claims or releases a value that must be unique within an
// instance, e.g. ("user.idp.link", "<idpID>:<externalUserID>").
type UniqueConstraint struct {
	InstanceID string
	Type       string
	Value      string
	Remove     bool // release instead of claim
	// Hold checks instead of claiming: Value must be claimed, and stays
	// claimed until this append commits (an append that releases it waits
	// for this one). Otherwise the append fails with a
	// *ConstraintChangedError, and the command decides again.
	Hold bool
	// NoneWithPrefix checks instead of claiming: once this append's claims
	// and releases apply, no value of Type that starts with Value may be
	// claimed. Otherwise the append fails with a *ConstraintChangedError.
	//
	// The two close a race between an append that releases a value (an
	// IdP's existence) with everything that depends on it (its links, found
	// before the append), and appends that add a dependant while holding
	// the value: such an append either commits before the release, and
	// the check sees its claim, or finds the value gone.
	NoneWithPrefix bool
	ErrorID        string // error ID reported on violation, e.g. "COMMAND-Unq01"
	Message        string // message reported on violation
}

// Metadata is recorded on every event of one append.
type Metadata struct {
	Creator   string
	RequestID string
	ClientIP  string
	UserAgent string
}

// Append is one atomic write: all of it commits, or none of it does.
type Append struct {
	Aggregates  []AggregateAppend
	Constraints []UniqueConstraint
	Meta        Metadata
}

// Filter selects events for Read. Empty fields do not filter.
type Filter struct {
	InstanceID     string
	AggregateTypes []string
	AggregateIDs   []string
	EventTypes     []string // prefixes: "idp." matches every IdP event
	Creator        string
	ResourceOwner  string
	Since, Until   time.Time
	After          Cursor // exclusive
	AtOrBefore     Cursor // inclusive upper bound; zero means none
	Limit          int    // 0 means no limit
	Descending     bool
}

// Store is the event store. Implementations: *Postgres, *Memory.
type Store interface {
	// Append writes the events atomically. It returns the stored events in
	// append order. Errors: *ConcurrencyError when an aggregate's sequence is
	// not the expected one, *ConstraintError when a unique value is taken.
	Append(ctx context.Context, a Append) ([]Event, error)
	// Aggregate returns the events of one aggregate with sequence > after,
	// in sequence order.
	Aggregate(ctx context.Context, ref AggregateRef, after uint64) ([]Event, error)
	// AggregateTypes returns the events of one aggregate whose type is one of
	// types (an entry ending in "." or "*" is a prefix; any other is an exact
	// name), in sequence order, plus the aggregate's current
	// head sequence. Write models that need only a few event kinds load with
	// it, so a long history (e.g. many link events on a user) costs little.
	AggregateTypes(ctx context.Context, ref AggregateRef, types []string) (events []Event, head uint64, err error)
	// Ends returns the first and the last event of one aggregate (ok is
	// false when it has none). A write model that needs only how an
	// aggregate began and where it stands (existence, owner, creation date,
	// head) loads with it in two index lookups, however long its history.
	Ends(ctx context.Context, ref AggregateRef) (first, last Event, ok bool, err error)
	// Load runs several of the reads above (built with LoadEnds,
	// LoadAggregate, LoadTypes) in one round trip and fills their results,
	// so a command that decides on several aggregates loads them at once.
	Load(ctx context.Context, loads ...*Load) error
	// Read returns committed events matching f in the gap-free global order.
	// Only events below the snapshot horizon are returned, so an event that
	// commits late is never skipped by a reader resuming from its cursor.
	Read(ctx context.Context, f Filter) ([]Event, error)
	// CursorAt returns the cursor of the event at a global position, so a
	// client that saw position P can resume after it. NotFound-like errors
	// are reported as ErrUnknownPosition.
	CursorAt(ctx context.Context, position int64) (Cursor, error)
	// Barrier waits (up to timeout) until every transaction running at the
	// call has ended, so a one-shot Read after it sees everything committed
	// before the call. Subscribers, which resume from a cursor, need not.
	Barrier(ctx context.Context, timeout time.Duration) error
}

// Load is one read of Store.Load. Build it with LoadEnds, LoadAggregate or
// LoadTypes; Load fills the results its kind names.
type Load struct {
	Ref   AggregateRef
	kind  loadKind
	after uint64
	types []string

	// Events: LoadAggregate's events after the sequence, LoadTypes' events
	// of the types, in sequence order.
	Events []Event
	// Head: LoadTypes' head sequence of the aggregate, of any type.
	Head uint64
	// First and Last, when Found: LoadEnds' first and last event.
	First, Last Event
	Found       bool
	// IDs: LoadIDs' first column, in row order.
	IDs []string
	// LoadTypesNamed: Found when its read-table query named exactly one
	// aggregate; Ref then names it, and Events and Head are its LoadTypes.

	// LoadIDs' query, and the read that stands for it in a store without
	// SQL.
	sql      string
	args     []any
	fallback func(context.Context) ([]string, error)
}

type loadKind int

const (
	loadEnds loadKind = iota
	loadAggregate
	loadTypes
	loadIDs
	loadTypesNamed
)

// LoadEnds reads what Store.Ends reads.
func LoadEnds(ref AggregateRef) *Load { return &Load{Ref: ref, kind: loadEnds} }

// LoadAggregate reads what Store.Aggregate reads.
func LoadAggregate(ref AggregateRef, after uint64) *Load {
	return &Load{Ref: ref, kind: loadAggregate, after: after}
}

// LoadTypes reads what Store.AggregateTypes reads.
func LoadTypes(ref AggregateRef, types []string) *Load {
	return &Load{Ref: ref, kind: loadTypes, types: types}
}

// LoadIDs reads, beside the aggregates, the IDs a decision starts from that
// only a read table can name (for example the users linked to an IdP): sql
// is a query on the store's database whose first column is text. A store
// without SQL answers it with fallback. The IDs are a hint, as any read
// table's: the decision loads each aggregate they name and checks it.
func LoadIDs(sql string, args []any, fallback func(context.Context) ([]string, error)) *Load {
	return &Load{kind: loadIDs, sql: sql, args: args, fallback: fallback}
}

// LoadTypesNamed reads what LoadTypes reads, of the aggregate of type typ in
// instanceID whose ID ids (a LoadIDs) names, in the same round trip as the
// query that names it: for a decision that starts from a read-table lookup
// (a user by login name) and needs the aggregate the lookup yields. Found
// reports that ids named exactly one aggregate (and, on Postgres, one with
// events of types: a read-table row exists only for an aggregate that has
// events); the ID is a hint, as any read table's, that the decision checks
// against the events. Postgres runs the lookup and the read as one
// statement, so they see one snapshot.
func LoadTypesNamed(instanceID, typ string, ids *Load, types []string) *Load {
	return &Load{Ref: AggregateRef{InstanceID: instanceID, Type: typ}, kind: loadTypesNamed, types: types,
		sql: ids.sql, args: ids.args, fallback: ids.fallback}
}

// loadEach is Load for a store whose reads cost no round trip.
func loadEach(ctx context.Context, s Store, loads []*Load) error {
	for _, l := range loads {
		var err error
		switch l.kind {
		case loadEnds:
			l.First, l.Last, l.Found, err = s.Ends(ctx, l.Ref)
		case loadAggregate:
			l.Events, err = s.Aggregate(ctx, l.Ref, l.after)
		case loadTypes:
			l.Events, l.Head, err = s.AggregateTypes(ctx, l.Ref, l.types)
		case loadIDs:
			l.IDs, err = l.fallback(ctx)
		case loadTypesNamed:
			var ids []string
			if ids, err = l.fallback(ctx); err == nil {
				l.Ref.ID, l.Events, l.Head, l.Found = "", nil, 0, false
				if len(ids) == 1 {
					ref := AggregateRef{InstanceID: l.Ref.InstanceID, Type: l.Ref.Type, ID: ids[0]}
					l.Events, l.Head, err = s.AggregateTypes(ctx, ref, l.types)
					if l.Found = err == nil && len(l.Events) > 0; l.Found {
						l.Ref = ref
					} else {
						l.Events, l.Head = nil, 0
					}
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ErrUnknownPosition is returned by CursorAt for a position no event has.
var ErrUnknownPosition = errors.New("no event at that position")

// ConcurrencyError reports that an aggregate moved on since the command read it.
type ConcurrencyError struct {
	Aggregate AggregateRef
	Expected  uint64
}

func (e *ConcurrencyError) Error() string {
	return fmt.Sprintf("concurrent modification of %s: expected sequence %d is stale", e.Aggregate, e.Expected)
}

// ConstraintChangedError reports that a value an append holds (Hold) was
// released, or that values it expects gone (NoneWithPrefix) are claimed:
// another append changed what the command decided on. IsConcurrency is true
// for it, so the command runner decides again.
type ConstraintChangedError struct {
	Constraint UniqueConstraint
}

func (e *ConstraintChangedError) Error() string {
	if e.Constraint.Hold {
		return fmt.Sprintf("unique value %s %q was released concurrently", e.Constraint.Type, e.Constraint.Value)
	}
	return fmt.Sprintf("unique values %s %q… were claimed concurrently", e.Constraint.Type, e.Constraint.Value)
}

// ConstraintError reports that a unique value is already claimed.
type ConstraintError struct {
	Constraint UniqueConstraint
}

func (e *ConstraintError) Error() string {
	return fmt.Sprintf("unique constraint %s violated for value %q", e.Constraint.Type, e.Constraint.Value)
}

// IsConcurrency reports whether err is a *ConcurrencyError or a
// *ConstraintChangedError: another append changed what the command decided on.
func IsConcurrency(err error) bool {
	var c *ConcurrencyError
	var cc *ConstraintChangedError
	return errors.As(err, &c) || errors.As(err, &cc)
}
