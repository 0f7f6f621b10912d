package command

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"sort"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// machineKeySize is ZITADEL's MachineKeySize: generated keys are RSA 2048.
const machineKeySize = 2048

// KeyTypeJSON is KEY_TYPE_JSON, the only machine key type.
const KeyTypeJSON = 1

// DefaultKeyExpiration is ZITADEL's expiry of a key sent without one.
var DefaultKeyExpiration = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// ErrMachineSecret is the answer to a client_credentials check that fails
// for any reason (unknown client, no secret, wrong secret, human user):
// one answer for all.
var ErrMachineSecret = errs.Unauthenticated("COMMAND-Msec1", "Errors.User.Machine.Secret.Invalid")

// errMachineKeyNotFound is the answer of MachineKeyByID for an unknown,
// removed or expired key, or a key of another user.
var errMachineKeyNotFound = errs.NotFound("COMMAND-4m77G", "Errors.User.Machine.Key.NotFound")

// machineKey is a key of the user write model.
type machineKey struct {
	keyType    int
	expiration time.Time
	publicKey  string // PEM
	created    time.Time
	sequence   uint64
}

// machineUser runs fn on machine user userID of org orgID for a caller
// holding perm there whose roles cover the user's (credentials follow
// power), and appends the events fn returns on the user.
//
// Errors: the permission check's; NotFound COMMAND-Dggw2 (no such user in
// orgID); notMachine for a human user; PermissionDenied AUTHZ-Cov01; fn's.
func (c *Commands) machineUser(ctx context.Context, orgID, userID string, notMachine error,
	fn func(u *userModel) ([]eventstore.PendingEvent, error)) (*userModel, []eventstore.Event, error) {
	cl, err := authorizeIdentity(ctx, true, "user.write", orgID)
	if err != nil {
		return nil, nil, err
	}
	return executeOn(ctx, c, c.loadUser, cl.InstanceID, userID, func(ctx context.Context, u *userModel) (eventstore.Append, error) {
		if !u.exists || u.orgID != orgID {
			return eventstore.Append{}, errs.NotFound("COMMAND-Dggw2", "User could not be found")
		}
		if u.kind != "machine" {
			return eventstore.Append{}, notMachine
		}
		if _, err := c.checkPower(ctx, cl, userID); err != nil {
			return eventstore.Append{}, err
		}
		evs, err := fn(u)
		if err != nil {
			return eventstore.Append{}, err
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: u.ref, ResourceOwner: u.orgID, Expected: u.head, Events: evs}}}, nil
	})
}

// MachineSecret is a newly generated client secret of a machine user.
// ClientSecret is shown once: only its hash is stored.
type MachineSecret struct {
	ClientID     string // the machine's user name
	ClientSecret string
	Details      *Details
}

// GenerateMachineSecret sets a new client secret on machine user userID of
// the context org orgID (user.write there); a previous secret stops
// working. Management GenerateMachineSecret.
//
// Errors: as AddPAT; FailedPrecondition COMMAND-x8910n for a human user
// (ZITADEL's machine write model does not see humans).
func (c *Commands) GenerateMachineSecret(ctx context.Context, orgID, userID string) (*MachineSecret, error) {
	plain, hash, err := newClientSecret()
	if err != nil {
		return nil, err
	}
	u, evs, err := c.machineUser(ctx, orgID, userID,
		errs.FailedPrecondition("COMMAND-x8910n", "Errors.User.NotExisting"),
		func(*userModel) ([]eventstore.PendingEvent, error) {
			return []eventstore.PendingEvent{{Type: events.UserMachineSecretSet,
				Payload: events.MachineSecretSetPayload{HashedSecret: hash}}}, nil
		})
	if err != nil {
		return nil, err
	}
	return &MachineSecret{ClientID: u.username, ClientSecret: plain, Details: detailsFromEvents(evs, u.ref, u.created)}, nil
}

