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
			Updated:    []string{"login_policies"},
			EventTypes: []string{events.AggLoginPolicy + "."},
			Reduce:     reduceLoginPolicy,
		},
		userIDPLinks(),
	}
}

var (
	policyUpsert = Upsert("login_policies", []string{"instance_id", "id"},
		"instance_id", "id", "is_default", "settings", "sequence", "creation_date", "change_date")
	policyDelete = Delete("login_policies", "instance_id", "id")
	// policySettings replaces a policy's settings (login_policy.changed)
	policySettings = Update("login_policies", []string{"settings", "sequence", "change_date"}, "instance_id", "id")
	// touchPolicy moves a policy's sequence and change date to an event's,
	// so that read details follow the aggregate's last event
	policyTouch     = Update("login_policies", []string{"sequence", "change_date"}, "instance_id", "id")
	policyIDPUpsert = Upsert("login_policy_idps", []string{"instance_id", "policy_id", "idp_id"},
		"instance_id", "policy_id", "idp_id", "owner_type", "sequence", "creation_date")
	policyIDPDelete      = Delete("login_policy_idps", "instance_id", "policy_id", "idp_id")
	policyIDPDeleteOfPol = Delete("login_policy_idps", "instance_id", "policy_id")
)

func reduceLoginPolicy(e *eventstore.Event, t Tables) ([]Statement, error) {
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
			policyUpsert.Stmt(t, e.InstanceID, e.AggregateID, p.IsDefault, string(settings), int64(e.Sequence), e.CreatedAt, e.CreatedAt),
			policyIDPDeleteOfPol.Stmt(t, e.InstanceID, e.AggregateID),
		}, nil
	case events.LoginPolicyChanged:
		var p events.LoginPolicyChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{policySettings.Stmt(t, string(p.Settings), int64(e.Sequence), e.CreatedAt, e.InstanceID, e.AggregateID)}, nil
	case events.LoginPolicyRemoved:
		return []Statement{
			policyIDPDeleteOfPol.Stmt(t, e.InstanceID, e.AggregateID),
			policyDelete.Stmt(t, e.InstanceID, e.AggregateID),
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
			policyIDPUpsert.Stmt(t, e.InstanceID, e.AggregateID, p.IDPID, ownerType, int64(e.Sequence), e.CreatedAt),
			policyTouch.Stmt(t, int64(e.Sequence), e.CreatedAt, e.InstanceID, e.AggregateID),
		}, nil
	case events.LoginPolicyIDPRemoved, events.LoginPolicyIDPCascadeRemoved:
		var p events.LoginPolicyIDPPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{
			policyIDPDelete.Stmt(t, e.InstanceID, e.AggregateID, p.IDPID),
			policyTouch.Stmt(t, int64(e.Sequence), e.CreatedAt, e.InstanceID, e.AggregateID),
		}, nil
	}
	return nil, nil
}
