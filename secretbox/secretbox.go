package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
)

// KeySize is the size of an AES-256 key in bytes.
const KeySize = 32

const nonceSize = 12 // the standard GCM nonce size

// Errors returned by this package. Callers treat all of them as internal
// errors: a secret that does not open means a wrong master key or a changed
// event, never bad user input.
var (
	// ErrUnknownKey means the sealed value names a key ID the keyring does not hold.
	ErrUnknownKey = errors.New("secretbox: sealed with a key that is not in the keyring")
	// ErrOpen means authentication failed: wrong key, wrong AAD, or tampered data.
	ErrOpen = errors.New("secretbox: message authentication failed")
	// ErrMalformed means the sealed value is structurally invalid.
	ErrMalformed = errors.New("secretbox: malformed sealed value")
	// ErrAAD means an AAD field is empty, which would weaken the binding.
	ErrAAD = errors.New("secretbox: AAD needs instance ID, IdP ID and field")
)

// AAD is the context a secret is bound to. Opening with any other AAD fails,
// so a ciphertext cannot be moved to another instance, IdP or field.
type AAD struct {
	InstanceID string
	IDPID      string
	Field      string
}

// bytes encodes the AAD unambiguously: a version tag, then each part
// length-prefixed, so ("ab","c") and ("a","bc") never collide.
func (a AAD) bytes() ([]byte, error) {
	if a.InstanceID == "" || a.IDPID == "" || a.Field == "" {
		return nil, ErrAAD
	}
	b := []byte("idledger.secretbox.v1")
	for _, s := range []string{a.InstanceID, a.IDPID, a.Field} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b, nil
}

type key struct {
	id   string
	aead cipher.AEAD
}

// Keyring seals with its current key and opens with the current key or any
// older key it holds. It is safe for concurrent use. Replace swaps the whole
// set of keys atomically (a running server picks up a rotated keyring), and
// an optional refresh hook (OnRefresh) is asked to look for a newer set
// before every Seal and when Open meets a key it does not hold.
type Keyring struct {
	set     atomic.Pointer[keySet]
	refresh atomic.Pointer[func()]
}

type keySet struct {
	current key
	old     []key
}

// NewKeyring returns a keyring that seals with current and also opens values
// sealed with any of old. Every key must be KeySize bytes. Duplicates of the
// current key among old are ignored; two different keys with the same key ID
// are rejected.
func NewKeyring(current []byte, old ...[]byte) (*Keyring, error) {
	k := &Keyring{}
	if err := k.Replace(current, old...); err != nil {
		return nil, err
	}
	return k, nil
}

// Replace makes current the sealing key and old the further keys that
// open, at once for every caller. Errors as NewKeyring's; on error the
// keyring is unchanged.
func (k *Keyring) Replace(current []byte, old ...[]byte) error {
	cur, err := newKey(current)
	if err != nil {
		return fmt.Errorf("current key: %w", err)
	}
	set := &keySet{current: cur}
	seen := map[string][]byte{cur.id: current}
	for i, raw := range old {
		o, err := newKey(raw)
		if err != nil {
			return fmt.Errorf("old key %d: %w", i+1, err)
		}
		if prev, ok := seen[o.id]; ok {
			if string(prev) != string(raw) {
				return fmt.Errorf("old key %d: key ID %s collides with another key", i+1, o.id)
			}
			continue
		}
		seen[o.id] = raw
		set.old = append(set.old, o)
	}
	k.set.Store(set)
	return nil
}

// OnRefresh installs f, which may call Replace with a newer set of keys
// (from the keyring file, say). It runs before every Seal and once when
// Open meets an unknown key ID, so it must be cheap when nothing changed.
func (k *Keyring) OnRefresh(f func()) { k.refresh.Store(&f) }

func (k *Keyring) refreshed() *keySet {
	if f := k.refresh.Load(); f != nil {
		(*f)()
	}
	return k.set.Load()
}

