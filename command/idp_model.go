package command

import (
	"context"
	"errors"
	"fmt"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/internal/idpstate"
)

// idpModel is the write model of one IdP aggregate: the one typed IdP fold
// (idpstate.State), whose Config holds the stored secrets as sealed text.
type idpModel struct {
	idpstate.State
	aggregate
}

func (m *idpModel) reduce(e *eventstore.Event) error { return m.Apply(e) }

// loadIDP folds the IdP aggregate idpID of instanceID.
func (c *Commands) loadIDP(ctx context.Context, instanceID, idpID string) (*idpModel, error) {
	m := &idpModel{aggregate: aggregate{ref: eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggIDP, ID: idpID}}}
	if err := c.load(ctx, m, nil, loadErrs{read: "COMMAND-IdpL1", reduce: "COMMAND-IdpL2"}); err != nil {
		return nil, err
	}
	return m, nil
}

// change is the append of one event of typ with an IDPChangedPayload
// (idp.changed, idp.secrets.resealed) on m's aggregate, expecting its head.
func (m *idpModel) change(typ, kindPath, name string, opts idp.Options, cfg idp.Config) (eventstore.Append, error) {
	optsJSON, cfgJSON, err := marshalIDP(opts, cfg)
	if err != nil {
		return eventstore.Append{}, err
	}
	return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
		Aggregate:     m.ref,
		ResourceOwner: m.ResourceOwner,
		Expected:      m.Sequence,
		Events: []eventstore.PendingEvent{{Type: typ, Payload: events.IDPChangedPayload{
			Kind: kindPath, Name: name, Options: optsJSON, Config: cfgJSON,
		}}},
	}}}, nil
}

func (m *idpModel) details() Details {
	return Details{ID: m.ref.ID, Sequence: m.Sequence, Created: m.Created, Changed: m.Changed, ResourceOwner: m.ResourceOwner}
}

// IDPOwner reports who owns IdP idpID in instanceID: ownerType is
// events.OwnerSystem (resourceOwner = the instance ID) or events.OwnerOrg
// (resourceOwner = the org ID). exists is true when the IdP was added and not
// removed; an inactive IdP still exists. It checks no permission: callers
// (login policies, user links) apply their own rules.
//
// Errors: errs.Internal when the store cannot be read.
func idpRef(instanceID, idpID string) eventstore.AggregateRef {
	return eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggIDP, ID: idpID}
}

func (c *Commands) IDPOwner(ctx context.Context, instanceID, idpID string) (ownerType, resourceOwner string, exists bool, err error) {
	if idpID == "" {
		return "", "", false, nil
	}
	// The first event (idp.added) says who owns the IdP and the last one
	// whether it is gone (nothing follows idp.removed, and IDs are never
	// reused): two index lookups, however often the IdP was changed.
	first, last, ok, err := c.ends(ctx, idpRef(instanceID, idpID))
	if err != nil {
		return "", "", false, errs.Internal("COMMAND-IdpL3", fmt.Errorf("load idp %s: %w", idpID, err))
	}
	if !ok || first.Type != events.IDPAdded || last.Type == events.IDPRemoved {
		return "", "", false, nil
	}
	var p struct {
		OwnerType string `json:"ownerType"`
	}
	if err := first.Unmarshal(&p); err != nil {
		return "", "", false, errs.Internal("COMMAND-IdpL4", err)
	}
	return p.OwnerType, first.ResourceOwner, true, nil
}

// cascadeIDPRemoval adds to a the removal of the IdP from every login
// policy and every user link. The link index (read tables) names the
// candidates; each is confirmed against its own events, which also give the
// expected sequences, so a concurrent change makes the append conflict and
// the whole decision is re-run.
func (c *Commands) cascadeIDPRemoval(ctx context.Context, m *idpModel, a *eventstore.Append) error {
	idpID, instanceID := m.ref.ID, m.ref.InstanceID
	if c.links == nil {
		return errs.Internal("COMMAND-IdpC0", errors.New("no link index configured (command.Deps.Links)"))
	}
	policies, err := c.links.PoliciesLinkingIDP(ctx, instanceID, idpID)
	if err != nil {
		return errs.Internal("COMMAND-IdpC1", fmt.Errorf("find policies linking idp %s: %w", idpID, err))
	}
	for _, id := range policies {
		ref := eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggLoginPolicy, ID: id}
		if err := c.cascadePolicy(ctx, ref, m, a); err != nil {
			return err
		}
	}
	return c.cascadeUserLinks(ctx, instanceID, idpID, "", a)
}

// cascadePolicy unlinks the IdP from one login policy if it links it now.
func (c *Commands) cascadePolicy(ctx context.Context, ref eventstore.AggregateRef, m *idpModel, a *eventstore.Append) error {
	evs, head, err := c.store.AggregateTypes(ctx, ref, []string{"login_policy."})
	if err != nil {
		return errs.Internal("COMMAND-IdpC3", fmt.Errorf("load %s: %w", ref, err))
	}
	active, linked, owner := false, false, ""
	for i := range evs {
		e := &evs[i]
		owner = e.ResourceOwner
		switch e.Type {
		case events.LoginPolicyAdded:
			active, linked = true, false
		case events.LoginPolicyRemoved:
			active, linked = false, false
		case events.LoginPolicyIDPAdded, events.LoginPolicyIDPRemoved, events.LoginPolicyIDPCascadeRemoved:
			var p events.LoginPolicyIDPPayload
			if err := e.Unmarshal(&p); err != nil {
				return errs.Internal("COMMAND-IdpC4", err)
			}
			if p.IDPID == m.ref.ID {
				linked = e.Type == events.LoginPolicyIDPAdded
			}
		}
	}
	if !active || !linked {
		return nil
	}
	a.Aggregates = append(a.Aggregates, eventstore.AggregateAppend{
		Aggregate:     ref,
		ResourceOwner: owner,
		Expected:      head,
		Events: []eventstore.PendingEvent{{Type: events.LoginPolicyIDPCascadeRemoved,
			Payload: events.LoginPolicyIDPPayload{IDPID: m.ref.ID, OwnerType: m.OwnerType}}},
	})
	a.Constraints = append(a.Constraints, policyIDPRelease(ref.InstanceID, m.ref.ID, ref.ID))
	return nil
}
