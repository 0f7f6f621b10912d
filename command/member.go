package command

import (
	"context"
	"fmt"
	"slices"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// validRoles checks that every role may be granted at the level.
func validRoles(roles []string, instanceLevel bool) error {
	for _, r := range roles {
		if !authz.ValidRole(r, instanceLevel) {
			return errs.InvalidArgument("COMMAND-4m0fS", fmt.Sprintf("Errors.Member.InvalidRole: %q", r))
		}
	}
	return nil
}

// AddInstanceMember grants instance roles to a user of the instance
// (admin API: iam.member.write on the instance).
//
// Errors: NotFound AUTHZ-cdgFk / PermissionDenied AUTH-5mWD2;
// InvalidArgument (no user ID, no roles, a role that is not an instance
// role); FailedPrecondition COMMAND-uXHNj when the user does not exist;
// AlreadyExists COMMAND-MemDup when the user is a member already.
func (c *Commands) AddInstanceMember(ctx context.Context, userID string, roles []string) (*Details, error) {
	return c.addMember(ctx, "", userID, roles)
}

// AddOrgMember grants org roles on the context org orgID to a user of the
// instance (management API: org.member.write on orgID). Errors as
// AddInstanceMember, plus FailedPrecondition COMMAND-QXPGs when the org
// does not exist.
func (c *Commands) AddOrgMember(ctx context.Context, orgID, userID string, roles []string) (*Details, error) {
	return c.addMember(ctx, orgID, userID, roles)
}

func (c *Commands) addMember(ctx context.Context, orgID, userID string, roles []string) (*Details, error) {
	perm, req, typ := "org.member.write", "AddOrgMemberRequest", events.OrgMemberAdded
	if orgID == "" {
		perm, req, typ = "iam.member.write", "AddIAMMemberRequest", events.InstanceMemberAdded
	}
	cl, err := authorizeIdentity(ctx, true, perm, orgID)
	if err != nil {
		return nil, err
	}
	if err := validLen(req+".UserId", userID, 1, 200); err != nil {
		return nil, err
	}
	if len(roles) == 0 {
		return nil, errs.InvalidArgument("COMMAND-4m0fR", "Errors.Member.InvalidRole: at least one role is required")
	}
	if err := validRoles(roles, orgID == ""); err != nil {
		return nil, err
	}
	roles = slices.Compact(slices.Sorted(slices.Values(roles)))
	mm, evs, err := executeOn(ctx, c, c.loadMembers, cl.InstanceID, orgID, func(ctx context.Context, m *membersModel) (eventstore.Append, error) {
		if !m.exists {
			return eventstore.Append{}, errs.FailedPrecondition("COMMAND-QXPGs", "Organisation not found")
		}
		u, err := c.loadUser(ctx, cl.InstanceID, userID)
		if err != nil {
			return eventstore.Append{}, err
		}
		if !u.exists {
			return eventstore.Append{}, errs.FailedPrecondition("COMMAND-uXHNj", "User could not be found")
		}
		if _, ok := m.members[userID]; ok {
			return eventstore.Append{}, errs.AlreadyExists("COMMAND-MemDup", "Member already exists")
		}
		owner := orgID
		if owner == "" {
			owner = cl.InstanceID
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: m.ref, ResourceOwner: owner, Expected: m.head,
			Events: []eventstore.PendingEvent{{Type: typ, Payload: events.MemberPayload{UserID: userID, Roles: roles}}},
		}}}, nil
	})
	if err != nil {
		return nil, err
	}
	return detailsFromEvents(evs, mm.ref, mm.created), nil
}
