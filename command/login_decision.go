package command

import (
	"context"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/upstream"
)

// The IdP login's linking, decided on the server (DESIGN.md §2 "hosted
// login", login-flows.md §4 and §7.7): after a succeeded intent, what
// happens to the external user in the org of the login. ZITADEL leaves these
// rules to its login UIs (a client), with the bugs and advisories the
// reference lists; here every login UI, the hosted login included, calls
// DecideIntentLogin and only shows its outcome.

// LoginOutcome is what the login UI does next after DecideIntentLogin.
type LoginOutcome int

const (
	// LoginSignedIn: UserID is the user; the UI creates a session with the
	// checks user (that ID) and idpIntent (the same intent).
	LoginSignedIn LoginOutcome = iota + 1
	// LoginChoose: several users match for auto-linking; the user signs in
	// to one of them (login name and password), then the UI links it
	// (AddIDPLink) and creates the session with the intent. Never a silent
	// pick (zitadel#12630).
	LoginChoose
	// LoginOfferLinking: the IdP allows linking; the UI offers to sign in
	// to an existing account and link it.
	LoginOfferLinking
	// LoginOfferRegistration: the IdP allows creation or the policy allows
	// registration (allowRegister); the UI shows a
	// registration form prefilled from the IdP's claims (Retrieve's
	// addHumanUser), then AddHumanUser with its idpLinks.
	LoginOfferRegistration
	// LoginRefused: nothing is allowed; Refusal says why.
	LoginRefused
)

var loginOutcomeNames = []string{"", "SIGNED_IN", "CHOOSE", "OFFER_LINKING", "OFFER_REGISTRATION", "REFUSED"}

func (o LoginOutcome) String() string {
	if int(o) < len(loginOutcomeNames) {
		return loginOutcomeNames[o]
	}
	return ""
}

// The refusals of DecideIntentLogin.
var (
	// refusedNoOption: the IdP neither links, creates nor offers either.
	refusedNoOption = errs.FailedPrecondition("COMMAND-LgnRf1", "Errors.User.ExternalIDP.NoLoginOption")
	// refusedByPolicy: only automatic options, and the org's login policy
	// does not allow this IdP (GHSA-j4g7-v4m4-77px).
	refusedByPolicy = errs.FailedPrecondition("COMMAND-LgnRf2", "Errors.User.ExternalIDP.NotAllowedByLoginPolicy")
	// refusedOtherOrg: the linked user is not in the org the login asked
	// for (ZITADEL's login checks the requested org the same way).
	refusedOtherOrg = errs.FailedPrecondition("EVENT-fJe2a", "Errors.User.NotAllowedOrg")
)

// LoginUserIndex finds, in the read tables, what the login decision needs:
// the auto-linking candidates (each is confirmed against its own events
// before anything is decided on it) and the instance's default org.
type LoginUserIndex interface {
	// OrgUsersByUsername: the human users of orgID whose user name is
	// username, ignoring case.
	OrgUsersByUsername(ctx context.Context, instanceID, orgID, username string) ([]string, error)
	// OrgUsersByVerifiedEmail: the human users of orgID whose email is
	// email, ignoring case, and verified.
	OrgUsersByVerifiedEmail(ctx context.Context, instanceID, orgID, email string) ([]string, error)
	// DefaultOrgID: the org created with the instance, "" when none.
	DefaultOrgID(ctx context.Context, instanceID string) (string, error)
}

// DecideLoginInput names a succeeded intent (ID and token, as Retrieve)
// and the org in which the login happens ("" = the instance's default org).
type DecideLoginInput struct {
	IntentID    string
	IntentToken string
	OrgID       string
}

// LoginCandidates are the users auto-linking found several of: how many,
// and their login names masked ("j***@example.com").
type LoginCandidates struct {
	Count      int
	LoginNames []string
	// UserIDs are the matches, in the order of LoginNames, for the login
	// UI to check that the user signed in to one of them; never shown.
	UserIDs []string
}

