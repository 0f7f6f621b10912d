package command

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/secretbox"
)

// IDPOwnerRef says whom an IdP command acts for: the caller's instance
// (Type events.OwnerSystem, the admin API) or one org of it (Type
// events.OwnerOrg with OrgID, the management API's context org).
type IDPOwnerRef struct {
	Type  string
	OrgID string
}

// idpScope is an IdP owner resolved against the caller.
type idpScope struct {
	instanceID    string
	ownerType     string
	resourceOwner string
	prefix        string // error ID prefix: INST or ORG
	writePerm     string
	permOrg       string // org argument of the v1 permission check
}

// idpTemplateNotExisting is the message of every "no such IdP" error.
const idpTemplateNotExisting = "Identity Provider Configuration doesn't exist"

// scope checks the caller and resolves owner. The v1 permission check comes
// before any validation of the body, as ZITADEL's interceptors run it first.
func (c *Commands) idpScope(ctx context.Context, owner IDPOwnerRef) (idpScope, error) {
	cl, err := caller(ctx)
	if err != nil {
		return idpScope{}, err
	}
	s := idpScope{instanceID: cl.InstanceID, ownerType: owner.Type}
	switch owner.Type {
	case events.OwnerSystem:
		s.resourceOwner, s.prefix, s.writePerm = cl.InstanceID, "INST", "iam.idp.write"
	case events.OwnerOrg:
		if owner.OrgID == "" {
			return idpScope{}, errs.InvalidArgument("ORG-idp0", "Errors.Org.Empty")
		}
		s.resourceOwner, s.prefix, s.writePerm, s.permOrg = owner.OrgID, "ORG", "org.idp.write", owner.OrgID
	default:
		return idpScope{}, errs.Internal("COMMAND-IdpO1", fmt.Errorf("unknown idp owner type %q", owner.Type))
	}
	if err := cl.CheckV1(s.writePerm, s.permOrg); err != nil {
		return idpScope{}, err
	}
	return s, nil
}

func (s idpScope) notFound(id string) error {
	return errs.NotFound(s.prefix+"-"+id, idpTemplateNotExisting)
}

// CanWriteIDP checks that the caller may write owner's IdPs, as AddIDP,
// UpdateIDP and RemoveIDP do first. A transport calls it before it decodes
// a request body, so that a caller without the permission learns nothing
// from the body's validation: ZITADEL's interceptors check first.
//
// Errors: as AddIDP's permission errors.
func (c *Commands) CanWriteIDP(ctx context.Context, owner IDPOwnerRef) error {
	_, err := c.idpScope(ctx, owner)
	return err
}

// AddIDP creates an IdP template from tpl, owned by owner. The template is
// normalized and validated here (Template.Normalize, Template.Validate) on a
// copy; its secrets are sealed before the event is written.
//
// Errors: Unauthenticated without a caller; NotFound (AUTHZ-cdgFk) or
// PermissionDenied (AUTH-5mWD2) without iam.idp.write / org.idp.write;
// NotFound for a kind that is not in the table; InvalidArgument for a field
// that fails validation; Internal for a config not of the template's kind,
// or on store or crypto failure.
func (c *Commands) AddIDP(ctx context.Context, owner IDPOwnerRef, tpl idp.Template) (Details, error) {
	s, err := c.checkIDP(ctx, owner, &tpl, false)
	if err != nil {
		return Details{}, err
	}
	id, err := c.ids.Next()
	if err != nil {
		return Details{}, errs.Internal("COMMAND-IdpA1", fmt.Errorf("new idp id: %w", err))
	}
	if sc, ok := tpl.Config.(*idp.SAMLConfig); ok {
		if err := c.newSAMLKeyPair(sc, id); err != nil {
			return Details{}, err
		}
	}
	for _, sec := range idp.Secrets(tpl.Config) {
		if err := c.sealSecret(sec, s.instanceID, id); err != nil {
			return Details{}, err
		}
	}
	optsJSON, cfgJSON, err := marshalIDP(tpl.Options, tpl.Config)
	if err != nil {
		return Details{}, err
	}
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate:     eventstore.AggregateRef{InstanceID: s.instanceID, Type: events.AggIDP, ID: id},
			ResourceOwner: s.resourceOwner,
			Events: []eventstore.PendingEvent{{Type: events.IDPAdded, Payload: events.IDPAddedPayload{
				Kind: tpl.Kind.Path, OwnerType: s.ownerType, Name: tpl.Name, Options: optsJSON, Config: cfgJSON,
			}}},
		}}, Constraints: []eventstore.UniqueConstraint{idpExists(s.instanceID, id)}}, nil
	})
	if err != nil {
		return Details{}, err
	}
	e := evs[0]
	return Details{ID: id, Sequence: e.Sequence, Created: e.CreatedAt, Changed: e.CreatedAt, ResourceOwner: s.resourceOwner}, nil
}

