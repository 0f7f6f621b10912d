package command

import (
	"context"
	"time"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// projectModel is the write model of a project and its apps.
type projectModel struct {
	aggregate
	exists        bool
	resourceOwner string
	settings      events.ProjectPayload
	seq           uint64 // the sequence of the aggregate's last event
	apps          map[string]*appModel
}

// appModel is one app of a project (removed apps are dropped).
type appModel struct {
	id, name     string
	kind         string // appKindOIDC or appKindAPI; "" until its config is added
	clientID     string
	hashedSecret string
	oidc         events.OIDCConfig
	apiAuth      int
	keys         map[string]*appKey // by key ID; removed keys are dropped
}

// appKey is a key of an app (private_key_jwt).
type appKey struct {
	keyType    int
	expiration time.Time
	publicKey  string // PEM
	created    time.Time
	sequence   uint64
}

// keysAllowed is ZITADEL's KeysAllowed: an OIDC app with private_key_jwt
// or an API app with private_key_jwt.
func (a *appModel) keysAllowed() bool {
	return (a.kind == appKindOIDC && a.oidc.AuthMethodType == AuthMethodPrivateKeyJWT) ||
		(a.kind == appKindAPI && a.apiAuth == APIAuthPrivateKeyJWT)
}

const (
	appKindOIDC = "oidc"
	appKindAPI  = "api"
)

func (c *Commands) loadProject(ctx context.Context, instanceID, id string) (*projectModel, error) {
	m := &projectModel{aggregate: aggregate{ref: eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggProject, ID: id}},
		apps: map[string]*appModel{}}
	if err := c.load(ctx, m, nil, loadErrs{read: "COMMAND-PrjL1", reduce: "COMMAND-PrjL2"}); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *projectModel) reduce(e *eventstore.Event) error {
	m.seq = e.Sequence
	switch e.Type {
	case events.ProjectAdded, events.ProjectChanged:
		var p events.ProjectPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.exists, m.resourceOwner, m.settings = true, e.ResourceOwner, p
	case events.ProjectRemoved:
		m.exists, m.apps = false, map[string]*appModel{}
	case events.AppAdded:
		var p events.AppPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.apps[p.AppID] = &appModel{id: p.AppID, name: p.Name, keys: map[string]*appKey{}}
	case events.AppRemoved:
		var p events.AppPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		delete(m.apps, p.AppID)
	case events.OIDCConfigAdded:
		var p events.OIDCConfigAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		if a := m.apps[p.AppID]; a != nil {
			a.kind, a.clientID, a.hashedSecret, a.oidc = appKindOIDC, p.ClientID, p.HashedSecret, p.OIDCConfig
		}
	case events.OIDCConfigChanged:
		var p events.OIDCConfigChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		if a := m.apps[p.AppID]; a != nil {
			a.oidc = p.OIDCConfig
		}
	case events.OIDCConfigSecretChanged:
		var p events.SecretChangedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		if a := m.apps[p.AppID]; a != nil {
			a.hashedSecret = p.HashedSecret
		}
	case events.APIConfigAdded:
		var p events.APIConfigAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		if a := m.apps[p.AppID]; a != nil {
			a.kind, a.clientID, a.hashedSecret, a.apiAuth = appKindAPI, p.ClientID, p.HashedSecret, p.AuthMethodType
		}
	case events.AppKeyAdded:
		var p events.AppKeyAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		if a := m.apps[p.AppID]; a != nil {
			a.keys[p.KeyID] = &appKey{keyType: p.Type, expiration: p.Expiration, publicKey: p.PublicKey,
				created: e.CreatedAt, sequence: e.Sequence}
		}
	case events.AppKeyRemoved:
		var p events.AppKeyRemovedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		for _, a := range m.apps {
			delete(a.keys, p.KeyID)
		}
	}
	return nil
}

// append is the append of evs on m's aggregate, expecting its head.
func (m *projectModel) append(evs ...eventstore.PendingEvent) eventstore.Append {
	return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
		Aggregate: m.ref, ResourceOwner: m.resourceOwner, Expected: m.head, Events: evs,
	}}}
}