// LoginDecision is DecideIntentLogin's answer.
type LoginDecision struct {
	Details Details // the intent's: it is not consumed
	Outcome LoginOutcome
	OrgID   string // the org of the login (the default org when none was named)
	UserID  string // LoginSignedIn
	// Linked and Created say what the decision wrote: a link to an
	// existing user (auto-linking), or a new user with its link.
	Linked, Created bool
	Candidates      LoginCandidates // LoginChoose
	// Intent is the IdP's user, for the registration form's prefill
	// (LoginOfferRegistration): IDPID, UserName and User are set.
	Intent IntentInfo
	// Refusal is why (LoginRefused).
	Refusal *errs.Error
	// UpdateErr is why the auto-update of a signed-in user failed, if it
	// did. It does not block the login; the transport logs it.
	UpdateErr error
}

// DecideIntentLogin applies the options of the intent's IdP to its
// external user in org in.OrgID, in DESIGN.md's order:
//  1. a user linked to the external account signs in (after an update of
//     its profile and email from the IdP's claims when isAutoUpdate);
//  2. else, when autoLinking is USERNAME or EMAIL and the IdP is allowed by
//     the applicable login policy (the org's custom one, else the
//     instance's default: allowExternalIdp and the IdP listed): the org's
//     users with the IdP user's user name (ignoring case) or, for EMAIL and
//     only when the IdP says it is verified, its email verified in
//     idledger too. Exactly one is linked (AddIDPLink's event, the link's
//     user name may be empty) and signs in; several are CHOOSE. Manual
//     linking off does not block it (zitadel#12632);
//  3. else, when isAutoCreation and the policy allows the IdP: a human
//     user from the claims (user name: preferred username, else email;
//     email verified only if the IdP says so) and its link, in one append;
//     claims that make no valid user (no names, no email) fall through;
//  4. else OFFER_LINKING when isLinkingAllowed, OFFER_REGISTRATION when
//     isCreationAllowed or the applicable policy's allowRegister, else
//     REFUSED.
//
// The intent is not consumed: the session check that follows does.
// Its capability is the intent token; it checks no permission beyond an
// authenticated caller, as Retrieve.
//
// Errors, in order: Unauthenticated; RetrieveIntent's (InvalidArgument,
// PermissionDenied CRYPTO-Sfefs / CRYPTO-CRYPTO, FailedPrecondition
// IDP-nme4gszsvx / IDP-SAf42); FailedPrecondition COMMAND-39nf2 when the
// IdP is gone; InvalidArgument (PGV) for an org ID over 200 characters;
// FailedPrecondition COMMAND-QXPGs when the org does not exist (or no
// default org is left); while linking or creating, AddIDPLink's and
// AddHuman's (AlreadyExists COMMAND-Lnk409, COMMAND-UsrDup); Aborted,
// Internal.
func (c *Commands) DecideIntentLogin(ctx context.Context, in DecideLoginInput) (LoginDecision, error) {
	cl, err := caller(ctx)
	if err != nil {
		return LoginDecision{}, err
	}
	inst := cl.InstanceID
	m, user, err := c.succeededIntent(ctx, inst, "IntentLoginRequest", in.IntentID, in.IntentToken)
	if err != nil {
		return LoginDecision{}, err
	}
	d := LoginDecision{Details: m.details(), Intent: IntentInfo{IDPID: m.idpID, Protocol: m.protocol, UserName: m.idpUserName, User: user}}
	idpm, err := c.loadIDP(ctx, inst, m.idpID)
	if err != nil {
		return LoginDecision{}, err
	}
	if !idpm.Exists {
		return LoginDecision{}, errs.FailedPrecondition("COMMAND-39nf2", msgIDPNotExisting)
	}
	opts := idpm.Options
	if d.OrgID, err = c.loginOrg(ctx, inst, in.OrgID); err != nil {
		return LoginDecision{}, err
	}

	// 1. A linked user signs in.
	userID, userOrg, err := c.intentUser(ctx, inst, m)
	if err != nil {
		return LoginDecision{}, err
	}
	if userID != "" && in.OrgID != "" && userOrg != d.OrgID {
		d.Outcome, d.Refusal = LoginRefused, refusedOtherOrg
		return d, nil
	}
	if userID != "" {
		d.Outcome, d.UserID = LoginSignedIn, userID
		if opts.IsAutoUpdate {
			d.UpdateErr = c.updateFromIDP(ctx, inst, userID, user)
		}
		return d, nil
	}

	allowed, err := c.idpAllowedIn(ctx, inst, d.OrgID, m.idpID)
	if err != nil {
		return LoginDecision{}, err
	}
	link := IDPLink{IDPID: m.idpID, ExternalUserID: m.idpUserID, DisplayName: m.idpUserName}

	// 2. Auto-linking: exactly one match, or the user chooses.
	if opts.AutoLinking != idp.AutoLinkingUnspecified && allowed {
		matches, err := c.autoLinkMatches(ctx, inst, d.OrgID, opts.AutoLinking, user)
		if err != nil {
			return LoginDecision{}, err
		}
		switch {
		case len(matches) == 1:
			if err := c.autoLink(ctx, inst, matches[0].ref.ID, link); err != nil {
				return LoginDecision{}, err
			}
			d.Outcome, d.UserID, d.Linked = LoginSignedIn, matches[0].ref.ID, true
			return d, nil
		case len(matches) > 1:
			d.Outcome = LoginChoose
			d.Candidates.Count = len(matches)
			for _, u := range matches {
				d.Candidates.LoginNames = append(d.Candidates.LoginNames, maskLoginName(u.username))
				d.Candidates.UserIDs = append(d.Candidates.UserIDs, u.ref.ID)
			}
			return d, nil
		}
	}

	// 3. Auto-creation, when the claims make a valid user.
	if opts.IsAutoCreation && allowed {
		h := humanFromIDP(d.OrgID, user, link)
		if probe := h; validateHuman(&probe) == nil {
			det, err := c.addHuman(ctx, inst, h)
			if err != nil {
				return LoginDecision{}, err
			}
			d.Outcome, d.UserID, d.Created = LoginSignedIn, det.ID, true
			return d, nil
		}
	}

	// 4. What the UI may offer: registration when the IdP allows creation
	// or the applicable policy allows registration (allowRegister).
	pol, err := c.applicableLoginPolicy(ctx, inst, d.OrgID)
	if err != nil {
		return LoginDecision{}, err
	}
	register := opts.IsCreationAllowed || pol.exists && pol.settings.AllowRegister
	switch {
	case opts.IsLinkingAllowed:
		d.Outcome = LoginOfferLinking
	case register:
		d.Outcome = LoginOfferRegistration
	case !allowed && (opts.AutoLinking != idp.AutoLinkingUnspecified || opts.IsAutoCreation):
		d.Outcome, d.Refusal = LoginRefused, refusedByPolicy
	default:
		d.Outcome, d.Refusal = LoginRefused, refusedNoOption
	}
	return d, nil
}

