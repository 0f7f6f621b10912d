package command

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync"

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

// loadLoginPolicy loads the policy's write model: the cached model of the
// events up to its head (policyModels) and the events after it, so its cost
// does not grow with the policy's history (every IdP added and removed).
func (c *Commands) loadLoginPolicy(ctx context.Context, instanceID, policyID string) (*loginPolicyModel, error) {
	ref := policyRef(instanceID, policyID)
	m := c.policies.get(ref)
	evs, err := c.eventsSince(ctx, ref, m.head)
	if err != nil {
		return nil, errs.Internal("COMMAND-LpL01", fmt.Errorf("load %s: %w", ref, err))
	}
	if len(evs) == 0 {
		return m, nil
	}
	if evs[0].Sequence != m.head+1 {
		// never: the store returns an aggregate's events gap-free
		return nil, errs.Internal("COMMAND-LpL03", fmt.Errorf("load %s: sequence %d after %d", ref, evs[0].Sequence, m.head))
	}
	if err := fold(m, evs, lastSequence(evs), loadErrs{read: "COMMAND-LpL01", reduce: "COMMAND-LpL02"}); err != nil {
		return nil, err
	}
	c.policies.put(m)
	return m, nil
}

// policyRead is the prefetch of the policy's events after its cached head.
func (c *Commands) policyRead(instanceID, policyID string) read {
	ref := policyRef(instanceID, policyID)
	return eventsAfter(ref, c.policies.head(ref))
}

// policyModels holds the login policies' write models as of their heads.
// A model folded from an aggregate's events 1..head stays right: committed
// events never change, and the store returns the events after head gap-free
// (an event's insert needs the one before it). Each load still reads the
// events after the cached head, so a decision sees every commit, on every
// replica. A model handed out is a copy; the cache keeps at most
// policyModelsMax models and starts over when it is full.
type policyModels struct {
	mu sync.Mutex
	m  map[eventstore.AggregateRef]*loginPolicyModel
}

const policyModelsMax = 4096

func (p *policyModels) head(ref eventstore.AggregateRef) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.m[ref]; m != nil {
		return m.head
	}
	return 0
}

// get returns a copy of ref's cached model, or a new one at head 0.
func (p *policyModels) get(ref eventstore.AggregateRef) *loginPolicyModel {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.m[ref]; m != nil {
		return m.clone()
	}
	return &loginPolicyModel{aggregate: aggregate{ref: ref}, idps: map[string]string{}}
}

// put keeps a copy of m unless a model at a later head is cached already.
func (p *policyModels) put(m *loginPolicyModel) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old := p.m[m.ref]; old != nil && old.head >= m.head {
		return
	}
	if p.m == nil || len(p.m) >= policyModelsMax {
		p.m = map[eventstore.AggregateRef]*loginPolicyModel{}
	}
	p.m[m.ref] = m.clone()
}

// clone copies m; reduce replaces settings (and its slices) whole, never
// in place, so only the map needs a copy.
func (m *loginPolicyModel) clone() *loginPolicyModel {
	c := *m
	c.idps = maps.Clone(m.idps)
	return &c
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
