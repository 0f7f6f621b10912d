package command

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"time"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/pbjson"
)

// IDPOwnerType says who owns an IdP a login policy lists; the numbers are
// ZITADEL's IDPOwnerType. Any value but IDPOwnerSystem and IDPOwnerOrg is
// refused by the commands: IDPOwnerUnspecified as unset, others as
// undefined.
type IDPOwnerType int

const (
	IDPOwnerUnspecified IDPOwnerType = iota
	IDPOwnerSystem                   // an instance IdP
	IDPOwnerOrg                      // an IdP of the policy's org
)

// stored is the owner type as events record it.
func (t IDPOwnerType) stored() string {
	if t == IDPOwnerOrg {
		return events.OwnerOrg
	}
	return events.OwnerSystem
}

// LoginPolicyIDP names an IdP for a login policy: its ID and owner type.
type LoginPolicyIDP struct {
	IDPID     string
	OwnerType IDPOwnerType
}

// PasswordlessType is ZITADEL's PasswordlessType, by number.
type PasswordlessType int

const (
	PasswordlessNotAllowed PasswordlessType = iota
	PasswordlessAllowed
)

// SecondFactorType is ZITADEL's SecondFactorType, by number.
type SecondFactorType int

const (
	SecondFactorUnspecified SecondFactorType = iota
	SecondFactorOTP
	SecondFactorU2F
	SecondFactorOTPEmail
	SecondFactorOTPSMS
)

// MultiFactorType is ZITADEL's MultiFactorType, by number.
type MultiFactorType int

const (
	MultiFactorUnspecified MultiFactorType = iota
	MultiFactorU2FWithVerification
)

// The names events record the enums by (events.LoginPolicySettings).
var (
	passwordlessNames = []string{"PASSWORDLESS_TYPE_NOT_ALLOWED", "PASSWORDLESS_TYPE_ALLOWED"}
	secondFactorNames = []string{"SECOND_FACTOR_TYPE_UNSPECIFIED", "SECOND_FACTOR_TYPE_OTP",
		"SECOND_FACTOR_TYPE_U2F", "SECOND_FACTOR_TYPE_OTP_EMAIL", "SECOND_FACTOR_TYPE_OTP_SMS"}
	multiFactorNames = []string{"MULTI_FACTOR_TYPE_UNSPECIFIED", "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"}
)

// enumName is value n's name in names, or its number when it has none, as
// protobuf JSON writes an undefined value.
func enumName(names []string, n int) string {
	if n >= 0 && n < len(names) {
		return names[n]
	}
	return strconv.Itoa(n)
}

// LoginPolicy is a custom login policy: management AddCustomLoginPolicy's
// settings and IdPs. A nil lifetime is unset.
type LoginPolicy struct {
	AllowUsernamePassword  bool
	AllowRegister          bool
	AllowExternalIDP       bool
	ForceMFA               bool
	ForceMFALocalOnly      bool
	PasswordlessType       PasswordlessType
	HidePasswordReset      bool
	IgnoreUnknownUsernames bool
	AllowDomainDiscovery   bool
	DisableLoginWithEmail  bool
	DisableLoginWithPhone  bool
	DefaultRedirectURI     string

	PasswordCheckLifetime      *time.Duration
	ExternalLoginCheckLifetime *time.Duration
	MFAInitSkipLifetime        *time.Duration
	SecondFactorCheckLifetime  *time.Duration
	MultiFactorCheckLifetime   *time.Duration

	SecondFactors []SecondFactorType
	MultiFactors  []MultiFactorType
	IDPs          []LoginPolicyIDP
}

