package command

import (
	"context"
	"encoding/json"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// Link errors shared by every dialect of the link endpoints.
const (
	linkDuplicateID  = "COMMAND-Lnk409"
	linkDuplicateMsg = "External IDP already taken" // Errors.User.ExternalIDP.AlreadyExists
	// msgIDPNotExisting is Errors.IDPConfig.NotExisting in English.
	msgIDPNotExisting = "Identity Provider Configuration doesn't exist"
)

func jsonRaw(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, errs.Internal("COMMAND-Json1", err)
	}
	return b, nil
}

// IDPLink is a user's link to an account at an IdP, the input of AddIDPLink
// in every dialect (v2 IDPLink, v3alpha and resources v3alpha
// IDPAuthenticator).
type IDPLink struct {
	IDPID          string
	ExternalUserID string // the user's ID at the IdP
	DisplayName    string // the user's name at the IdP
}

// LinkNames are the names under which one dialect's request reports a bad
// field of AddIDPLink, as protoc-gen-validate writes them. The transport
// chooses them; the rules are the command's.
type LinkNames struct {
	UserID  string // the user ID's field: "AddIDPLinkRequest.UserId"
	Link    string // the field holding the link: "AddIDPLinkRequest.IdpLink"; "" reports the inner error alone, as PGV does for a bare message
	Message string // the link's message type: "IDPLink"
}

// validate applies the request rules of an AddIDPLink in ZITADEL's field
// order: the user ID, then the link's fields (IDPLink.validate).
//
// Errors: InvalidArgument with protoc-gen-validate's message, no error ID.
func (n LinkNames) validate(userID string, l IDPLink) error {
	if err := pgvLength(n.UserID, userID, 1, 200); err != nil {
		return err
	}
	err := l.validate(n.Message)
	if err == nil || n.Link == "" {
		return err
	}
	return embedded(n.Link, err)
}

// validate applies a link's field rules, in ZITADEL's order, naming the
// fields as fields of message: idpId and userId 1–200 characters, userName
// at most 200. Better than ZITADEL (zitadel#11421): the user name may be
// empty, as it is for OAuth and SAML accounts without one, and the IdP
// login's automatic links.
func (l IDPLink) validate(message string) error {
	for _, f := range []struct {
		name, value string
		min         int
	}{
		{"IdpId", l.IDPID, 1}, {"UserId", l.ExternalUserID, 1}, {"UserName", l.DisplayName, 0},
	} {
		if err := validLen(message+"."+f.name, f.value, f.min, 200); err != nil {
			return err
		}
	}
	return nil
}

func (l IDPLink) payload() events.IDPLinkPayload { return events.IDPLinkPayload(l) }

// linkIDPExists reports whether idpID is an IdP of org orgID or of the
// instance; inactive IdPs count.
func (c *Commands) linkIDPExists(ctx context.Context, instanceID, orgID, idpID string) error {
	owner, ro, exists, err := c.IDPOwner(ctx, instanceID, idpID)
	if err != nil {
		return err
	}
	if !exists || (owner == events.OwnerOrg && ro != orgID) {
		return errs.FailedPrecondition("COMMAND-39nf2", msgIDPNotExisting)
	}
	return nil
}

// idpExistsType is claimed by every IdP while it exists. Link appends hold
// it, and the IdP's removal releases it (see RemoveIDP).
const idpExistsType = "idp.exists"

func idpExists(instanceID, idpID string) eventstore.UniqueConstraint {
	return eventstore.UniqueConstraint{InstanceID: instanceID, Type: idpExistsType, Value: idpID}
}

// holdIDP keeps IdP idpID from being removed until the append that adds a
// link to it commits; when it was removed since the command decided, the
// command decides again (and finds it gone).
func holdIDP(instanceID, idpID string) eventstore.UniqueConstraint {
	c := idpExists(instanceID, idpID)
	c.Hold = true
	return c
}

func linkClaim(instanceID string, l IDPLink) eventstore.UniqueConstraint {
	return eventstore.UniqueConstraint{
		InstanceID: instanceID, Type: linkUniqueType, Value: linkUniqueValue(l.IDPID, l.ExternalUserID),
		ErrorID: linkDuplicateID, Message: linkDuplicateMsg,
	}
}

