package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"

	"github.com/idledger/idledger/errs"
)

// WriteJSON writes v as JSON with the given status. Response structs declare
// lowerCamelCase names and `omitempty`/`omitzero` so that default values are
// left out, as protobuf JSON does; use Int64, Uint64, Timestamp, Duration and
// EnumValue for fields with protobuf JSON rules.
//
// v is encoded before anything is written. If that fails (a programming
// error), the client gets the standard 500 body and the access log line of
// the request carries the cause.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		noteError(w, err)
		status, b = http.StatusInternalServerError, mustMarshal(publicBody(int(errs.KindInternal), "", msgInternal))
	}
	writeRaw(w, status, b)
}

// writeJSONBody writes an error body, which always encodes.
func writeJSONBody(w http.ResponseWriter, status int, body errorBody) {
	writeRaw(w, status, mustMarshal(body))
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client has gone; nothing left to tell it
}

// marshal encodes v like protojson does: '<', '>' and '&' are not escaped.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// mustMarshal encodes values that cannot fail: strings, ints and slices.
func mustMarshal(v any) []byte {
	b, err := marshal(v)
	if err != nil {
		panic("gateway: encode: " + err.Error())
	}
	return b
}

// Int64 is a protobuf int64: a JSON string on output ("12"); a string or a
// number on input.
type Int64 int64

// MarshalJSON encodes i as a JSON string.
func (i Int64) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, strconv.FormatInt(int64(i), 10)), nil
}

// UnmarshalJSON accepts "12", 12 and null (which leaves i unchanged). Any
// other input is a *json.UnmarshalTypeError, which Decode reports as
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

func (Int64) invalidValueReason() string { return "expected int64 as a string or number" }

// Uint64 is a protobuf uint64: a JSON string on output ("12"); a string or a
// number on input.
type Uint64 uint64

// MarshalJSON encodes u as a JSON string.
func (u Uint64) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, strconv.FormatUint(uint64(u), 10)), nil
}

// UnmarshalJSON accepts "12", 12 and null (which leaves u unchanged). Any
// other input is a *json.UnmarshalTypeError, which Decode reports as
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

func (Uint64) invalidValueReason() string { return "expected uint64 as a string or number" }

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