// settings is p as the policy's event records it: enums by name (the
// unspecified passwordless type left out), lifetimes in protobuf JSON form.
func (p LoginPolicy) settings() events.LoginPolicySettings {
	s := events.LoginPolicySettings{
		AllowUsernamePassword: p.AllowUsernamePassword, AllowRegister: p.AllowRegister,
		AllowExternalIDP: p.AllowExternalIDP, ForceMFA: p.ForceMFA, ForceMFALocalOnly: p.ForceMFALocalOnly,
		HidePasswordReset: p.HidePasswordReset, IgnoreUnknownUsernames: p.IgnoreUnknownUsernames,
		AllowDomainDiscovery: p.AllowDomainDiscovery, DisableLoginWithEmail: p.DisableLoginWithEmail,
		DisableLoginWithPhone: p.DisableLoginWithPhone, DefaultRedirectURI: p.DefaultRedirectURI,
		PasswordCheckLifetime:      durationText(p.PasswordCheckLifetime),
		ExternalLoginCheckLifetime: durationText(p.ExternalLoginCheckLifetime),
		MFAInitSkipLifetime:        durationText(p.MFAInitSkipLifetime),
		SecondFactorCheckLifetime:  durationText(p.SecondFactorCheckLifetime),
		MultiFactorCheckLifetime:   durationText(p.MultiFactorCheckLifetime),
	}
	if p.PasswordlessType != PasswordlessNotAllowed {
		s.PasswordlessType = enumName(passwordlessNames, int(p.PasswordlessType))
	}
	for _, f := range p.SecondFactors {
		s.SecondFactors = append(s.SecondFactors, enumName(secondFactorNames, int(f)))
	}
	for _, f := range p.MultiFactors {
		s.MultiFactors = append(s.MultiFactors, enumName(multiFactorNames, int(f)))
	}
	return s
}

// durationText is a set lifetime in google.protobuf.Duration's JSON form,
// as the policy's event records it: seconds with 0, 3, 6 or 9 fractional
// digits ("10s", "1.500s", "-0.000000001s"); unset is "".
func durationText(d *time.Duration) string {
	if d == nil {
		return ""
	}
	return pbjson.Duration(*d).String()
}

// LinkIndex finds, in the read tables, what links an IdP: the users of org
// orgID ("" = every org) with a link to it, and the login policies listing
// it. *query.Queries implements it. It is only a hint: each aggregate found
// is loaded and checked against its own events, which also give the
// expected sequence for the cascade's append.
type LinkIndex interface {
	UsersLinkedToIDP(ctx context.Context, instanceID, idpID, orgID string) ([]string, error)
	// UsersLinkedToIDPLoad is UsersLinkedToIDP as a read that a decision
	// loads with its aggregates, in one round trip.
	UsersLinkedToIDPLoad(instanceID, idpID, orgID string) *eventstore.Load
	PoliciesLinkingIDP(ctx context.Context, instanceID, idpID string) ([]string, error)
}

// pgvOwnerType is protoc-gen-validate's check of an IDPOwnerType field
// declared with defined_only and not_in [0].
func pgvOwnerType(field string, ownerType IDPOwnerType) error {
	switch ownerType {
	case IDPOwnerSystem, IDPOwnerOrg:
		return nil
	case IDPOwnerUnspecified:
		return errs.InvalidArgument("", "invalid "+field+": value must not be in list [0]")
	}
	return errs.InvalidArgument("", "invalid "+field+": value must be one of the defined enum values")
}

