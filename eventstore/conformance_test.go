package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// stores returns every Store implementation, each on fresh state.
func stores(t *testing.T) map[string]func(t *testing.T) eventstore.Store {
	return map[string]func(t *testing.T) eventstore.Store{
		"memory":   func(t *testing.T) eventstore.Store { return eventstore.NewMemory() },
		"postgres": func(t *testing.T) eventstore.Store { return eventstore.NewPostgres(pgtest.Pool(t), nil) },
	}
}

func agg(id string) eventstore.AggregateRef {
	return eventstore.AggregateRef{InstanceID: "i1", Type: "thing", ID: id}
}

func one(ref eventstore.AggregateRef, expected uint64, types ...string) eventstore.Append {
	ag := eventstore.AggregateAppend{Aggregate: ref, ResourceOwner: "o1", Expected: expected}
	for _, t := range types {
		ag.Events = append(ag.Events, eventstore.PendingEvent{Type: t, Payload: map[string]string{"t": t}})
	}
	return eventstore.Append{Aggregates: []eventstore.AggregateAppend{ag}, Meta: eventstore.Metadata{Creator: "u1", RequestID: "r1"}}
}

// TestConformance runs one suite against every Store implementation.
func TestConformance(t *testing.T) {
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("append and load", func(t *testing.T) {
				s, ctx := mk(t), context.Background()
				evs, err := s.Append(ctx, one(agg("a"), 0, "thing.added", "thing.changed"))
				if err != nil {
					t.Fatal(err)
				}
				if len(evs) != 2 || evs[0].Sequence != 1 || evs[1].Sequence != 2 || evs[0].CreatedAt.IsZero() || evs[1].Position == 0 {
					t.Fatalf("bad returned events: %+v", evs)
				}
				got, err := s.Aggregate(ctx, agg("a"), 0)
				if err != nil || len(got) != 2 || got[1].Type != "thing.changed" || got[0].Creator != "u1" || got[0].ResourceOwner != "o1" {
					t.Fatalf("load: %v %+v", err, got)
				}
				var p map[string]string
				if err := got[0].Unmarshal(&p); err != nil || p["t"] != "thing.added" {
					t.Fatalf("payload %v %v", p, err)
				}
				only, head, err := s.AggregateTypes(ctx, agg("a"), []string{"thing.changed"})
				if err != nil || head != 2 || len(only) != 1 || only[0].Sequence != 2 {
					t.Fatalf("AggregateTypes exact: %v head=%d %+v", err, head, only)
				}
				if none, _, _ := s.AggregateTypes(ctx, agg("a"), []string{"thing.chan"}); len(none) != 0 {
					t.Fatal("a name without a trailing dot must match exactly")
				}
				if both, _, _ := s.AggregateTypes(ctx, agg("a"), []string{"thing."}); len(both) != 2 {
					t.Fatalf("prefix: %d", len(both))
				}
				if none, head, _ := s.AggregateTypes(ctx, agg("zz"), []string{"thing."}); len(none) != 0 || head != 0 {
					t.Fatal("unknown aggregate")
				}
				after, _ := s.Aggregate(ctx, agg("a"), 1)
				if len(after) != 1 || after[0].Sequence != 2 {
					t.Fatalf("load after 1: %+v", after)
				}
				if _, err := s.Append(ctx, one(agg("a"), 2, "thing.changed", "thing.removed")); err != nil {
					t.Fatal(err)
				}
				first, last, ok, err := s.Ends(ctx, agg("a"))
				if err != nil || !ok || first.Sequence != 1 || first.Type != "thing.added" || first.ResourceOwner != "o1" ||
					last.Sequence != 4 || last.Type != "thing.removed" || first.CreatedAt.IsZero() {
					t.Fatalf("Ends: %v ok=%v first=%+v last=%+v", err, ok, first, last)
				}
				if _, _, ok, err := s.Ends(ctx, agg("zz")); err != nil || ok {
					t.Fatalf("Ends of an unknown aggregate: ok=%v %v", ok, err)
				}
				// several reads at once give what each gives alone
				if _, err := s.Append(ctx, one(agg("b"), 0, "thing.added")); err != nil {
					t.Fatal(err)
				}
				ends, all, typed, unknown := eventstore.LoadEnds(agg("a")), eventstore.LoadAggregate(agg("a"), 1),
					eventstore.LoadTypes(agg("a"), []string{"thing.changed"}), eventstore.LoadEnds(agg("zz"))
				single := eventstore.LoadEnds(agg("b"))
				if err := s.Load(ctx, ends, all, typed, unknown, single); err != nil {
					t.Fatal(err)
				}
				if !single.Found || single.First.Sequence != 1 || single.Last.Sequence != 1 || single.First.Type != "thing.added" ||
					single.First.Position != single.Last.Position || single.First.AggregateID != "b" {
					t.Fatalf("Load: the ends of an aggregate with one event: %+v", single)
				}
				if !ends.Found || ends.First.Sequence != 1 || ends.Last.Sequence != 4 || ends.Last.Type != "thing.removed" ||
					len(all.Events) != 3 || all.Events[0].Sequence != 2 || typed.Head != 4 || len(typed.Events) != 2 ||
					typed.Events[1].Sequence != 3 || unknown.Found {
					t.Fatalf("Load: ends=%+v all=%d typed=%d head=%d unknown=%v", ends, len(all.Events), len(typed.Events), typed.Head, unknown.Found)
				}
				// a typed load that finds no event of its types still gives
				// the aggregate's head (with the events, one snapshot)
				none := eventstore.LoadTypes(agg("a"), []string{"thing.never"})
				if err := s.Load(ctx, none); err != nil {
					t.Fatal(err)
				}
				if len(none.Events) != 0 || none.Head != 4 {
					t.Fatalf("Load: no event of the types: %d events, head %d", len(none.Events), none.Head)
				}
				// an aggregate named by a read-table lookup, read in the same
				// round trip: found only when the lookup names exactly one
				// aggregate that has events of the types
				names := func(ids ...string) *eventstore.Load {
					return eventstore.LoadIDs(`SELECT unnest($1::text[]) ORDER BY 1`, []any{ids},
						func(context.Context) ([]string, error) { return ids, nil })
				}
				types := []string{"thing.changed", "thing.rem*"}
				byA, byB, byNone, byTwo, byUnknown, byUntyped := eventstore.LoadTypesNamed("i1", "thing", names("a"), types),
					eventstore.LoadTypesNamed("i1", "thing", names("b"), []string{"thing."}), eventstore.LoadTypesNamed("i1", "thing", names(), types),
					eventstore.LoadTypesNamed("i1", "thing", names("a", "b"), types), eventstore.LoadTypesNamed("i1", "thing", names("zz"), types),
					eventstore.LoadTypesNamed("i1", "thing", names("b"), []string{"thing.changed"})
				alone := eventstore.LoadTypes(agg("a"), types)
				if err := s.Load(ctx, byA, ends, byB, byNone, byTwo, byUnknown, byUntyped, alone); err != nil {
					t.Fatal(err)
				}
				if !byA.Found || byA.Ref != agg("a") || byA.Head != 4 || len(byA.Events) != 3 || len(alone.Events) != 3 {
					t.Fatalf("named a: found=%v ref=%v head=%d events=%d, alone %d", byA.Found, byA.Ref, byA.Head, len(byA.Events), len(alone.Events))
				}
				for i := range alone.Events {
					if byA.Events[i].Sequence != alone.Events[i].Sequence || byA.Events[i].Type != alone.Events[i].Type {
						t.Fatalf("named a: event %d %+v, LoadTypes %+v", i, byA.Events[i], alone.Events[i])
					}
				}
				if !byB.Found || byB.Ref != agg("b") || byB.Head != 1 || len(byB.Events) != 1 || !ends.Found || ends.Last.Sequence != 4 {
					t.Fatalf("named b: found=%v ref=%v head=%d events=%d", byB.Found, byB.Ref, byB.Head, len(byB.Events))
				}
				for name, l := range map[string]*eventstore.Load{"none": byNone, "two": byTwo, "unknown": byUnknown, "no event of the types": byUntyped} {
					if l.Found || l.Ref.ID != "" || len(l.Events) != 0 || l.Head != 0 {
						t.Fatalf("named %s: found=%v ref=%v events=%d head=%d", name, l.Found, l.Ref, len(l.Events), l.Head)
					}
				}
				// an aggregate without events would guard nothing: refused
				if _, err := s.Append(ctx, eventstore.Append{Aggregates: []eventstore.AggregateAppend{{Aggregate: agg("a"), Expected: 4}}}); err == nil || eventstore.IsConcurrency(err) {
					t.Fatalf("an aggregate without events: %v", err)
				}
			})
			t.Run("stale sequence is a typed concurrency error", func(t *testing.T) {
				s, ctx := mk(t), context.Background()
				if _, err := s.Append(ctx, one(agg("a"), 0, "thing.added")); err != nil {
					t.Fatal(err)
				}
				for _, exp := range []uint64{0, 2, 7} {
					_, err := s.Append(ctx, one(agg("a"), exp, "thing.changed"))
					var ce *eventstore.ConcurrencyError
					if !errors.As(err, &ce) || ce.Aggregate != agg("a") {
						t.Fatalf("expected %d: want ConcurrencyError, got %v", exp, err)
					}
				}
				got, _ := s.Aggregate(ctx, agg("a"), 0)
				if len(got) != 1 {
					t.Fatalf("stale appends wrote events: %d", len(got))
				}
			})
			t.Run("multi-aggregate append is atomic", func(t *testing.T) {
				s, ctx := mk(t), context.Background()
				if _, err := s.Append(ctx, one(agg("b"), 0, "thing.added")); err != nil {
					t.Fatal(err)
				}
				a := one(agg("a"), 0, "thing.added")
				a.Aggregates = append(a.Aggregates, one(agg("b"), 0, "thing.added").Aggregates[0]) // b is stale
				if _, err := s.Append(ctx, a); !eventstore.IsConcurrency(err) {
					t.Fatalf("want concurrency error, got %v", err)
				}
				if got, _ := s.Aggregate(ctx, agg("a"), 0); len(got) != 0 {
					t.Fatal("partial write of aggregate a")
				}
			})
			t.Run("unique constraints", func(t *testing.T) {
				s, ctx := mk(t), context.Background()
				claim := func(id string, exp uint64, remove bool) error {
					a := one(agg(id), exp, "thing.claimed")
					a.Constraints = []eventstore.UniqueConstraint{{InstanceID: "i1", Type: "name", Value: "x", Remove: remove, ErrorID: "T-1"}}
					_, err := s.Append(ctx, a)
					return err
				}
				if err := claim("a", 0, false); err != nil {
					t.Fatal(err)
				}
				err := claim("b", 0, false)
				var ce *eventstore.ConstraintError
				if !errors.As(err, &ce) || ce.Constraint.Type != "name" || ce.Constraint.ErrorID != "T-1" {
					t.Fatalf("want ConstraintError naming the constraint, got %v", err)
				}
				if got, _ := s.Aggregate(ctx, agg("b"), 0); len(got) != 0 {
					t.Fatal("violating append wrote events")
				}
				if err := claim("a", 1, true); err != nil {
					t.Fatal(err)
				}
				if err := claim("b", 0, false); err != nil {
					t.Fatalf("released value should be claimable: %v", err)
				}
				// Another instance has its own namespace.
				a := one(eventstore.AggregateRef{InstanceID: "i2", Type: "thing", ID: "c"}, 0, "thing.claimed")
				a.Constraints = []eventstore.UniqueConstraint{{InstanceID: "i2", Type: "name", Value: "x"}}
				if _, err := s.Append(ctx, a); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("hold and none-with-prefix checks", func(t *testing.T) {
				s, ctx := mk(t), context.Background()
				uc := func(typ, value string) eventstore.UniqueConstraint {
					return eventstore.UniqueConstraint{InstanceID: "i1", Type: typ, Value: value}
				}
				appendWith := func(id string, exp uint64, cs ...eventstore.UniqueConstraint) error {
					a := one(agg(id), exp, "thing.changed")
					a.Constraints = cs
					_, err := s.Append(ctx, a)
					return err
				}
				changed := func(err error) bool {
					var cc *eventstore.ConstraintChangedError
					return errors.As(err, &cc) && eventstore.IsConcurrency(err)
				}
				hold := uc("parent", "p1")
				hold.Hold = true
				// holding a value nobody claimed fails, and writes nothing
				if err := appendWith("c1", 0, hold); !changed(err) {
					t.Fatalf("hold of an unclaimed value: %v", err)
				}
				if got, _ := s.Aggregate(ctx, agg("c1"), 0); len(got) != 0 {
					t.Fatal("a failed hold wrote events")
				}
				if err := appendWith("p1", 0, uc("parent", "p1")); err != nil {
					t.Fatal(err)
				}
				// holding does not consume: two holders in a row
				if err := appendWith("c1", 0, hold, uc("child", "p1:a")); err != nil {
					t.Fatal(err)
				}
				if err := appendWith("c2", 0, hold, uc("child", "p1:b")); err != nil {
					t.Fatal(err)
				}
				none := uc("child", "p1:")
				none.NoneWithPrefix = true
				release := func(typ, value string) eventstore.UniqueConstraint {
					c := uc(typ, value)
					c.Remove = true
					return c
				}
				// releasing the parent while a child stays claimed fails
				if err := appendWith("p1", 1, none, release("parent", "p1"), release("child", "p1:a")); !changed(err) {
					t.Fatalf("release with a child left: %v", err)
				}
				// the check runs after the append's own releases, whatever
				// their order in the list; another prefix is not a match
				if err := appendWith("q1", 0, uc("child", "p10:x")); err != nil {
					t.Fatal(err)
				}
				if err := appendWith("p1", 1, none, release("parent", "p1"), release("child", "p1:a"), release("child", "p1:b")); err != nil {
					t.Fatal(err)
				}
				if err := appendWith("c3", 0, hold, uc("child", "p1:c")); !changed(err) {
					t.Fatalf("hold of a released value: %v", err)
				}
			})
			t.Run("read filters and cursor", func(t *testing.T) {
				s, ctx := mk(t), context.Background()
				for i := 0; i < 5; i++ {
					if _, err := s.Append(ctx, one(agg(fmt.Sprint("r", i)), 0, "thing.added", "thing.renamed")); err != nil {
						t.Fatal(err)
					}
				}
				all, err := s.Read(ctx, eventstore.Filter{InstanceID: "i1"})
				if err != nil || len(all) != 10 {
					t.Fatalf("read all: %v %d", err, len(all))
				}
				for i := 1; i < len(all); i++ {
					if !all[i-1].Cursor().Less(all[i].Cursor()) {
						t.Fatal("read not in cursor order")
					}
				}
				page, _ := s.Read(ctx, eventstore.Filter{InstanceID: "i1", After: all[3].Cursor(), Limit: 3})
				if len(page) != 3 || page[0].Position != all[4].Position {
					t.Fatalf("page after cursor: %+v", page)
				}
				typed, _ := s.Read(ctx, eventstore.Filter{EventTypes: []string{"thing.ren"}})
				if len(typed) != 5 {
					t.Fatalf("type prefix filter: %d", len(typed))
				}
				ids, _ := s.Read(ctx, eventstore.Filter{AggregateIDs: []string{"r1", "r2"}, AggregateTypes: []string{"thing"}})
				if len(ids) != 4 {
					t.Fatalf("id filter: %d", len(ids))
				}
				none, _ := s.Read(ctx, eventstore.Filter{InstanceID: "other"})
				if len(none) != 0 {
					t.Fatal("instance filter leaked")
				}
				c, err := s.CursorAt(ctx, all[4].Position)
				if err != nil || c != all[4].Cursor() {
					t.Fatalf("CursorAt: %v %v", c, err)
				}
				if _, err := s.CursorAt(ctx, 1<<40); !errors.Is(err, eventstore.ErrUnknownPosition) {
					t.Fatalf("unknown position: %v", err)
				}
				upTo, _ := s.Read(ctx, eventstore.Filter{AtOrBefore: all[2].Cursor()})
				if len(upTo) != 3 {
					t.Fatalf("AtOrBefore: %d", len(upTo))
				}
				desc, _ := s.Read(ctx, eventstore.Filter{Descending: true, Limit: 1})
				if len(desc) != 1 || desc[0].Position != all[9].Position {
					t.Fatal("descending")
				}
			})
			t.Run("50 concurrent appends, one winner", func(t *testing.T) {
				s, ctx := mk(t), context.Background()
				if _, err := s.Append(ctx, one(agg("hot"), 0, "thing.added")); err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				var mu sync.Mutex
				wins, conflicts := 0, 0
				for i := 0; i < 50; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, err := s.Append(ctx, one(agg("hot"), 1, "thing.changed"))
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							wins++
						case eventstore.IsConcurrency(err):
							conflicts++
						default:
							t.Error(err)
						}
					}()
				}
				wg.Wait()
				if wins != 1 || conflicts != 49 {
					t.Fatalf("wins=%d conflicts=%d", wins, conflicts)
				}
				got, _ := s.Aggregate(ctx, agg("hot"), 0)
				for i, e := range got {
					if e.Sequence != uint64(i+1) {
						t.Fatalf("sequences not contiguous: %d at %d", e.Sequence, i)
					}
				}
				if len(got) != 2 {
					t.Fatalf("want 2 events, got %d", len(got))
				}
			})
			t.Run("concurrent unique claims, one winner", func(t *testing.T) {
				s, ctx := mk(t), context.Background()
				var wg sync.WaitGroup
				var mu sync.Mutex
				wins := 0
				for i := 0; i < 20; i++ {
					wg.Add(1)
					go func(i int) {
						defer wg.Done()
						a := one(agg(fmt.Sprint("u", i)), 0, "thing.claimed")
						a.Constraints = []eventstore.UniqueConstraint{{InstanceID: "i1", Type: "name", Value: "same"}}
						_, err := s.Append(ctx, a)
						var ce *eventstore.ConstraintError
						mu.Lock()
						defer mu.Unlock()
						if err == nil {
							wins++
						} else if !errors.As(err, &ce) {
							t.Error(err)
						}
					}(i)
				}
				wg.Wait()
				if wins != 1 {
					t.Fatalf("wins=%d", wins)
				}
			})
			t.Run("runner retries on fresh state, then aborts", func(t *testing.T) {
				s, ctx := mk(t), context.Background()
				if _, err := s.Append(ctx, one(agg("c"), 0, "thing.added")); err != nil {
					t.Fatal(err)
				}
				// Every decision reads the head; a competing writer moves the
				// aggregate between the read and the append on the first try.
				calls := 0
				var decidedOn []uint64
				evs, err := eventstore.Execute(ctx, s, 3, func(ctx context.Context) (eventstore.Append, error) {
					calls++
					cur, _ := s.Aggregate(ctx, agg("c"), 0)
					head := uint64(len(cur))
					decidedOn = append(decidedOn, head)
					if calls == 1 {
						if _, err := s.Append(ctx, one(agg("c"), head, "thing.interloper")); err != nil {
							t.Fatal(err)
						}
					}
					return one(agg("c"), head, "thing.decided"), nil
				})
				if err != nil || len(evs) != 1 || evs[0].Sequence != 3 || calls != 2 {
					t.Fatalf("retry: err=%v evs=%+v calls=%d", err, evs, calls)
				}
				if decidedOn[1] != 2 {
					t.Fatalf("second decision must see fresh state: %v", decidedOn)
				}
				// A writer that always interferes exhausts the attempts: Aborted,
				// and the stale decision is never written.
				_, err = eventstore.Execute(ctx, s, 3, func(ctx context.Context) (eventstore.Append, error) {
					cur, _ := s.Aggregate(ctx, agg("c"), 0)
					head := uint64(len(cur))
					if _, err := s.Append(ctx, one(agg("c"), head, "thing.interloper")); err != nil {
						t.Fatal(err)
					}
					return one(agg("c"), head, "thing.stale"), nil
				})
				if errs.KindOf(err) != errs.KindAborted {
					t.Fatalf("want Aborted, got %v", err)
				}
				got, _ := s.Read(ctx, eventstore.Filter{EventTypes: []string{"thing.stale"}})
				if len(got) != 0 {
					t.Fatal("a stale decision was written")
				}
			})
		})
	}
}
