package gateway

// Two small rules about request JSON that both decoders (Decode and
// ParseObject) apply: the protobuf derivation of a JSON name from a
// snake_case field name, and the detection of \u0000, which PostgreSQL can
// store neither as text nor in jsonb.

import "strings"

// camelKey derives a protobuf JSON name: each '_' is dropped and the ASCII
// letter after it upper-cased (id_attribute -> idAttribute). A key without
// '_' is returned as is.
func camelKey(key string) string {
	if !strings.Contains(key, "_") {
		return key
	}
	var b strings.Builder
	b.Grow(len(key))
	upper := false
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '_':
			upper = true
			continue
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		upper = false
		b.WriteByte(c)
	}
	return b.String()
}

// hasNULEscape reports whether the JSON text holds the escape \u0000 in a
// string. Backslashes occur only inside strings of valid JSON, and each
// escape is skipped as a whole, so "\\u0000" (a backslash, then u0000) is
// not one.
func hasNULEscape(js []byte) bool {
	for i := 0; i < len(js); i++ {
		if js[i] != '\\' {
			continue
		}
		if i+5 < len(js) && js[i+1] == 'u' && string(js[i+2:i+6]) == "0000" {
			return true
		}
		i++ // the escaped character
	}
	return false
}