// IDs returns the key IDs the keyring holds, the current one first.
func (k *Keyring) IDs() []string {
	set := k.set.Load()
	ids := []string{set.current.id}
	for _, o := range set.old {
		ids = append(ids, o.id)
	}
	return ids
}

func newKey(raw []byte) (key, error) {
	if len(raw) != KeySize {
		return key{}, fmt.Errorf("key must be %d bytes, got %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return key{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, err
	}
	return key{id: KeyID(raw), aead: aead}, nil
}

// KeyID returns the public identifier of a key: the first 8 hex characters
// of its SHA-256. It names the key in events without revealing it.
func KeyID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:4])
}

// CurrentID is the key ID that Seal records.
func (k *Keyring) CurrentID() string { return k.set.Load().current.id }

// Seal encrypts plaintext with the current key and a fresh random nonce,
// bound to aad. It fails only for an incomplete AAD (ErrAAD) or when the
// system's random source fails.
func (k *Keyring) Seal(plaintext string, aad AAD) (Sealed, error) {
	ad, err := aad.bytes()
	if err != nil {
		return Sealed{}, err
	}
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return Sealed{}, fmt.Errorf("secretbox: read nonce: %w", err)
	}
	cur := k.refreshed().current
	ct := cur.aead.Seal(nil, nonce, []byte(plaintext), ad)
	return Sealed{KeyID: cur.id, Nonce: nonce, CT: ct}, nil
}

// Open decrypts s, which must have been sealed with the same aad by a key in
// the keyring. Errors: ErrAAD, ErrMalformed, ErrUnknownKey, ErrOpen.
func (k *Keyring) Open(s Sealed, aad AAD) (string, error) {
	ad, err := aad.bytes()
	if err != nil {
		return "", err
	}
	set := k.set.Load()
	if len(s.Nonce) != nonceSize || len(s.CT) < set.current.aead.Overhead() {
		return "", ErrMalformed
	}
	kk, ok := set.find(s.KeyID)
	if !ok {
		// A rotation elsewhere may have sealed it under a key this process
		// has not loaded yet.
		kk, ok = k.refreshed().find(s.KeyID)
	}
	if !ok {
		return "", fmt.Errorf("%w (key ID %q)", ErrUnknownKey, s.KeyID)
	}
	pt, err := kk.aead.Open(nil, s.Nonce, s.CT, ad)
	if err != nil {
		return "", ErrOpen
	}
	return string(pt), nil
}

// Reseal re-encrypts s under the current key, for master-key rotation. A
// value already sealed with the current key is verified and returned
// unchanged, so a rotation pass writes nothing for it. Errors as for Open.
func (k *Keyring) Reseal(s Sealed, aad AAD) (Sealed, error) {
	pt, err := k.Open(s, aad)
	if err != nil {
		return Sealed{}, err
	}
	if s.KeyID == k.set.Load().current.id {
		return s, nil
	}
	return k.Seal(pt, aad)
}

func (k *keySet) find(id string) (key, bool) {
	if id == k.current.id {
		return k.current, true
	}
	for _, o := range k.old {
		if o.id == id {
			return o, true
		}
	}
	return key{}, false
}

// ParseMasterKey decodes a master key given as standard or URL-safe base64
// (padded or not) of 32 bytes, or as exactly 32 raw characters. A trailing
// line break, as a key file has, is ignored. The error never contains the key.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimRight(s, "\r\n")
	if s == "" {
		return nil, errors.New("master key is empty")
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	// base64 of 32 bytes is 43 or 44 characters, so a 32-character key is
	// never mistaken for base64.
	if len(s) == KeySize {
		return []byte(s), nil
	}
	return nil, fmt.Errorf("master key must be %d bytes, given as base64 (44 characters) or as exactly %d raw characters; got %d characters that are neither",
		KeySize, KeySize, len(s))
}
