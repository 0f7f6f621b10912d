package command

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"unicode/utf8"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// LoginPolicyIDP names an IdP for a login policy: its ID and owner type,
// events.OwnerSystem (an instance IdP) or events.OwnerOrg (the org's own).
// An empty OwnerType is IDP_OWNER_TYPE_UNSPECIFIED; any other value is an
// undefined enum value.
type LoginPolicyIDP struct {
	IDPID     string
	OwnerType string
}

// LinkIndex finds, in the read tables, what links an IdP: the users of org
// orgID ("" = every org) with a link to it, and the login policies listing
// it. *query.Queries implements it. It is only a hint: each aggregate found
// is loaded and checked against its own events, which also give the
// expected sequence for the cascade's append.
type LinkIndex interface {
	UsersLinkedToIDP(ctx context.Context, instanceID, idpID, orgID string) ([]string, error)
	PoliciesLinkingIDP(ctx context.Context, instanceID, idpID string) ([]string, error)
}

// pgvLength is protoc-gen-validate's message for a string length rule.
func pgvLength(field, value string, min, max int) error {
	if n := utf8.RuneCountInString(value); n < min || n > max {
		return errs.InvalidArgument("", fmt.Sprintf("invalid %s: value length must be between %d and %d runes, inclusive", field, min, max))
	}
	return nil
}

// pgvOwnerType is protoc-gen-validate's check of an IDPOwnerType field
// declared with defined_only and not_in [0].
func pgvOwnerType(field, ownerType string) error {
	switch ownerType {
	case events.OwnerSystem, events.OwnerOrg:
		return nil
	case "":
		return errs.InvalidArgument("", "invalid "+field+": value must not be in list [0]")
	}
	return errs.InvalidArgument("", "invalid "+field+": value must be one of the defined enum values")
}

// validRedirectURI mirrors ZITADEL's default redirect URI rule: empty, or a
// URL with a scheme, and with a host when the scheme is http(s).
func validRedirectURI(raw string) bool {
	if raw == "" {
		return true
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return false
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		return u.Host != ""
	}
	return true
}

// idpUsable reports whether IdP idpID exists with the given owner type:
// an instance IdP for events.OwnerSystem, an IdP of orgID for
// events.OwnerOrg. Inactive IdPs count; removed ones do not.
func (c *Commands) idpUsable(ctx context.Context, instanceID, idpID, ownerType, orgID string) (bool, error) {
	owner, ro, exists, err := c.IDPOwner(ctx, instanceID, idpID)
	if err != nil || !exists {
		return false, err
	}
	if ownerType == events.OwnerOrg {
		return owner == events.OwnerOrg && ro == orgID, nil
	}
	return owner == events.OwnerSystem, nil
}

