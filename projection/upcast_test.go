package projection

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/idledger/idledger/eventstore"
)

// renameNameToDisplayName is the upcaster of testitem.added revision 1,
// whose payload called the field "name"; revision 2 calls it "displayName".
var renameNameToDisplayName = Upcaster{EventType: "testitem.added", From: 1,
	Up: func(p json.RawMessage) (json.RawMessage, error) {
		var m map[string]any
		if err := json.Unmarshal(p, &m); err != nil {
			return nil, err
		}
		m["displayName"] = m["name"]
		delete(m, "name")
		return json.Marshal(m)
	}}

// strictItems is the current projection: it needs displayName.
func strictItems() *Projection {
	p := itemsProjection("items")
	lenient := p.Reduce
	p.Reduce = func(e *eventstore.Event, t Tables) ([]Statement, error) {
		if e.Type == "testitem.added" {
			var v struct {
				DisplayName string `json:"displayName"`
			}
			if err := e.Unmarshal(&v); err != nil || v.DisplayName == "" {
				return nil, errors.New("added event without displayName")
			}
		}
		return lenient(e, t)
	}
	return p
}

func TestUpcastOldRevisionsIntoNewShape(t *testing.T) {
	ctx := context.Background()
	e := setup(t, NewRegistry(), itemsSchema)
	// Old code wrote revision 1 (and had no projection on these tables).
	old := eventstore.NewPostgres(e.pool, nil)
	for _, id := range []string{"old1", "old2"} {
		if _, err := old.Append(ctx, eventstore.Append{Aggregates: []eventstore.AggregateAppend{item(id, 0,
			eventstore.PendingEvent{Type: "testitem.added", Revision: 1, Payload: map[string]string{"name": "legacy " + id}},
		)}}); err != nil {
			t.Fatal(err)
		}
	}

	// Without the upcaster, the new reducer cannot read the old events: the
	// rebuild fails and names the event rather than skipping it.
	reg := NewRegistry(strictItems())
	if err := Rebuild(ctx, e.pool, old, reg, nil, nil); err == nil || !strings.Contains(err.Error(), "without displayName") {
		t.Fatalf("rebuild without upcaster: %v", err)
	}

	// New code: the upcaster is registered; new events are revision 2.
	reg.AddUpcaster(renameNameToDisplayName)
	store := eventstore.NewPostgres(e.pool, reg)
	if _, err := store.Append(ctx, eventstore.Append{Aggregates: []eventstore.AggregateAppend{
		item("new1", 0, ev("testitem.added", itemPayload{DisplayName: "current new1"})),
		item("old1", 1, ev("testitem.renamed", itemPayload{DisplayName: "renamed old1"})),
	}}); err != nil {
		t.Fatal(err)
	}
	if err := Rebuild(ctx, e.pool, store, reg, nil, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := e.pool.Query(ctx, "SELECT id || '=' || name FROM test_items ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		got = append(got, s)
	}
	if want := "new1=current new1,old1=renamed old1,old2=legacy old2"; strings.Join(got, ",") != want {
		t.Fatalf("rows = %v, want %s", got, want)
	}
	// The stored events are unchanged: upcasting happens on read.
	var payload string
	_ = e.pool.QueryRow(ctx, "SELECT payload::text FROM events WHERE aggregate_id = 'old2'").Scan(&payload)
	if payload != `{"name": "legacy old2"}` {
		t.Errorf("stored payload changed: %s", payload)
	}
}

func TestUpcastersChain(t *testing.T) {
	reg := NewRegistry()
	reg.AddUpcaster(renameNameToDisplayName)
	reg.AddUpcaster(Upcaster{EventType: "testitem.added", From: 2, Up: func(p json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(strings.Replace(string(p), `"displayName"`, `"title"`, 1)), nil
	}})
	e := eventstore.Event{Type: "testitem.added", Revision: 1, Payload: json.RawMessage(`{"name":"a"}`)}
	if err := reg.Upcast(&e); err != nil {
		t.Fatal(err)
	}
	if e.Revision != 3 || string(e.Payload) != `{"title":"a"}` {
		t.Errorf("upcast to revision %d: %s", e.Revision, e.Payload)
	}
}
