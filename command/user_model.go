package command

import (
	"context"
	"time"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// userModel is the write model of a user: what the identity commands need
// to decide (existence, org, kind, active tokens).
type userModel struct {
	ref      eventstore.AggregateRef
	exists   bool
	orgID    string
	kind     string // "human" | "machine"
	username string
	head     uint64
	created  time.Time
	pats     map[string]bool // active token IDs
}

// userModelTypes are the event types the user model reduces; link events
// and the like are skipped at load time, the head still counts them.
var userModelTypes = []string{events.UserHumanAdded, events.UserMachineAdded, events.UserRemoved,
	events.UserPATAdded, events.UserPATRemoved}

func (c *Commands) loadUser(ctx context.Context, instanceID, userID string) (*userModel, error) {
	m := &userModel{
		ref:  eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggUser, ID: userID},
		pats: map[string]bool{},
	}
	var err error
	m.head, m.created, err = c.loadModel(ctx, m.ref, userModelTypes, m.reduce)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (m *userModel) reduce(e *eventstore.Event) error {
	switch e.Type {
	case events.UserHumanAdded:
		var p events.HumanAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.exists, m.kind, m.username, m.orgID = true, "human", p.Username, e.ResourceOwner
	case events.UserMachineAdded:
		var p events.MachineAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.exists, m.kind, m.username, m.orgID = true, "machine", p.Username, e.ResourceOwner
	case events.UserRemoved:
		m.exists = false
		m.pats = map[string]bool{}
	case events.UserPATAdded:
		var p events.PATAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.pats[p.TokenID] = true
	case events.UserPATRemoved:
		var p events.PATRemovedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		delete(m.pats, p.TokenID)
	}
	return nil
}

// membersModel is the member set of the instance or of one org, with the
// aggregate's existence and head.
type membersModel struct {
	ref     eventstore.AggregateRef
	exists  bool
	name    string
	head    uint64
	created time.Time
	members map[string][]string
}

func (c *Commands) loadMembers(ctx context.Context, instanceID, orgID string) (*membersModel, error) {
	m := &membersModel{members: map[string][]string{}}
	var types []string
	if orgID == "" {
		m.ref = eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggInstance, ID: instanceID}
		types = []string{events.InstanceAdded, "instance.member."}
	} else {
		m.ref = eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggOrg, ID: orgID}
		types = []string{events.OrgAdded, events.OrgRemoved, "org.member."}
	}
	var err error
	m.head, m.created, err = c.loadModel(ctx, m.ref, types, m.reduce)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (m *membersModel) reduce(e *eventstore.Event) error {
	switch e.Type {
	case events.InstanceAdded:
		m.exists = true
	case events.OrgAdded:
		var p events.OrgAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.exists, m.name = true, p.Name
	case events.OrgRemoved:
		m.exists = false
	case events.InstanceMemberAdded, events.OrgMemberAdded:
		var p events.MemberPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.members[p.UserID] = p.Roles
	case events.InstanceMemberRemoved, events.OrgMemberRemoved:
		var p events.MemberPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		delete(m.members, p.UserID)
	}
	return nil
}

// detailsFromEvents is aggregateDetails for the identity commands, which
// answer with a pointer.
func detailsFromEvents(evs []eventstore.Event, ref eventstore.AggregateRef, created time.Time) *Details {
	d := aggregateDetails(evs, ref, created)
	return &d
}

// authorizeIdentity checks perm on orgID ("" = the instance) for the caller
// in ctx: with ZITADEL's admin/management semantics when v1 is set
// (404 AUTHZ-cdgFk without any membership, else 403 AUTH-5mWD2), with the
// v2 check (403 AUTHZ-HKJD33) otherwise.
func authorizeIdentity(ctx context.Context, v1 bool, perm, orgID string) (*authz.Caller, error) {
	cl, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if v1 {
		err = cl.CheckV1(perm, orgID)
	} else {
		err = cl.Check(perm, orgID)
	}
	if err != nil {
		return nil, err
	}
	return cl, nil
}