// RemoveMachineSecret removes the client secret of machine user userID of
// the context org orgID (user.write there).
//
// Errors: as GenerateMachineSecret, with FailedPrecondition COMMAND-x7s802
// for a human user; FailedPrecondition COMMAND-coi82n when the user has
// no secret.
func (c *Commands) RemoveMachineSecret(ctx context.Context, orgID, userID string) (*Details, error) {
	u, evs, err := c.machineUser(ctx, orgID, userID,
		errs.FailedPrecondition("COMMAND-x7s802", "Errors.User.NotExisting"),
		func(u *userModel) ([]eventstore.PendingEvent, error) {
			if u.machineSecretHash == "" {
				return nil, errs.FailedPrecondition("COMMAND-coi82n", "Errors.User.Machine.Secret.NotExisting")
			}
			return []eventstore.PendingEvent{{Type: events.UserMachineSecretRemoved}}, nil
		})
	if err != nil {
		return nil, err
	}
	return detailsFromEvents(evs, u.ref, u.created), nil
}

// CheckMachineSecret checks secret against the client secret of the
// machine user whose login name (user name) is clientID in instanceID, for
// the OP's client_credentials grant, and returns the user's ID. The read
// tables name the user; its events are the authority. It checks no caller:
// the client is the caller.
//
// Errors: Unauthenticated ErrMachineSecret for an unknown or ambiguous
// client, a removed or human user, a user without a secret or a wrong
// secret; Internal on store failure.
func (c *Commands) CheckMachineSecret(ctx context.Context, instanceID, clientID, secret string) (string, error) {
	m, err := c.CheckMachineClient(ctx, instanceID, clientID, secret)
	return m.UserID, err
}

// MachineClient is a machine user that authenticated with its secret: its
// ID and org, whether its access tokens are JWTs, and the instance's token
// lifetimes, read in the same round trip, which the grant's token is
// minted with.
type MachineClient struct {
	UserID, OrgID string
	JWT           bool
	Lifetimes     OIDCSettings
}

// CheckMachineClient is CheckMachineSecret answering what the grant needs
// besides the user's ID. The lookup of the client ID, the user's events
// and the instance's token lifetimes are one round trip.
//
// Errors: as CheckMachineSecret.
func (c *Commands) CheckMachineClient(ctx context.Context, instanceID, clientID, secret string) (MachineClient, error) {
	if c.users == nil {
		return MachineClient{}, errs.Internal("COMMAND-Msec0", errNoUserIndex)
	}
	if clientID == "" || secret == "" {
		return MachineClient{}, ErrMachineSecret
	}
	byName := eventstore.LoadTypesNamed(instanceID, events.AggUser, c.users.UserIDsByLoginNameLoad(instanceID, clientID), userModelTypes)
	ctx, err := c.prefetch(ctx, read{load: byName, types: userModelTypes}, typesOf(instanceRef(instanceID), oidcSettingsTypes))
	if err != nil {
		return MachineClient{}, err
	}
	if !byName.Found {
		// No user, or several (a user name is unique within an org only):
		// none is picked.
		return MachineClient{}, ErrMachineSecret
	}
	u, err := c.loadUser(ctx, instanceID, byName.Ref.ID)
	if err != nil {
		return MachineClient{}, err
	}
	if !u.exists || u.kind != "machine" || u.machineSecretHash == "" || !verifySecret(u.machineSecretHash, secret) {
		return MachineClient{}, ErrMachineSecret
	}
	set, err := c.loadOIDCSettings(ctx, instanceID, "")
	if err != nil {
		return MachineClient{}, err
	}
	return MachineClient{UserID: u.ref.ID, OrgID: u.orgID, JWT: u.accessTokenType == events.AccessTokenJWT, Lifetimes: set.lifetimes()}, nil
}

// AddMachineKey is management AddMachineKey.
type AddMachineKey struct {
	OrgID, UserID string
	// Type is the key type's number: KeyTypeJSON, the only one accepted.
	Type int
	// Expiration is the key's expiry; zero means DefaultKeyExpiration.
	Expiration time.Time
	// PublicKey, when set, is the caller's public key (PEM, PKIX or
	// PKCS#1): it is stored and no key pair is generated.
	PublicKey []byte
}

// MachineKeyAdded is a new machine key. KeyFile is the `serviceaccount`
// JSON key file holding the generated private key, shown once (nil when
// the caller supplied the public key).
type MachineKeyAdded struct {
	KeyID   string
	KeyFile []byte
	Details *Details
}

// machineKeyFile is ZITADEL's machine JSON key file.
type machineKeyFile struct {
	Type           string    `json:"type"`
	KeyID          string    `json:"keyId"`
	Key            string    `json:"key"`
	ExpirationDate time.Time `json:"expirationDate"`
	UserID         string    `json:"userId"`
}

