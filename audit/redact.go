package audit

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/secretbox"
)

// Redacted replaces every secret value in output.
const Redacted = "[encrypted]"

// secretFields are the JSON names of every IdP kind's secret fields
// (clientSecret, bindPassword, privateKey, ...), read from the kinds table
// so that a new kind's secrets are redacted without touching this package,
// and the password-hash fields of events.SecretPayloadFields.
var secretFields = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range idp.Kinds() {
		for _, s := range idp.Secrets(k.New()) {
			m[s.Field] = true
		}
	}
	for _, f := range events.SecretPayloadFields {
		m[f] = true
	}
	return m
}()

// RedactPayload returns payload with every secret replaced by "[encrypted]".
// Two independent rules apply, so that a mistake in one is caught by the
// other: any non-empty string under a secret field name of the IdP kinds
// table, and any value that is sealed text ("v1:<keyId>:<nonce>:<ct>") or a
// sealed object ({keyId, nonce, ct}) wherever it appears. Payloads that are
// not valid JSON are replaced entirely, since nothing in them can be vetted.
// Payloads without secrets are returned unchanged.
func RedactPayload(payload json.RawMessage) json.RawMessage {
	if len(payload) == 0 {
		return payload
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		b, _ := json.Marshal(Redacted)
		return b
	}
	v, changed := redact(v, false)
	if !changed {
		return payload
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		b, _ := json.Marshal(Redacted)
		return b
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}

// redact walks v; secret is set when v sits under a secret field name.
func redact(v any, secret bool) (any, bool) {
	switch x := v.(type) {
	case string:
		if (secret && x != "") || looksSealed(x) {
			return Redacted, x != Redacted
		}
	case map[string]any:
		if isSealedObject(x) {
			return Redacted, true
		}
		changed := false
		for k, child := range x {
			nv, c := redact(child, secretFields[k])
			if c {
				x[k] = nv
				changed = true
			}
		}
		return x, changed
	case []any:
		changed := false
		for i, child := range x {
			nv, c := redact(child, secret)
			if c {
				x[i] = nv
				changed = true
			}
		}
		return x, changed
	}
	return v, false
}

func looksSealed(s string) bool {
	if !strings.HasPrefix(s, "v1:") {
		return false
	}
	_, err := secretbox.ParseSealed(s)
	return err == nil || strings.Count(s, ":") == 3
}

// isSealedObject recognises secretbox.Sealed's JSON object form.
func isSealedObject(m map[string]any) bool {
	_, k := m["keyId"]
	_, n := m["nonce"]
	_, c := m["ct"]
	return k && n && c
}
