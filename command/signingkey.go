package command

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/secretbox"
)

// The OP's signing keys. Each instance has one key_pair aggregate (ID = the
// instance ID) holding its keys, each in one of three states:
//
//   - next: published in the JWKS, not signing yet, so that relying
//     parties that cache the JWKS know it before the first token it signs;
//   - active: signs, and is published;
//   - retired: no longer signs, published until every token it signed has
//     expired (SigningKeyRetention after its retirement), then dropped.
//
// EnsureSigningKeys gives an instance an active and a next key; the query
// methods call it lazily, so instances get keys on first use. All writes
// state the aggregate's head sequence, so two servers ensuring at once
// append once: the loser re-decides and finds the keys.

// SigningAlgorithm is the JWS algorithm of every signing key: RS256.
const SigningAlgorithm = "RS256"

const (
	signingKeyBits = 2048
	// DefaultSigningKeyRetention is how long a retired key stays published:
	// ZITADEL's default maximum token lifetime (access and ID token 12 h).
	DefaultSigningKeyRetention = 12 * time.Hour
	// SigningKeyMinNextAge is how long a next key must have been published
	// before a rotation may activate it: the JWKS cache lifetime
	// (Cache-Control max-age=300), so no cache lacks a key that signs.
	SigningKeyMinNextAge = 5 * time.Minute
	signingKeyField      = "signing_key"
)

// SigningKeyState is the state of a signing key.
type SigningKeyState int

// The states of a signing key.
const (
	SigningKeyNext SigningKeyState = iota + 1
	SigningKeyActive
	SigningKeyRetired
)

// SigningKey is an instance's active key, opened: what the OP signs with
// (it wraps it into op.SigningKey). Key is an *rsa.PrivateKey. It must not
// be logged or returned.
type SigningKey struct {
	ID        string
	Algorithm string
	Key       crypto.Signer
}

// PublicSigningKey is a published key of an instance's JWKS.
type PublicSigningKey struct {
	ID        string
	Algorithm string
	Use       string // "sig"
	Key       *rsa.PublicKey
	State     SigningKeyState
}

type signingKeyEntry struct {
	id, alg   string
	private   string // sealed text of the PKCS#8 DER
	public    []byte // PKIX DER
	state     SigningKeyState
	added     time.Time
	retiredAt time.Time
}

type signingKeysModel struct {
	aggregate
	keys []*signingKeyEntry
}

func (m *signingKeysModel) find(id string) *signingKeyEntry {
	for _, k := range m.keys {
		if k.id == id {
			return k
		}
	}
	return nil
}

func (m *signingKeysModel) inState(s SigningKeyState) *signingKeyEntry {
	for _, k := range m.keys {
		if k.state == s {
			return k
		}
	}
	return nil
}

func (m *signingKeysModel) reduce(e *eventstore.Event) error {
	switch e.Type {
	case events.KeyPairAdded:
		var p events.KeyPairAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		pub, err := base64.StdEncoding.DecodeString(p.PublicKey)
		if err != nil {
			return fmt.Errorf("key %s: public key: %w", p.KeyID, err)
		}
		k := &signingKeyEntry{id: p.KeyID, alg: p.Algorithm, private: p.PrivateKey, public: pub, state: SigningKeyNext, added: p.At}
		if p.Active {
			k.state = SigningKeyActive
		}
		m.keys = append(m.keys, k)
	case events.KeyPairActivated:
		var p events.KeyPairActivatedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		if old := m.find(p.Retired); old != nil {
			old.state, old.retiredAt = SigningKeyRetired, p.At
		}
		if k := m.find(p.KeyID); k != nil {
			k.state = SigningKeyActive
		}
	case events.KeyPairResealed:
		var p events.KeyPairResealedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		if k := m.find(p.KeyID); k != nil {
			k.private = p.PrivateKey
		}
	}
	return nil
}

func (c *Commands) loadSigningKeys(ctx context.Context, instanceID string) (*signingKeysModel, error) {
	m := &signingKeysModel{aggregate: aggregate{ref: eventstore.AggregateRef{
		InstanceID: instanceID, Type: events.AggKeyPair, ID: instanceID}}}
	if err := c.load(ctx, m, nil, loadErrs{read: "COMMAND-SKey01", reduce: "COMMAND-SKey02"}); err != nil {
		return nil, err
	}
	return m, nil
}

func signingKeyAAD(instanceID, keyID string) secretbox.AAD {
	return secretbox.AAD{InstanceID: instanceID, IDPID: keyID, Field: signingKeyField}
}

