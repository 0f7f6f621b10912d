package command

import (
	"context"
	"encoding/json"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// loginPolicyModel is the write model of one login_policy aggregate: the
// instance default (ID = instance ID) or an org's custom policy (ID = org ID).
// Its created is the first event of the current incarnation (the last
// login_policy.added), not of the aggregate.
type loginPolicyModel struct {
	aggregate
	exists    bool // added and not removed (reset to the default)
	isDefault bool
	idps      map[string]string // active links: IdP ID → owner type
	// settings are the policy's current settings (added, then changed).
	settings events.LoginPolicySettings
}

func policyRef(instanceID, policyID string) eventstore.AggregateRef {
	return eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggLoginPolicy, ID: policyID}
}

func (c *Commands) loadLoginPolicy(ctx context.Context, instanceID, policyID string) (*loginPolicyModel, error) {
	m := &loginPolicyModel{
		aggregate: aggregate{ref: policyRef(instanceID, policyID)},
		idps:      map[string]string{},
	}
	if err := c.load(ctx, m, nil, loadErrs{read: "COMMAND-LpL01", reduce: "COMMAND-LpL02"}); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *loginPolicyModel) reduce(e *eventstore.Event) error {
	switch e.Type {
	case events.LoginPolicyAdded:
		var p events.LoginPolicyAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.exists, m.isDefault, m.created = true, p.IsDefault, e.CreatedAt
		clear(m.idps)
		m.settings = events.LoginPolicySettings{}
		if len(p.Settings) > 0 {
			if err := json.Unmarshal(p.Settings, &m.settings); err != nil {
				return err
			}
		}
	case events.LoginPolicyChanged:
		var p events.LoginPolicyChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.settings = events.LoginPolicySettings{}
		if err := json.Unmarshal(p.Settings, &m.settings); err != nil {
			return err
		}
	case events.LoginPolicyRemoved:
		m.exists = false
		clear(m.idps)
	case events.LoginPolicyIDPAdded:
		var p events.LoginPolicyIDPPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.idps[p.IDPID] = p.OwnerType
	case events.LoginPolicyIDPRemoved, events.LoginPolicyIDPCascadeRemoved:
		var p events.LoginPolicyIDPPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		delete(m.idps, p.IDPID)
	}
	return nil
}

// policyIDPType is claimed for every IdP a login policy lists, as
// "<idp ID>:<policy ID>"; an IdP's removal checks that none is left, like
// its links (see RemoveIDP).
const policyIDPType = "login_policy.idp"

// The answers to an IdP a policy lists already, from the write model or,
// should it be stale, from the claim. Errors are never mutated (WithCause
// copies), so one value serves every request.
var (
	defaultPolicyIDPExists = errs.AlreadyExists("INSTANCE-2B0ps", "Errors.IAM.LoginPolicy.IDP.AlreadyExists")
	orgPolicyIDPExists     = errs.AlreadyExists("Org-2B0ps", "Errors.Org.LoginPolicy.IDP.AlreadyExists")
)

// policyIDPClaim claims idpID's place in policy policyID; a duplicate
// answers dup.
func policyIDPClaim(instanceID, idpID, policyID string, dup *errs.Error) eventstore.UniqueConstraint {
	return eventstore.UniqueConstraint{InstanceID: instanceID, Type: policyIDPType, Value: idpID + ":" + policyID,
		ErrorID: dup.ID, Message: dup.Message}
}

func policyIDPRelease(instanceID, idpID, policyID string) eventstore.UniqueConstraint {
	return eventstore.UniqueConstraint{InstanceID: instanceID, Type: policyIDPType, Value: idpID + ":" + policyID, Remove: true}
}
