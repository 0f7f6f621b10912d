package events

import "time"

// AggKeyPair is the aggregate of an instance's signing keys (ZITADEL's
// "key_pair", which there holds one key per aggregate): here one aggregate
// per instance, aggregate ID = the instance ID, so that one expected
// sequence guards the whole set and two servers ensuring keys at once
// cannot both add an active key.
const AggKeyPair = "key_pair"

// Signing key event types. key_pair.added is ZITADEL's name; activation
// and resealing are idledger's (ZITADEL rotates by expiry instead).
const (
	// KeyPairAdded adds a key in the state next (published, not signing),
	// or, for an instance's first key, active.
	KeyPairAdded = "key_pair.added"
	// KeyPairActivated promotes the next key to active; the key that was
	// active is retired at the event's time (published until every token
	// it signed has expired).
	KeyPairActivated = "key_pair.activated"
	// KeyPairResealed records a master-key rotation of a key's private key.
	KeyPairResealed = "key_pair.resealed"
)

// KeyPairAddedPayload is a new signing key: ZITADEL's usage (0 signing)
// and algorithm, the private key (PKCS#8 DER, base64) sealed with the
// master key, the public key (PKIX DER, base64, public) and whether it
// signs at once (an instance's first key only).
type KeyPairAddedPayload struct {
	KeyID      string `json:"keyId"`
	Usage      int    `json:"usage"`
	Algorithm  string `json:"algorithm"`
	PrivateKey string `json:"privateKey"`
	PublicKey  string `json:"publicKey"`
	Active     bool   `json:"active,omitempty"`
	// At is when, by the server's clock, the key was added.
	At time.Time `json:"at"`
}

// KeyPairActivatedPayload names the key that signs from now on and the
// one it retires (empty when none was active).
type KeyPairActivatedPayload struct {
	KeyID   string `json:"keyId"`
	Retired string `json:"retiredKeyId,omitempty"`
	// At is when, by the server's clock, the retired key stopped signing.
	At time.Time `json:"at"`
}

// KeyPairResealedPayload is a key's private key sealed under the current
// master key.
type KeyPairResealedPayload struct {
	KeyID      string `json:"keyId"`
	PrivateKey string `json:"privateKey"`
}

func keyPairCatalog() []EventInfo {
	return []EventInfo{
		{KeyPairAdded, AggKeyPair, KeyPairAddedPayload{}, "a signing key was generated (private key sealed with the master key, redacted in events list)"},
		{KeyPairActivated, AggKeyPair, KeyPairActivatedPayload{}, "the next signing key became active; the active one was retired"},
		{KeyPairResealed, AggKeyPair, KeyPairResealedPayload{}, "a signing key's private key was re-encrypted under a new master key"},
	}
}