// AddCustomLoginPolicy gives org orgID its own login policy with settings s
// and the IdPs idps. The policy does not copy the instance default's IdPs.
//
// Errors: Unauthenticated; NotFound AUTHZ-cdgFk / PermissionDenied
// AUTH-5mWD2 without policy.write; InvalidArgument for an IdP entry that
// fails validation, Org-M0fs9 without an org, Org-WSfdq for an invalid
// default redirect URI; AlreadyExists Org-Dgfb2 when the org already has
// one; FailedPrecondition Org-FEd32 when an IdP does not exist for its
// owner type; Aborted, Internal.
func (c *Commands) AddCustomLoginPolicy(ctx context.Context, orgID string, s events.LoginPolicySettings, idps []LoginPolicyIDP) (Details, error) {
	cl, err := caller(ctx)
	if err != nil {
		return Details{}, err
	}
	if err := cl.CheckV1("policy.write", orgID); err != nil {
		return Details{}, err
	}
	for i, p := range idps {
		field := fmt.Sprintf("AddCustomLoginPolicyRequest.Idps[%d]", i)
		for _, err := range []error{pgvLength("AddCustomLoginPolicyRequest_IDP.IdpId", p.IDPID, 1, 200),
			pgvOwnerType("AddCustomLoginPolicyRequest_IDP.OwnerType", p.OwnerType)} {
			if err != nil {
				e, _ := errs.As(err)
				return Details{}, errs.InvalidArgument("", "invalid "+field+": embedded message failed validation | caused by: "+e.Message)
			}
		}
	}
	if orgID == "" {
		return Details{}, errs.InvalidArgument("Org-M0fs9", "Errors.ResourceOwnerMissing")
	}
	if !validRedirectURI(s.DefaultRedirectURI) {
		return Details{}, errs.InvalidArgument("Org-WSfdq", "Errors.Org.LoginPolicy.RedirectURIInvalid")
	}
	var m *loginPolicyModel
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		var err error
		if m, err = c.loadLoginPolicy(ctx, cl.InstanceID, orgID); err != nil {
			return eventstore.Append{}, err
		}
		if m.exists && !m.isDefault {
			return eventstore.Append{}, errs.AlreadyExists("Org-Dgfb2", "Errors.Org.LoginPolicy.AlreadyExists")
		}
		settings, err := jsonRaw(s)
		if err != nil {
			return eventstore.Append{}, err
		}
		pending := []eventstore.PendingEvent{{Type: events.LoginPolicyAdded, Payload: events.LoginPolicyAddedPayload{Settings: settings}}}
		var claims []eventstore.UniqueConstraint
		seen := map[string]bool{}
		for _, p := range idps {
			ok, err := c.idpUsable(ctx, cl.InstanceID, p.IDPID, p.OwnerType, orgID)
			if err != nil {
				return eventstore.Append{}, err
			}
			if !ok {
				return eventstore.Append{}, errs.FailedPrecondition("Org-FEd32", msgIDPNotExisting)
			}
			if seen[p.IDPID] {
				continue
			}
			seen[p.IDPID] = true
			pending = append(pending, eventstore.PendingEvent{Type: events.LoginPolicyIDPAdded,
				Payload: events.LoginPolicyIDPPayload{IDPID: p.IDPID, OwnerType: p.OwnerType}})
			claims = append(claims, policyIDPClaim(cl.InstanceID, p.IDPID, orgID, orgPolicyIDPExists), holdIDP(cl.InstanceID, p.IDPID))
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: m.ref, ResourceOwner: orgID, Expected: m.head, Events: pending,
		}}, Constraints: claims}, nil
	})
	if err != nil {
		return Details{}, err
	}
	return aggregateDetails(evs, m.ref, evs[0].CreatedAt), nil
}

// ResetLoginPolicyToDefault removes org orgID's custom login policy, so that
// the org inherits the instance default again.
//
// Errors: Unauthenticated; NotFound AUTHZ-cdgFk / PermissionDenied
// AUTH-5mWD2 without policy.delete; InvalidArgument Org-M0fs9 without an
// org; NotFound Org-GHB37 when the org has no custom policy; Aborted,
// Internal.
func (c *Commands) ResetLoginPolicyToDefault(ctx context.Context, orgID string) (Details, error) {
	cl, err := caller(ctx)
	if err != nil {
		return Details{}, err
	}
	if err := cl.CheckV1("policy.delete", orgID); err != nil {
		return Details{}, err
	}
	if orgID == "" {
		return Details{}, errs.InvalidArgument("Org-M0fs9", "Errors.ResourceOwnerMissing")
	}
	var m *loginPolicyModel
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		var err error
		if m, err = c.loadLoginPolicy(ctx, cl.InstanceID, orgID); err != nil {
			return eventstore.Append{}, err
		}
		if !m.exists || m.isDefault {
			return eventstore.Append{}, errs.NotFound("Org-GHB37", "Login Policy not found")
		}
		var releases []eventstore.UniqueConstraint
		for idpID := range m.idps {
			releases = append(releases, policyIDPRelease(cl.InstanceID, idpID, orgID))
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: m.ref, ResourceOwner: orgID, Expected: m.head,
			Events: []eventstore.PendingEvent{{Type: events.LoginPolicyRemoved}},
		}}, Constraints: releases}, nil
	})
	if err != nil {
		return Details{}, err
	}
	return aggregateDetails(evs, m.ref, m.created), nil
}

