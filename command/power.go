package command

import (
	"context"
	"errors"
	"slices"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// MemberIndex finds, in the read tables, where a user is a member: org IDs,
// "" for the instance. Implemented by the query side.
type MemberIndex interface {
	MembershipOrgs(ctx context.Context, instanceID, userID string) ([]string, error)
}

// targetRoles are the memberships a user holds, each confirmed against the
// events of its instance or org, with the member sets they were read from.
type targetRoles struct {
	userID   string
	instance *membersModel   // always loaded: the last-owner rule reads it
	held     []*membersModel // the sets that list the user, instance first
	roles    []authz.Membership
}

// loadTargetRoles reads every membership of userID. The read index says
// where to look; each org found is confirmed by its own events, so a stale
// index can only add a load, never grant or hide a role.
func (c *Commands) loadTargetRoles(ctx context.Context, instanceID, userID string) (*targetRoles, error) {
	if c.members == nil {
		return nil, errs.Internal("COMMAND-Pwr00", errors.New("command: no member index configured"))
	}
	inst, err := c.loadMembers(ctx, instanceID, "")
	if err != nil {
		return nil, err
	}
	t := &targetRoles{userID: userID, instance: inst}
	if r, ok := inst.members[userID]; ok {
		t.held = append(t.held, inst)
		t.roles = append(t.roles, authz.Membership{Roles: r})
	}
	orgs, err := c.members.MembershipOrgs(ctx, instanceID, userID)
	if err != nil {
		return nil, err
	}
	for _, org := range orgs {
		if org == "" {
			continue
		}
		m, err := c.loadMembers(ctx, instanceID, org)
		if err != nil {
			return nil, err
		}
		if r, ok := m.members[userID]; ok && m.exists {
			t.held = append(t.held, m)
			t.roles = append(t.roles, authz.Membership{OrgID: org, Roles: r})
		}
	}
	return t, nil
}

// checkPower loads the roles of userID and applies "credentials follow
// power" (DESIGN.md §2) for the caller.
//
// Errors: PermissionDenied AUTHZ-Cov01; the loads' errors.
func (c *Commands) checkPower(ctx context.Context, cl *authz.Caller, userID string) (*targetRoles, error) {
	t, err := c.loadTargetRoles(ctx, cl.InstanceID, userID)
	if err != nil {
		return nil, err
	}
	if err := cl.CheckCovers(t.roles); err != nil {
		return nil, err
	}
	return t, nil
}

// checkNotLastOwner refuses to remove the last IAM owner of the instance:
// an instance without one cannot be administered. Other owners count only
// while their user exists.
//
// Errors: FailedPrecondition COMMAND-LastOw.
func (c *Commands) checkNotLastOwner(ctx context.Context, t *targetRoles) error {
	if !slices.Contains(t.instance.members[t.userID], authz.IAMOwner) {
		return nil
	}
	for id, roles := range t.instance.members {
		if id == t.userID || !slices.Contains(roles, authz.IAMOwner) {
			continue
		}
		u, err := c.loadUser(ctx, t.instance.ref.InstanceID, id)
		if err != nil {
			return err
		}
		if u.exists {
			return nil
		}
	}
	return errs.FailedPrecondition("COMMAND-LastOw", "The last IAM owner of the instance cannot be removed")
}

// revokeAll returns the appends that end every membership of t's user, at
// the heads they were read at: a concurrent change of any of those member
// sets (another owner removed at the same moment) makes the append retry
// and decide again.
func (t *targetRoles) revokeAll() []eventstore.AggregateAppend {
	var out []eventstore.AggregateAppend
	for _, m := range t.held {
		typ, owner := events.OrgMemberRemoved, m.ref.ID
		if m.ref.Type == events.AggInstance {
			typ = events.InstanceMemberRemoved
		}
		out = append(out, eventstore.AggregateAppend{Aggregate: m.ref, ResourceOwner: owner, Expected: m.head,
			Events: []eventstore.PendingEvent{{Type: typ, Payload: events.MemberPayload{UserID: t.userID}}}})
	}
	return out
}