// pgvPasswordless is protoc-gen-validate's check of a PasswordlessType
// field declared with defined_only.
func pgvPasswordless(field string, t PasswordlessType) error {
	if t != PasswordlessNotAllowed && t != PasswordlessAllowed {
		return errs.InvalidArgument("", "invalid "+field+": value must be one of the defined enum values")
	}
	return nil
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
// an instance IdP for IDPOwnerSystem, an IdP of orgID for IDPOwnerOrg.
// Inactive IdPs count; removed ones do not.
func (c *Commands) idpUsable(ctx context.Context, instanceID, idpID string, ownerType IDPOwnerType, orgID string) (bool, error) {
	owner, ro, exists, err := c.IDPOwner(ctx, instanceID, idpID)
	if err != nil || !exists {
		return false, err
	}
	if ownerType == IDPOwnerOrg {
		return owner == events.OwnerOrg && ro == orgID, nil
	}
	return owner == events.OwnerSystem, nil
}

// AddCustomLoginPolicy gives org orgID its own login policy p, with p's
// IdPs. The policy does not copy the instance default's IdPs.
//
// Errors: Unauthenticated; NotFound AUTHZ-cdgFk / PermissionDenied
// AUTH-5mWD2 without policy.write; InvalidArgument for an undefined
// passwordlessType or an IdP entry that fails validation, Org-M0fs9 without an org, Org-WSfdq for an invalid
// default redirect URI; AlreadyExists Org-Dgfb2 when the org already has
// one; FailedPrecondition Org-FEd32 when an IdP does not exist for its
// owner type; Aborted, Internal.
func (c *Commands) AddCustomLoginPolicy(ctx context.Context, orgID string, p LoginPolicy) (Details, error) {
	cl, err := caller(ctx)
	if err != nil {
		return Details{}, err
	}
	if err := cl.CheckV1("policy.write", orgID); err != nil {
		return Details{}, err
	}
	if err := pgvPasswordless("AddCustomLoginPolicyRequest.PasswordlessType", p.PasswordlessType); err != nil {
		return Details{}, err
	}
	for i, l := range p.IDPs {
		field := fmt.Sprintf("AddCustomLoginPolicyRequest.Idps[%d]", i)
		for _, err := range []error{pgvLength("AddCustomLoginPolicyRequest_IDP.IdpId", l.IDPID, 1, 200),
			pgvOwnerType("AddCustomLoginPolicyRequest_IDP.OwnerType", l.OwnerType)} {
			if err != nil {
				e, _ := errs.As(err)
				return Details{}, errs.InvalidArgument("", "invalid "+field+": embedded message failed validation | caused by: "+e.Message)
			}
		}
	}
	if orgID == "" {
		return Details{}, errs.InvalidArgument("Org-M0fs9", "Errors.ResourceOwnerMissing")
	}
	if !validRedirectURI(p.DefaultRedirectURI) {
		return Details{}, errs.InvalidArgument("Org-WSfdq", "Errors.Org.LoginPolicy.RedirectURIInvalid")
	}
	m, evs, err := executeOn(ctx, c, c.loadLoginPolicy, cl.InstanceID, orgID, func(ctx context.Context, m *loginPolicyModel) (eventstore.Append, error) {
		if m.exists && !m.isDefault {
			return eventstore.Append{}, errs.AlreadyExists("Org-Dgfb2", "Errors.Org.LoginPolicy.AlreadyExists")
		}
		settings, err := jsonRaw(p.settings())
		if err != nil {
			return eventstore.Append{}, err
		}
		pending := []eventstore.PendingEvent{{Type: events.LoginPolicyAdded, Payload: events.LoginPolicyAddedPayload{Settings: settings}}}
		var claims []eventstore.UniqueConstraint
		seen := map[string]bool{}
		for _, l := range p.IDPs {
			ok, err := c.idpUsable(ctx, cl.InstanceID, l.IDPID, l.OwnerType, orgID)
			if err != nil {
				return eventstore.Append{}, err
			}
			if !ok {
				return eventstore.Append{}, errs.FailedPrecondition("Org-FEd32", msgIDPNotExisting)
			}
			if seen[l.IDPID] {
				continue
			}
			seen[l.IDPID] = true
			pending = append(pending, eventstore.PendingEvent{Type: events.LoginPolicyIDPAdded,
				Payload: events.LoginPolicyIDPPayload{IDPID: l.IDPID, OwnerType: l.OwnerType.stored()}})
			claims = append(claims, policyIDPClaim(cl.InstanceID, l.IDPID, orgID, orgPolicyIDPExists), holdIDP(cl.InstanceID, l.IDPID))
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
	m, evs, err := executeOn(ctx, c, c.loadLoginPolicy, cl.InstanceID, orgID, func(ctx context.Context, m *loginPolicyModel) (eventstore.Append, error) {
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

// policyScope is what differs between the instance's default login policy
// and an org's custom policy where their IdP commands share the logic: the
// permission, and ZITADEL's error IDs for each.
type policyScope struct {
	perm string
	org  bool // an org's custom policy; the instance default otherwise
	// add
	emptyIDP, addNoPolicy, notUsable, linked *errs.Error
	// remove
	removeNoPolicy, notLinked *errs.Error
	// update: the request message's name (for PGV messages) and its errors
	updateRequest                           string
	badRedirect, updateNoPolicy, notChanged *errs.Error
}

var (
	defaultPolicy = policyScope{perm: "iam.policy.write",
		emptyIDP:       errs.InvalidArgument("INSTANCE-9nf88", "Errors.IAM.LoginPolicy.IDP.Invalid"),
		addNoPolicy:    errs.NotFound("INSTANCE-GVDfe", "Errors.IAM.LoginPolicy.NotFound"),
		notUsable:      errs.FailedPrecondition("INSTANCE-m8fsd", msgIDPNotExisting),
		linked:         defaultPolicyIDPExists,
		removeNoPolicy: errs.NotFound("INSTANCE-Dfg4t", "Errors.IAM.LoginPolicy.NotFound"),
		notLinked:      errs.NotFound("INSTANCE-39fjs", "Errors.IAM.LoginPolicy.IDP.NotExisting"),
		updateRequest:  "UpdateLoginPolicyRequest",
		badRedirect:    errs.InvalidArgument("IAM-SFdqd", "Errors.IAM.LoginPolicy.RedirectURIInvalid"),
		updateNoPolicy: errs.NotFound("INSTANCE-M0sif", "Errors.IAM.LoginPolicy.NotFound"),
		notChanged:     errs.FailedPrecondition("INSTANCE-5M9vdd", "Errors.IAM.LoginPolicy.NotChanged"),
	}
	orgPolicy = policyScope{perm: "policy.write", org: true,
		emptyIDP:       errs.InvalidArgument("Org-9nf88", "Errors.Org.LoginPolicy.IDP."),
		addNoPolicy:    errs.NotFound("Org-Ffgw2", "Login Policy not found"),
		notUsable:      errs.FailedPrecondition("Org-3N9fs", msgIDPNotExisting),
		linked:         orgPolicyIDPExists,
		removeNoPolicy: errs.NotFound("Org-GVDfe", "Login Policy not found"),
		notLinked:      errs.NotFound("Org-39fjs", "Errors.Org.LoginPolicy.IDP.NotExisting"),
		updateRequest:  "UpdateCustomLoginPolicyRequest",
		badRedirect:    errs.InvalidArgument("Org-Sfd21", "Errors.Org.LoginPolicy.RedirectURIInvalid"),
		updateNoPolicy: errs.NotFound("Org-M0sif", "Errors.Org.LoginPolicy.NotFound"),
		notChanged:     errs.FailedPrecondition("Org-5M9vdd", "Errors.Org.LoginPolicy.NotChanged"),
	}
)

// policyID is the aggregate ID of the scope's policy: the instance's for
// the default, the org's for a custom policy.
func (s policyScope) policyID(instanceID, orgID string) string {
	if s.org {
		return orgID
	}
	return instanceID
}

// authorize checks, in ZITADEL's order, the caller's permission on s's
// policy (of orgID), then the request's idpId (field names it).
func (s policyScope) authorize(ctx context.Context, orgID, field, idpID string) (*authz.Caller, error) {
	cl, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := cl.CheckV1(s.perm, orgID); err != nil {
		return nil, err
	}
	if err := pgvLength(field, idpID, 1, 200); err != nil {
		return nil, err
	}
	return cl, nil
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
	return c.addPolicyIDP(ctx, defaultPolicy, "", idpID, IDPOwnerSystem)
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
func (c *Commands) AddIDPToLoginPolicy(ctx context.Context, orgID, idpID string, ownerType IDPOwnerType) (Details, error) {
	return c.addPolicyIDP(ctx, orgPolicy, orgID, idpID, ownerType)
}

// addPolicyIDP checks the caller and the request (AddIDPToLoginPolicyRequest
// of admin or management) of adding idpID to s's policy.
func (c *Commands) addPolicyIDP(ctx context.Context, s policyScope, orgID, idpID string, ownerType IDPOwnerType) (Details, error) {
	cl, err := s.authorize(ctx, orgID, "AddIDPToLoginPolicyRequest.IdpId", idpID)
	if err != nil {
		return Details{}, err
	}
	if err := pgvOwnerType("AddIDPToLoginPolicyRequest.OwnerType", ownerType); err != nil {
		return Details{}, err
	}
	return c.addIDPToPolicy(ctx, cl.InstanceID, s, orgID, idpID, ownerType)
}

// addIDPToPolicy decides and appends the addition of idpID to s's policy
// (of orgID for an org's).
func (c *Commands) addIDPToPolicy(ctx context.Context, instanceID string, s policyScope, orgID, idpID string, ownerType IDPOwnerType) (Details, error) {
	if s.org && orgID == "" {
		return Details{}, errs.InvalidArgument("Org-M0fs9", "Errors.ResourceOwnerMissing")
	}
	if idpID == "" {
		return Details{}, s.emptyIDP
	}
	policyID := s.policyID(instanceID, orgID)
	reads := []read{c.policyRead(instanceID, policyID), endsOf(idpRef(instanceID, idpID))}
	m, evs, err := executeOnPrefetched(ctx, c, reads, c.loadLoginPolicy, instanceID, policyID, func(ctx context.Context, m *loginPolicyModel) (eventstore.Append, error) {
		if !m.exists || m.isDefault == s.org {
			return eventstore.Append{}, s.addNoPolicy
		}
		ok, err := c.idpUsable(ctx, instanceID, idpID, ownerType, orgID)
		if err != nil {
			return eventstore.Append{}, err
		}
		if !ok {
			return eventstore.Append{}, s.notUsable
		}
		if _, linked := m.idps[idpID]; linked {
			return eventstore.Append{}, s.linked
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: m.ref, ResourceOwner: policyID, Expected: m.head,
			Events: []eventstore.PendingEvent{{Type: events.LoginPolicyIDPAdded,
				Payload: events.LoginPolicyIDPPayload{IDPID: idpID, OwnerType: ownerType.stored()}}},
		}}, Constraints: []eventstore.UniqueConstraint{
			policyIDPClaim(instanceID, idpID, policyID, s.linked), holdIDP(instanceID, idpID)}}, nil
	})
	if err != nil {
		return Details{}, err
	}
	return aggregateDetails(evs, m.ref, m.created), nil
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
	return c.removePolicyIDP(ctx, defaultPolicy, "", idpID)
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
	return c.removePolicyIDP(ctx, orgPolicy, orgID, idpID)
}

// removePolicyIDP unlinks idpID from s's policy and cascades to the user
// links of orgID (an org's policy) or of every org (the default).
func (c *Commands) removePolicyIDP(ctx context.Context, s policyScope, orgID, idpID string) (Details, error) {
	cl, err := s.authorize(ctx, orgID, "RemoveIDPFromLoginPolicyRequest.IdpId", idpID)
	if err != nil {
		return Details{}, err
	}
	if s.org && orgID == "" {
		return Details{}, errs.InvalidArgument("Org-M0fs9", "Errors.ResourceOwnerMissing")
	}
	instanceID := cl.InstanceID
	policyID := s.policyID(instanceID, orgID)
	if c.links == nil {
		return Details{}, errs.Internal("COMMAND-LpC00", errors.New("no link index configured (command.Deps.Links)"))
	}
	// The policy and the users linked to the IdP load together; the users
	// found load in one more round trip, only when there are any.
	linked := c.links.UsersLinkedToIDPLoad(instanceID, idpID, orgID)
	reads := []read{c.policyRead(instanceID, policyID), {load: linked}}
	m, evs, err := executeOnPrefetched(ctx, c, reads, c.loadLoginPolicy, instanceID, policyID, func(ctx context.Context, m *loginPolicyModel) (eventstore.Append, error) {
		if !m.exists || m.isDefault == s.org {
			return eventstore.Append{}, s.removeNoPolicy
		}
		ownerType, ok := m.idps[idpID]
		if !ok {
			return eventstore.Append{}, s.notLinked
		}
		a := eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: m.ref, ResourceOwner: policyID, Expected: m.head,
			Events: []eventstore.PendingEvent{{Type: events.LoginPolicyIDPRemoved,
				Payload: events.LoginPolicyIDPPayload{IDPID: idpID, OwnerType: ownerType}}},
		}}, Constraints: []eventstore.UniqueConstraint{policyIDPRelease(instanceID, idpID, policyID)}}
		if err := c.cascadeLinksOf(ctx, instanceID, idpID, orgID, linked.IDs, &a); err != nil {
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
	return c.cascadeLinksOf(ctx, instanceID, idpID, orgID, userIDs, a)
}

// cascadeLinksOf is cascadeUserLinks for the candidates userIDs, which it
// loads in one round trip.
func (c *Commands) cascadeLinksOf(ctx context.Context, instanceID, idpID, orgID string, userIDs []string, a *eventstore.Append) error {
	if len(userIDs) > 0 {
		reads := make([]read, len(userIDs))
		for i, id := range userIDs {
			reads[i] = typesOf(userRef(instanceID, id), linkUserTypes)
		}
		var err error
		if ctx, err = c.prefetch(ctx, reads...); err != nil {
			return err
		}
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

// UpdateDefaultLoginPolicy sets the switches and lifetimes of the
// instance's default login policy to p's (admin UpdateLoginPolicy, PUT
// /admin/v1/policies/login): every field is replaced, an unset one included.
// p's SecondFactors, MultiFactors and IDPs are no part of the request and
// are ignored; the policy keeps its own.
//
// Errors, in ZITADEL's order: Unauthenticated; NotFound AUTHZ-cdgFk /
// PermissionDenied AUTH-5mWD2 without iam.policy.write; InvalidArgument
// (PGV message) for an undefined passwordlessType, IAM-SFdqd for an invalid
// default redirect URI; NotFound INSTANCE-M0sif without a default policy;
// FailedPrecondition INSTANCE-5M9vdd when nothing changes; Aborted,
// Internal.
func (c *Commands) UpdateDefaultLoginPolicy(ctx context.Context, p LoginPolicy) (Details, error) {
	return c.updateLoginPolicy(ctx, defaultPolicy, "", p)
}

// UpdateCustomLoginPolicy sets the switches and lifetimes of org orgID's
// custom login policy to p's (management UpdateCustomLoginPolicy, PUT
// /management/v1/policies/login), as UpdateDefaultLoginPolicy does.
//
// Errors, in ZITADEL's order: Unauthenticated; NotFound AUTHZ-cdgFk /
// PermissionDenied AUTH-5mWD2 without policy.write; InvalidArgument (PGV
// message) for an undefined passwordlessType, Org-Sfd21 for an invalid
// default redirect URI; NotFound Org-M0sif when the org has no custom policy
// (it inherits the default: AddCustomLoginPolicy first); FailedPrecondition
// Org-5M9vdd when nothing changes; Aborted, Internal.
func (c *Commands) UpdateCustomLoginPolicy(ctx context.Context, orgID string, p LoginPolicy) (Details, error) {
	return c.updateLoginPolicy(ctx, orgPolicy, orgID, p)
}

// updateLoginPolicy replaces the settings of s's policy (of orgID for an
// org's) but for its factors.
func (c *Commands) updateLoginPolicy(ctx context.Context, s policyScope, orgID string, p LoginPolicy) (Details, error) {
	cl, err := caller(ctx)
	if err != nil {
		return Details{}, err
	}
	if err := cl.CheckV1(s.perm, orgID); err != nil {
		return Details{}, err
	}
	if err := pgvPasswordless(s.updateRequest+".PasswordlessType", p.PasswordlessType); err != nil {
		return Details{}, err
	}
	if !validRedirectURI(p.DefaultRedirectURI) {
		return Details{}, s.badRedirect
	}
	policyID := s.policyID(cl.InstanceID, orgID)
	m, evs, err := executeOn(ctx, c, c.loadLoginPolicy, cl.InstanceID, policyID, func(ctx context.Context, m *loginPolicyModel) (eventstore.Append, error) {
		if !m.exists || m.isDefault == s.org {
			return eventstore.Append{}, s.updateNoPolicy
		}
		next := p.settings()
		next.SecondFactors, next.MultiFactors = m.settings.SecondFactors, m.settings.MultiFactors
		if reflect.DeepEqual(next, m.settings) {
			return eventstore.Append{}, s.notChanged
		}
		settings, err := jsonRaw(next)
		if err != nil {
			return eventstore.Append{}, err
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: m.ref, ResourceOwner: policyID, Expected: m.head,
			Events: []eventstore.PendingEvent{{Type: events.LoginPolicyChanged,
				Payload: events.LoginPolicyChangedPayload{Settings: settings}}},
		}}}, nil
	})
	if err != nil {
		return Details{}, err
	}
	return aggregateDetails(evs, m.ref, m.created), nil
}
