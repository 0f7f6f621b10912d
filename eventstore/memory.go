package eventstore

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Memory is an in-memory Store for fast command tests. It has the same
// append, ordering and constraint semantics as Postgres (the conformance
// suite runs against both), but no inline projections.
type Memory struct {
	mu      sync.Mutex
	events  []Event
	heads   map[AggregateRef]uint64
	uniques map[[3]string]bool
	txid    uint64
	Now     func() time.Time
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{heads: map[AggregateRef]uint64{}, uniques: map[[3]string]bool{}, Now: time.Now}
}

// Append implements Store.
func (m *Memory) Append(ctx context.Context, a Append) ([]Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	events, err := prepare(a)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ag := range a.Aggregates {
		if m.heads[ag.Aggregate] != ag.Expected {
			return nil, &ConcurrencyError{Aggregate: ag.Aggregate, Expected: ag.Expected}
		}
	}
	claimed := map[[3]string]bool{}
	for _, c := range constraintOrder(a.Constraints) {
		k := [3]string{c.InstanceID, c.Type, c.Value}
		if c.Hold {
			if taken, inBatch := claimed[k]; (inBatch && !taken) || (!inBatch && !m.uniques[k]) {
				return nil, &ConstraintChangedError{Constraint: c}
			}
			continue
		}
		if c.NoneWithPrefix {
			if m.claimedWithPrefix(claimed, c) {
				return nil, &ConstraintChangedError{Constraint: c}
			}
			continue
		}
		if c.Remove {
			claimed[k] = false
			continue
		}
		taken, inBatch := claimed[k]
		if (inBatch && taken) || (!inBatch && m.uniques[k]) {
			return nil, &ConstraintError{Constraint: c}
		}
		claimed[k] = true
	}
	for k, v := range claimed {
		if v {
			m.uniques[k] = true
		} else {
			delete(m.uniques, k)
		}
	}
	m.txid++
	for i := range events {
		e := &events[i]
		e.CreatedAt = m.Now()
		e.TxID = m.txid
		e.Position = int64(len(m.events) + 1)
		m.heads[e.ref()] = e.Sequence
		m.events = append(m.events, *e)
	}
	return events, nil
}

// claimedWithPrefix reports whether a value of c's type starting with
// c.Value is claimed once the batch's claims and releases apply.
func (m *Memory) claimedWithPrefix(batch map[[3]string]bool, c UniqueConstraint) bool {
	match := func(k [3]string) bool {
		return k[0] == c.InstanceID && k[1] == c.Type && strings.HasPrefix(k[2], c.Value)
	}
	for k, taken := range batch {
		if taken && match(k) {
			return true
		}
	}
	for k := range m.uniques {
		if taken, inBatch := batch[k]; match(k) && (!inBatch || taken) {
			return true
		}
	}
	return false
}

// Aggregate implements Store.
func (m *Memory) Aggregate(ctx context.Context, ref AggregateRef, after uint64) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Event
	for _, e := range m.events {
		if e.ref() == ref && e.Sequence > after {
			out = append(out, e)
		}
	}
	return out, nil
}

// Ends implements Store.
func (m *Memory) Ends(ctx context.Context, ref AggregateRef) (Event, Event, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var first, last Event
	ok := false
	for _, e := range m.events {
		if e.ref() != ref {
			continue
		}
		if !ok || e.Sequence < first.Sequence {
			first = e
		}
		if !ok || e.Sequence > last.Sequence {
			last = e
		}
		ok = true
	}
	return first, last, ok, nil
}

// Load implements Store.
func (m *Memory) Load(ctx context.Context, loads ...*Load) error { return loadEach(ctx, m, loads) }

// AggregateTypes implements Store.
func (m *Memory) AggregateTypes(ctx context.Context, ref AggregateRef, types []string) ([]Event, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Event
	for _, e := range m.events {
		if e.ref() != ref {
			continue
		}
		for _, t := range types {
			prefix := strings.HasSuffix(t, ".") || strings.HasSuffix(t, "*")
			if e.Type == t || prefix && strings.HasPrefix(e.Type, strings.TrimSuffix(t, "*")) {
				out = append(out, e)
				break
			}
		}
	}
	return out, m.heads[ref], nil
}

// Read implements Store. Every stored event is committed, so the horizon is
// the end of the log.
func (m *Memory) Read(ctx context.Context, f Filter) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Event
	for _, e := range m.events {
		if matches(&e, f) {
			out = append(out, e)
		}
	}
	if f.Descending {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// Barrier implements Store: every stored event is committed already.
func (m *Memory) Barrier(ctx context.Context, timeout time.Duration) error { return ctx.Err() }

// CursorAt implements Store.
func (m *Memory) CursorAt(ctx context.Context, position int64) (Cursor, error) {
	if position == 0 {
		return Cursor{}, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if position < 0 || position > int64(len(m.events)) {
		return Cursor{}, ErrUnknownPosition
	}
	return m.events[position-1].Cursor(), nil
}

func matches(e *Event, f Filter) bool {
	c := e.Cursor()
	if f.After != (Cursor{}) && !f.After.Less(c) {
		return false
	}
	if f.AtOrBefore != (Cursor{}) && f.AtOrBefore.Less(c) {
		return false
	}
	if f.InstanceID != "" && e.InstanceID != f.InstanceID {
		return false
	}
	if len(f.AggregateTypes) > 0 && !contains(f.AggregateTypes, e.AggregateType) {
		return false
	}
	if len(f.AggregateIDs) > 0 && !contains(f.AggregateIDs, e.AggregateID) {
		return false
	}
	if len(f.EventTypes) > 0 {
		ok := false
		for _, t := range f.EventTypes {
			if strings.HasPrefix(e.Type, strings.TrimSuffix(t, "*")) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if f.Creator != "" && e.Creator != f.Creator {
		return false
	}
	if f.ResourceOwner != "" && e.ResourceOwner != f.ResourceOwner {
		return false
	}
	if !f.Since.IsZero() && e.CreatedAt.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !e.CreatedAt.Before(f.Until) {
		return false
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
