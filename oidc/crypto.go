package oidc

import (
	"encoding/base64"
	"errors"

	"github.com/idledger/idledger/secretbox"
)

// tokenAAD binds the OP's opaque tokens and codes to their use: they open
// only as OP tokens, never as any other sealed secret.
var tokenAAD = secretbox.AAD{InstanceID: "oidc", IDPID: "op", Field: "token"}

// keyringCrypto is the op.Crypto of opaque access tokens and codes: the
// master keyring's AES-256-GCM. Every master key in the keyring opens, so
// tokens survive a master-key rotation; without the master key, nothing in
// the database opens or forges one (the events hold token IDs only).
type keyringCrypto struct{ keys *secretbox.Keyring }

func (k keyringCrypto) Encrypt(s string) (string, error) {
	sealed, err := k.keys.Seal(s, tokenAAD)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString([]byte(sealed.Text())), nil
}

var errNotOurs = errors.New("not an OP token")

func (k keyringCrypto) Decrypt(s string) (string, error) {
	if len(s) > 2048 {
		return "", errNotOurs
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", errNotOurs
	}
	sealed, err := secretbox.ParseSealed(string(raw))
	if err != nil {
		return "", errNotOurs
	}
	plain, err := k.keys.Open(sealed, tokenAAD)
	if err != nil {
		return "", errNotOurs
	}
	return plain, nil
}