// AddMachineKey adds a key to machine user in.UserID of the context org
// in.OrgID (user.write there). The private key of a generated key is
// returned in the key file only, never stored.
//
// Errors: as AddPAT, with FailedPrecondition COMMAND-Dggw3 for a human
// user; InvalidArgument DOMAIN-dv3t5 (expiry in the past), COMMAND-5F3h1
// (a public key that does not parse); InvalidArgument for a type other
// than KEY_TYPE_JSON.
func (c *Commands) AddMachineKey(ctx context.Context, in AddMachineKey) (*MachineKeyAdded, error) {
	if _, err := authorizeIdentity(ctx, true, "user.write", in.OrgID); err != nil {
		return nil, err
	}
	if in.Type != KeyTypeJSON {
		return nil, errs.InvalidArgument("", "invalid AddMachineKeyRequest.Type: value must not be in list [0]")
	}
	exp := in.Expiration.UTC()
	if exp.IsZero() {
		exp = DefaultKeyExpiration
	}
	if !exp.After(c.now()) {
		return nil, errs.InvalidArgument("DOMAIN-dv3t5", "Errors.AuthNKey.ExpireBeforeNow")
	}
	var pubPEM string
	var priv *rsa.PrivateKey
	if len(in.PublicKey) > 0 {
		pub, err := ParsePublicKeyPEM(in.PublicKey)
		if err != nil {
			return nil, errs.InvalidArgument("COMMAND-5F3h1", "Errors.User.Machine.Key.Invalid")
		}
		if pubPEM, err = publicKeyPEM(pub); err != nil {
			return nil, errs.InvalidArgument("COMMAND-5F3h1", "Errors.User.Machine.Key.Invalid")
		}
	} else {
		var err error
		if priv, pubPEM, err = newKeyPair(); err != nil {
			return nil, errs.Internal("COMMAND-Key01", err)
		}
	}
	keyID, err := c.ids.Next()
	if err != nil {
		return nil, errs.Internal("COMMAND-Ids03", err)
	}
	u, evs, err := c.machineUser(ctx, in.OrgID, in.UserID,
		errs.FailedPrecondition("COMMAND-Dggw3", "Errors.User.NotMachine"),
		func(*userModel) ([]eventstore.PendingEvent, error) {
			return []eventstore.PendingEvent{{Type: events.UserMachineKeyAdded, Payload: events.MachineKeyAddedPayload{
				KeyID: keyID, Type: KeyTypeJSON, Expiration: exp, PublicKey: pubPEM}}}, nil
		})
	if err != nil {
		return nil, err
	}
	out := &MachineKeyAdded{KeyID: keyID, Details: detailsFromEvents(evs, u.ref, u.created)}
	if priv != nil {
		if out.KeyFile, err = json.Marshal(machineKeyFile{Type: "serviceaccount", KeyID: keyID, Key: privateKeyPEM(priv),
			ExpirationDate: exp, UserID: in.UserID}); err != nil {
			return nil, errs.Internal("COMMAND-Key03", err)
		}
	}
	return out, nil
}

// RemoveMachineKey removes key keyID of machine user userID of the context
// org orgID (user.write there); the key stops verifying at once.
//
// Errors: as AddMachineKey; NotFound COMMAND-4m77G (no such key).
func (c *Commands) RemoveMachineKey(ctx context.Context, orgID, userID, keyID string) (*Details, error) {
	u, evs, err := c.machineUser(ctx, orgID, userID,
		errs.FailedPrecondition("COMMAND-Dggw3", "Errors.User.NotMachine"),
		func(u *userModel) ([]eventstore.PendingEvent, error) {
			if _, ok := u.machineKeys[keyID]; !ok {
				return nil, errMachineKeyNotFound
			}
			return []eventstore.PendingEvent{{Type: events.UserMachineKeyRemoved,
				Payload: events.MachineKeyRemovedPayload{KeyID: keyID}}}, nil
		})
	if err != nil {
		return nil, err
	}
	return detailsFromEvents(evs, u.ref, u.created), nil
}

