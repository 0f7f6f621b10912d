package command

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// App keys: the keys of apps that authenticate with private_key_jwt (OIDC
// apps with AuthMethodPrivateKeyJWT, API apps with APIAuthPrivateKeyJWT).
// An app has no roles, so the power over its credentials is
// project.app.write on its org.

// errAppKeyNotFound is GetAppKey's answer for an unknown or removed key, or
// a key of another app, project or org.
var errAppKeyNotFound = errs.NotFound("QUERY-Dgr3g", "Errors.AuthNKey.NotFound")

// ErrAppKey is the answer of AppKeyByID to any key that cannot verify a
// client assertion: the OP answers it as invalid_client.
var ErrAppKey = errs.Unauthenticated("COMMAND-Akey1", "Errors.AuthNKey.NotFound")

// AddAppKey is management AddAppKey.
type AddAppKey struct {
	OrgID, ProjectID, AppID string
	// Type is the key type's number: KeyTypeJSON, the only one accepted.
	Type int
	// Expiration is the key's expiry; zero means DefaultKeyExpiration.
	Expiration time.Time
}

// AppKeyAdded is a new app key. KeyFile is the `application` JSON key
// file holding the generated private key, shown once.
type AppKeyAdded struct {
	KeyID   string
	KeyFile []byte
	Details Details
}

// appKeyFile is ZITADEL's application JSON key file.
type appKeyFile struct {
	Type     string `json:"type"`
	KeyID    string `json:"keyId"`
	Key      string `json:"key"`
	AppID    string `json:"appId"`
	ClientID string `json:"clientId"`
}

// AddAppKey generates an RSA key pair for app in.AppID of project
// in.ProjectID of the context org in.OrgID (project.app.write there),
// stores its public key and returns the private key in the key file only.
//
// Errors: Unauthenticated; the v1 permission errors without
// project.app.write; InvalidArgument for IDs not of 1 to 200 runes or a
// type other than KEY_TYPE_JSON; InvalidArgument DOMAIN-dv3t5 (expiry not
// in the future); FailedPrecondition COMMAND-sak25 (no such app in the
// org's project); FailedPrecondition COMMAND-Dff54 (the app does not use
// private_key_jwt).
func (c *Commands) AddAppKey(ctx context.Context, in AddAppKey) (*AppKeyAdded, error) {
	cl, err := projectScope(ctx, in.OrgID, "project.app.write")
	if err != nil {
		return nil, err
	}
	if err := validLen("AddAppKeyRequest.ProjectId", in.ProjectID, 1, 200); err != nil {
		return nil, err
	}
	if err := validLen("AddAppKeyRequest.AppId", in.AppID, 1, 200); err != nil {
		return nil, err
	}
	if in.Type != KeyTypeJSON {
		return nil, errs.InvalidArgument("", "invalid AddAppKeyRequest.Type: value must not be in list [0]")
	}
	exp := in.Expiration.UTC()
	if exp.IsZero() {
		exp = DefaultKeyExpiration
	}
	if !exp.After(c.now()) {
		return nil, errs.InvalidArgument("DOMAIN-dv3t5", "Errors.AuthNKey.ExpireBeforeNow")
	}
	priv, pubPEM, err := newKeyPair()
	if err != nil {
		return nil, errs.Internal("COMMAND-Akey2", err)
	}
	keyID, err := c.ids.Next()
	if err != nil {
		return nil, errs.Internal("COMMAND-Akey4", err)
	}
	var clientID string
	m, evs, err := executeOn(ctx, c, c.loadProject, cl.InstanceID, in.ProjectID, func(ctx context.Context, m *projectModel) (eventstore.Append, error) {
		a, err := m.existingApp(in.OrgID, in.AppID, "COMMAND-sak25")
		if err != nil {
			return eventstore.Append{}, errs.FailedPrecondition("COMMAND-sak25", "Errors.Project.App.NotExisting")
		}
		if !a.keysAllowed() {
			return eventstore.Append{}, errs.FailedPrecondition("COMMAND-Dff54", "Errors.Project.App.AuthMethodNoPrivateKeyJWT")
		}
		clientID = a.clientID
		return m.append(eventstore.PendingEvent{Type: events.AppKeyAdded, Payload: events.AppKeyAddedPayload{
			AppID: in.AppID, ClientID: a.clientID, KeyID: keyID, Type: KeyTypeJSON, Expiration: exp, PublicKey: pubPEM}}), nil
	})
	if err != nil {
		return nil, err
	}
	file, err := json.Marshal(appKeyFile{Type: "application", KeyID: keyID, Key: privateKeyPEM(priv), AppID: in.AppID, ClientID: clientID})
	if err != nil {
		return nil, errs.Internal("COMMAND-Akey5", err)
	}
	d := aggregateDetails(evs, m.ref, m.created)
	d.ID = keyID
	return &AppKeyAdded{KeyID: keyID, KeyFile: file, Details: d}, nil
}

