package secretbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Sealed is an encrypted secret. Its JSON form, used in event payloads, is
// {"keyId":"…","nonce":"<base64>","ct":"<base64>"}. Its text form (MarshalText,
// ParseSealed) is "v1:<keyId>:<nonce>:<ct>" with unpadded URL-safe base64, for
// storing a sealed value where a string is expected.
//
// Neither form contains the plaintext, and String returns "[encrypted]", so a
// Sealed can be logged or printed safely.
type Sealed struct {
	KeyID string // ID of the key that sealed it (see KeyID)
	Nonce []byte // 12 random bytes
	CT    []byte // ciphertext followed by the GCM tag
}

const textVersion = "v1"

// String hides even the ciphertext: log lines need not carry it.
func (Sealed) String() string { return "[encrypted]" }

// GoString keeps %#v from printing the fields.
func (Sealed) GoString() string { return "secretbox.Sealed{[encrypted]}" }

// IsZero reports whether s holds nothing.
func (s Sealed) IsZero() bool { return s.KeyID == "" && len(s.Nonce) == 0 && len(s.CT) == 0 }

type sealedJSON struct {
	KeyID string `json:"keyId"`
	Nonce []byte `json:"nonce"`
	CT    []byte `json:"ct"`
}

// MarshalJSON writes the object form. It is needed because Sealed also
// implements encoding.TextMarshaler, which encoding/json would otherwise use.
func (s Sealed) MarshalJSON() ([]byte, error) {
	return json.Marshal(sealedJSON(s))
}

// UnmarshalJSON reads the object form, or a JSON string in the text form.
func (s *Sealed) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var t string
		if err := json.Unmarshal(data, &t); err != nil {
			return err
		}
		return s.UnmarshalText([]byte(t))
	}
	var v sealedJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*s = Sealed(v)
	return nil
}

// MarshalText writes the compact text form (ciphertext, never plaintext).
func (s Sealed) MarshalText() ([]byte, error) {
	enc := base64.RawURLEncoding
	return []byte(strings.Join([]string{
		textVersion, s.KeyID, enc.EncodeToString(s.Nonce), enc.EncodeToString(s.CT),
	}, ":")), nil
}

// UnmarshalText reads the compact text form. It returns ErrMalformed for
// anything else.
func (s *Sealed) UnmarshalText(text []byte) error {
	parts := strings.Split(string(text), ":")
	if len(parts) != 4 || parts[0] != textVersion || parts[1] == "" {
		return ErrMalformed
	}
	nonce, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return ErrMalformed
	}
	ct, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil {
		return ErrMalformed
	}
	*s = Sealed{KeyID: parts[1], Nonce: nonce, CT: ct}
	return nil
}

// Text returns the compact text form as a string.
func (s Sealed) Text() string {
	b, _ := s.MarshalText()
	return string(b)
}

// ParseSealed parses the compact text form. It returns ErrMalformed for
// anything else.
func ParseSealed(text string) (Sealed, error) {
	var s Sealed
	err := s.UnmarshalText([]byte(text))
	return s, err
}
