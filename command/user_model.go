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
	aggregate
	exists   bool
	orgID    string
	kind     string // "human" | "machine"
	username string
	pats     map[string]bool // active token IDs

	// A machine's credentials: the hash of its client secret, its keys.
	machineSecretHash string
	machineKeys       map[string]machineKey
	// A machine's name, description and access token type
	// (events.AccessTokenBearer or AccessTokenJWT).
	machineName, machineDescription string
	accessTokenType                 int

	// A human's profile and email (the IdP login's auto-update and
	// auto-linking decide on them).
	profile       events.HumanProfileChangedPayload
	email         string
	emailVerified bool

	// Password and lockout (humans): the stored hash, never returned; the
	// failed checks since the last success, password change or unlock.
	passwordHash         string
	changeRequired       bool
	failedPasswordChecks uint64
	locked               bool
}

// userModelTypes are the event types the user model reduces; link events
// and the like are skipped at load time, the head still counts them.
var userModelTypes = []string{events.UserHumanAdded, events.UserMachineAdded, events.UserRemoved,
	events.UserPATAdded, events.UserPATRemoved, events.UserPasswordChanged, events.UserPasswordCheckSucceeded,
	events.UserPasswordCheckFailed, events.UserLocked, events.UserUnlocked,
	events.UserHumanProfileChanged, events.UserHumanEmailChanged, events.UserHumanEmailVerified,
	events.UserMachineSecretSet, events.UserMachineSecretRemoved, events.UserMachineKeyAdded, events.UserMachineKeyRemoved,
	events.UserMachineChanged}

func (c *Commands) loadUser(ctx context.Context, instanceID, userID string) (*userModel, error) {
	m := &userModel{
		aggregate:   aggregate{ref: eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggUser, ID: userID}},
		pats:        map[string]bool{},
		machineKeys: map[string]machineKey{},
	}
	if err := c.load(ctx, m, userModelTypes, loadErrs{}); err != nil {
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
		m.profile = events.HumanProfileChangedPayload{GivenName: p.GivenName, FamilyName: p.FamilyName,
			NickName: p.NickName, DisplayName: p.DisplayName, PreferredLanguage: p.PreferredLanguage}
		m.email, m.emailVerified = p.Email, p.EmailVerified
	case events.UserHumanProfileChanged:
		var p events.HumanProfileChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		for _, f := range []struct {
			dst *string
			v   string
		}{{&m.profile.GivenName, p.GivenName},
			{&m.profile.FamilyName, p.FamilyName}, {&m.profile.NickName, p.NickName},
			{&m.profile.DisplayName, p.DisplayName}, {&m.profile.PreferredLanguage, p.PreferredLanguage}} {
			if f.v != "" {
				*f.dst = f.v
			}
		}
	case events.UserHumanEmailChanged:
		var p events.HumanEmailChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.email, m.emailVerified = p.Email, false
	case events.UserHumanEmailVerified:
		m.emailVerified = true
	case events.UserMachineAdded:
		var p events.MachineAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.exists, m.kind, m.username, m.orgID = true, "machine", p.Username, e.ResourceOwner
		m.machineName, m.machineDescription, m.accessTokenType = p.Name, p.Description, p.AccessTokenType
	case events.UserMachineChanged:
		var p events.MachineChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		if p.Name != nil {
			m.machineName = *p.Name
		}
		if p.Description != nil {
			m.machineDescription = *p.Description
		}
		if p.AccessTokenType != nil {
			m.accessTokenType = *p.AccessTokenType
		}
	case events.UserRemoved:
		m.exists = false
		m.pats = map[string]bool{}
		m.machineSecretHash, m.machineKeys = "", map[string]machineKey{}
		m.passwordHash, m.failedPasswordChecks, m.locked = "", 0, false
	case events.UserPasswordChanged:
		var p events.PasswordChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.passwordHash, m.changeRequired, m.failedPasswordChecks = p.EncodedHash, p.ChangeRequired, 0
	case events.UserPasswordCheckSucceeded:
		m.failedPasswordChecks = 0
	case events.UserPasswordCheckFailed:
		m.failedPasswordChecks++
	case events.UserLocked:
		m.locked = true
	case events.UserUnlocked:
		m.locked, m.failedPasswordChecks = false, 0
	case events.UserPATAdded:
		var p events.PATAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.pats[p.TokenID] = true
	case events.UserMachineSecretSet:
		var p events.MachineSecretSetPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.machineSecretHash = p.HashedSecret
	case events.UserMachineSecretRemoved:
		m.machineSecretHash = ""
	case events.UserMachineKeyAdded:
		var p events.MachineKeyAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.machineKeys[p.KeyID] = machineKey{keyType: p.Type, expiration: p.Expiration, publicKey: p.PublicKey,
			created: e.CreatedAt, sequence: e.Sequence}
	case events.UserMachineKeyRemoved:
		var p events.MachineKeyRemovedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		delete(m.machineKeys, p.KeyID)
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
	aggregate
	exists  bool
	name    string
	members map[string][]string
}

func (c *Commands) loadMembers(ctx context.Context, instanceID, orgID string) (*membersModel, error) {
	m := &membersModel{members: map[string][]string{}}
	var types []string
	if orgID == "" {
		m.ref = instanceRef(instanceID)
		types = []string{events.InstanceAdded, "instance.member."}
	} else {
		m.ref = eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggOrg, ID: orgID}
		types = []string{events.OrgAdded, events.OrgRemoved, "org.member."}
	}
	if err := c.load(ctx, m, types, loadErrs{}); err != nil {
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

// detailsFromEvents returns the details of aggregate ref after an append:
// sequence, change date and owner from its last appended event, the
// creation date from created (the aggregate's first event) or, for a new
// aggregate, from its first appended event.
func detailsFromEvents(evs []eventstore.Event, ref eventstore.AggregateRef, created time.Time) *Details {
	d := &Details{ID: ref.ID, Created: created}
	for i := range evs {
		e := &evs[i]
		if e.InstanceID != ref.InstanceID || e.AggregateType != ref.Type || e.AggregateID != ref.ID {
			continue
		}
		if d.Created.IsZero() && e.Sequence == 1 {
			d.Created = e.CreatedAt
		}
		d.Sequence, d.Changed, d.ResourceOwner = e.Sequence, e.CreatedAt, e.ResourceOwner
	}
	return d
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