// checkIDP checks the caller's permission on owner (first, as ZITADEL's
// interceptors do), then normalizes and validates an add (update false) or
// update template.
func (c *Commands) checkIDP(ctx context.Context, owner IDPOwnerRef, tpl *idp.Template, update bool) (idpScope, error) {
	s, err := c.idpScope(ctx, owner)
	if err != nil {
		return s, err
	}
	if tpl.Kind.New == nil {
		// Not a row of the table: NotFound, as the router answers a route
		// that does not exist.
		return s, errs.NotFound("", "Not Found")
	}
	if err := tpl.Normalize(); err != nil {
		return s, err
	}
	return s, tpl.Validate(s.prefix, update)
}

// UpdateIDP replaces the name, options and config of IdP id with tpl's; the
// IdP must be of tpl's kind and owned by owner. A secret left empty keeps the stored one. An
// update that changes nothing writes no event and returns the current
// details. The decision is re-made on fresh state after a concurrent write.
//
// Errors: as AddIDP; NotFound (INST-Dg331 / ORG-Dg331) for an unknown or
// removed IdP, one of another owner or another kind; Aborted when concurrent
// writes keep winning.
func (c *Commands) UpdateIDP(ctx context.Context, owner IDPOwnerRef, id string, tpl idp.Template) (Details, error) {
	s, err := c.checkIDP(ctx, owner, &tpl, true)
	if err != nil {
		return Details{}, err
	}
	kind, cfg := tpl.Kind, tpl.Config
	sc, isSAML := cfg.(*idp.SAMLConfig)
	if isSAML {
		sc.Key, sc.Certificate = "", nil // the server's, never the body's
	}
	// The plaintext of each secret, taken once: each attempt rebuilds the
	// sealed config from these and the state it loads.
	plain := map[string]string{}
	for _, sec := range idp.Secrets(cfg) {
		plain[sec.Field] = *sec.Value
	}
	cur, evs, err := executeOn(ctx, c, c.loadIDP, s.instanceID, id, func(ctx context.Context, m *idpModel) (eventstore.Append, error) {
		if !m.Exists || m.ResourceOwner != s.resourceOwner || m.OwnerType != s.ownerType || m.KindPath != kind.Path {
			return eventstore.Append{}, s.notFound("Dg331")
		}
		stored, err := m.decodeConfig(kind)
		if err != nil {
			return eventstore.Append{}, err
		}
		kept := map[string]string{}
		for _, sec := range idp.Secrets(stored) {
			kept[sec.Field] = *sec.Value
		}
		for _, sec := range idp.Secrets(cfg) {
			*sec.Value = plain[sec.Field]
			if err := c.mergeSecret(sec, kept[sec.Field], s.instanceID, id); err != nil {
				return eventstore.Append{}, err
			}
		}
		if isSAML {
			if err := c.keepSAMLKeyPair(sc, stored, s.instanceID, id); err != nil {
				return eventstore.Append{}, err
			}
		}
		if m.sameAs(tpl.Name, tpl.Options, cfg) {
			return eventstore.Append{}, eventstore.ErrNothingToDo
		}
		return m.change(events.IDPChanged, kind.Path, tpl.Name, tpl.Options, cfg)
	})
	if err != nil {
		return Details{}, err
	}
	d := cur.details()
	if len(evs) > 0 {
		last := evs[len(evs)-1]
		d.Sequence, d.Changed = last.Sequence, last.CreatedAt
	}
	return d, nil
}

