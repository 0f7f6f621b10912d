package projection

import (
	"fmt"
	"time"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// Identity returns the projections of instances, orgs, users, PATs and
// memberships. They are inline: authentication reads them on every request.
func Identity() []*Projection {
	return []*Projection{
		{
			Name:       "instances",
			Tables:     []string{"instances", "instance_domains", "instance_trusted_domains", "instance_oidc_settings"},
			Updated:    []string{"instances", "instance_oidc_settings"},
			EventTypes: []string{events.AggInstance + "."},
			Reduce:     reduceInstance,
		},
		{
			Name:       "orgs",
			Tables:     []string{"orgs"},
			Updated:    []string{"orgs"},
			EventTypes: []string{events.AggOrg + "."},
			Reduce:     reduceOrg,
		},
		{
			Name:    "users",
			Tables:  []string{"users"},
			Updated: []string{"users"},
			// Every user event: the row's sequence follows the aggregate's.
			EventTypes: []string{events.AggUser + "."},
			Reduce:     reduceUser,
		},
		{
			Name:       "pats",
			Tables:     []string{"pats"},
			EventTypes: []string{events.UserPATAdded, events.UserPATRemoved, events.UserRemoved},
			Reduce:     reducePAT,
		},
		{
			Name:   "members",
			Tables: []string{"members"},
			EventTypes: []string{events.InstanceMemberAdded, events.InstanceMemberRemoved,
				events.OrgMemberAdded, events.OrgMemberRemoved, events.OrgRemoved, events.UserRemoved},
			Reduce: reduceMember,
		},
	}
}

func reduceInstance(e *eventstore.Event, t Tables) ([]Statement, error) {
	switch e.Type {
	case events.InstanceAdded:
		var p events.InstanceAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{instanceInsert.Stmt(t, e.AggregateID, p.Name, int64(e.Sequence), e.CreatedAt, e.CreatedAt)}, nil
	case events.InstanceDomainAdded:
		var p events.DomainPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{
			domainInsert.Stmt(t, p.Domain, e.AggregateID),
			instanceTouch.Stmt(t, int64(e.Sequence), e.CreatedAt, e.AggregateID),
		}, nil
	case events.InstanceTrustedDomainAdded, events.InstanceTrustedDomainRemoved:
		var p events.DomainPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		s := trustedDomainDelete.Stmt(t, e.AggregateID, p.Domain)
		if e.Type == events.InstanceTrustedDomainAdded {
			s = trustedDomainInsert.Stmt(t, e.AggregateID, p.Domain, int64(e.Sequence), e.CreatedAt)
		}
		return []Statement{s, instanceTouch.Stmt(t, int64(e.Sequence), e.CreatedAt, e.AggregateID)}, nil
	case events.InstanceOIDCSettingsAdded, events.InstanceOIDCSettingsChanged:
		return reduceOIDCSettings(e, t)
	case events.InstanceIAMProjectSet:
		var p events.IAMProjectSetPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{instanceProject.Stmt(t, p.IAMProjectID, int64(e.Sequence), e.CreatedAt, e.AggregateID)}, nil
	}
	// Every other instance event (members, …) moves the instance's
	// sequence: details always name the aggregate's last event.
	return []Statement{instanceTouch.Stmt(t, int64(e.Sequence), e.CreatedAt, e.AggregateID)}, nil
}

var (
	instanceInsert = Insert("instances", "id", "name", "sequence", "creation_date", "change_date")
	domainInsert   = Insert("instance_domains", "domain", "instance_id")
	// trusted domains: arguments instance, domain[, sequence, creation date]
	trustedDomainInsert = Insert("instance_trusted_domains", "instance_id", "domain", "sequence", "creation_date")
	trustedDomainDelete = Delete("instance_trusted_domains", "instance_id", "domain")
	// touches move an object's sequence and change date to an event's:
	// arguments sequence, change date, then the key
	instanceTouch = Update("instances", []string{"sequence", "change_date"}, "id")
	// instanceProject: arguments project ID, sequence, change date, instance
	instanceProject = Update("instances", []string{"iam_project_id", "sequence", "change_date"}, "id")
	orgTouch        = Update("orgs", []string{"sequence", "change_date"}, "instance_id", "id")
	userTouch       = Update("users", []string{"sequence", "change_date"}, "instance_id", "id")

	orgInsert = Insert("orgs", "instance_id", "id", "name", "state", "sequence", "creation_date", "change_date")
	orgDelete = Delete("orgs", "instance_id", "id")

	userInsert = Insert("users", "instance_id", "id", "org_id", "type", "username", "state", "profile",
		"email", "email_verified", "sequence", "creation_date", "change_date")
	userDelete = Delete("users", "instance_id", "id")
	userState  = Update("users", []string{"state", "sequence", "change_date"}, "instance_id", "id")
	userEmail  = Update("users", []string{"email", "email_verified", "sequence", "change_date"}, "instance_id", "id")
	// userEmailVerified sets email_verified.
	userEmailVerified = Update("users", []string{"email_verified", "sequence", "change_date"}, "instance_id", "id")

	patInsert       = Insert("pats", "token_hash", "instance_id", "token_id", "user_id", "expiration")
	patDelete       = Delete("pats", "instance_id", "user_id", "token_id")
	patDeleteOfUser = Delete("pats", "instance_id", "user_id")

	memberUpsert       = Upsert("members", []string{"instance_id", "org_id", "user_id"}, "instance_id", "org_id", "user_id", "roles")
	memberDelete       = Delete("members", "instance_id", "org_id", "user_id")
	memberDeleteOfUser = Delete("members", "instance_id", "user_id")
	memberDeleteOfOrg  = Delete("members", "instance_id", "org_id")
)

func reduceOrg(e *eventstore.Event, t Tables) ([]Statement, error) {
	switch e.Type {
	case events.OrgAdded:
		var p events.OrgAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{orgInsert.Stmt(t, e.InstanceID, e.AggregateID, p.Name, int16(1), int64(e.Sequence), e.CreatedAt, e.CreatedAt)}, nil
	case events.OrgRemoved:
		return []Statement{orgDelete.Stmt(t, e.InstanceID, e.AggregateID)}, nil
	}
	// Every other org event (members, …) moves the org's sequence: details
	// always name the aggregate's last event.
	return []Statement{orgTouch.Stmt(t, int64(e.Sequence), e.CreatedAt, e.InstanceID, e.AggregateID)}, nil
}

// The users.state values: ZITADEL's UserState numbers.
const (
	userStateActive = 1
	userStateLocked = 4
)

// userProfile is the profile jsonb column.
type userProfile struct {
	GivenName         string `json:"givenName,omitempty"`
	FamilyName        string `json:"familyName,omitempty"`
	NickName          string `json:"nickName,omitempty"`
	DisplayName       string `json:"displayName,omitempty"`
	PreferredLanguage string `json:"preferredLanguage,omitempty"`
	Gender            int    `json:"gender,omitempty"`
	Phone             string `json:"phone,omitempty"`
	PhoneVerified     bool   `json:"phoneVerified,omitempty"`
	Name              string `json:"name,omitempty"`
	Description       string `json:"description,omitempty"`
	AccessTokenType   int    `json:"accessTokenType,omitempty"`
}

func reduceUser(e *eventstore.Event, t Tables) ([]Statement, error) {
	switch e.Type {
	case events.UserHumanAdded:
		var p events.HumanAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		prof := userProfile{GivenName: p.GivenName, FamilyName: p.FamilyName, NickName: p.NickName,
			DisplayName: p.DisplayName, PreferredLanguage: p.PreferredLanguage, Gender: p.Gender,
			Phone: p.Phone, PhoneVerified: p.PhoneVerified}
		return []Statement{userInsert.Stmt(t, e.InstanceID, e.AggregateID, e.ResourceOwner, "human", p.Username, int16(1),
			jsonText(prof), p.Email, p.EmailVerified, int64(e.Sequence), e.CreatedAt, e.CreatedAt)}, nil
	case events.UserMachineAdded:
		var p events.MachineAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		prof := userProfile{Name: p.Name, Description: p.Description, AccessTokenType: p.AccessTokenType}
		return []Statement{userInsert.Stmt(t, e.InstanceID, e.AggregateID, e.ResourceOwner, "machine", p.Username, int16(1),
			jsonText(prof), "", false, int64(e.Sequence), e.CreatedAt, e.CreatedAt)}, nil
	case events.UserRemoved:
		return []Statement{userDelete.Stmt(t, e.InstanceID, e.AggregateID)}, nil
	case events.UserHumanProfileChanged:
		var p events.HumanProfileChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		// The payload holds the changed fields only: merged into the
		// profile column, which also holds fields it never names (phone).
		changed := userProfile{GivenName: p.GivenName, FamilyName: p.FamilyName, NickName: p.NickName,
			DisplayName: p.DisplayName, PreferredLanguage: p.PreferredLanguage}
		return []Statement{{SQL: `UPDATE ` + ident(t.T("users")) + ` SET profile = profile || $1::jsonb, sequence = $2, change_date = $3
            WHERE instance_id = $4 AND id = $5`, Args: []any{jsonText(changed), int64(e.Sequence), e.CreatedAt, e.InstanceID, e.AggregateID}}}, nil
	case events.UserMachineChanged:
		var p events.MachineChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		// Merged into the profile column as the changed fields only; an
		// access token type back to bearer (0) is written as 0, not left
		// out.
		changed := map[string]any{}
		if p.Name != nil {
			changed["name"] = *p.Name
		}
		if p.Description != nil {
			changed["description"] = *p.Description
		}
		if p.AccessTokenType != nil {
			changed["accessTokenType"] = *p.AccessTokenType
		}
		return []Statement{{SQL: `UPDATE ` + ident(t.T("users")) + ` SET profile = profile || $1::jsonb, sequence = $2, change_date = $3
            WHERE instance_id = $4 AND id = $5`, Args: []any{jsonText(changed), int64(e.Sequence), e.CreatedAt, e.InstanceID, e.AggregateID}}}, nil
	case events.UserHumanEmailChanged:
		var p events.HumanEmailChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{userEmail.Stmt(t, p.Email, false, int64(e.Sequence), e.CreatedAt, e.InstanceID, e.AggregateID)}, nil
	case events.UserHumanEmailVerified:
		return []Statement{userEmailVerified.Stmt(t, true, int64(e.Sequence), e.CreatedAt, e.InstanceID, e.AggregateID)}, nil
	case events.UserLocked, events.UserUnlocked:
		state := int16(userStateLocked)
		if e.Type == events.UserUnlocked {
			state = userStateActive
		}
		return []Statement{userState.Stmt(t, state, int64(e.Sequence), e.CreatedAt, e.InstanceID, e.AggregateID)}, nil
	}
	// Every other user event (PATs, IdP links, …) moves the user's sequence
	// and change date, as ZITADEL's user details do.
	return []Statement{userTouch.Stmt(t, int64(e.Sequence), e.CreatedAt, e.InstanceID, e.AggregateID)}, nil
}

func reducePAT(e *eventstore.Event, t Tables) ([]Statement, error) {
	switch e.Type {
	case events.UserPATAdded:
		var p events.PATAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		var exp any
		if !p.Expiration.IsZero() {
			exp = p.Expiration
		}
		return []Statement{patInsert.Stmt(t, p.TokenHash, e.InstanceID, p.TokenID, e.AggregateID, exp)}, nil
	case events.UserPATRemoved:
		var p events.PATRemovedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{patDelete.Stmt(t, e.InstanceID, e.AggregateID, p.TokenID)}, nil
	case events.UserRemoved:
		return []Statement{patDeleteOfUser.Stmt(t, e.InstanceID, e.AggregateID)}, nil
	}
	return nil, nil
}

func reduceMember(e *eventstore.Event, t Tables) ([]Statement, error) {
	switch e.Type {
	case events.UserRemoved:
		return []Statement{memberDeleteOfUser.Stmt(t, e.InstanceID, e.AggregateID)}, nil
	case events.OrgRemoved:
		return []Statement{memberDeleteOfOrg.Stmt(t, e.InstanceID, e.AggregateID)}, nil
	}
	var p events.MemberPayload
	if err := e.Unmarshal(&p); err != nil {
		return nil, err
	}
	org := ""
	switch e.Type {
	case events.OrgMemberAdded, events.OrgMemberRemoved:
		org = e.AggregateID
	case events.InstanceMemberAdded, events.InstanceMemberRemoved:
	default:
		return nil, fmt.Errorf("members: unexpected event %s", e.Type)
	}
	switch e.Type {
	case events.OrgMemberAdded, events.InstanceMemberAdded:
		roles := p.Roles
		if roles == nil {
			roles = []string{}
		}
		return []Statement{memberUpsert.Stmt(t, e.InstanceID, org, p.UserID, roles)}, nil
	}
	return []Statement{memberDelete.Stmt(t, e.InstanceID, org, p.UserID)}, nil
}

var (
	oidcSettingsInsert = Insert("instance_oidc_settings", "instance_id", "access_token_lifetime", "id_token_lifetime",
		"refresh_token_idle_expiration", "refresh_token_expiration", "sequence", "creation_date", "change_date")
	// one shape per lifetime column: .changed carries only those that changed
	oidcSettingsColumn []*Shape
	oidcSettingsTouch  = Update("instance_oidc_settings", []string{"sequence", "change_date"}, "instance_id")
)

func init() {
	for _, c := range []string{"access_token_lifetime", "id_token_lifetime", "refresh_token_idle_expiration", "refresh_token_expiration"} {
		oidcSettingsColumn = append(oidcSettingsColumn, Update("instance_oidc_settings", []string{c}, "instance_id"))
	}
}

// reduceOIDCSettings keeps instance_oidc_settings: the row of .added, the
// lifetimes a .changed names.
func reduceOIDCSettings(e *eventstore.Event, t Tables) ([]Statement, error) {
	var p events.OIDCSettingsPayload
	if err := e.Unmarshal(&p); err != nil {
		return nil, err
	}
	seq, at, inst := int64(e.Sequence), e.CreatedAt, e.AggregateID
	touch := instanceTouch.Stmt(t, seq, at, inst)
	ns := func(d *time.Duration) int64 {
		if d == nil {
			return 0
		}
		return int64(*d)
	}
	if e.Type == events.InstanceOIDCSettingsAdded {
		return []Statement{oidcSettingsInsert.Stmt(t, inst, ns(p.AccessTokenLifetime), ns(p.IDTokenLifetime),
			ns(p.RefreshTokenIdleExpiration), ns(p.RefreshTokenExpiration), seq, at, at), touch}, nil
	}
	var out []Statement
	for i, d := range []*time.Duration{p.AccessTokenLifetime, p.IDTokenLifetime, p.RefreshTokenIdleExpiration, p.RefreshTokenExpiration} {
		if d != nil {
			out = append(out, oidcSettingsColumn[i].Stmt(t, int64(*d), inst))
		}
	}
	return append(out, oidcSettingsTouch.Stmt(t, seq, at, inst), touch), nil
}