// AddIDPToDefaultLoginPolicy links instance IdP idpID to the instance's
// default login policy (POST /admin/v1/policies/login/idps).
//
// Errors, in ZITADEL's order: Unauthenticated; NotFound AUTHZ-cdgFk /
// PermissionDenied AUTH-5mWD2 without iam.policy.write; InvalidArgument
// (PGV message) for an idpId that is empty or over 200 characters; NotFound
// INSTANCE-GVDfe without a default policy; FailedPrecondition INSTANCE-m8fsd
// when idpID is not an existing instance IdP; AlreadyExists INSTANCE-2B0ps
// when it is linked already; Aborted, Internal.
func (c *Commands) AddIDPToDefaultLoginPolicy(ctx context.Context, idpID string) (Details, error) {
	cl, err := caller(ctx)
	if err != nil {
		return Details{}, err
	}
	if err := cl.CheckV1("iam.policy.write", ""); err != nil {
		return Details{}, err
	}
	if err := pgvLength("AddIDPToLoginPolicyRequest.IdpId", idpID, 1, 200); err != nil {
		return Details{}, err
	}
	return c.addIDPToDefault(ctx, cl.InstanceID, idpID)
}

func (c *Commands) addIDPToDefault(ctx context.Context, instanceID, idpID string) (Details, error) {
	return c.addPolicyIDP(ctx, instanceID, policyIDPScope{
		policyID: instanceID, ownerType: events.OwnerSystem,
		invalid:  errs.InvalidArgument("INSTANCE-9nf88", "Errors.IAM.LoginPolicy.IDP.Invalid"),
		noPolicy: errs.NotFound("INSTANCE-GVDfe", "Errors.IAM.LoginPolicy.NotFound"),
		unusable: errs.FailedPrecondition("INSTANCE-m8fsd", msgIDPNotExisting),
		exists:   defaultPolicyIDPExists,
	}, idpID)
}

// policyIDPScope is what tells an IdP entry of the instance's default
// policy from one of an org's custom policy: the policy (its ID is also
// its resource owner), the org whose IdPs it may list ("" for the
// default), the owner type of the entry, and ZITADEL's error for each
// check.
type policyIDPScope struct {
	policyID, orgID, ownerType  string
	invalid, noPolicy, unusable error
	exists                      *errs.Error
}

// addPolicyIDP adds IdP idpID to the policy of scope, in ZITADEL's order of
// checks: an empty ID, the policy, the IdP, a duplicate.
func (c *Commands) addPolicyIDP(ctx context.Context, instanceID string, sc policyIDPScope, idpID string) (Details, error) {
	if idpID == "" {
		return Details{}, sc.invalid
	}
	var m *loginPolicyModel
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		var err error
		if m, err = c.loadLoginPolicy(ctx, instanceID, sc.policyID); err != nil {
			return eventstore.Append{}, err
		}
		// An org "has" a custom policy only while its own one exists.
		if !m.exists || (sc.orgID != "" && m.isDefault) {
			return eventstore.Append{}, sc.noPolicy
		}
		ok, err := c.idpUsable(ctx, instanceID, idpID, sc.ownerType, sc.orgID)
		if err != nil {
			return eventstore.Append{}, err
		}
		if !ok {
			return eventstore.Append{}, sc.unusable
		}
		if _, linked := m.idps[idpID]; linked {
			return eventstore.Append{}, sc.exists
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: m.ref, ResourceOwner: sc.policyID, Expected: m.head,
			Events: []eventstore.PendingEvent{{Type: events.LoginPolicyIDPAdded,
				Payload: events.LoginPolicyIDPPayload{IDPID: idpID, OwnerType: sc.ownerType}}},
		}}, Constraints: []eventstore.UniqueConstraint{
			policyIDPClaim(instanceID, idpID, sc.policyID, sc.exists), holdIDP(instanceID, idpID)}}, nil
	})
	if err != nil {
		return Details{}, err
	}
	return aggregateDetails(evs, m.ref, m.created), nil
}

