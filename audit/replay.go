package audit

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/query"
)

// replayBarrier bounds how long a replay waits for the transactions that
// were running when it started (eventstore.Postgres.Barrier).
const replayBarrier = 2 * time.Second

// Point is how far a replay goes. The zero Point means the whole history.
// Time includes events created at or before it; Position includes the
// events that precede the event at that global position, and it, in the
// gap-free order. At most one is set.
type Point struct {
	Time     time.Time
	Position int64
}

// ReplayOptions are the flags of `events replay`.
type ReplayOptions struct {
	Aggregate  string // TYPE/ID
	Instance   string // optional: found from the aggregate when empty
	At         string // RFC 3339
	AtPosition string // global position
}

// BindReplayFlags defines the `events replay` flags on fs and returns the
// options they fill when fs is parsed.
func BindReplayFlags(fs *flag.FlagSet) *ReplayOptions {
	o := &ReplayOptions{}
	fs.StringVar(&o.Aggregate, "aggregate", "", "the aggregate to replay, as TYPE/ID (types: instance, org, user, idp, login_policy)")
	fs.StringVar(&o.Instance, "instance", "", "the aggregate's instance ID (found from TYPE/ID when omitted)")
	fs.StringVar(&o.At, "at", "", "replay the events created at or before this RFC 3339 time")
	fs.StringVar(&o.AtPosition, "at-position", "", "replay the events up to and including the event at this global position")
	return o
}

// Parse validates the options. Errors: errs.InvalidArgument for a missing
// or malformed --aggregate, an unknown aggregate type, a malformed time or
// position, or both --at and --at-position.
func (o *ReplayOptions) Parse() (eventstore.AggregateRef, Point, error) {
	var ref eventstore.AggregateRef
	typ, id, ok := strings.Cut(strings.TrimSpace(o.Aggregate), "/")
	if !ok || typ == "" || id == "" || strings.Contains(id, "/") {
		return ref, Point{}, errs.InvalidArgument("AUDIT-Agg01", "--aggregate must be TYPE/ID, e.g. idp/286432164857315331")
	}
	if !slices.Contains(aggregateTypes(), typ) {
		return ref, Point{}, errs.InvalidArgument("AUDIT-Agg02",
			fmt.Sprintf("unknown aggregate type %q (want one of %s)", typ, strings.Join(aggregateTypes(), ", ")))
	}
	ref = eventstore.AggregateRef{InstanceID: strings.TrimSpace(o.Instance), Type: typ, ID: id}
	at, err := ParseTime("at", o.At)
	if err != nil {
		return ref, Point{}, err
	}
	pos, err := ParsePosition(o.AtPosition)
	if err != nil {
		return ref, Point{}, err
	}
	if !at.IsZero() && pos > 0 {
		return ref, Point{}, errs.InvalidArgument("AUDIT-At001", "give --at or --at-position, not both")
	}
	return ref, Point{Time: at, Position: pos}, nil
}

// aggregateTypes lists the aggregate types of the catalog, in catalog order.
func aggregateTypes() []string {
	var out []string
	for _, info := range events.Catalog() {
		if !slices.Contains(out, info.Aggregate) {
			out = append(out, info.Aggregate)
		}
	}
	return out
}

// ReplaySource is what Replay reads; *eventstore.Postgres implements it.
type ReplaySource interface {
	query.CursorResolver
	Read(ctx context.Context, f eventstore.Filter) ([]eventstore.Event, error)
	Aggregate(ctx context.Context, ref eventstore.AggregateRef, after uint64) ([]eventstore.Event, error)
	Barrier(ctx context.Context, timeout time.Duration) error
}

// Change is one event of a replay and the state fields it changed.
type Change struct {
	Event   eventstore.Event
	Changed []string // "path=value" for set fields, "-path" for removed ones
}