// MachineKey is a machine key as the JWT-profile verifier and the key
// list see it: never a private key.
type MachineKey struct {
	KeyID      string
	UserID     string
	Type       int
	Expiration time.Time
	PublicKey  crypto.PublicKey
	// PublicKeyPEM is the stored PEM ("RSA PUBLIC KEY", PKIX).
	PublicKeyPEM string
	Details      Details
	// AccessTokenJWT: the user's access tokens are JWTs (as of the same
	// read of its events).
	AccessTokenJWT bool
	// Lifetimes are the instance's token lifetimes, read with the user
	// (MachineKeyByID): the JWT-profile grant's token is minted with them.
	Lifetimes OIDCSettings
}

// MachineKeyByID returns the active key keyID of machine user userID of
// instanceID, for the OP's JWT-profile grant (the assertion's kid and
// iss). It reads the user's events, so a removed key fails at once. It
// checks no caller: the assertion is the caller.
//
// Errors: NotFound COMMAND-4m77G for an unknown, removed or expired key,
// a key of another user or a removed user; Internal on store failure.
func (c *Commands) MachineKeyByID(ctx context.Context, instanceID, keyID, userID string) (*MachineKey, error) {
	ctx, err := c.prefetch(ctx, typesOf(userRef(instanceID, userID), userModelTypes), typesOf(instanceRef(instanceID), oidcSettingsTypes))
	if err != nil {
		return nil, err
	}
	u, err := c.loadUser(ctx, instanceID, userID)
	if err != nil {
		return nil, err
	}
	k, ok := u.machineKeys[keyID]
	if !u.exists || u.kind != "machine" || !ok || !k.expiration.After(c.now()) {
		return nil, errMachineKeyNotFound
	}
	set, err := c.loadOIDCSettings(ctx, instanceID, "")
	if err != nil {
		return nil, err
	}
	out, err := u.machineKeyOut(keyID, k)
	if err != nil {
		return nil, err
	}
	out.Lifetimes = set.lifetimes()
	return out, nil
}

func (u *userModel) machineKeyOut(keyID string, k machineKey) (*MachineKey, error) {
	pub, err := ParsePublicKeyPEM([]byte(k.publicKey))
	if err != nil {
		return nil, errs.Internal("COMMAND-Key04", err)
	}
	return &MachineKey{KeyID: keyID, UserID: u.ref.ID, Type: k.keyType, Expiration: k.expiration,
		PublicKey: pub, PublicKeyPEM: k.publicKey, AccessTokenJWT: u.accessTokenType == events.AccessTokenJWT,
		Details: Details{ID: keyID, Sequence: k.sequence, Created: k.created, Changed: k.created, ResourceOwner: u.orgID}}, nil
}

// ListMachineKeys returns the keys of machine user userID of the context
// org orgID (user.read there), expired ones included, oldest first, as of
// the user's events.
//
// Errors: the permission check's; NotFound COMMAND-Dggw2 (no such user in
// orgID); FailedPrecondition COMMAND-Dggw3 for a human user.
func (c *Commands) ListMachineKeys(ctx context.Context, orgID, userID string) ([]*MachineKey, error) {
	cl, err := authorizeIdentity(ctx, true, "user.read", orgID)
	if err != nil {
		return nil, err
	}
	u, err := c.loadUser(ctx, cl.InstanceID, userID)
	if err != nil {
		return nil, err
	}
	if !u.exists || u.orgID != orgID {
		return nil, errs.NotFound("COMMAND-Dggw2", "User could not be found")
	}
	if u.kind != "machine" {
		return nil, errs.FailedPrecondition("COMMAND-Dggw3", "Errors.User.NotMachine")
	}
	out := make([]*MachineKey, 0, len(u.machineKeys))
	for id, k := range u.machineKeys {
		mk, err := u.machineKeyOut(id, k)
		if err != nil {
			return nil, err
		}
		out = append(out, mk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Details.Sequence < out[j].Details.Sequence })
	return out, nil
}

// MachineKeyList is a page of a machine user's keys and the number of all.
type MachineKeyList struct {
	Total uint64
	Keys  []*MachineKey
}

// ListMachineKeysPage is ListMachineKeys' page at offset of at most limit
// keys (0: all), as management ListMachineKeys pages.
//
// Errors: as ListMachineKeys.
func (c *Commands) ListMachineKeysPage(ctx context.Context, orgID, userID string, offset uint64, limit uint32) (*MachineKeyList, error) {
	keys, err := c.ListMachineKeys(ctx, orgID, userID)
	if err != nil {
		return nil, err
	}
	out := &MachineKeyList{Total: uint64(len(keys))}
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

// ParsePublicKeyPEM parses a PEM public key: PKIX (any label, as ZITADEL
// stores "RSA PUBLIC KEY" with PKIX bytes) or PKCS#1.
func ParsePublicKeyPEM(b []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("machine key: no PEM block")
	}
	if pub, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
		return pub, nil
	}
	return x509.ParsePKCS1PublicKey(block.Bytes)
}