// newSigningKey generates an RSA key and returns its key_pair.added.
func (c *Commands) newSigningKey(instanceID string, active bool) (eventstore.PendingEvent, error) {
	if c.keys == nil {
		return eventstore.PendingEvent{}, errs.Internal("COMMAND-SKey03", errors.New("no keyring to seal signing keys with"))
	}
	id, err := c.ids.Next()
	if err != nil {
		return eventstore.PendingEvent{}, errs.Internal("COMMAND-SKey04", err)
	}
	priv, err := rsa.GenerateKey(rand.Reader, signingKeyBits)
	if err != nil {
		return eventstore.PendingEvent{}, errs.Internal("COMMAND-SKey04", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return eventstore.PendingEvent{}, errs.Internal("COMMAND-SKey04", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return eventstore.PendingEvent{}, errs.Internal("COMMAND-SKey04", err)
	}
	sealed, err := c.keys.Seal(base64.StdEncoding.EncodeToString(der), signingKeyAAD(instanceID, id))
	if err != nil {
		return eventstore.PendingEvent{}, errs.Internal("COMMAND-SKey04", err)
	}
	return eventstore.PendingEvent{Type: events.KeyPairAdded, Payload: events.KeyPairAddedPayload{
		KeyID: id, Usage: 0, Algorithm: SigningAlgorithm, PrivateKey: sealed.Text(),
		PublicKey: base64.StdEncoding.EncodeToString(pub), Active: active, At: c.now().UTC(),
	}}, nil
}

func (m *signingKeysModel) append(evs ...eventstore.PendingEvent) eventstore.Append {
	return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
		Aggregate: m.ref, ResourceOwner: m.ref.InstanceID, Expected: m.head, Events: evs}}}
}

// EnsureSigningKeys gives instanceID an active and a next signing key when
// it lacks either, and does nothing otherwise. Concurrent calls append
// once (optimistic concurrency on the instance's key_pair aggregate).
//
// Errors: Internal (COMMAND-SKey01…04) when the store cannot be read, no
// keyring is configured or key generation fails; Aborted when concurrent
// writes keep winning.
func (c *Commands) EnsureSigningKeys(ctx context.Context, instanceID string) error {
	_, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		m, err := c.loadSigningKeys(ctx, instanceID)
		if err != nil {
			return eventstore.Append{}, err
		}
		var evs []eventstore.PendingEvent
		if m.inState(SigningKeyActive) == nil {
			ev, err := c.newSigningKey(instanceID, true)
			if err != nil {
				return eventstore.Append{}, err
			}
			evs = append(evs, ev)
		}
		if m.inState(SigningKeyNext) == nil {
			ev, err := c.newSigningKey(instanceID, false)
			if err != nil {
				return eventstore.Append{}, err
			}
			evs = append(evs, ev)
		}
		if len(evs) == 0 {
			return eventstore.Append{}, eventstore.ErrNothingToDo
		}
		return m.append(evs...), nil
	})
	return err
}

// RotateSigningKey promotes instanceID's next key to active, retires the
// active one (still published for SigningKeyRetention) and adds a new next
// key. It returns the ID of the key that signs now. An instance without
// keys gets them (EnsureSigningKeys) and that is the rotation.
//
// Errors: FailedPrecondition COMMAND-SKey10 when the next key has been
// published for less than SigningKeyMinNextAge (a cached JWKS might lack
// it); those of EnsureSigningKeys.
func (c *Commands) RotateSigningKey(ctx context.Context, instanceID string) (string, error) {
	if err := c.EnsureSigningKeys(ctx, instanceID); err != nil {
		return "", err
	}
	var activated string
	_, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		m, err := c.loadSigningKeys(ctx, instanceID)
		if err != nil {
			return eventstore.Append{}, err
		}
		next, active := m.inState(SigningKeyNext), m.inState(SigningKeyActive)
		if next == nil || active == nil {
			return eventstore.Append{}, errs.Internal("COMMAND-SKey11", errors.New("signing keys vanished"))
		}
		now := c.now().UTC()
		if now.Sub(next.added) < SigningKeyMinNextAge {
			return eventstore.Append{}, errs.FailedPrecondition("COMMAND-SKey10", "Errors.SigningKey.NextTooYoung")
		}
		add, err := c.newSigningKey(instanceID, false)
		if err != nil {
			return eventstore.Append{}, err
		}
		activated = next.id
		return m.append(eventstore.PendingEvent{Type: events.KeyPairActivated, Payload: events.KeyPairActivatedPayload{
			KeyID: next.id, Retired: active.id, At: now}}, add), nil
	})
	if err != nil {
		return "", err
	}
	return activated, nil
}

// readySigningKeys loads instanceID's keys, ensuring them first when the
// instance lacks an active or a next key.
func (c *Commands) readySigningKeys(ctx context.Context, instanceID string) (*signingKeysModel, error) {
	m, err := c.loadSigningKeys(ctx, instanceID)
	if err != nil {
		return nil, err
	}
	if m.inState(SigningKeyActive) != nil && m.inState(SigningKeyNext) != nil {
		return m, nil
	}
	if err := c.EnsureSigningKeys(ctx, instanceID); err != nil {
		return nil, err
	}
	return c.loadSigningKeys(ctx, instanceID)
}