// Replay rebuilds the aggregate ref as of at and prints its state as
// indented JSON, then a blank line and one line per event that led there:
// time, creator, type and the fields it changed. An IdP's state has the
// shape of GET /v2/idps/{id}'s "idp" object. See State for the errors.
func Replay(ctx context.Context, store ReplaySource, ref eventstore.AggregateRef, at Point, w io.Writer) error {
	state, changes, err := State(ctx, store, ref, at)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, state, "", "  "); err != nil {
		return fmt.Errorf("replay: format state: %w", err)
	}
	fmt.Fprintf(&buf, "\n\nchanges (%d events):\n", len(changes))
	for _, c := range changes {
		fmt.Fprintf(&buf, "%s  %-20s  %-38s  %s\n", FormatTime(c.Event.CreatedAt), c.Event.Creator, c.Event.Type,
			strings.Join(c.Changed, " "))
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// State returns the aggregate's state as of at (JSON, secrets never
// included) and the changes that led there, in sequence order. An empty
// ref.InstanceID is found from the type and ID.
//
// Errors: errs.InvalidArgument for an unknown aggregate type or position, or
// an ID found in several instances; errs.NotFound when the aggregate has no
// events up to at; errs.Internal when the store fails or an event does not
// decode.
func State(ctx context.Context, store ReplaySource, ref eventstore.AggregateRef, at Point) (json.RawMessage, []Change, error) {
	if !slices.Contains(aggregateTypes(), ref.Type) {
		return nil, nil, errs.InvalidArgument("AUDIT-Agg02", fmt.Sprintf("unknown aggregate type %q", ref.Type))
	}
	evs, err := loadAggregate(ctx, store, &ref)
	if err != nil {
		return nil, nil, err
	}
	evs, err = cut(ctx, store, evs, at)
	if err != nil {
		return nil, nil, err
	}
	if len(evs) == 0 {
		return nil, nil, errs.NotFound("AUDIT-Agg03", fmt.Sprintf("%s has no events up to that point", ref))
	}
	f := newFolder(ref)
	prev := map[string]string{}
	changes := make([]Change, 0, len(evs))
	for i := range evs {
		if err := f.apply(&evs[i]); err != nil {
			return nil, nil, errs.Internal("AUDIT-Fold1", fmt.Errorf("replay %s: %w", ref, err))
		}
		snap, err := snapshot(f.state())
		if err != nil {
			return nil, nil, errs.Internal("AUDIT-Fold2", err)
		}
		changes = append(changes, Change{Event: evs[i], Changed: diff(prev, snap)})
		prev = snap
	}
	b, err := json.Marshal(f.state())
	if err != nil {
		return nil, nil, errs.Internal("AUDIT-Fold3", err)
	}
	return RedactPayload(b), changes, nil
}

// loadAggregate returns the aggregate's events in sequence order, filling
// ref.InstanceID when it is empty.
func loadAggregate(ctx context.Context, store ReplaySource, ref *eventstore.AggregateRef) ([]eventstore.Event, error) {
	if ref.InstanceID != "" {
		evs, err := store.Aggregate(ctx, *ref, 0)
		if err != nil {
			return nil, errs.Internal("AUDIT-Load1", err)
		}
		return evs, nil
	}
	if err := store.Barrier(ctx, replayBarrier); err != nil {
		return nil, errs.Internal("AUDIT-Load3", err)
	}
	all, err := store.Read(ctx, eventstore.Filter{AggregateTypes: []string{ref.Type}, AggregateIDs: []string{ref.ID}})
	if err != nil {
		return nil, errs.Internal("AUDIT-Load2", err)
	}
	var instances []string
	for _, e := range all {
		if !slices.Contains(instances, e.InstanceID) {
			instances = append(instances, e.InstanceID)
		}
	}
	switch len(instances) {
	case 0:
		return nil, errs.NotFound("AUDIT-Agg04", fmt.Sprintf("no events for %s", ref))
	case 1:
		ref.InstanceID = instances[0]
	default:
		return nil, errs.InvalidArgument("AUDIT-Agg05",
			fmt.Sprintf("%s exists in several instances (%s); pass --instance", ref, strings.Join(instances, ", ")))
	}
	slices.SortFunc(all, func(a, b eventstore.Event) int { return cmp.Compare(a.Sequence, b.Sequence) })
	return all, nil
}

// cut keeps the events up to at. The result is always a prefix in sequence
// order: a later sequence is only ever written after the earlier one is
// visible, so a prefix is a state the aggregate really had.
func cut(ctx context.Context, store ReplaySource, evs []eventstore.Event, at Point) ([]eventstore.Event, error) {
	n := len(evs)
	switch {
	case at.Position > 0:
		c, err := query.ResolvePosition(ctx, store, at.Position)
		if err != nil {
			return nil, err
		}
		n = 0
		for i, e := range evs {
			if !c.Less(e.Cursor()) {
				n = i + 1
			}
		}
	case !at.Time.IsZero():
		n = 0
		for i, e := range evs {
			if !e.CreatedAt.After(at.Time) {
				n = i + 1
			}
		}
	}
	return evs[:n], nil
}

// snapshot flattens a state to path → JSON text, for diffing.
func snapshot(state any) (map[string]string, error) {
	b, err := json.Marshal(state)
	if err != nil {
		return nil, err
	}
	v, err := decodeJSON(b)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	flatten("", v, func(path string, val any) { out[path] = scalarText(val) })
	return out, nil
}

// diff lists what changed from prev to next, in path order. Bookkeeping
// fields that every event changes are left out.
func diff(prev, next map[string]string) []string {
	var out []string
	for _, p := range sortedKeys(next) {
		if bookkeeping(p) {
			continue
		}
		if old, ok := prev[p]; !ok || old != next[p] {
			out = append(out, p+"="+next[p])
		}
	}
	for _, p := range sortedKeys(prev) {
		if _, ok := next[p]; !ok && !bookkeeping(p) {
			out = append(out, "-"+p)
		}
	}
	return out
}

func bookkeeping(path string) bool {
	switch path {
	case "sequence", "changeDate", "details.sequence", "details.changeDate":
		return true
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
