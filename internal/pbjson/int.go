package pbjson

import (
	"encoding/json"
	"reflect"
	"strconv"
)

// Int64 is a protobuf int64: a JSON string on output ("12"); a string or a
// number on input.
type Int64 int64

// MarshalJSON encodes i as a JSON string.
func (i Int64) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, strconv.FormatInt(int64(i), 10)), nil
}

// UnmarshalJSON accepts "12", 12 and null (which leaves i unchanged). Any
// other input is a *json.UnmarshalTypeError, which a decoder reports as
// InvalidArgument naming the field.
func (i *Int64) UnmarshalJSON(b []byte) error {
	s, ok := integerText(b)
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return typeError(b, reflect.TypeFor[Int64]())
	}
	*i = Int64(n)
	return nil
}

// InvalidValueReason says what an Int64 field expects.
func (Int64) InvalidValueReason() string { return "expected int64 as a string or number" }

// Uint64 is a protobuf uint64: a JSON string on output ("12"); a string or a
// number on input.
type Uint64 uint64

// MarshalJSON encodes u as a JSON string.
func (u Uint64) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, strconv.FormatUint(uint64(u), 10)), nil
}

// UnmarshalJSON accepts "12", 12 and null (which leaves u unchanged). Any
// other input is a *json.UnmarshalTypeError, which a decoder reports as
// InvalidArgument naming the field.
func (u *Uint64) UnmarshalJSON(b []byte) error {
	s, ok := integerText(b)
	if !ok {
		return nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return typeError(b, reflect.TypeFor[Uint64]())
	}
	*u = Uint64(n)
	return nil
}

// InvalidValueReason says what a Uint64 field expects.
func (Uint64) InvalidValueReason() string { return "expected uint64 as a string or number" }

// integerText returns the text to parse as an integer: the number itself, or
// the content of a string. ok is false for null. A string with escapes is
// returned as is, so that parsing it fails.
func integerText(b []byte) (s string, ok bool) {
	if string(b) == "null" {
		return "", false
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
		if len(b) > 0 && b[0] == '+' {
			return "", true // strconv accepts a sign that protojson does not
		}
	}
	return string(b), true
}

// typeError describes a JSON value that does not fit t, in the form that
// encoding/json completes with the field path.
func typeError(b []byte, t reflect.Type) error {
	return &json.UnmarshalTypeError{Value: jsonKind(b), Type: t}
}

// jsonKind names the kind of the JSON value b, as encoding/json does.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "value"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}
