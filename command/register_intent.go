package command

import (
	"context"
	"strings"

	"github.com/idledger/idledger/errs"
)

// RegisterFromIntent is a registration after an IdP login
// (OFFER_REGISTRATION): the user's own form, prefilled from the IdP's
// claims, for a new human user of OrgID (the instance's default org when
// empty) that is linked to the intent's external account.
type RegisterFromIntent struct {
	IntentID, IntentToken string
	OrgID                 string
	Username              string
	GivenName, FamilyName string
	Email                 string
}

// ErrRegistrationNotAllowed: neither the IdP nor the login policy allows
// registration.
var ErrRegistrationNotAllowed = errs.PermissionDenied("COMMAND-RgI01", "Errors.User.Registration.NotAllowed")

// RegisterUserFromIntent creates the human user of in and its link to the
// intent's external account, in one append. Its capability is the
// intent: succeeded, not expired and not consumed, with its token; the
// IdP must allow creation (isCreationAllowed), or the login policy that
// applies to the org allow registration (allowRegister). It checks no
// permission beyond an authenticated caller (the login client), as
// DecideIntentLogin. The email counts as verified only when it is the one
// the IdP says is verified. The intent is not consumed: the session check
// that follows does; a second registration with it fails on the link,
// which is unique per external account.
//
// Errors, in order: Unauthenticated; RetrieveIntent's (InvalidArgument,
// PermissionDenied CRYPTO-Sfefs, FailedPrecondition IDP-nme4gszsvx /
// IDP-SAf42); FailedPrecondition COMMAND-39nf2 when the IdP is gone,
// COMMAND-QXPGs when the org does not exist; PermissionDenied
// COMMAND-RgI01 when neither the IdP nor the policy allows registration;
// AddHuman's validation and AlreadyExists (COMMAND-UsrDup, the link's
// COMMAND-Lnk409); Aborted, Internal.
func (c *Commands) RegisterUserFromIntent(ctx context.Context, in RegisterFromIntent) (*Details, error) {
	cl, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	inst := cl.InstanceID
	m, user, err := c.succeededIntent(ctx, inst, "RegisterUserFromIntentRequest", in.IntentID, in.IntentToken)
	if err != nil {
		return nil, err
	}
	idpm, err := c.loadIDP(ctx, inst, m.idpID)
	if err != nil {
		return nil, err
	}
	if !idpm.Exists {
		return nil, errs.FailedPrecondition("COMMAND-39nf2", msgIDPNotExisting)
	}
	orgID, err := c.loginOrg(ctx, inst, in.OrgID)
	if err != nil {
		return nil, err
	}
	if !idpm.Options.IsCreationAllowed {
		p, err := c.applicableLoginPolicy(ctx, inst, orgID)
		if err != nil {
			return nil, err
		}
		if !p.exists || !p.settings.AllowRegister {
			return nil, ErrRegistrationNotAllowed
		}
	}
	email := strings.TrimSpace(in.Email)
	h := AddHuman{OrgID: orgID, Username: strings.TrimSpace(in.Username), GivenName: strings.TrimSpace(in.GivenName),
		FamilyName: strings.TrimSpace(in.FamilyName), Email: email,
		EmailVerified: user.EmailVerified && user.Email != "" && strings.EqualFold(email, user.Email),
		IDPLinks:      []IDPLink{{IDPID: m.idpID, ExternalUserID: m.idpUserID, DisplayName: m.idpUserName}}}
	return c.addHuman(ctx, inst, h)
}