// AddIDPToLoginPolicy links IdP idpID, owned as ownerType says, to org
// orgID's custom login policy (POST /management/v1/policies/login/idps).
//
// Errors, in ZITADEL's order: Unauthenticated; NotFound AUTHZ-cdgFk /
// PermissionDenied AUTH-5mWD2 without policy.write; InvalidArgument (PGV
// messages) for a bad idpId length or an unspecified or undefined
// ownerType; InvalidArgument Org-M0fs9 without an org; NotFound Org-Ffgw2
// when the org has no custom policy (before any IdP check);
// FailedPrecondition Org-3N9fs when the IdP does not exist for ownerType
// (system: an instance IdP; org: an IdP of this org); AlreadyExists
// Org-2B0ps when it is linked already; Aborted, Internal.
func (c *Commands) AddIDPToLoginPolicy(ctx context.Context, orgID, idpID, ownerType string) (Details, error) {
	cl, err := caller(ctx)
	if err != nil {
		return Details{}, err
	}
	if err := cl.CheckV1("policy.write", orgID); err != nil {
		return Details{}, err
	}
	if err := pgvLength("AddIDPToLoginPolicyRequest.IdpId", idpID, 1, 200); err != nil {
		return Details{}, err
	}
	if err := pgvOwnerType("AddIDPToLoginPolicyRequest.OwnerType", ownerType); err != nil {
		return Details{}, err
	}
	return c.addIDPToOrgPolicy(ctx, cl.InstanceID, orgID, idpID, ownerType)
}

func (c *Commands) addIDPToOrgPolicy(ctx context.Context, instanceID, orgID, idpID, ownerType string) (Details, error) {
	if orgID == "" {
		return Details{}, errs.InvalidArgument("Org-M0fs9", "Errors.ResourceOwnerMissing")
	}
	return c.addPolicyIDP(ctx, instanceID, policyIDPScope{
		policyID: orgID, orgID: orgID, ownerType: ownerType,
		invalid:  errs.InvalidArgument("Org-9nf88", "Errors.Org.LoginPolicy.IDP."),
		noPolicy: errs.NotFound("Org-Ffgw2", "Login Policy not found"),
		unusable: errs.FailedPrecondition("Org-3N9fs", msgIDPNotExisting),
		exists:   orgPolicyIDPExists,
	}, idpID)
}

// RemoveIDPFromDefaultLoginPolicy unlinks idpID from the instance's default
// login policy and, in the same append, removes every user link of the
// instance to that IdP (found through the link index).
//
// Errors: Unauthenticated; NotFound AUTHZ-cdgFk / PermissionDenied
// AUTH-5mWD2 without iam.policy.write; InvalidArgument (PGV message) for a
// bad idpId length; NotFound INSTANCE-Dfg4t without a default policy,
// INSTANCE-39fjs when the IdP is not linked; Aborted, Internal.
func (c *Commands) RemoveIDPFromDefaultLoginPolicy(ctx context.Context, idpID string) (Details, error) {
	cl, err := caller(ctx)
	if err != nil {
		return Details{}, err
	}
	if err := cl.CheckV1("iam.policy.write", ""); err != nil {
		return Details{}, err
	}
	if err := pgvLength("RemoveIDPFromLoginPolicyRequest.IdpId", idpID, 1, 200); err != nil {
		return Details{}, err
	}
	return c.removePolicyIDP(ctx, cl.InstanceID, cl.InstanceID, "", idpID,
		errs.NotFound("INSTANCE-Dfg4t", "Errors.IAM.LoginPolicy.NotFound"),
		errs.NotFound("INSTANCE-39fjs", "Errors.IAM.LoginPolicy.IDP.NotExisting"))
}

