package command

import (
	"context"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// uniqueUsername is the constraint type of a user name within its org:
// value orgID + ":" + lower(username).
const uniqueUsername = "user.username"

func usernameConstraint(instanceID, orgID, username string, remove bool) eventstore.UniqueConstraint {
	return eventstore.UniqueConstraint{InstanceID: instanceID, Type: uniqueUsername,
		Value: orgID + ":" + strings.ToLower(username), Remove: remove,
		ErrorID: "COMMAND-UsrDup", Message: "User already exists"}
}

// AddHuman is v2 AddHumanUser.
type AddHuman struct {
	OrgID             string // organization.orgId
	UserID            string // optional; generated when empty
	Username          string // defaults to Email
	GivenName         string
	FamilyName        string
	NickName          string
	DisplayName       string // defaults to "GivenName FamilyName"
	PreferredLanguage string
	Gender            int
	Email             string
	EmailVerified     bool
	IDPLinks          []IDPLink
	// Password, when set, is the user's initial password (plaintext, checked
	// against the complexity policy and hashed, or an imported hash).
	Password *Password
	// ProfileMissing and EmailMissing report an absent profile / email
	// message (PGV "value is required").
	ProfileMissing, EmailMissing bool
}

// AddHuman creates a human user in h.OrgID, with its IdP links (h.IDPLinks)
// in the same append. The caller needs user.write on that org (v2
// semantics).
//
// Errors: PermissionDenied AUTHZ-HKJD33; InvalidArgument naming the field;
// FailedPrecondition COMMAND-QXPGs when the org does not exist;
// AlreadyExists COMMAND-UsrDup (user name taken in the org) or COMMAND-UsrID
// (user ID taken); InvalidArgument with the password complexity policy's
// IDs (COMMA-HuJf6, …) or COMMAND-Hash1 for an unsupported hash; for a
// link, AddIDPLink's: FailedPrecondition COMMAND-39nf2 when its IdP is
// neither the org's nor the instance's, AlreadyExists COMMAND-Lnk409 when
// its account is linked to any user (or twice in h.IDPLinks).
func (c *Commands) AddHuman(ctx context.Context, h AddHuman) (*Details, error) {
	cl, err := authorizeIdentity(ctx, false, "user.write", h.OrgID)
	if err != nil {
		return nil, err
	}
	return c.addHuman(ctx, cl.InstanceID, h)
}

// addHuman is AddHuman after its permission check; the IdP login's
// auto-creation (login_decision.go), whose capability is the intent, calls
// it directly.
func (c *Commands) addHuman(ctx context.Context, instanceID string, h AddHuman) (*Details, error) {
	if err := validateHuman(&h); err != nil {
		return nil, err
	}
	var pw *events.PasswordChangedPayload
	if h.Password != nil {
		p, err := h.Password.encode("AddHumanUserRequest.Password")
		if err != nil {
			return nil, err
		}
		pw = &p
	}
	if h.UserID == "" {
		var err error
		if h.UserID, err = c.ids.Next(); err != nil {
			return nil, errs.Internal("COMMAND-Ids04", err)
		}
	}
	ref := eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggUser, ID: h.UserID}
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		org, err := c.loadMembers(ctx, instanceID, h.OrgID)
		if err != nil {
			return eventstore.Append{}, err
		}
		if !org.exists {
			return eventstore.Append{}, errs.FailedPrecondition("COMMAND-QXPGs", "Organisation not found")
		}
		u, err := c.loadUser(ctx, instanceID, h.UserID)
		if err != nil {
			return eventstore.Append{}, err
		}
		if u.head > 0 {
			return eventstore.Append{}, errs.AlreadyExists("COMMAND-UsrID", "User already exists")
		}
		pend := []eventstore.PendingEvent{{Type: events.UserHumanAdded, Payload: events.HumanAddedPayload{
			Username: h.Username, GivenName: h.GivenName, FamilyName: h.FamilyName, NickName: h.NickName,
			DisplayName: h.DisplayName, PreferredLanguage: h.PreferredLanguage, Gender: h.Gender,
			Email: h.Email, EmailVerified: h.EmailVerified,
		}}}
		if pw != nil {
			pend = append(pend, eventstore.PendingEvent{Type: events.UserPasswordChanged, Payload: *pw})
		}
		cons := []eventstore.UniqueConstraint{usernameConstraint(instanceID, h.OrgID, h.Username, false)}
		// The links go on the new user's aggregate after user.human.added,
		// with their unique claims: user and links commit together, and a
		// duplicate (IdP, external user ID), also within h.IDPLinks, fails
		// the whole append.
		for _, l := range h.IDPLinks {
			le, lc, err := c.linkEvents(ctx, instanceID, h.OrgID, l)
			if err != nil {
				return eventstore.Append{}, err
			}
			pend, cons = append(pend, le), append(cons, lc...)
		}
		return eventstore.Append{
			Aggregates:  []eventstore.AggregateAppend{{Aggregate: ref, ResourceOwner: h.OrgID, Events: pend}},
			Constraints: cons,
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return detailsFromEvents(evs, ref, time.Time{}), nil
}

// validateHuman applies AddHumanUserRequest's validation rules, in its
// field order, and fills the defaults.
func validateHuman(h *AddHuman) error {
	const req = "AddHumanUserRequest"
	if h.UserID != "" {
		if err := validLen(req+".UserId", h.UserID, 1, 200); err != nil {
			return err
		}
	}
	if h.Username != "" {
		if err := validLen(req+".Username", h.Username, 1, 200); err != nil {
			return err
		}
	}
	if h.OrgID == "" {
		return errs.InvalidArgument("", "invalid "+req+".Organization: value is required")
	}
	if h.ProfileMissing {
		return errs.InvalidArgument("", "invalid "+req+".Profile: value is required")
	}
	h.GivenName, h.FamilyName = strings.TrimSpace(h.GivenName), strings.TrimSpace(h.FamilyName)
	for _, f := range []struct {
		name     string
		v        string
		min, max int
	}{
		{"GivenName", h.GivenName, 1, 200}, {"FamilyName", h.FamilyName, 1, 200},
		{"NickName", h.NickName, 0, 200}, {"DisplayName", h.DisplayName, 0, 200},
		{"PreferredLanguage", h.PreferredLanguage, 0, 10},
	} {
		if err := validLen("SetHumanProfile."+f.name, f.v, f.min, f.max); err != nil {
			return embedded(req+".Profile", err)
		}
	}
	if h.Gender < 0 || h.Gender > 3 {
		return embedded(req+".Profile", errs.InvalidArgument("", "invalid SetHumanProfile.Gender: value must be one of the defined enum values"))
	}
	if h.EmailMissing {
		return errs.InvalidArgument("", "invalid "+req+".Email: value is required")
	}
	h.Email = strings.TrimSpace(h.Email)
	if err := validLen("SetHumanEmail.Email", h.Email, 1, 200); err != nil {
		return embedded(req+".Email", err)
	}
	if a, err := mail.ParseAddress(h.Email); err != nil || a.Address != h.Email {
		return embedded(req+".Email", errs.InvalidArgument("", "invalid SetHumanEmail.Email: value must be a valid email address"))
	}
	for i, l := range h.IDPLinks {
		if err := l.validate("IDPLink"); err != nil {
			return embedded(req+".IdpLinks["+strconv.Itoa(i)+"]", err)
		}
	}
	if h.Username == "" {
		h.Username = h.Email
	}
	if h.DisplayName == "" {
		h.DisplayName = h.GivenName + " " + h.FamilyName
	}
	return nil
}

// AddMachine is management AddMachineUser, in the context org OrgID.
type AddMachine struct {
	OrgID string
	// UserID chooses the user's ID (AddMachineUserRequest.user_id); unset
	// or empty, one is generated.
	UserID      *string
	Username    string
	Name        string
	Description string
	// AccessTokenType is events.AccessTokenBearer (the default) or
	// AccessTokenJWT: the access tokens the OP mints for the machine.
	AccessTokenType int
}

// AddMachine creates a machine user in the context org (user.write there,
// management semantics).
//
// Errors: NotFound AUTHZ-cdgFk / PermissionDenied AUTH-5mWD2;
// InvalidArgument naming the field; FailedPrecondition COMMAND-QXPGs when
// the org does not exist; AlreadyExists COMMAND-UsrDup (user name taken in
// the org) or COMMAND-UsrID (chosen user ID taken).
func (c *Commands) AddMachine(ctx context.Context, m AddMachine) (*Details, error) {
	cl, err := authorizeIdentity(ctx, true, "user.write", m.OrgID)
	if err != nil {
		return nil, err
	}
	const req = "AddMachineUserRequest"
	if err := validLen(req+".UserName", m.Username, 1, 200); err != nil {
		return nil, err
	}
	if err := validLen(req+".Name", m.Name, 1, 200); err != nil {
		return nil, err
	}
	if err := validLen(req+".Description", m.Description, 0, 500); err != nil {
		return nil, err
	}
	if err := pgvAccessTokenType(req+".AccessTokenType", m.AccessTokenType); err != nil {
		return nil, err
	}
	var userID string
	if m.UserID != nil {
		if err := validLen(req+".UserId", *m.UserID, 0, 200); err != nil {
			return nil, err
		}
		userID = *m.UserID
	}
	chosen := userID != ""
	if !chosen {
		if userID, err = c.ids.Next(); err != nil {
			return nil, errs.Internal("COMMAND-Ids05", err)
		}
	}
	ref := eventstore.AggregateRef{InstanceID: cl.InstanceID, Type: events.AggUser, ID: userID}
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		org, err := c.loadMembers(ctx, cl.InstanceID, m.OrgID)
		if err != nil {
			return eventstore.Append{}, err
		}
		if !org.exists {
			return eventstore.Append{}, errs.FailedPrecondition("COMMAND-QXPGs", "Organisation not found")
		}
		if chosen {
			u, err := c.loadUser(ctx, cl.InstanceID, userID)
			if err != nil {
				return eventstore.Append{}, err
			}
			if u.head > 0 {
				return eventstore.Append{}, errs.AlreadyExists("COMMAND-UsrID", "User already exists")
			}
		}
		return eventstore.Append{
			Aggregates: []eventstore.AggregateAppend{{Aggregate: ref, ResourceOwner: m.OrgID,
				Events: []eventstore.PendingEvent{{Type: events.UserMachineAdded, Payload: events.MachineAddedPayload{
					Username: m.Username, Name: m.Name, Description: m.Description, AccessTokenType: m.AccessTokenType}}}}},
			Constraints: []eventstore.UniqueConstraint{usernameConstraint(cl.InstanceID, m.OrgID, m.Username, false)},
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return detailsFromEvents(evs, ref, time.Time{}), nil
}

// RemoveUser removes a user (v2 semantics: user.write on the user's org),
// releasing its user name and its IdP links' external accounts; its tokens
// and memberships go with it.
//
// Errors: NotFound COMMAND-uXHNj2 when the user does not exist in the
// instance; PermissionDenied AUTHZ-HKJD33, or AUTHZ-Cov01 when the user
// holds a role that the caller's roles do not cover; FailedPrecondition
// COMMAND-LastOw for the instance's last IAM owner.
func (c *Commands) RemoveUser(ctx context.Context, userID string) (*Details, error) {
	cl, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, evs, err := executeOn(ctx, c, c.loadUser, cl.InstanceID, userID, func(ctx context.Context, u *userModel) (eventstore.Append, error) {
		if !u.exists {
			return eventstore.Append{}, errs.NotFound("COMMAND-uXHNj2", "User could not be found")
		}
		if err := cl.Check("user.write", u.orgID); err != nil {
			return eventstore.Append{}, err
		}
		roles, err := c.checkPower(ctx, cl, userID)
		if err != nil {
			return eventstore.Append{}, err
		}
		if err := c.checkNotLastOwner(ctx, roles); err != nil {
			return eventstore.Append{}, err
		}
		// The user's IdP links go with it: their external accounts become
		// linkable to other users again.
		releases, err := c.IDPLinkReleases(ctx, cl.InstanceID, userID)
		if err != nil {
			return eventstore.Append{}, err
		}
		// Its memberships end in the same append, at the heads the checks
		// read: two owners removing each other cannot both succeed.
		return eventstore.Append{
			Aggregates: append([]eventstore.AggregateAppend{{Aggregate: u.ref, ResourceOwner: u.orgID, Expected: u.head,
				Events: []eventstore.PendingEvent{{Type: events.UserRemoved}}}}, roles.revokeAll()...),
			Constraints: append([]eventstore.UniqueConstraint{usernameConstraint(cl.InstanceID, u.orgID, u.username, true)}, releases...),
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return detailsFromEvents(evs, u.ref, u.created), nil
}
