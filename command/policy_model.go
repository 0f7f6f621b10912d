package command

import (
	"context"
	"fmt"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// loginPolicyModel is the write model of one login_policy aggregate: the
// instance default (ID = instance ID) or an org's custom policy (ID = org ID).
type loginPolicyModel struct {
	ref       eventstore.AggregateRef
	exists    bool // added and not removed (reset to the default)
	isDefault bool
	idps      map[string]string // active links: IdP ID → owner type
	head      uint64
	created   time.Time // first event of the current incarnation
}

func (c *Commands) loadLoginPolicy(ctx context.Context, instanceID, policyID string) (*loginPolicyModel, error) {
	m := &loginPolicyModel{
		ref:  eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggLoginPolicy, ID: policyID},
		idps: map[string]string{},
	}
	evs, err := c.store.Aggregate(ctx, m.ref, 0)
	if err != nil {
		return nil, errs.Internal("COMMAND-LpL01", fmt.Errorf("load %s: %w", m.ref, err))
	}
	for i := range evs {
		if err := m.reduce(&evs[i]); err != nil {
			return nil, errs.Internal("COMMAND-LpL02", err)
		}
	}
	return m, nil
}

func (m *loginPolicyModel) reduce(e *eventstore.Event) error {
	m.head = e.Sequence
	switch e.Type {
	case events.LoginPolicyAdded:
		var p events.LoginPolicyAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.exists, m.isDefault, m.created = true, p.IsDefault, e.CreatedAt
		clear(m.idps)
	case events.LoginPolicyRemoved:
		m.exists = false
		clear(m.idps)
	case events.LoginPolicyIDPAdded:
		var p events.LoginPolicyIDPPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.idps[p.IDPID] = p.OwnerType
	case events.LoginPolicyIDPRemoved, events.LoginPolicyIDPCascadeRemoved:
		var p events.LoginPolicyIDPPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		delete(m.idps, p.IDPID)
	}
	return nil
}

// linkUniqueType is the unique-constraint type of a user's IdP link; its
// value is linkUniqueValue. The IdP area releases the same values when it
// cascades an IdP's removal.
const linkUniqueType = "user.idp.link"

// policyIDPType is claimed for every IdP a login policy lists, as
// "<idp ID>:<policy ID>"; an IdP's removal checks that none is left, like
// its links (see RemoveIDP).
const policyIDPType = "login_policy.idp"

// The answers to an IdP a policy lists already, from the write model or,
// should it be stale, from the claim. Errors are never mutated (WithCause
// copies), so one value serves every request.
var (
	defaultPolicyIDPExists = errs.AlreadyExists("INSTANCE-2B0ps", "Errors.IAM.LoginPolicy.IDP.AlreadyExists")
	orgPolicyIDPExists     = errs.AlreadyExists("Org-2B0ps", "Errors.Org.LoginPolicy.IDP.AlreadyExists")
)

// policyIDPClaim claims idpID's place in policy policyID; a duplicate
// answers dup.
func policyIDPClaim(instanceID, idpID, policyID string, dup *errs.Error) eventstore.UniqueConstraint {
	return eventstore.UniqueConstraint{InstanceID: instanceID, Type: policyIDPType, Value: idpID + ":" + policyID,
		ErrorID: dup.ID, Message: dup.Message}
}

func policyIDPRelease(instanceID, idpID, policyID string) eventstore.UniqueConstraint {
	return eventstore.UniqueConstraint{InstanceID: instanceID, Type: policyIDPType, Value: idpID + ":" + policyID, Remove: true}
}

func linkUniqueValue(idpID, externalUserID string) string { return idpID + ":" + externalUserID }

// linkUserModel is the write model of a user for IdP links: existence, org,
// and (when loaded with links) the active links in the order they were added.
type linkUserModel struct {
	ref     eventstore.AggregateRef
	exists  bool
	orgID   string
	head    uint64
	created time.Time
	links   []events.IDPLinkPayload
}

