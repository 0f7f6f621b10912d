package projection

import (
	"encoding/json"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// Policies returns the projections of login policies and of users' IdP
// links. Both are inline: the policy and link endpoints read them right
// after writing.
func Policies() []*Projection {
	return []*Projection{
		{
			Name:       "login_policies",
			Tables:     []string{"login_policies", "login_policy_idps"},
			EventTypes: []string{events.AggLoginPolicy + "."},
			Reduce:     reduceLoginPolicy,
		},
		userIDPLinks(),
	}
}

func reduceLoginPolicy(e *eventstore.Event, t Tables) ([]Statement, error) {
	policies, idps := t.T("login_policies"), t.T("login_policy_idps")
	switch e.Type {
	case events.LoginPolicyAdded:
		var p events.LoginPolicyAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		settings := json.RawMessage(`{}`)
		if len(p.Settings) > 0 && string(p.Settings) != "null" {
			settings = p.Settings
		}
		// A custom policy added again after a reset starts from scratch:
		// the reset deleted its rows, and its links are re-added by events.
		return []Statement{
			{
				SQL: `INSERT INTO ` + policies + ` (instance_id, id, is_default, settings, sequence, creation_date, change_date)
                      VALUES ($1, $2, $3, $4, $5, $6, $6)
                      ON CONFLICT (instance_id, id) DO UPDATE SET is_default = EXCLUDED.is_default,
                          settings = EXCLUDED.settings, sequence = EXCLUDED.sequence,
                          creation_date = EXCLUDED.creation_date, change_date = EXCLUDED.change_date`,
				Args: []any{e.InstanceID, e.AggregateID, p.IsDefault, settings, int64(e.Sequence), e.CreatedAt},
			},
			{
				SQL:  `DELETE FROM ` + idps + ` WHERE instance_id = $1 AND policy_id = $2`,
				Args: []any{e.InstanceID, e.AggregateID},
			},
		}, nil
	case events.LoginPolicyRemoved:
		return []Statement{
			{
				SQL:  `DELETE FROM ` + idps + ` WHERE instance_id = $1 AND policy_id = $2`,
				Args: []any{e.InstanceID, e.AggregateID},
			},
			{
				SQL:  `DELETE FROM ` + policies + ` WHERE instance_id = $1 AND id = $2`,
				Args: []any{e.InstanceID, e.AggregateID},
			},
		}, nil
	case events.LoginPolicyIDPAdded:
		var p events.LoginPolicyIDPPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		ownerType := p.OwnerType
		if ownerType == "" {
			ownerType = events.OwnerSystem
		}
		return []Statement{
			{
				SQL: `INSERT INTO ` + idps + ` (instance_id, policy_id, idp_id, owner_type, sequence, creation_date)
                      VALUES ($1, $2, $3, $4, $5, $6)
                      ON CONFLICT (instance_id, policy_id, idp_id) DO UPDATE SET owner_type = EXCLUDED.owner_type,
                          sequence = EXCLUDED.sequence, creation_date = EXCLUDED.creation_date`,
				Args: []any{e.InstanceID, e.AggregateID, p.IDPID, ownerType, int64(e.Sequence), e.CreatedAt},
			},
			touchPolicy(policies, e),
		}, nil
	case events.LoginPolicyIDPRemoved, events.LoginPolicyIDPCascadeRemoved:
		var p events.LoginPolicyIDPPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{
			{
				SQL:  `DELETE FROM ` + idps + ` WHERE instance_id = $1 AND policy_id = $2 AND idp_id = $3`,
				Args: []any{e.InstanceID, e.AggregateID, p.IDPID},
			},
			touchPolicy(policies, e),
		}, nil
	}
	return nil, nil
}

// touchPolicy moves a policy's sequence and change date to e's, so that read
// details follow the aggregate's last event.
func touchPolicy(table string, e *eventstore.Event) Statement {
	return Statement{
		SQL:  `UPDATE ` + table + ` SET sequence = $3, change_date = $4 WHERE instance_id = $1 AND id = $2`,
		Args: []any{e.InstanceID, e.AggregateID, int64(e.Sequence), e.CreatedAt},
	}
}
