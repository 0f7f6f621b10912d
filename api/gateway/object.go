package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/idledger/idledger/errs"
)

// Object is a request body parsed by ParseObject: a JSON object whose keys,
// at every depth, are lowerCamelCase. It is Decode's field-by-field form,
// for routes whose bodies spread one message over several typed targets
// (the IdP templates: name, providerOptions and the kind's config at the top
// level). Its errors name the field that caused them, in words of the JSON
// ("expected a string, got a number"), and carry the ID given to
// ParseObject.
type Object struct {
	fields map[string]any
	id     string // error ID of InvalidArgument
}

// ReadBody reads the request body as Decode does: at most MaxBodyBytes
// (larger is the error WriteError answers with 413); none is empty.
func ReadBody(r *http.Request) ([]byte, error) { return readBody(r) }

// ParseObject parses body as one JSON object. Keys may be lowerCamelCase or
// snake_case; both spellings of one field in the same object is an error,
// as in protojson. An empty body is an empty object.
//
// Errors: InvalidArgument with ID id for malformed JSON, invalid UTF-8, a
// NUL character, trailing data, or a body that is not an object.
func ParseObject(body []byte, id string) (Object, error) {
	m, err := decodeBody(body, id)
	if err != nil {
		return Object{}, err
	}
	return Object{fields: m, id: id}, nil
}

// String returns the string field key ("" when absent or null).
//
// Errors: InvalidArgument when the value is not a string.
func (o Object) String(key string) (string, error) {
	v, ok := o.fields[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fieldTypeError(o.id, key, "a string", jsonType(v))
	}
	return s, nil
}

// Object returns the object field key; an absent or null field is an empty
// Object.
//
// Errors: InvalidArgument when the value is not an object.
func (o Object) Object(key string) (Object, error) {
	sub := Object{fields: map[string]any{}, id: o.id}
	v, ok := o.fields[key]
	if !ok || v == nil {
		return sub, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Object{}, fieldTypeError(o.id, key, "an object", jsonType(v))
	}
	sub.fields = m
	return sub, nil
}

// Into sets dst's fields (dst points to a struct) from o one key at a time,
// in sorted key order, so that an error names the field that caused it;
// path prefixes the names in messages ("providerOptions."). Keys that are
// not dst's exact JSON names are ignored (encoding/json alone would also
// match them case-insensitively).
//
// Errors: InvalidArgument for a value of the wrong type.
func (o Object) Into(dst any, path string) error {
	known := jsonNames(reflect.TypeOf(dst).Elem())
	for _, k := range slices.Sorted(maps.Keys(o.fields)) {
		if !known[k] {
			continue
		}
		raw, err := json.Marshal(map[string]any{k: o.fields[k]})
		if err != nil {
			return invalidJSON(o.id, fmt.Sprintf("invalid value for field %q", path+k))
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return fieldError(o.id, path, k, err)
		}
	}
	return nil
}

func invalidJSON(id, msg string) error { return errs.InvalidArgument(id, msg) }

func fieldTypeError(id, field, want, got string) error {
	return invalidJSON(id, fmt.Sprintf("invalid value for field %q: expected %s, got %s", field, want, got))
}

// decodeBody reads the body into a map whose keys, at every depth, are
// lowerCamelCase. An empty body is an empty object.
func decodeBody(body []byte, id string) (map[string]any, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return map[string]any{}, nil
	}
	// encoding/json would turn invalid UTF-8 into U+FFFD (protojson rejects
	// it) and \u0000 into a NUL that PostgreSQL cannot store: both are bad
	// input.
	if !utf8.Valid(body) {
		return nil, invalidJSON(id, "malformed JSON body: invalid UTF-8")
	}
	if hasNULEscape(body) {
		return nil, invalidJSON(id, "malformed JSON body: strings must not contain the NUL character (\\u0000)")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, invalidJSON(id, "malformed JSON body: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalidJSON(id, "malformed JSON body: unexpected data after the top-level value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidJSON(id, "the request body must be a JSON object, got "+jsonType(v))
	}
	out, err := camelKeys(id, m, "")
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

// camelKeys rewrites snake_case object keys to lowerCamelCase, recursively,
// as grpc-gateway accepts both a field's proto name and its JSON name. Both
// spellings of one field in the same object is an error, as in protojson.
func camelKeys(id string, v any, path string) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for _, k := range slices.Sorted(maps.Keys(t)) {
			ck := camelKey(k)
			if _, dup := out[ck]; dup {
				return nil, invalidJSON(id, fmt.Sprintf("duplicate field %q", path+ck))
			}
			cv, err := camelKeys(id, t[k], path+ck+".")
			if err != nil {
				return nil, err
			}
			out[ck] = cv
		}
		return out, nil
	case []any:
		for i := range t {
			cv, err := camelKeys(id, t[i], path)
			if err != nil {
				return nil, err
			}
			t[i] = cv
		}
	}
	return v, nil
}

func fieldError(id, path, key string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := key
		if te.Field != "" {
			field = te.Field
		}
		got, _, _ := strings.Cut(te.Value, " ") // "number 1e999" -> "number"
		if a, ok := map[string]string{
			"number": "a number", "string": "a string", "bool": "a boolean", "array": "an array", "object": "an object",
		}[got]; ok {
			got = a
		}
		want := goTypeAsJSON(te.Type)
		if r, ok := reflect.Zero(te.Type).Interface().(interface{ InvalidValueReason() string }); ok {
			// A protobuf-JSON value type (pbjson.Duration) says what it expects.
			return invalidJSON(id, fmt.Sprintf("invalid value for field %q: %s, got %s", path+field, r.InvalidValueReason(), got))
		}
		return fieldTypeError(id, path+field, want, got)
	}
	return invalidJSON(id, fmt.Sprintf("invalid value for field %q: %v", path+key, err))
}

// jsonNames lists the JSON names of a struct type's fields, those of
// embedded structs included, as encoding/json promotes them.
func jsonNames(t reflect.Type) map[string]bool {
	names := make(map[string]bool, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			maps.Copy(names, jsonNames(f.Type))
			continue
		}
		if f.IsExported() && name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}

func goTypeAsJSON(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "an array of strings"
		}
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return goTypeAsJSON(t.Elem())
	default:
		return "a number"
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	default:
		return "an object"
	}
}
