// Package sealed keeps a value in a cookie that only the server can read
// or change: the value's JSON sealed with the instance's keyring
// (secretbox) under an AAD naming the cookie's use, base64url-encoded. The
// hosted login's flow, its remembered sessions and the auth request
// binding are such cookies; each keeps its own name, path and lifetime.
//
// Imports: the standard library and secretbox.
package sealed

import (
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/idledger/idledger/secretbox"
)

// maxValue bounds the cookie value read: a browser keeps no cookie over
// 4 KiB, so a longer one did not come from this server.
const maxValue = 4096

// Read opens cookie name of r under aad into v. It reports false when the
// cookie is missing or too long, does not open (tampered, another AAD's,
// a key no longer in the ring) or does not hold v's JSON.
func Read(r *http.Request, name string, keys *secretbox.Keyring, aad secretbox.AAD, v any) bool {
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) > maxValue {
		return false
	}
	text, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return false
	}
	s, err := secretbox.ParseSealed(string(text))
	if err != nil {
		return false
	}
	plain, err := keys.Open(s, aad)
	if err != nil {
		return false
	}
	return json.Unmarshal([]byte(plain), v) == nil
}

// Value is the cookie value that holds v, sealed under aad.
func Value(keys *secretbox.Keyring, aad secretbox.AAD, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	s, err := keys.Seal(string(b), aad)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s.Text())), nil
}