// loginOrg is the org of the login: orgID, or the instance's default org;
// it must exist.
func (c *Commands) loginOrg(ctx context.Context, instanceID, orgID string) (string, error) {
	if err := validLen("IntentLoginRequest.OrganizationId", orgID, 0, 200); err != nil {
		return "", err
	}
	if orgID == "" && c.loginUsers != nil {
		var err error
		if orgID, err = c.loginUsers.DefaultOrgID(ctx, instanceID); err != nil {
			return "", err
		}
	}
	if orgID == "" {
		return "", errs.FailedPrecondition("COMMAND-QXPGs", "Organisation not found")
	}
	org, err := c.loadMembers(ctx, instanceID, orgID)
	if err != nil {
		return "", err
	}
	if !org.exists {
		return "", errs.FailedPrecondition("COMMAND-QXPGs", "Organisation not found")
	}
	return orgID, nil
}

// intentUser is the user linked to the intent's external account: the one
// named at callback time (CheckIntent then accepts only that user), else
// the one linked now, confirmed against its own events; and its org.
func (c *Commands) intentUser(ctx context.Context, instanceID string, m *intentModel) (string, string, error) {
	id := m.userID
	if id == "" {
		var err error
		if id, err = c.linkedUser(ctx, instanceID, m.idpID, m.idpUserID); err != nil || id == "" {
			return "", "", err
		}
	}
	u, err := c.loadLinkUser(ctx, instanceID, id, true)
	if err != nil {
		return "", "", err
	}
	if m.userID != "" && u.exists {
		return id, u.orgID, nil // named at callback time: CheckIntent accepts only it
	}
	if !u.exists || len(u.linksTo(m.idpID, m.idpUserID)) == 0 {
		return "", "", nil
	}
	return id, u.orgID, nil
}

