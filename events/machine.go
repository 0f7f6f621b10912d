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
)

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
	}
}
