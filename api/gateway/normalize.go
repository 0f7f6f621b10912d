package gateway

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/idledger/idledger/errs"
)

// maxDepth is the deepest nesting of objects and arrays a body may have.
const maxDepth = 64

// normalizeKeys validates src as one JSON value and rewrites every object key
// that contains '_' from snake_case to lowerCamelCase, as protobuf derives
// JSON names ("idp_id" -> "idpId"). Whitespace-only input is "{}".
//
// It is a single pass over the bytes that checks what encoding/json does not:
// UTF-8 inside strings and the nesting depth. It copies only when a key
// changes. Recursion is bounded by maxDepth, so no input can exhaust the
// stack. Errors are InvalidArgument.
func normalizeKeys(src []byte) ([]byte, error) {
	s := keyScanner{src: src}
	s.skipSpace()
	if s.pos == len(src) {
		return []byte("{}"), nil
	}
	if err := s.value(0); err != nil {
		return nil, err
	}
	s.skipSpace()
	if s.pos != len(src) {
		return nil, s.syntaxError("unexpected data after the top-level value")
	}
	if s.out == nil {
		return src, nil
	}
	return append(s.out, src[s.copied:]...), nil
}

type keyScanner struct {
	src    []byte
	pos    int
	out    []byte // nil until the first key is rewritten
	copied int    // src[:copied] is already in out
}

func (s *keyScanner) value(depth int) error {
	if s.pos >= len(s.src) {
		return s.unexpected()
	}
	switch c := s.src[s.pos]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		_, err := s.str()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || isDigit(c):
		return s.number()
	}
	return s.unexpected()
}

func (s *keyScanner) object(depth int) error {
	return s.container(depth, '}', func() error {
		if s.peek() != '"' {
			return s.unexpected()
		}
		start := s.pos
		special, err := s.str()
		if err != nil {
			return err
		}
		if special {
			if err := s.rewriteKey(start, s.pos); err != nil {
				return err
			}
		}
		s.skipSpace()
		if s.peek() != ':' {
			return s.unexpected()
		}
		s.pos++
		s.skipSpace()
		return s.value(depth)
	})
}

func (s *keyScanner) array(depth int) error {
	return s.container(depth, ']', func() error { return s.value(depth) })
}

// container scans an object or an array, whichever opens at s.pos and
// closes with end: its entries (scanned by entry, from their first
// character) separated by commas.
func (s *keyScanner) container(depth, end int, entry func() error) error {
	if depth > maxDepth {
		return tooDeep()
	}
	s.pos++ // '{' or '['
	s.skipSpace()
	if s.peek() == end {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		if err := entry(); err != nil {
			return err
		}
		s.skipSpace()
		switch s.peek() {
		case ',':
			s.pos++
		case end:
			s.pos++
			return nil
		default:
			return s.unexpected()
		}
	}
}

// str scans a string starting at its opening quote. special reports an
// underscore or an escape, either of which may make it a key to rewrite.
func (s *keyScanner) str() (special bool, err error) {
	s.pos++ // '"'
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == '"':
			s.pos++
			return special, nil
		case c == '\\':
			special = true
			if err := s.escape(); err != nil {
				return false, err
			}
		case c < 0x20:
			return false, s.syntaxError("control character in string")
		case c < utf8.RuneSelf:
			special = special || c == '_'
			s.pos++
		default:
			r, size := utf8.DecodeRune(s.src[s.pos:])
			if r == utf8.RuneError && size == 1 {
				return false, errs.InvalidArgument("", fmt.Sprintf("invalid JSON: invalid UTF-8 in string at offset %d", s.pos))
			}
			s.pos += size
		}
	}
	return false, s.unexpected()
}

// escape scans one escape sequence starting at its backslash.
func (s *keyScanner) escape() error {
	if s.pos+1 >= len(s.src) {
		s.pos = len(s.src)
		return s.unexpected()
	}
	switch s.src[s.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos += 2
		return nil
	case 'u':
		for i := s.pos + 2; i < s.pos+6; i++ {
			if i >= len(s.src) || !isHex(s.src[i]) {
				return s.syntaxError("invalid \\u escape in string")
			}
		}
		s.pos += 6
		return nil
	}
	return s.syntaxError("invalid escape in string")
}

func (s *keyScanner) number() error {
	if s.peek() == '-' {
		s.pos++
	}
	switch c := s.peek(); {
	case c == '0':
		s.pos++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return s.unexpected()
	}
	if s.peek() == '.' {
		s.pos++
		if !isDigit(byte(s.peek())) {
			return s.unexpected()
		}
		s.digits()
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.pos++
		if c := s.peek(); c == '+' || c == '-' {
			s.pos++
		}
		if !isDigit(byte(s.peek())) {
			return s.unexpected()
		}
		s.digits()
	}
	return nil
}

func (s *keyScanner) digits() {
	for s.pos < len(s.src) && isDigit(s.src[s.pos]) {
		s.pos++
	}
}

func (s *keyScanner) literal(lit string) error {
	for i := 0; i < len(lit); i++ {
		if s.pos >= len(s.src) || s.src[s.pos] != lit[i] {
			return s.unexpected()
		}
		s.pos++
	}
	return nil
}

// rewriteKey replaces the key src[start:end] (quotes included) with its
// lowerCamelCase form when it has an underscore.
func (s *keyScanner) rewriteKey(start, end int) error {
	raw := s.src[start:end]
	key := string(raw[1 : len(raw)-1])
	escaped := strings.IndexByte(key, '\\') >= 0
	if escaped {
		if err := json.Unmarshal(raw, &key); err != nil {
			return s.syntaxError("invalid string")
		}
	}
	if strings.IndexByte(key, '_') < 0 {
		return nil
	}
	if s.out == nil {
		s.out = make([]byte, 0, len(s.src))
	}
	s.out = append(s.out, s.src[s.copied:start]...)
	camel := camelKey(key)
	if escaped {
		// The decoded key may hold characters that need escaping again.
		b, _ := json.Marshal(camel)
		s.out = append(s.out, b...)
	} else {
		// The raw key held no quote, backslash or control character, and
		// CamelKey only drops '_' and upper-cases ASCII letters.
		s.out = append(append(append(s.out, '"'), camel...), '"')
	}
	s.copied = end
	return nil
}

func (s *keyScanner) skipSpace() {
	for s.pos < len(s.src) {
		switch s.src[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next byte, or -1 at the end of the input.
func (s *keyScanner) peek() int {
	if s.pos >= len(s.src) {
		return -1
	}
	return int(s.src[s.pos])
}

// unexpected reports the byte at the current position.
func (s *keyScanner) unexpected() error {
	if s.pos >= len(s.src) {
		return errs.InvalidArgument("", "invalid JSON: unexpected end of input")
	}
	c := s.src[s.pos]
	what := fmt.Sprintf("byte 0x%02x", c)
	if c > ' ' && c < utf8.RuneSelf {
		what = strconv.QuoteRune(rune(c))
	}
	return s.syntaxError("unexpected " + what)
}

func (s *keyScanner) syntaxError(msg string) error {
	return errs.InvalidArgument("", fmt.Sprintf("invalid JSON: %s at offset %d", msg, s.pos))
}

func tooDeep() error {
	return errs.InvalidArgument("", fmt.Sprintf("invalid JSON: nested deeper than %d levels", maxDepth))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
