package events

import "time"

// Machine user credentials (user aggregate): ZITADEL's names.
const (
	// UserMachineSecretSet sets a machine user's client secret: only its
	// argon2id hash, under hashedSecret, which events list redacts.
	UserMachineSecretSet     = "user.machine.secret.set"
	UserMachineSecretRemoved = "user.machine.secret.removed"
	// UserMachineKeyAdded registers a machine key's public key; the
	// private key of a generated key is never stored.
	UserMachineKeyAdded   = "user.machine.key.added"
	UserMachineKeyRemoved = "user.machine.key.removed"
	// UserMachineChanged changes a machine user's name, description or
	// access token type (the fields sent).
	UserMachineChanged = "user.machine.changed"
)

// Access token types of a machine user (ZITADEL's AccessTokenType):
// the kind of access token client_credentials and JWT profile mint.
const (
	AccessTokenBearer = 0 // opaque
	AccessTokenJWT    = 1
)

// MachineChangedPayload holds the changed fields only.
type MachineChangedPayload struct {
	Name            *string `json:"name,omitempty"`
	Description     *string `json:"description,omitempty"`
	AccessTokenType *int    `json:"accessTokenType,omitempty"`
}

// MachineSecretSetPayload is the hash of a machine user's client secret.
type MachineSecretSetPayload struct {
	HashedSecret string `json:"hashedSecret"`
}

// MachineKeyAddedPayload is a machine key: its public key as a PKIX PEM
// ("RSA PUBLIC KEY" label for generated keys, as ZITADEL), its type (1 =
// KEY_TYPE_JSON) and its expiry.
type MachineKeyAddedPayload struct {
	KeyID      string    `json:"keyId"`
	Type       int       `json:"type"`
	Expiration time.Time `json:"expiration"`
	PublicKey  string    `json:"publicKey"`
}

// MachineKeyRemovedPayload names the removed key.
type MachineKeyRemovedPayload struct {
	KeyID string `json:"keyId"`
}

func machineCatalog() []EventInfo {
	return []EventInfo{
		{UserMachineSecretSet, AggUser, MachineSecretSetPayload{}, "a machine user's client secret was set (argon2id hash only, redacted in events list)"},
		{UserMachineSecretRemoved, AggUser, nil, "a machine user's client secret was removed"},
		{UserMachineKeyAdded, AggUser, MachineKeyAddedPayload{}, "a machine key was added (public key only)"},
		{UserMachineKeyRemoved, AggUser, MachineKeyRemovedPayload{}, "a machine key was removed"},
		{UserMachineChanged, AggUser, MachineChangedPayload{}, "a machine user's name, description or access token type changed (the fields sent)"},
	}
}