// idpAllowedIn reports whether the login policy that applies to org orgID
// (its custom policy, else the instance's default) allows external IdPs
// and lists idpID: the condition of every automatic link or creation
// (GHSA-j4g7-v4m4-77px).
func (c *Commands) idpAllowedIn(ctx context.Context, instanceID, orgID, idpID string) (bool, error) {
	p, err := c.applicableLoginPolicy(ctx, instanceID, orgID)
	if err != nil {
		return false, err
	}
	_, listed := p.idps[idpID]
	return p.exists && p.settings.AllowExternalIDP && listed, nil
}

// applicableLoginPolicy is the login policy that applies to org orgID: its
// custom policy, else the instance's default (exists is false when there
// is neither).
func (c *Commands) applicableLoginPolicy(ctx context.Context, instanceID, orgID string) (*loginPolicyModel, error) {
	p, err := c.loadLoginPolicy(ctx, instanceID, orgID)
	if err != nil {
		return nil, err
	}
	if !p.exists {
		return c.loadLoginPolicy(ctx, instanceID, instanceID)
	}
	return p, nil
}

// autoLinkMatches are the org's users that auto-linking by mode finds for
// the IdP's user, each confirmed against its own events: by user name
// (ignoring case), or by an email that the IdP and idledger both hold as
// verified (GHSA-992q-9gwp-7r79).
func (c *Commands) autoLinkMatches(ctx context.Context, instanceID, orgID string, mode idp.AutoLinking, user upstream.User) ([]*userModel, error) {
	if c.loginUsers == nil {
		return nil, nil
	}
	var ids []string
	var err error
	switch mode {
	case idp.AutoLinkingUsername:
		if user.PreferredUsername == "" {
			return nil, nil
		}
		ids, err = c.loginUsers.OrgUsersByUsername(ctx, instanceID, orgID, user.PreferredUsername)
	case idp.AutoLinkingEmail:
		if user.Email == "" || !user.EmailVerified {
			return nil, nil
		}
		ids, err = c.loginUsers.OrgUsersByVerifiedEmail(ctx, instanceID, orgID, user.Email)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*userModel
	for _, id := range ids {
		u, err := c.loadUser(ctx, instanceID, id)
		if err != nil {
			return nil, err
		}
		if !u.exists || u.kind != "human" || u.orgID != orgID {
			continue
		}
		if mode == idp.AutoLinkingUsername && !strings.EqualFold(u.username, user.PreferredUsername) ||
			mode == idp.AutoLinkingEmail && !(u.emailVerified && strings.EqualFold(u.email, user.Email)) {
			continue
		}
		out = append(out, u)
	}
	return out, nil
}

// autoLink links user userID to link with AddIDPLink's append (no
// permission: the intent is the capability, and the policy allowed it).
func (c *Commands) autoLink(ctx context.Context, instanceID, userID string, link IDPLink) error {
	_, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		ctx, u, err := c.loadLinkTarget(ctx, instanceID, userID, link)
		if err != nil {
			return eventstore.Append{}, err
		}
		if !u.exists {
			return eventstore.Append{}, errs.FailedPrecondition("COMMAND-vzktar7b7f", "User could not be found")
		}
		return c.linkAppend(ctx, u, link)
	})
	return err
}