// RemoveAppKey removes key keyID of app appID of project projectID of the
// context org orgID (project.app.write there); the key stops verifying at
// once.
//
// Errors: Unauthenticated; the v1 permission errors; InvalidArgument for
// IDs not of 1 to 200 runes; NotFound COMMAND-4m77G (no such key of that
// app).
func (c *Commands) RemoveAppKey(ctx context.Context, orgID, projectID, appID, keyID string) (Details, error) {
	cl, err := projectScope(ctx, orgID, "project.app.write")
	if err != nil {
		return Details{}, err
	}
	for _, f := range [][2]string{{"ProjectId", projectID}, {"AppId", appID}, {"KeyId", keyID}} {
		if err := validLen("RemoveAppKeyRequest."+f[0], f[1], 1, 200); err != nil {
			return Details{}, err
		}
	}
	m, evs, err := executeOn(ctx, c, c.loadProject, cl.InstanceID, projectID, func(ctx context.Context, m *projectModel) (eventstore.Append, error) {
		a, err := m.existingApp(orgID, appID, "COMMAND-4m77G")
		if err != nil || a.keys[keyID] == nil {
			return eventstore.Append{}, errs.NotFound("COMMAND-4m77G", "Errors.Project.App.Key.NotFound")
		}
		return m.append(eventstore.PendingEvent{Type: events.AppKeyRemoved, Payload: events.AppKeyRemovedPayload{KeyID: keyID}}), nil
	})
	if err != nil {
		return Details{}, err
	}
	return aggregateDetails(evs, m.ref, m.created), nil
}

// AppKey is an app key as the key list and the client-assertion check see
// it: never a private key.
type AppKey struct {
	KeyID      string
	AppID      string
	ClientID   string
	Type       int
	Expiration time.Time
	PublicKey  crypto.PublicKey
	Details    Details
}

func appKeyOut(m *projectModel, a *appModel, keyID string, k *appKey) (*AppKey, error) {
	pub, err := ParsePublicKeyPEM([]byte(k.publicKey))
	if err != nil {
		return nil, errs.Internal("COMMAND-Akey6", err)
	}
	return &AppKey{KeyID: keyID, AppID: a.id, ClientID: a.clientID, Type: k.keyType, Expiration: k.expiration, PublicKey: pub,
		Details: Details{ID: keyID, Sequence: k.sequence, Created: k.created, Changed: k.created, ResourceOwner: m.resourceOwner}}, nil
}