// AddIDPLink links user userID to the account link.ExternalUserID at IdP
// link.IDPID. orgHint, when not empty, requires the user to be in that org;
// names are the dialect's names of the fields in validation messages.
// The semantics are ZITADEL's v2 AddIDPLink for every dialect (v2 links,
// v3alpha and resources v3alpha IdP authenticators); the details' resource
// owner is the user's org, also for an instance IdP.
//
// Errors, in order: Unauthenticated; InvalidArgument (PGV message, under
// names) for a user ID or link field that is empty (but the link's user
// name, see IDPLink.validate) or over 200 characters; FailedPrecondition
// COMMAND-vzktar7b7f when the user does not exist (or not in orgHint);
// PermissionDenied AUTHZ-HKJD33 when the caller is another user without
// user.write on the user's org; FailedPrecondition COMMAND-39nf2 when the
// IdP is neither the user's org's nor the instance's; AlreadyExists
// COMMAND-Lnk409 when (IdP, external user ID) is linked to any user of the
// instance; Aborted, Internal.
func (c *Commands) AddIDPLink(ctx context.Context, userID, orgHint string, link IDPLink, names LinkNames) (Details, error) {
	cl, err := caller(ctx)
	if err != nil {
		return Details{}, err
	}
	if err := names.validate(userID, link); err != nil {
		return Details{}, err
	}
	var u *linkUserModel
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		var err error
		if ctx, u, err = c.loadLinkTarget(ctx, cl.InstanceID, userID, link); err != nil {
			return eventstore.Append{}, err
		}
		if !u.exists || (orgHint != "" && u.orgID != orgHint) {
			return eventstore.Append{}, errs.FailedPrecondition("COMMAND-vzktar7b7f", "User could not be found")
		}
		if cl.UserID != userID {
			if err := cl.Check("user.write", u.orgID); err != nil {
				return eventstore.Append{}, err
			}
		}
		return c.linkAppend(ctx, u, link)
	})
	if err != nil {
		return Details{}, err
	}
	return aggregateDetails(evs, u.ref, u.created), nil
}

// RemoveIDPLink removes user userID's link to account externalUserID at
// IdP idpID (v2 RemoveIDPLink), releasing the account for other users.
//
// Errors: Unauthenticated; InvalidArgument (PGV message) for a field that is
// empty or over 200 characters; NotFound COMMAND-1M9xR when the link is not
// active (or the user does not exist); PermissionDenied AUTHZ-HKJD33 when
// the caller is another user without user.write on the user's org;
// Aborted, Internal.
func (c *Commands) RemoveIDPLink(ctx context.Context, userID, idpID, externalUserID string) (Details, error) {
	for _, f := range []struct{ name, value string }{
		{"RemoveIDPLinkRequest.UserId", userID}, {"RemoveIDPLinkRequest.IdpId", idpID},
		{"RemoveIDPLinkRequest.LinkedUserId", externalUserID},
	} {
		if err := pgvLength(f.name, f.value, 1, 200); err != nil {
			return Details{}, err
		}
	}
	return c.removeLinks(ctx, userID, "", idpID, externalUserID)
}

// RemoveIDPLinks removes every link of user userID to IdP idpID (the
// v3alpha RemoveIDPAuthenticator, which names no external account).
// orgHint, when not empty, requires the user to be in that org.
//
// Errors: as RemoveIDPLink.
func (c *Commands) RemoveIDPLinks(ctx context.Context, userID, orgHint, idpID string) (Details, error) {
	for _, f := range []struct{ name, value string }{
		{"RemoveIDPAuthenticatorRequest.UserId", userID}, {"RemoveIDPAuthenticatorRequest.IdpId", idpID},
	} {
		if err := pgvLength(f.name, f.value, 1, 200); err != nil {
			return Details{}, err
		}
	}
	return c.removeLinks(ctx, userID, orgHint, idpID, "")
}