// humanFromIDP is the user auto-creation makes from the IdP's claims, with
// its link.
func humanFromIDP(orgID string, u upstream.User, link IDPLink) AddHuman {
	username := u.PreferredUsername
	if username == "" {
		username = u.Email
	}
	return AddHuman{OrgID: orgID, Username: username, GivenName: u.FirstName, FamilyName: u.LastName,
		NickName: u.NickName, DisplayName: u.DisplayName, PreferredLanguage: u.PreferredLanguage,
		Email: u.Email, EmailVerified: u.EmailVerified, IDPLinks: []IDPLink{link}}
}

// maskLoginName shows a candidate without disclosing it: the first
// character, "***", and the domain of an email-shaped name
// ("j***@example.com").
func maskLoginName(name string) string {
	local, domain, hasAt := strings.Cut(name, "@")
	r, _ := utf8.DecodeRuneInString(local)
	masked := "***"
	if r != utf8.RuneError {
		masked = string(r) + masked
	}
	if hasAt {
		masked += "@" + domain
	}
	return masked
}

// updateFromIDP is the auto-update of a signed-in user: the profile fields
// and the email that the IdP's claims hold (an empty claim changes
// nothing), the email verified only when the IdP says so. Nothing is
// appended when nothing changed.
//
// Errors: InvalidArgument COMMAND-LgnUp1 for a claimed email that is not
// an address; Aborted, Internal.
func (c *Commands) updateFromIDP(ctx context.Context, instanceID, userID string, claims upstream.User) error {
	email := strings.TrimSpace(claims.Email)
	if email != "" {
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email || utf8.RuneCountInString(email) > 200 {
			return errs.InvalidArgument("COMMAND-LgnUp1", "the IdP's email is not a valid address")
		}
	}
	_, _, err := executeOn(ctx, c, c.loadUser, instanceID, userID, func(ctx context.Context, u *userModel) (eventstore.Append, error) {
		if !u.exists || u.kind != "human" {
			return eventstore.Append{}, eventstore.ErrNothingToDo
		}
		var pend []eventstore.PendingEvent
		var changed events.HumanProfileChangedPayload
		dirty := false
		for _, f := range []struct {
			dst       *string
			cur, want string
			max       int
		}{
			{&changed.GivenName, u.profile.GivenName, strings.TrimSpace(claims.FirstName), 200},
			{&changed.FamilyName, u.profile.FamilyName, strings.TrimSpace(claims.LastName), 200},
			{&changed.NickName, u.profile.NickName, claims.NickName, 200},
			{&changed.DisplayName, u.profile.DisplayName, claims.DisplayName, 200},
			{&changed.PreferredLanguage, u.profile.PreferredLanguage, claims.PreferredLanguage, 10},
		} {
			if f.want != "" && f.want != f.cur && utf8.RuneCountInString(f.want) <= f.max {
				*f.dst, dirty = f.want, true
			}
		}
		if dirty {
			pend = append(pend, eventstore.PendingEvent{Type: events.UserHumanProfileChanged, Payload: changed})
		}
		verified := u.emailVerified
		if email != "" && email != u.email {
			pend = append(pend, eventstore.PendingEvent{Type: events.UserHumanEmailChanged, Payload: events.HumanEmailChangedPayload{Email: email}})
			verified = false
		}
		if email != "" && claims.EmailVerified && !verified {
			pend = append(pend, eventstore.PendingEvent{Type: events.UserHumanEmailVerified})
		}
		if len(pend) == 0 {
			return eventstore.Append{}, eventstore.ErrNothingToDo
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: u.ref, ResourceOwner: u.orgID, Expected: u.head, Events: pend,
		}}}, nil
	})
	return err
}