// RemoveIDP removes IdP id of owner and, in the same append, unlinks it
// from every login policy (login_policy.idp.cascade.removed) and every
// user (user.human.externalidp.cascade.removed, releasing the link's unique
// value).
//
// Errors: as AddIDP's permission errors; NotFound (INST-Se3tg / ORG-Se3tg)
// for an unknown or removed IdP or one of another owner; Aborted when
// concurrent writes keep winning.
func (c *Commands) RemoveIDP(ctx context.Context, owner IDPOwnerRef, id string) (Details, error) {
	s, err := c.idpScope(ctx, owner)
	if err != nil {
		return Details{}, err
	}
	cur, evs, err := executeOn(ctx, c, c.loadIDP, s.instanceID, id, func(ctx context.Context, m *idpModel) (eventstore.Append, error) {
		if !m.Exists || m.ResourceOwner != s.resourceOwner || m.OwnerType != s.ownerType {
			return eventstore.Append{}, s.notFound("Se3tg")
		}
		a := eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate:     m.ref,
			ResourceOwner: m.ResourceOwner,
			Expected:      m.Sequence,
			Events:        []eventstore.PendingEvent{{Type: events.IDPRemoved}},
		}}}
		if err := c.cascadeIDPRemoval(ctx, m, &a); err != nil {
			return eventstore.Append{}, err
		}
		// User links and policy entries added meanwhile hold the IdP's
		// existence: each one either committed before this append, and the
		// checks below see its claim (the command decides again, cascading
		// it too), or finds the IdP gone. Nothing outlives its IdP.
		gone := idpExists(s.instanceID, id)
		gone.Remove = true
		a.Constraints = append(a.Constraints, gone,
			eventstore.UniqueConstraint{InstanceID: s.instanceID, Type: linkUniqueType, Value: id + ":", NoneWithPrefix: true},
			eventstore.UniqueConstraint{InstanceID: s.instanceID, Type: policyIDPType, Value: id + ":", NoneWithPrefix: true})
		return a, nil
	})
	if err != nil {
		return Details{}, err
	}
	d := cur.details()
	for _, e := range evs {
		if e.AggregateType == events.AggIDP && e.AggregateID == id {
			d.Sequence, d.Changed = e.Sequence, e.CreatedAt
		}
	}
	return d, nil
}

// sealSecret replaces a secret's plaintext with its sealed text, bound to
// (instance, IdP, field). An empty value stays empty.
func (c *Commands) sealSecret(sec idp.Secret, instanceID, idpID string) error {
	if *sec.Value == "" {
		return nil
	}
	if c.keys == nil {
		return errs.Internal("COMMAND-IdpK0", fmt.Errorf("no keyring to seal idp secrets"))
	}
	sealed, err := c.keys.Seal(*sec.Value, secretbox.AAD{InstanceID: instanceID, IDPID: idpID, Field: sec.Field})
	if err != nil {
		return errs.Internal("COMMAND-IdpK1", fmt.Errorf("seal idp secret %s: %w", sec.Field, err))
	}
	*sec.Value = sealed.Text()
	return nil
}

// mergeSecret turns the plaintext of an update into the value to store: an
// empty secret keeps stored; a secret equal to the stored one also keeps it,
// so that repeating an update is a no-op (sealing again would differ only
// by its nonce); anything else is sealed anew.
func (c *Commands) mergeSecret(sec idp.Secret, stored, instanceID, idpID string) error {
	if *sec.Value == "" {
		*sec.Value = stored
		return nil
	}
	if stored != "" && c.keys != nil {
		aad := secretbox.AAD{InstanceID: instanceID, IDPID: idpID, Field: sec.Field}
		if sealed, err := secretbox.ParseSealed(stored); err == nil {
			if pt, err := c.keys.Open(sealed, aad); err == nil && pt == *sec.Value {
				*sec.Value = stored
				return nil
			}
		}
	}
	return c.sealSecret(sec, instanceID, idpID)
}

func marshalIDP(opts idp.Options, cfg idp.Config) (optsJSON, cfgJSON json.RawMessage, err error) {
	if optsJSON, err = json.Marshal(opts); err != nil {
		return nil, nil, errs.Internal("COMMAND-IdpM1", err)
	}
	if cfgJSON, err = json.Marshal(cfg); err != nil {
		return nil, nil, errs.Internal("COMMAND-IdpM2", err)
	}
	return optsJSON, cfgJSON, nil
}

// decodeConfig returns a copy of the stored config (secrets sealed), which
// must be of kind's type.
func (m *idpModel) decodeConfig(kind idp.Kind) (idp.Config, error) {
	if m.ConfigErr != nil {
		return nil, errs.Internal("COMMAND-IdpD1", m.ConfigErr)
	}
	if m.Config == nil || m.KindPath != kind.Path {
		return kind.New(), nil
	}
	return idp.Clone(m.Config), nil
}

// sameAs reports whether the stored state equals the new one, compared as
// typed values: both configs are normalized (the stored one when it was
// written), and an unchanged secret holds the stored sealed text.
func (m *idpModel) sameAs(name string, opts idp.Options, cfg idp.Config) bool {
	return m.Name == name && m.Options == opts && reflect.DeepEqual(m.Config, cfg)
}
