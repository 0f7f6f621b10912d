package audit

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/internal/pbjson"
)

// folder rebuilds one aggregate's state from its events.
type folder interface {
	apply(e *eventstore.Event) error
	state() any
}

func newFolder(ref eventstore.AggregateRef) folder {
	if ref.Type == events.AggIDP {
		return &idpFolder{id: ref.ID}
	}
	return &genericFolder{ref: ref, fields: map[string]any{}}
}

// idpFolder rebuilds an IdP as GET /v2/idps/{id} renders it: the same
// fields, the same encodings (string sequence, protojson timestamps, enum
// names) and the kind's public View of the config, which never holds a
// secret.
type idpFolder struct {
	id                string
	kind              idp.Kind
	name              string
	options, config   json.RawMessage
	removed           bool
	resourceOwner     string
	seq               uint64
	created, changed  eventstore.Event
	haveKind, started bool
}

// idpState is GetIDPByIDResponse.idp.
type idpState struct {
	ID      string           `json:"id"`
	Details pbjson.DetailsV2 `json:"details"`
	State   string           `json:"state"`
	Name    string           `json:"name"`
	Type    string           `json:"type"`
	Config  json.RawMessage  `json:"config"`
}

func (f *idpFolder) apply(e *eventstore.Event) error {
	if !f.started {
		f.created, f.started = *e, true
	}
	f.changed, f.seq, f.resourceOwner = *e, e.Sequence, e.ResourceOwner
	switch e.Type {
	case events.IDPAdded:
		var p events.IDPAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		k, ok := idp.ByPath(p.Kind)
		if !ok {
			return fmt.Errorf("idp.added at position %d: unknown kind %q", e.Position, p.Kind)
		}
		f.kind, f.haveKind, f.removed = k, true, false
		f.name, f.options, f.config = p.Name, p.Options, p.Config
	case events.IDPChanged, events.IDPSecretsResealed:
		var p events.IDPChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		f.name, f.options, f.config = p.Name, p.Options, p.Config
	case events.IDPRemoved:
		f.removed = true
	}
	return nil
}

func (f *idpFolder) state() any {
	s := idpState{
		ID: f.id,
		Details: pbjson.V2(pbjson.ObjectDetails{
			Sequence: f.seq, Created: f.created.CreatedAt, Changed: f.changed.CreatedAt, ResourceOwner: f.resourceOwner,
		}),
		State:  "IDP_STATE_ACTIVE",
		Name:   f.name,
		Type:   idp.IDPTypeName(f.kind.Type),
		Config: json.RawMessage(`{"options":{}}`),
	}
	if f.removed {
		s.State = "IDP_STATE_REMOVED"
	}
	if f.haveKind {
		s.Config = idpConfig(f.kind, f.options, f.config)
	}
	return s
}

// idpConfig renders {"options": …, "<configKey>": view}. A config that no
// longer decodes is shown as an empty view rather than failing the replay.
func idpConfig(kind idp.Kind, options, config json.RawMessage) json.RawMessage {
	var o idp.Options
	if len(options) > 0 {
		_ = json.Unmarshal(options, &o)
	}
	cfg := kind.New()
	if len(config) > 0 {
		_ = json.Unmarshal(config, cfg)
	}
	ob, _ := json.Marshal(o)
	vb, err := json.Marshal(v2View(idp.View(cfg)))
	if err != nil {
		vb = []byte("{}")
	}
	key, _ := json.Marshal(kind.ConfigKey)
	return json.RawMessage(`{"options":` + string(ob) + `,` + string(key) + `:` + string(vb) + `}`)
}

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

// v2View drops what only the v1 responses carry: the v2 config messages
// have no usePkce, so GET /v2/idps/{id} never shows it.
func v2View(view any) any {
	v := reflect.ValueOf(view)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return view
	}
	cp := reflect.New(v.Type())
	cp.Elem().Set(v)
	if f := cp.Elem().FieldByName("UsePKCE"); f.IsValid() && f.Kind() == reflect.Bool {
		f.SetBool(false)
	}
	return cp.Interface()
}
