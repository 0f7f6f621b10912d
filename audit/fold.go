package audit

import (
	"fmt"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/idpstate"
)

// folder rebuilds one aggregate's state from its events.
type folder interface {
	apply(e *eventstore.Event) error
	state() any
}

func newFolder(ref eventstore.AggregateRef) folder {
	if ref.Type == events.AggIDP {
		return &idpFolder{}
	}
	return &genericFolder{ref: ref, fields: map[string]any{}}
}

// idpFolder rebuilds an IdP as GET /v2/idps/{id} renders it: the one fold
// of an IdP (idpstate.State) rendered by the one v2 renderer, with the
// kind's public View of the config, which never holds a secret.
type idpFolder struct{ s idpstate.State }

func (f *idpFolder) apply(e *eventstore.Event) error {
	if err := f.s.Apply(e); err != nil {
		return err
	}
	if e.Type == events.IDPAdded && f.s.Kind.New == nil {
		return fmt.Errorf("idp.added at position %d: unknown kind %q", e.Position, f.s.KindPath)
	}
	return nil
}

func (f *idpFolder) state() any { return f.s.V2() }

// genericFolder rebuilds instances, orgs, users and login policies: the
// fields of the creating event, the collections that later events add to and
// remove from (domains, members, tokens, IdP links, policy IdPs), and the
// usual details. Payloads are redacted before they are folded in.
type genericFolder struct {
	ref              eventstore.AggregateRef
	fields           map[string]any
	resourceOwner    string
	seq              uint64
	created, changed string
	removed          bool
}

func (f *genericFolder) apply(e *eventstore.Event) error {
	if f.created == "" {
		f.created = FormatTime(e.CreatedAt)
	}
	f.changed, f.seq, f.resourceOwner = FormatTime(e.CreatedAt), e.Sequence, e.ResourceOwner
	v, err := decodeJSON(RedactPayload(e.Payload))
	if err != nil {
		return fmt.Errorf("decode %s payload (position %d): %w", e.Type, e.Position, err)
	}
	p, _ := v.(map[string]any)
	if p == nil {
		p = map[string]any{}
	}
	str := func(k string) string { s, _ := p[k].(string); return s }
	switch e.Type {
	case events.InstanceAdded, events.OrgAdded, events.LoginPolicyAdded:
		f.merge(p)
		f.removed = false
	case events.UserHumanAdded:
		f.merge(p)
		f.fields["userType"], f.removed = "human", false
	case events.UserMachineAdded:
		f.merge(p)
		f.fields["userType"], f.removed = "machine", false
	case events.OrgRemoved, events.UserRemoved, events.LoginPolicyRemoved:
		f.removed = true
	case events.InstanceDomainAdded:
		list, _ := f.fields["domains"].([]any)
		f.fields["domains"] = append(list, str("domain"))
	case events.InstanceMemberAdded, events.OrgMemberAdded:
		f.collection("members")[str("userId")] = map[string]any{"roles": p["roles"]}
	case events.InstanceMemberRemoved, events.OrgMemberRemoved:
		delete(f.collection("members"), str("userId"))
	case events.UserPATAdded:
		// The token hash stays in the log; the state shows which tokens exist.
		tok := map[string]any{}
		if exp, ok := p["expiration"]; ok {
			tok["expiration"] = exp
		}
		f.collection("personalAccessTokens")[str("tokenId")] = tok
	case events.UserPATRemoved:
		delete(f.collection("personalAccessTokens"), str("tokenId"))
	case events.UserIDPLinkAdded:
		f.collection("idpLinks")[str("idpId")+"/"+str("userId")] = p
	case events.UserIDPLinkRemoved, events.UserIDPLinkCascadeRemoved:
		delete(f.collection("idpLinks"), str("idpId")+"/"+str("userId"))
	case events.UserHumanEmailChanged:
		f.merge(p)
		f.fields["emailVerified"] = false
	case events.UserHumanEmailVerified:
		f.fields["emailVerified"] = true
	case events.LoginPolicyIDPAdded:
		f.collection("idps")[str("idpId")] = map[string]any{"ownerType": p["ownerType"]}
	case events.LoginPolicyIDPRemoved, events.LoginPolicyIDPCascadeRemoved:
		delete(f.collection("idps"), str("idpId"))
	default:
		// An event type this fold does not know yet: its fields are taken
		// as the new values, which is right for "changed" events.
		f.merge(p)
	}
	return nil
}

func (f *genericFolder) merge(p map[string]any) {
	for k, v := range p {
		f.fields[k] = v
	}
}

func (f *genericFolder) collection(name string) map[string]any {
	m, ok := f.fields[name].(map[string]any)
	if !ok {
		m = map[string]any{}
		f.fields[name] = m
	}
	return m
}

func (f *genericFolder) state() any {
	out := make(map[string]any, len(f.fields)+8)
	for k, v := range f.fields {
		out[k] = v
	}
	state := "active"
	if f.removed {
		state = "removed"
	}
	out["id"], out["type"], out["instanceId"], out["state"] = f.ref.ID, f.ref.Type, f.ref.InstanceID, state
	out["details"] = map[string]any{
		"sequence": fmt.Sprint(f.seq), "creationDate": f.created, "changeDate": f.changed, "resourceOwner": f.resourceOwner,
	}
	return out
}
