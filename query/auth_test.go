package query_test

import (
	"context"
	"testing"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// OrgExists remembers an org it found, sees a new org at once, and forgets
// them all on org.removed.
func TestOrgExistsCache(t *testing.T) {
	f := newIDPFixture(t)
	ctx := context.Background()
	ref := eventstore.AggregateRef{InstanceID: "i1", Type: events.AggOrg, ID: "oc1"}
	exists := func(org string) bool {
		t.Helper()
		ok, err := f.q.OrgExists(ctx, "i1", org)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if exists("oc1") {
		t.Fatal("an org that was never added exists")
	}
	evs, err := f.store.Append(ctx, eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
		Aggregate: ref, ResourceOwner: "oc1", Events: []eventstore.PendingEvent{
			{Type: events.OrgAdded, Payload: events.OrgAddedPayload{Name: "oc1"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	// Not found a moment ago is not remembered: the new org shows at once,
	// and again from the cache.
	for range 2 {
		if !exists("oc1") {
			t.Fatal("a new org is not found")
		}
	}
	if exists("oc2") || !exists("oc1") {
		t.Fatal("another org's answer leaked")
	}
	if ok, _ := f.q.OrgExists(ctx, "i2", "oc1"); ok {
		t.Fatal("the org exists in another instance")
	}
	removed, err := f.store.Append(ctx, eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
		Aggregate: ref, ResourceOwner: "oc1", Expected: evs[0].Sequence,
		Events: []eventstore.PendingEvent{{Type: events.OrgRemoved}}}}})
	if err != nil {
		t.Fatal(err)
	}
	// Until the subscription hands the event to InvalidateAuth, the
	// remembered answer stands (no read: the row is gone already); after
	// it the removal shows.
	if !exists("oc1") {
		t.Fatal("the found org was not remembered")
	}
	f.q.InvalidateAuth(&removed[0])
	if exists("oc1") {
		t.Fatal("a removed org still exists after its event")
	}
}