// RemoveIDPFromLoginPolicy unlinks idpID from org orgID's custom login
// policy and, in the same append, removes every link of the org's users to
// that IdP (found through the link index).
//
// Errors: Unauthenticated; NotFound AUTHZ-cdgFk / PermissionDenied
// AUTH-5mWD2 without policy.write; InvalidArgument (PGV message) for a bad
// idpId length, Org-M0fs9 without an org; NotFound Org-GVDfe when the org
// has no custom policy, Org-39fjs when the IdP is not linked; Aborted,
// Internal.
func (c *Commands) RemoveIDPFromLoginPolicy(ctx context.Context, orgID, idpID string) (Details, error) {
	cl, err := caller(ctx)
	if err != nil {
		return Details{}, err
	}
	if err := cl.CheckV1("policy.write", orgID); err != nil {
		return Details{}, err
	}
	if err := pgvLength("RemoveIDPFromLoginPolicyRequest.IdpId", idpID, 1, 200); err != nil {
		return Details{}, err
	}
	if orgID == "" {
		return Details{}, errs.InvalidArgument("Org-M0fs9", "Errors.ResourceOwnerMissing")
	}
	return c.removePolicyIDP(ctx, cl.InstanceID, orgID, orgID, idpID,
		errs.NotFound("Org-GVDfe", "Login Policy not found"),
		errs.NotFound("Org-39fjs", "Errors.Org.LoginPolicy.IDP.NotExisting"))
}

// removePolicyIDP unlinks idpID from policy policyID (the default when
// userOrg is "") and cascades to the user links of userOrg ("" = every org).
func (c *Commands) removePolicyIDP(ctx context.Context, instanceID, policyID, userOrg, idpID string, noPolicy, notLinked error) (Details, error) {
	var m *loginPolicyModel
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		var err error
		if m, err = c.loadLoginPolicy(ctx, instanceID, policyID); err != nil {
			return eventstore.Append{}, err
		}
		if !m.exists || m.isDefault != (userOrg == "") {
			return eventstore.Append{}, noPolicy
		}
		ownerType, ok := m.idps[idpID]
		if !ok {
			return eventstore.Append{}, notLinked
		}
		a := eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: m.ref, ResourceOwner: policyID, Expected: m.head,
			Events: []eventstore.PendingEvent{{Type: events.LoginPolicyIDPRemoved,
				Payload: events.LoginPolicyIDPPayload{IDPID: idpID, OwnerType: ownerType}}},
		}}, Constraints: []eventstore.UniqueConstraint{policyIDPRelease(instanceID, idpID, policyID)}}
		if err := c.cascadeUserLinks(ctx, instanceID, idpID, userOrg, &a); err != nil {
			return eventstore.Append{}, err
		}
		return a, nil
	})
	if err != nil {
		return Details{}, err
	}
	return aggregateDetails(evs, m.ref, m.created), nil
}

// cascadeUserLinks adds to a the removal of every active link to idpID of
// the users of orgID ("" = every org). linked only nominates candidates;
// each user's own events decide, and its head guards the append, so a link
// added or removed concurrently makes the whole decision run again.
func (c *Commands) cascadeUserLinks(ctx context.Context, instanceID, idpID, orgID string, a *eventstore.Append) error {
	if c.links == nil {
		return errs.Internal("COMMAND-LpC00", errors.New("no link index configured (command.Deps.Links)"))
	}
	userIDs, err := c.links.UsersLinkedToIDP(ctx, instanceID, idpID, orgID)
	if err != nil {
		return errs.Internal("COMMAND-LpC01", fmt.Errorf("find users linked to idp %s: %w", idpID, err))
	}
	for _, id := range userIDs {
		u, err := c.loadLinkUser(ctx, instanceID, id, true)
		if err != nil {
			return err
		}
		links := u.linksTo(idpID, "")
		if !u.exists || len(links) == 0 || (orgID != "" && u.orgID != orgID) {
			continue
		}
		ag, cs := u.removeLinksAppend(events.UserIDPLinkCascadeRemoved, links)
		a.Aggregates = append(a.Aggregates, ag)
		a.Constraints = append(a.Constraints, cs...)
	}
	return nil
}
