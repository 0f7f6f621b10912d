package pbjson

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"github.com/idledger/idledger/errs"
)

// msgUndefinedEnum is protoc-gen-validate's message for `defined_only`,
// which ZITADEL's requests carry on their enum fields.
const msgUndefinedEnum = "value must be one of the defined enum values"

// Enum is a protobuf enum's table of names, indexed by number. It is
// immutable once built, so tables can be package-level values.
type Enum struct {
	names  []string
	byName map[string]int
}

// NewEnum builds a table in which names[i] is the name of value i; an empty
// name leaves a gap. It panics on a duplicate name or on a name that is not
// an identifier ([A-Za-z0-9_]), because a table is a constant written in
// code.
func NewEnum(names ...string) *Enum {
	e := &Enum{names: append([]string(nil), names...), byName: make(map[string]int, len(names))}
	for i, n := range names {
		if n == "" {
			continue
		}
		for _, c := range []byte(n) {
			if !(c == '_' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
				panic(fmt.Sprintf("pbjson: enum name %q is not an identifier", n))
			}
		}
		if _, dup := e.byName[n]; dup {
			panic(fmt.Sprintf("pbjson: enum name %q appears twice", n))
		}
		e.byName[n] = i
	}
	return e
}

// Name returns the name of value n, or "" when n is not defined.
func (e *Enum) Name(n int) string {
	if n < 0 || n >= len(e.names) {
		return ""
	}
	return e.names[n]
}

// Value returns the number of the named value.
func (e *Enum) Value(name string) (int, bool) {
	n, ok := e.byName[name]
	return n, ok
}

// Defined reports whether n has a name.
func (e *Enum) Defined(n int) bool { return e.Name(n) != "" }

// Parse reads an enum from JSON: a name ("IDP_STATE_ACTIVE") or a number
// (1). null is 0, the unspecified value. It returns InvalidArgument
// ("value must be one of the defined enum values") for anything else.
func (e *Enum) Parse(raw json.RawMessage) (int, error) {
	if n, ok := e.parse(raw); ok {
		return n, nil
	}
	return 0, errs.InvalidArgument("", msgUndefinedEnum)
}

func (e *Enum) parse(raw []byte) (int, bool) {
	switch {
	case string(raw) == "null":
		return 0, true
	case len(raw) > 0 && raw[0] == '"':
		var name string
		if json.Unmarshal(raw, &name) != nil {
			return 0, false
		}
		return e.Value(name)
	}
	n, err := strconv.ParseInt(string(raw), 10, 32)
	if err != nil || !e.Defined(int(n)) {
		return 0, false
	}
	return int(n), true
}

// EnumDef names the table behind an EnumValue. Implement it on an empty
// struct type:
//
//	var idpStateEnum = pbjson.NewEnum("IDP_STATE_UNSPECIFIED", "IDP_STATE_ACTIVE")
//
//	type idpStateDef struct{}
//
//	func (idpStateDef) Enum() *pbjson.Enum { return idpStateEnum }
//
//	type IDPState = pbjson.EnumValue[idpStateDef]
type EnumDef interface {
	Enum() *Enum
}

// EnumValue is an enum number that encodes as its name and decodes from a
// name or a number, using D's table. Value 0 is the unspecified value: tag
// fields `json:",omitzero"` to leave it out as protobuf JSON does.
type EnumValue[D EnumDef] int

func (EnumValue[D]) enum() *Enum {
	var d D
	return d.Enum()
}

// String returns v's name, or its number when it has none.
func (v EnumValue[D]) String() string {
	if name := v.enum().Name(int(v)); name != "" {
		return name
	}
	return strconv.Itoa(int(v))
}

// MarshalJSON writes v's name; an undefined number is written as a number,
// as protojson does.
func (v EnumValue[D]) MarshalJSON() ([]byte, error) {
	name := v.enum().Name(int(v))
	if name == "" {
		return strconv.AppendInt(nil, int64(v), 10), nil
	}
	return strconv.AppendQuote(nil, name), nil
}

// UnmarshalJSON accepts a defined name or number; null leaves v unchanged.
// Anything else is a *json.UnmarshalTypeError, which a decoder reports as
// InvalidArgument "value must be one of the defined enum values" naming the
// field.
func (v *EnumValue[D]) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	n, ok := v.enum().parse(b)
	if !ok {
		return typeError(b, reflect.TypeFor[EnumValue[D]]())
	}
	*v = EnumValue[D](n)
	return nil
}

// InvalidValueReason says what an enum field expects.
func (EnumValue[D]) InvalidValueReason() string { return msgUndefinedEnum }