// newKeyPair generates a key pair of a key file (machine or app key): the
// private key, shown once in the file, and the stored form of its public
// key.
func newKeyPair() (priv *rsa.PrivateKey, pubPEM string, err error) {
	if priv, err = rsa.GenerateKey(rand.Reader, machineKeySize); err != nil {
		return nil, "", err
	}
	if pubPEM, err = publicKeyPEM(&priv.PublicKey); err != nil {
		return nil, "", err
	}
	return priv, pubPEM, nil
}

// privateKeyPEM is a key file's "key": PKCS #1 PEM.
func privateKeyPEM(priv *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)}))
}

// publicKeyPEM is the stored form of a public key: PKIX under ZITADEL's
// "RSA PUBLIC KEY" label.
func publicKeyPEM(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: der})), nil
}

// pgvAccessTokenType is protoc-gen-validate's defined_only check of an
// AccessTokenType field.
func pgvAccessTokenType(field string, t int) error {
	if t != events.AccessTokenBearer && t != events.AccessTokenJWT {
		return errs.InvalidArgument("", "invalid "+field+": value must be one of the defined enum values")
	}
	return nil
}

// UpdateMachine is management UpdateMachine: a machine user's name,
// description and access token type, all three as sent.
type UpdateMachine struct {
	OrgID, UserID   string
	Name            string
	Description     string
	AccessTokenType int
}

// errMachineNotChanged is ZITADEL's answer to an UpdateMachine that
// changes nothing.
var errMachineNotChanged = errs.FailedPrecondition("COMMAND-2n8vs", "Errors.User.NotChanged")

// UpdateMachine changes a machine user of the context org (user.write
// there; credentials follow power). The access token type applies to the
// next token the OP mints.
//
// Errors: InvalidArgument naming the field; the permission check's;
// NotFound COMMAND-Dggw2; FailedPrecondition COMMAND-Dggw3 for a human,
// COMMAND-2n8vs when nothing changes; PermissionDenied AUTHZ-Cov01.
func (c *Commands) UpdateMachine(ctx context.Context, m UpdateMachine) (*Details, error) {
	const req = "UpdateMachineRequest"
	if err := validLen(req+".Name", m.Name, 1, 200); err != nil {
		return nil, err
	}
	if err := validLen(req+".Description", m.Description, 0, 500); err != nil {
		return nil, err
	}
	if err := pgvAccessTokenType(req+".AccessTokenType", m.AccessTokenType); err != nil {
		return nil, err
	}
	u, evs, err := c.machineUser(ctx, m.OrgID, m.UserID, errs.FailedPrecondition("COMMAND-Dggw3", "Errors.User.NotMachine"),
		func(u *userModel) ([]eventstore.PendingEvent, error) {
			var p events.MachineChangedPayload
			if m.Name != u.machineName {
				p.Name = &m.Name
			}
			if m.Description != u.machineDescription {
				p.Description = &m.Description
			}
			if m.AccessTokenType != u.accessTokenType {
				p.AccessTokenType = &m.AccessTokenType
			}
			if p == (events.MachineChangedPayload{}) {
				return nil, errMachineNotChanged
			}
			return []eventstore.PendingEvent{{Type: events.UserMachineChanged, Payload: p}}, nil
		})
	if err != nil {
		return nil, err
	}
	return detailsFromEvents(evs, u.ref, u.created), nil
}

// MachineTokenJWT reports whether machine user userID of instanceID gets
// JWT access tokens (its access token type), for the OP's
// client_credentials and JWT-profile grants. It checks no caller: the OP
// has authenticated the machine. A user that is not a machine gets opaque
// tokens (false).
//
// Errors: Internal on store failure.
func (c *Commands) MachineTokenJWT(ctx context.Context, instanceID, userID string) (bool, error) {
	u, err := c.loadUser(ctx, instanceID, userID)
	if err != nil {
		return false, err
	}
	return u.exists && u.kind == "machine" && u.accessTokenType == events.AccessTokenJWT, nil
}