// appKeysOf returns the keys of app appID of project projectID of orgID
// for a caller with project.app.read there, oldest first; none for an app
// that is not there (as ZITADEL's key search).
func (c *Commands) appKeysOf(ctx context.Context, msg, orgID, projectID, appID string) ([]*AppKey, error) {
	cl, err := projectScope(ctx, orgID, "project.app.read")
	if err != nil {
		return nil, err
	}
	if err := validLen(msg+".ProjectId", projectID, 1, 200); err != nil {
		return nil, err
	}
	if err := validLen(msg+".AppId", appID, 1, 200); err != nil {
		return nil, err
	}
	m, err := c.loadProject(ctx, cl.InstanceID, projectID)
	if err != nil {
		return nil, err
	}
	a, err := m.existingApp(orgID, appID, "")
	if err != nil {
		return nil, nil
	}
	out := make([]*AppKey, 0, len(a.keys))
	for id, k := range a.keys {
		ak, err := appKeyOut(m, a, id, k)
		if err != nil {
			return nil, err
		}
		out = append(out, ak)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Details.Sequence < out[j].Details.Sequence })
	return out, nil
}

// GetAppKey returns key keyID of app appID of project projectID of the
// context org orgID (project.app.read there), expired or not.
//
// Errors: Unauthenticated; the v1 permission errors; InvalidArgument for
// IDs not of 1 to 200 runes; NotFound QUERY-Dgr3g.
func (c *Commands) GetAppKey(ctx context.Context, orgID, projectID, appID, keyID string) (*AppKey, error) {
	if err := validLen("GetAppKeyRequest.KeyId", keyID, 1, 200); err != nil {
		if _, perr := projectScope(ctx, orgID, "project.app.read"); perr != nil {
			return nil, perr
		}
		return nil, err
	}
	keys, err := c.appKeysOf(ctx, "GetAppKeyRequest", orgID, projectID, appID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.KeyID == keyID {
			return k, nil
		}
	}
	return nil, errAppKeyNotFound
}

// AppKeyList is a page of an app's keys and the number of all.
type AppKeyList struct {
	Total uint64
	Keys  []*AppKey
}

// ListAppKeys returns the page at offset of at most limit (0: all) keys
// of app appID of project projectID of the context org orgID
// (project.app.read there), oldest first, expired ones included.
//
// Errors: as GetAppKey, without the NotFound.
func (c *Commands) ListAppKeys(ctx context.Context, orgID, projectID, appID string, offset uint64, limit uint32) (*AppKeyList, error) {
	keys, err := c.appKeysOf(ctx, "ListAppKeysRequest", orgID, projectID, appID)
	if err != nil {
		return nil, err
	}
	out := &AppKeyList{Total: uint64(len(keys))}
	if offset < uint64(len(keys)) {
		keys = keys[offset:]
	} else {
		keys = nil
	}
	if limit > 0 && int(limit) < len(keys) {
		keys = keys[:limit]
	}
	out.Keys = keys
	return out, nil
}

// AppKeyByID returns the unexpired key keyID of the app whose client ID is
// clientID in instanceID, for the OP's private_key_jwt client
// authentication, when that app authenticates with private_key_jwt. It
// reads the project's events, so a removed key or app fails at once. It
// checks no caller: the assertion is the caller.
//
// Errors: Unauthenticated ErrAppKey for an unknown client or key, a key of
// another app, an expired key or an app that does not use
// private_key_jwt; Internal on store failure.
func (c *Commands) AppKeyByID(ctx context.Context, instanceID, keyID, clientID string) (*AppKey, error) {
	if c.clients == nil {
		return nil, errs.Internal("COMMAND-Akey7", errors.New("no client index configured (command.Deps.Clients)"))
	}
	if keyID == "" || clientID == "" {
		return nil, ErrAppKey
	}
	projectID, appID, ok, err := c.clients.AppOfClient(ctx, instanceID, clientID)
	if err != nil {
		return nil, errs.Internal("COMMAND-Akey8", err)
	}
	if !ok {
		return nil, ErrAppKey
	}
	m, err := c.loadProject(ctx, instanceID, projectID)
	if err != nil {
		return nil, err
	}
	a := m.apps[appID]
	if !m.exists || a == nil || a.clientID != clientID || !a.keysAllowed() {
		return nil, ErrAppKey
	}
	k := a.keys[keyID]
	if k == nil || !k.expiration.After(c.now()) {
		return nil, ErrAppKey
	}
	return appKeyOut(m, a, keyID, k)
}