// userExistenceTypes are enough to decide whether a user exists and where.
var userExistenceTypes = []string{events.UserHumanAdded, events.UserMachineAdded, events.UserRemoved}

// loadLinkUser folds user userID; withLinks also folds its link events.
// Without links it reads only the aggregate's ends, so a user with a long
// link history costs the same as a new one: a user aggregate starts with
// its user.*.added (an ID is never reused, even after removal) and ends at
// user.removed (nothing is appended to a removed user).
func (c *Commands) loadLinkUser(ctx context.Context, instanceID, userID string, withLinks bool) (*linkUserModel, error) {
	m := &linkUserModel{ref: eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggUser, ID: userID}}
	if !withLinks {
		first, last, ok, err := c.store.Ends(ctx, m.ref)
		if err != nil {
			return nil, errs.Internal("COMMAND-LnkL3", fmt.Errorf("load user %s: %w", userID, err))
		}
		if ok {
			m.head, m.created = last.Sequence, first.CreatedAt
			m.exists = (first.Type == events.UserHumanAdded || first.Type == events.UserMachineAdded) && last.Type != events.UserRemoved
			if m.exists {
				m.orgID = first.ResourceOwner
			}
		}
		return m, nil
	}
	types := append(append([]string(nil), userExistenceTypes...), "user.human.externalidp.")
	evs, head, err := c.store.AggregateTypes(ctx, m.ref, types)
	if err != nil {
		return nil, errs.Internal("COMMAND-LnkL1", fmt.Errorf("load user %s: %w", userID, err))
	}
	m.head = head
	for i := range evs {
		e := &evs[i]
		if e.Sequence == 1 {
			m.created = e.CreatedAt
		}
		switch e.Type {
		case events.UserHumanAdded, events.UserMachineAdded:
			m.exists, m.orgID = true, e.ResourceOwner
		case events.UserRemoved:
			m.exists, m.links = false, nil
		case events.UserIDPLinkAdded, events.UserIDPLinkRemoved, events.UserIDPLinkCascadeRemoved:
			var p events.IDPLinkPayload
			if err := e.Unmarshal(&p); err != nil {
				return nil, errs.Internal("COMMAND-LnkL2", err)
			}
			m.removeLink(p.IDPID, p.ExternalUserID)
			if e.Type == events.UserIDPLinkAdded {
				m.links = append(m.links, p)
			}
		}
	}
	return m, nil
}

func (m *linkUserModel) removeLink(idpID, externalUserID string) {
	for i, l := range m.links {
		if l.IDPID == idpID && l.ExternalUserID == externalUserID {
			m.links = append(m.links[:i], m.links[i+1:]...)
			return
		}
	}
}

// linksTo returns the user's active links to idpID, or to the one account
// externalUserID at it when that is not empty.
func (m *linkUserModel) linksTo(idpID, externalUserID string) []events.IDPLinkPayload {
	var out []events.IDPLinkPayload
	for _, l := range m.links {
		if l.IDPID == idpID && (externalUserID == "" || l.ExternalUserID == externalUserID) {
			out = append(out, l)
		}
	}
	return out
}

// removeLinksAppend returns the append that removes links from the user
// (with eventType: removed or cascade-removed) and releases their unique
// values.
func (m *linkUserModel) removeLinksAppend(eventType string, links []events.IDPLinkPayload) (eventstore.AggregateAppend, []eventstore.UniqueConstraint) {
	ag := eventstore.AggregateAppend{Aggregate: m.ref, ResourceOwner: m.orgID, Expected: m.head}
	var cs []eventstore.UniqueConstraint
	for _, l := range links {
		ag.Events = append(ag.Events, eventstore.PendingEvent{Type: eventType, Payload: l})
		cs = append(cs, eventstore.UniqueConstraint{
			InstanceID: m.ref.InstanceID, Type: linkUniqueType, Value: linkUniqueValue(l.IDPID, l.ExternalUserID), Remove: true,
		})
	}
	return ag, cs
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
