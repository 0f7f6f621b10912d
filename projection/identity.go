package projection

import (
	"fmt"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// Identity returns the projections of instances, orgs, users, PATs and
// memberships. They are inline: authentication reads them on every request.
func Identity() []*Projection {
	return []*Projection{
		{
			Name:       "instances",
			Tables:     []string{"instances", "instance_domains"},
			EventTypes: []string{events.AggInstance + "."},
			Reduce:     reduceInstance,
		},
		{
			Name:       "orgs",
			Tables:     []string{"orgs"},
			EventTypes: []string{events.AggOrg + "."},
			Reduce:     reduceOrg,
		},
		{
			Name:   "users",
			Tables: []string{"users"},
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
		return []Statement{{
			SQL: `INSERT INTO ` + t.T("instances") + ` (id, name, sequence, creation_date, change_date)
                  VALUES ($1, $2, $3, $4, $4)`,
			Args: []any{e.AggregateID, p.Name, int64(e.Sequence), e.CreatedAt},
		}}, nil
	case events.InstanceDomainAdded:
		var p events.DomainPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{
			{
				SQL:  `INSERT INTO ` + t.T("instance_domains") + ` (domain, instance_id) VALUES ($1, $2)`,
				Args: []any{p.Domain, e.AggregateID},
			},
			touch(t.T("instances"), "id = $3", e, e.AggregateID),
		}, nil
	}
	// Every other instance event (members, …) moves the instance's
	// sequence: details always name the aggregate's last event.
	return []Statement{touch(t.T("instances"), "id = $3", e, e.AggregateID)}, nil
}

// touch moves an object's sequence and change date to e's. The WHERE clause
// uses $3 onwards for the key.
func touch(table, where string, e *eventstore.Event, key ...any) Statement {
	return Statement{
		SQL:  `UPDATE ` + table + ` SET sequence = $1, change_date = $2 WHERE ` + where,
		Args: append([]any{int64(e.Sequence), e.CreatedAt}, key...),
	}
}

func reduceOrg(e *eventstore.Event, t Tables) ([]Statement, error) {
	switch e.Type {
	case events.OrgAdded:
		var p events.OrgAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{{
			SQL: `INSERT INTO ` + t.T("orgs") + ` (instance_id, id, name, state, sequence, creation_date, change_date)
                  VALUES ($1, $2, $3, 1, $4, $5, $5)`,
			Args: []any{e.InstanceID, e.AggregateID, p.Name, int64(e.Sequence), e.CreatedAt},
		}}, nil
	case events.OrgRemoved:
		return []Statement{{
			SQL:  `DELETE FROM ` + t.T("orgs") + ` WHERE instance_id = $1 AND id = $2`,
			Args: []any{e.InstanceID, e.AggregateID},
		}}, nil
	}
	// Every other org event (members, …) moves the org's sequence: details
	// always name the aggregate's last event.
	return []Statement{touch(t.T("orgs"), "instance_id = $3 AND id = $4", e, e.InstanceID, e.AggregateID)}, nil
}

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
}

const insertUser = ` (instance_id, id, org_id, type, username, state, profile, email, email_verified,
    sequence, creation_date, change_date) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $10)`

func reduceUser(e *eventstore.Event, t Tables) ([]Statement, error) {
	users := t.T("users")
	switch e.Type {
	case events.UserHumanAdded:
		var p events.HumanAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		prof := userProfile{GivenName: p.GivenName, FamilyName: p.FamilyName, NickName: p.NickName,
			DisplayName: p.DisplayName, PreferredLanguage: p.PreferredLanguage, Gender: p.Gender,
			Phone: p.Phone, PhoneVerified: p.PhoneVerified}
		return []Statement{{SQL: `INSERT INTO ` + users + insertUser, Args: []any{
			e.InstanceID, e.AggregateID, e.ResourceOwner, "human", p.Username, prof,
			p.Email, p.EmailVerified, int64(e.Sequence), e.CreatedAt}}}, nil
	case events.UserMachineAdded:
		var p events.MachineAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		prof := userProfile{Name: p.Name, Description: p.Description}
		return []Statement{{SQL: `INSERT INTO ` + users + insertUser, Args: []any{
			e.InstanceID, e.AggregateID, e.ResourceOwner, "machine", p.Username, prof,
			"", false, int64(e.Sequence), e.CreatedAt}}}, nil
	case events.UserRemoved:
		return []Statement{{
			SQL:  `DELETE FROM ` + users + ` WHERE instance_id = $1 AND id = $2`,
			Args: []any{e.InstanceID, e.AggregateID},
		}}, nil
	}
	// Every other user event (PATs, IdP links, …) moves the user's sequence
	// and change date, as ZITADEL's user details do.
	return []Statement{touch(users, "instance_id = $3 AND id = $4", e, e.InstanceID, e.AggregateID)}, nil
}

func reducePAT(e *eventstore.Event, t Tables) ([]Statement, error) {
	pats := t.T("pats")
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
		return []Statement{{
			SQL:  `INSERT INTO ` + pats + ` (token_hash, instance_id, token_id, user_id, expiration) VALUES ($1, $2, $3, $4, $5)`,
			Args: []any{p.TokenHash, e.InstanceID, p.TokenID, e.AggregateID, exp},
		}}, nil
	case events.UserPATRemoved:
		var p events.PATRemovedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{{
			SQL:  `DELETE FROM ` + pats + ` WHERE instance_id = $1 AND user_id = $2 AND token_id = $3`,
			Args: []any{e.InstanceID, e.AggregateID, p.TokenID},
		}}, nil
	case events.UserRemoved:
		return []Statement{{
			SQL:  `DELETE FROM ` + pats + ` WHERE instance_id = $1 AND user_id = $2`,
			Args: []any{e.InstanceID, e.AggregateID},
		}}, nil
	}
	return nil, nil
}

func reduceMember(e *eventstore.Event, t Tables) ([]Statement, error) {
	members := t.T("members")
	switch e.Type {
	case events.UserRemoved:
		return []Statement{{
			SQL:  `DELETE FROM ` + members + ` WHERE instance_id = $1 AND user_id = $2`,
			Args: []any{e.InstanceID, e.AggregateID},
		}}, nil
	case events.OrgRemoved:
		return []Statement{{
			SQL:  `DELETE FROM ` + members + ` WHERE instance_id = $1 AND org_id = $2`,
			Args: []any{e.InstanceID, e.AggregateID},
		}}, nil
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
		return []Statement{{
			SQL: `INSERT INTO ` + members + ` (instance_id, org_id, user_id, roles) VALUES ($1, $2, $3, $4)
                  ON CONFLICT (instance_id, org_id, user_id) DO UPDATE SET roles = EXCLUDED.roles`,
			Args: []any{e.InstanceID, org, p.UserID, roles},
		}}, nil
	}
	return []Statement{{
		SQL:  `DELETE FROM ` + members + ` WHERE instance_id = $1 AND org_id = $2 AND user_id = $3`,
		Args: []any{e.InstanceID, org, p.UserID},
	}}, nil
}
