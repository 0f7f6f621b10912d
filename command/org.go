package command

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// AddOrg creates an organisation.
type AddOrg struct {
	Name   string
	Admins []OrgAdmin
	// ID is the org ID the caller chose (v2 organizationId, or the
	// deprecated orgId); nil lets the system generate one.
	ID *string
	// V1 selects the management API's permission semantics (and message
	// names); otherwise org v2's.
	V1 bool
	// Request and IDField name the request message and its ID field in
	// validation messages, as protoc-gen-validate writes them; "" is
	// AddOrganizationRequest (AddOrgRequest with V1) and OrganizationId.
	// Org v2beta's CreateOrganization is CreateOrganizationRequest and Id.
	Request, IDField string
}

// OrgAdmin makes an existing user a member of the new org; Roles default
// to ORG_OWNER.
type OrgAdmin struct {
	UserID string
	Roles  []string
}

// AddOrg creates an org with the given admins as members. The caller needs
// org.create on the instance.
//
// Errors: PermissionDenied (v2 AUTHZ-HKJD33; v1 AUTH-5mWD2) or NotFound
// AUTHZ-cdgFk (v1, no memberships); InvalidArgument naming the field;
// InvalidArgument COMMAND-4m0fS for a role that is not an org role;
// FailedPrecondition COMMAND-uXHNj when an admin user does not exist;
// AlreadyExists COMMAND-OrgID when a chosen ID is taken.
func (c *Commands) AddOrg(ctx context.Context, o AddOrg) (*Details, error) {
	cl, err := authorizeIdentity(ctx, o.V1, "org.create", "")
	if err != nil {
		return nil, err
	}
	msg, idField := o.Request, o.IDField
	switch {
	case msg != "":
	case o.V1:
		msg = "AddOrgRequest"
	default:
		msg = "AddOrganizationRequest"
	}
	if idField == "" {
		idField = "OrganizationId"
	}
	o.Name = strings.TrimSpace(o.Name)
	if err := validLen(msg+".Name", o.Name, 1, 200); err != nil {
		return nil, err
	}
	for i := range o.Admins {
		a := &o.Admins[i]
		if a.UserID == "" {
			return nil, errs.InvalidArgument("", fmt.Sprintf("invalid %s.Admins[%d]: embedded message failed validation | caused by: invalid %s_Admin.UserType: value is required", msg, i, msg))
		}
		if len(a.Roles) == 0 {
			a.Roles = []string{authz.OrgOwner}
		}
		if err := validRoles(a.Roles, false); err != nil {
			return nil, err
		}
	}
	var orgID string
	if o.ID != nil {
		if err := validLen(msg+"."+idField, *o.ID, 1, 200); err != nil {
			return nil, err
		}
		orgID = *o.ID
	} else if orgID, err = c.ids.Next(); err != nil {
		return nil, errs.Internal("COMMAND-Ids03", err)
	}
	ref := eventstore.AggregateRef{InstanceID: cl.InstanceID, Type: events.AggOrg, ID: orgID}
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		// An ID may be taken, by an org or a removed one (IDs are never
		// reused), and a chosen one may be what the generator hands out
		// later. Two requests racing for one conflict on the aggregate's
		// first sequence, and the retry lands here.
		_, _, found, err := c.store.Ends(ctx, ref)
		if err != nil {
			return eventstore.Append{}, err
		}
		if found {
			return eventstore.Append{}, errs.AlreadyExists("COMMAND-OrgID", "Errors.Org.AlreadyExists")
		}
		pend := []eventstore.PendingEvent{{Type: events.OrgAdded, Payload: events.OrgAddedPayload{Name: o.Name}}}
		seen := map[string]bool{}
		for _, a := range o.Admins {
			if seen[a.UserID] {
				continue
			}
			seen[a.UserID] = true
			u, err := c.loadUser(ctx, cl.InstanceID, a.UserID)
			if err != nil {
				return eventstore.Append{}, err
			}
			if !u.exists {
				return eventstore.Append{}, errs.FailedPrecondition("COMMAND-uXHNj", "User could not be found")
			}
			pend = append(pend, eventstore.PendingEvent{Type: events.OrgMemberAdded,
				Payload: events.MemberPayload{UserID: a.UserID, Roles: a.Roles}})
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: ref, ResourceOwner: orgID, Events: pend,
		}}}, nil
	})
	if err != nil {
		return nil, err
	}
	return detailsFromEvents(evs, ref, time.Time{}), nil
}