func (c *Commands) removeLinks(ctx context.Context, userID, orgHint, idpID, externalUserID string) (Details, error) {
	cl, err := caller(ctx)
	if err != nil {
		return Details{}, err
	}
	var u *linkUserModel
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		var err error
		if u, err = c.loadLinkUser(ctx, cl.InstanceID, userID, true); err != nil {
			return eventstore.Append{}, err
		}
		links := u.linksTo(idpID, externalUserID)
		if !u.exists || len(links) == 0 || (orgHint != "" && u.orgID != orgHint) {
			return eventstore.Append{}, errs.NotFound("COMMAND-1M9xR", "External IDP not found")
		}
		if cl.UserID != userID {
			if err := cl.Check("user.write", u.orgID); err != nil {
				return eventstore.Append{}, err
			}
		}
		ag, cs := u.removeLinksAppend(events.UserIDPLinkRemoved, links)
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{ag}, Constraints: cs}, nil
	})
	if err != nil {
		return Details{}, err
	}
	return aggregateDetails(evs, u.ref, u.created), nil
}

// linkEvents checks link for a user of org orgID of instanceID (its IdP
// must be the org's or the instance's) and returns the event that adds it
// and the unique values to claim with it. The unique claim, not the user's
// head, is what rejects a duplicate: the same account may be linked to
// another user, whose aggregate the append does not touch.
//
// Errors: FailedPrecondition COMMAND-39nf2; Internal.
func (c *Commands) linkEvents(ctx context.Context, instanceID, orgID string, link IDPLink) (eventstore.PendingEvent, []eventstore.UniqueConstraint, error) {
	if err := c.linkIDPExists(ctx, instanceID, orgID, link.IDPID); err != nil {
		return eventstore.PendingEvent{}, nil, err
	}
	return eventstore.PendingEvent{Type: events.UserIDPLinkAdded, Payload: link.payload()},
		[]eventstore.UniqueConstraint{linkClaim(instanceID, link), holdIDP(instanceID, link.IDPID)}, nil
}

// loadLinkTarget loads user userID of instanceID, as loadLinkUser without
// links does, and link's IdP, in one round trip; the returned context holds
// the IdP's read for linkAppend.
func (c *Commands) loadLinkTarget(ctx context.Context, instanceID, userID string, link IDPLink) (context.Context, *linkUserModel, error) {
	ctx, err := c.prefetch(ctx, endsOf(userRef(instanceID, userID)), endsOf(idpRef(instanceID, link.IDPID)))
	if err != nil {
		return ctx, nil, err
	}
	u, err := c.loadLinkUser(ctx, instanceID, userID, false)
	return ctx, u, err
}

// linkAppend is the append that links existing user u (loaded by
// loadLinkUser) to link, at u's head: AddIDPLink's, and the IdP login's
// auto-linking. A link taken by any user fails the append with
// AlreadyExists COMMAND-Lnk409 through Commands.execute.
//
// Errors: FailedPrecondition COMMAND-39nf2; Internal.
func (c *Commands) linkAppend(ctx context.Context, u *linkUserModel, link IDPLink) (eventstore.Append, error) {
	ev, cs, err := c.linkEvents(ctx, u.ref.InstanceID, u.orgID, link)
	if err != nil {
		return eventstore.Append{}, err
	}
	return eventstore.Append{
		Aggregates: []eventstore.AggregateAppend{{
			Aggregate: u.ref, ResourceOwner: u.orgID, Expected: u.head, Events: []eventstore.PendingEvent{ev},
		}},
		Constraints: cs,
	}, nil
}

// IDPLinkReleases returns the unique values held by user userID's active
// IdP links, as releases. Add them to the append that removes the user, so
// that the external accounts can be linked to other users afterwards.
//
// Errors: Internal when the store cannot be read.
func (c *Commands) IDPLinkReleases(ctx context.Context, instanceID, userID string) ([]eventstore.UniqueConstraint, error) {
	u, err := c.loadLinkUser(ctx, instanceID, userID, true)
	if err != nil {
		return nil, err
	}
	_, cs := u.removeLinksAppend(events.UserIDPLinkRemoved, u.links)
	return cs, nil
}