// SigningKey returns instanceID's active key, opened, generating the
// instance's keys on first use. The returned key must never be logged.
//
// Errors: Internal COMMAND-SKey20 when the private key does not open with
// the keyring or does not parse; those of EnsureSigningKeys.
func (c *Commands) SigningKey(ctx context.Context, instanceID string) (*SigningKey, error) {
	m, err := c.readySigningKeys(ctx, instanceID)
	if err != nil {
		return nil, err
	}
	k := m.inState(SigningKeyActive)
	if k == nil {
		return nil, errs.Internal("COMMAND-SKey20", errors.New("no active signing key"))
	}
	priv, err := c.openSigningKey(instanceID, k)
	if err != nil {
		return nil, err
	}
	return &SigningKey{ID: k.id, Algorithm: k.alg, Key: priv}, nil
}

func (c *Commands) openSigningKey(instanceID string, k *signingKeyEntry) (*rsa.PrivateKey, error) {
	if c.keys == nil {
		return nil, errs.Internal("COMMAND-SKey20", errors.New("no keyring to open signing keys with"))
	}
	sealed, err := secretbox.ParseSealed(k.private)
	if err != nil {
		return nil, errs.Internal("COMMAND-SKey20", fmt.Errorf("signing key %s is not a sealed value", k.id))
	}
	text, err := c.keys.Open(sealed, signingKeyAAD(instanceID, k.id))
	if err != nil {
		return nil, errs.Internal("COMMAND-SKey20", fmt.Errorf("open signing key %s (sealed with key %s): %w", k.id, sealed.KeyID, err))
	}
	der, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return nil, errs.Internal("COMMAND-SKey20", fmt.Errorf("signing key %s: bad encoding", k.id))
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errs.Internal("COMMAND-SKey20", fmt.Errorf("signing key %s: bad key", k.id))
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, errs.Internal("COMMAND-SKey20", fmt.Errorf("signing key %s: not RSA", k.id))
	}
	return priv, nil
}

// KeySet returns the public keys instanceID publishes: its next and active
// keys and the retired keys whose tokens may still be valid (retired less
// than the retention ago, by the commands' clock), generating the
// instance's keys on first use.
//
// Errors: Internal COMMAND-SKey21 when a stored public key does not parse;
// those of EnsureSigningKeys.
func (c *Commands) KeySet(ctx context.Context, instanceID string) ([]PublicSigningKey, error) {
	m, err := c.readySigningKeys(ctx, instanceID)
	if err != nil {
		return nil, err
	}
	now := c.now()
	var out []PublicSigningKey
	for _, k := range m.keys {
		if k.state == SigningKeyRetired && !now.Before(k.retiredAt.Add(c.signingKeyRetention)) {
			continue
		}
		parsed, err := x509.ParsePKIXPublicKey(k.public)
		if err != nil {
			return nil, errs.Internal("COMMAND-SKey21", fmt.Errorf("signing key %s: public key: %w", k.id, err))
		}
		pub, ok := parsed.(*rsa.PublicKey)
		if !ok {
			return nil, errs.Internal("COMMAND-SKey21", fmt.Errorf("signing key %s: not RSA", k.id))
		}
		out = append(out, PublicSigningKey{ID: k.id, Algorithm: k.alg, Use: "sig", Key: pub, State: k.state})
	}
	return out, nil
}

// resealSigningKeys appends key_pair.resealed for each key of instanceID
// whose private key is sealed under a master key other than the current
// one, in one append. It reports whether it wrote.
func (c *Commands) resealSigningKeys(ctx context.Context, instanceID string) (bool, error) {
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		m, err := c.loadSigningKeys(ctx, instanceID)
		if err != nil {
			return eventstore.Append{}, err
		}
		var out []eventstore.PendingEvent
		for _, k := range m.keys {
			sealed, err := secretbox.ParseSealed(k.private)
			if err != nil {
				return eventstore.Append{}, errs.Internal("COMMAND-Key03", fmt.Errorf("signing key %s is not a sealed value", k.id))
			}
			resealed, err := c.keys.Reseal(sealed, signingKeyAAD(instanceID, k.id))
			if err != nil {
				return eventstore.Append{}, errs.Internal("COMMAND-Key04",
					fmt.Errorf("signing key %s: reseal (sealed with key %s): %w", k.id, sealed.KeyID, err))
			}
			if resealed.KeyID != sealed.KeyID {
				out = append(out, eventstore.PendingEvent{Type: events.KeyPairResealed,
					Payload: events.KeyPairResealedPayload{KeyID: k.id, PrivateKey: resealed.Text()}})
			}
		}
		if len(out) == 0 {
			return eventstore.Append{}, eventstore.ErrNothingToDo
		}
		return m.append(out...), nil
	})
	if err != nil {
		return false, err
	}
	return len(evs) > 0, nil
}

// signingKeyUsage adds to use, per master key ID, the signing keys of
// instanceID sealed under it.
func (c *Commands) signingKeyUsage(ctx context.Context, instanceID string, use map[string]int) error {
	m, err := c.loadSigningKeys(ctx, instanceID)
	if err != nil {
		return err
	}
	for _, k := range m.keys {
		sealed, err := secretbox.ParseSealed(k.private)
		if err != nil {
			return errs.Internal("COMMAND-Key03", fmt.Errorf("signing key %s is not a sealed value", k.id))
		}
		use[sealed.KeyID]++
	}
	return nil
}
