package command

import (
	"context"
	"fmt"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// linkUniqueType is the unique-constraint type of a user's IdP link; its
// value is linkUniqueValue. The IdP area releases the same values when it
// cascades an IdP's removal.
const linkUniqueType = "user.idp.link"

func linkUniqueValue(idpID, externalUserID string) string { return idpID + ":" + externalUserID }

// linkUserModel is the write model of a user for IdP links: existence, org,
// and (when loaded with links) the active links in the order they were added.
type linkUserModel struct {
	aggregate
	exists bool
	orgID  string
	links  []events.IDPLinkPayload
}

// linkUserTypes are the events of a user that decide its links: existence,
// and every link event.
var linkUserTypes = []string{events.UserHumanAdded, events.UserMachineAdded, events.UserRemoved, "user.human.externalidp."}

func userRef(instanceID, userID string) eventstore.AggregateRef {
	return eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggUser, ID: userID}
}

// instanceRef is the instance aggregate of instanceID (its ID is the
// instance's).
func instanceRef(instanceID string) eventstore.AggregateRef {
	return eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggInstance, ID: instanceID}
}

// loadLinkUser folds user userID; withLinks also folds its link events.
// Without links it reads only the aggregate's ends, so a user with a long
// link history costs the same as a new one: a user aggregate starts with
// its user.*.added (an ID is never reused, even after removal) and ends at
// user.removed (nothing is appended to a removed user).
func (c *Commands) loadLinkUser(ctx context.Context, instanceID, userID string, withLinks bool) (*linkUserModel, error) {
	m := &linkUserModel{aggregate: aggregate{ref: userRef(instanceID, userID)}}
	if withLinks {
		if err := c.load(ctx, m, linkUserTypes, loadErrs{read: "COMMAND-LnkL1", reduce: "COMMAND-LnkL2"}); err != nil {
			return nil, err
		}
		return m, nil
	}
	first, last, ok, err := c.ends(ctx, m.ref)
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

func (m *linkUserModel) reduce(e *eventstore.Event) error {
	switch e.Type {
	case events.UserHumanAdded, events.UserMachineAdded:
		m.exists, m.orgID = true, e.ResourceOwner
	case events.UserRemoved:
		m.exists, m.links = false, nil
	case events.UserIDPLinkAdded, events.UserIDPLinkRemoved, events.UserIDPLinkCascadeRemoved:
		var p events.IDPLinkPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.removeLink(p.IDPID, p.ExternalUserID)
		if e.Type == events.UserIDPLinkAdded {
			m.links = append(m.links, p)
		}
	}
	return nil
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
