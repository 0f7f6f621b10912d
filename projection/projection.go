package projection

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/idledger/idledger/eventstore"
	"github.com/jackc/pgx/v5"
)

// Statement is one SQL statement a reducer wants executed.
// Build it from a Shape where the statement changes rows by equality on
// columns; write SQL by hand only for what a shape cannot say.
type Statement struct {
	SQL  string
	Args []any

	shape *Shape // nil for hand-written SQL
}

// Tables maps a projection's logical table names to the physical ones: the
// live tables normally, shadow tables during a rebuild.
type Tables map[string]string

// T returns the physical name of logical table name.
func (t Tables) T(name string) string {
	if p, ok := t[name]; ok {
		return p
	}
	return name
}

// Live is the identity mapping.
var Live = Tables(nil)

// Projection reduces events into its own tables.
type Projection struct {
	Name string
	// Tables are the logical names of the tables it owns (for rebuilds).
	Tables []string
	// Updated are those of Tables whose rows its reducers change in place
	// (an Update shape, a hand-written UPDATE). A rebuild leaves room in
	// their pages for the new row versions (rebuildFillfactor); naming a
	// table here or not changes a rebuild's speed, never its rows.
	Updated []string
	// EventTypes are the event type prefixes it handles.
	EventTypes []string
	// Reduce returns the statements that apply e. An error halts the
	// projection (inline: fails the append); it never skips an event.
	Reduce func(e *eventstore.Event, t Tables) ([]Statement, error)
}

// Handles reports whether p reduces events of type typ.
func (p *Projection) Handles(typ string) bool {
	for _, pre := range p.EventTypes {
		if strings.HasPrefix(typ, pre) {
			return true
		}
	}
	return false
}

// Upcaster rewrites the payload of an old revision of an event type into the
// next revision's shape.
type Upcaster struct {
	EventType string
	From      uint16 // revision it reads; it produces From+1
	Up        func(payload json.RawMessage) (json.RawMessage, error)
}

// Registry holds the projections of one process.
type Registry struct {
	inline    []*Projection
	async     []*Projection
	upcasters map[string]map[uint16]Upcaster
}

var _ eventstore.InlineBatcher = (*Registry)(nil)

// NewRegistry returns a registry with the given inline projections.
func NewRegistry(inline ...*Projection) *Registry {
	return &Registry{inline: inline, upcasters: map[string]map[uint16]Upcaster{}}
}

// Inline returns the inline projections.
func (r *Registry) Inline() []*Projection { return r.inline }

// AddAsync registers projections that a Runner applies after the append
// commits, from their own cursor, instead of inside the append transaction.
func (r *Registry) AddAsync(ps ...*Projection) { r.async = append(r.async, ps...) }

// Async returns the async projections.
func (r *Registry) Async() []*Projection { return r.async }

// Projections returns every projection, inline first, then async.
func (r *Registry) Projections() []*Projection {
	return append(append([]*Projection(nil), r.inline...), r.async...)
}

// IsAsync reports whether p is one of the registry's async projections.
func (r *Registry) IsAsync(p *Projection) bool {
	for _, a := range r.async {
		if a == p {
			return true
		}
	}
	return false
}

// ByName returns the projection called name, inline or async.
func (r *Registry) ByName(name string) (*Projection, bool) {
	for _, p := range r.Projections() {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// AddUpcaster registers u. Upcasters chain: revision 1 → 2 → 3 ….
func (r *Registry) AddUpcaster(u Upcaster) {
	if r.upcasters[u.EventType] == nil {
		r.upcasters[u.EventType] = map[uint16]Upcaster{}
	}
	r.upcasters[u.EventType][u.From] = u
}

// Upcast brings e's payload to the newest registered revision, in place.
func (r *Registry) Upcast(e *eventstore.Event) error {
	chain := r.upcasters[e.Type]
	for {
		u, ok := chain[e.Revision]
		if !ok {
			return nil
		}
		p, err := u.Up(e.Payload)
		if err != nil {
			return fmt.Errorf("upcast %s revision %d (position %d): %w", e.Type, e.Revision, e.Position, err)
		}
		e.Payload, e.Revision = p, e.Revision+1
	}
}

// Statements returns what every projection in ps does for e, upcasting first.
func (r *Registry) Statements(ps []*Projection, e eventstore.Event, t Tables) ([]Statement, error) {
	var out []Statement
	handled := false
	for _, p := range ps {
		if !p.Handles(e.Type) {
			continue
		}
		if !handled {
			if err := r.Upcast(&e); err != nil {
				return nil, err
			}
			handled = true
		}
		st, err := p.Reduce(&e, t)
		if err != nil {
			return nil, fmt.Errorf("projection %s: reduce %s (position %d): %w", p.Name, e.Type, e.Position, err)
		}
		out = append(out, st...)
	}
	return out, nil
}

// QueueInline implements eventstore.InlineBatcher: it queues every statement
// of every inline projection for events into the append's own batch, so the
// append is one round trip. A failing statement fails the whole append.
func (r *Registry) QueueInline(b *pgx.Batch, events []eventstore.Event) error {
	for _, e := range events {
		st, err := r.Statements(r.inline, e, Live)
		if err != nil {
			return err
		}
		for _, s := range st {
			b.Queue(s.SQL, s.Args...)
		}
	}
	return nil
}

// ApplyInline implements eventstore.InlineHook: all statements of all inline
// projections for the appended events go to the database in one round trip
// of the open transaction (the store uses QueueInline instead).
func (r *Registry) ApplyInline(ctx context.Context, tx pgx.Tx, events []eventstore.Event) error {
	b := &pgx.Batch{}
	if err := r.QueueInline(b, events); err != nil {
		return err
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("inline projections: %w", err)
	}
	return nil
}
