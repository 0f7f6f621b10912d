package command_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// A scenario is a command test in the given-when-then shape, on the
// in-memory store: given the stored events, when a caller runs a command,
// then it appends these events, or fails with this error.
type scenario struct {
	name  string
	given []eventstore.Append // appended in order, each at its aggregates' heads
	as    *authz.Caller       // the caller; nil runs unauthenticated
	when  func(ctx context.Context, c *command.Commands) error
	then  []thenEvent // the events the command appends, in order
	err   *errs.Error // or the error it fails with: kind and ID; the message too when set
}

// thenEvent is an appended event: its aggregate ID, type and payload (nil
// for none).
type thenEvent struct {
	aggregateID string
	typ         string
	payload     any
}

const (
	scInst = "inst1"
	scOrg  = "org1"
	scOrgB = "orgB"
)

func (sc scenario) run(t *testing.T) {
	t.Helper()
	t.Run(sc.name, func(t *testing.T) {
		ctx := context.Background()
		store := eventstore.NewMemory()
		tick := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		store.Now = func() time.Time { tick = tick.Add(time.Second); return tick }
		for _, a := range sc.given {
			for i := range a.Aggregates {
				_, last, _, err := store.Ends(ctx, a.Aggregates[i].Aggregate)
				if err != nil {
					t.Fatal(err)
				}
				a.Aggregates[i].Expected = last.Sequence
			}
			if _, err := store.Append(ctx, a); err != nil {
				t.Fatalf("given: %v", err)
			}
		}
		before, err := store.Read(ctx, eventstore.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if sc.as != nil {
			ctx = authz.WithCaller(ctx, sc.as)
		}
		err = sc.when(ctx, command.New(command.Deps{Store: store}))
		if sc.err != nil {
			e, ok := errs.As(err)
			if !ok || e.Kind != sc.err.Kind || e.ID != sc.err.ID || (sc.err.Message != "" && e.Message != sc.err.Message) {
				t.Fatalf("error = %v, want %v %q %q", err, sc.err.Kind, sc.err.ID, sc.err.Message)
			}
		} else if err != nil {
			t.Fatal(err)
		}
		all, err := store.Read(ctx, eventstore.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		got := all[len(before):]
		if len(got) != len(sc.then) {
			t.Fatalf("appended %d events, want %d: %+v", len(got), len(sc.then), got)
		}
		for i, w := range sc.then {
			g := got[i]
			if g.AggregateID != w.aggregateID || g.Type != w.typ || !sameJSON(t, g.Payload, w.payload) {
				t.Errorf("event %d = %s %s %s, want %s %s %+v", i, g.AggregateID, g.Type, g.Payload, w.aggregateID, w.typ, w.payload)
			}
		}
	})
}

func sameJSON(t *testing.T, got json.RawMessage, want any) bool {
	t.Helper()
	if want == nil {
		return len(got) == 0 || string(got) == "null"
	}
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if json.Unmarshal(got, &g) != nil || json.Unmarshal(b, &w) != nil {
		return false
	}
	return reflect.DeepEqual(g, w)
}

// --- callers ----------------------------------------------------------------

func scCaller(userID, org string, ms ...authz.Membership) *authz.Caller {
	return &authz.Caller{InstanceID: scInst, UserID: userID, UserOrgID: org, OrgID: org, Memberships: ms}
}

func scIAMOwner() *authz.Caller {
	return scCaller("admin", scOrg, authz.Membership{Roles: []string{authz.IAMOwner}})
}

func scOrgOwner(org string) *authz.Caller {
	return scCaller("owner-"+org, org, authz.Membership{OrgID: org, Roles: []string{authz.OrgOwner}})
}

// --- given ------------------------------------------------------------------

func agg(typ, id, owner string, evs ...eventstore.PendingEvent) eventstore.AggregateAppend {
	return eventstore.AggregateAppend{Aggregate: eventstore.AggregateRef{InstanceID: scInst, Type: typ, ID: id},
		ResourceOwner: owner, Events: evs}
}

// givenIDP is a Google IdP of the instance (org "") or of org, with the
// claim every existing IdP holds.
func givenIDP(id, org string) eventstore.Append {
	ownerType, owner := events.OwnerSystem, scInst
	if org != "" {
		ownerType, owner = events.OwnerOrg, org
	}
	return eventstore.Append{
		Aggregates: []eventstore.AggregateAppend{agg(events.AggIDP, id, owner, eventstore.PendingEvent{Type: events.IDPAdded,
			Payload: events.IDPAddedPayload{Kind: "google", OwnerType: ownerType, Name: "Google", Config: json.RawMessage(`{}`)}})},
		Constraints: []eventstore.UniqueConstraint{{InstanceID: scInst, Type: "idp.exists", Value: id}},
	}
}

// givenIDPRemoved removes IdP id, releasing its claim.
func givenIDPRemoved(id, org string) eventstore.Append {
	owner := scInst
	if org != "" {
		owner = org
	}
	return eventstore.Append{
		Aggregates:  []eventstore.AggregateAppend{agg(events.AggIDP, id, owner, eventstore.PendingEvent{Type: events.IDPRemoved})},
		Constraints: []eventstore.UniqueConstraint{{InstanceID: scInst, Type: "idp.exists", Value: id, Remove: true}},
	}
}

func givenHuman(id, org string) eventstore.Append {
	return eventstore.Append{Aggregates: []eventstore.AggregateAppend{agg(events.AggUser, id, org,
		eventstore.PendingEvent{Type: events.UserHumanAdded, Payload: events.HumanAddedPayload{Username: id}})}}
}

// givenLink links user (of org) to l, claiming the account.
func givenLink(user, org string, l events.IDPLinkPayload) eventstore.Append {
	return eventstore.Append{
		Aggregates: []eventstore.AggregateAppend{agg(events.AggUser, user, org,
			eventstore.PendingEvent{Type: events.UserIDPLinkAdded, Payload: l})},
		Constraints: []eventstore.UniqueConstraint{{InstanceID: scInst, Type: "user.idp.link", Value: l.IDPID + ":" + l.ExternalUserID}},
	}
}

// givenPolicy is the instance's default login policy (org "") or org's
// custom one.
func givenPolicy(org string) eventstore.Append {
	id, isDefault := org, false
	if org == "" {
		id, isDefault = scInst, true
	}
	return eventstore.Append{Aggregates: []eventstore.AggregateAppend{agg(events.AggLoginPolicy, id, id,
		eventstore.PendingEvent{Type: events.LoginPolicyAdded, Payload: events.LoginPolicyAddedPayload{IsDefault: isDefault}})}}
}

// givenPolicyIDP lists idpID on the policy (org "" for the default),
// claiming its place.
func givenPolicyIDP(org, idpID, ownerType string) eventstore.Append {
	id := org
	if org == "" {
		id = scInst
	}
	return eventstore.Append{
		Aggregates: []eventstore.AggregateAppend{agg(events.AggLoginPolicy, id, id, eventstore.PendingEvent{
			Type: events.LoginPolicyIDPAdded, Payload: events.LoginPolicyIDPPayload{IDPID: idpID, OwnerType: ownerType}})},
		Constraints: []eventstore.UniqueConstraint{{InstanceID: scInst, Type: "login_policy.idp", Value: idpID + ":" + id}},
	}
}

func wantErrOf(kind errs.Kind, id string) *errs.Error { return &errs.Error{Kind: kind, ID: id} }

func wantMessage(msg string) *errs.Error {
	return &errs.Error{Kind: errs.KindInvalidArgument, Message: msg}
}
