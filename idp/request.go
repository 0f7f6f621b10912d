package idp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/internal/jsontext"
)

// ParseRequest parses the JSON body of an add or update request of kind:
// name, providerOptions and the kind's config fields, all at the top level.
// Keys may be lowerCamelCase or snake_case; unknown keys are ignored; enums
// are names or numbers. The config is returned normalized (trimmed, with
// defaults) but not validated: call cfg.Validate with the owner's prefix.
//
// The name is trimmed; an empty name becomes kind.DefaultName, and is
// otherwise an error, as is a name over 200 characters.
//
// Errors: errs.InvalidArgument for malformed JSON, a wrong type (the message
// names the field) or a bad name; errs.Internal for a zero Kind.
func ParseRequest(kind Kind, body []byte) (name string, opts Options, cfg Config, err error) {
	if kind.New == nil {
		return "", Options{}, nil, errs.Internal("IDP-kind", fmt.Errorf("idp: kind %q is not in the table", kind.Path))
	}
	top, err := decodeBody(body)
	if err != nil {
		return "", Options{}, nil, err
	}
	if v, ok := top["name"]; ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return "", Options{}, nil, typeError("name", "a string", jsonType(v))
		}
		name = s
	}
	if v, ok := top["providerOptions"]; ok && v != nil {
		m, ok := v.(map[string]any)
		if !ok {
			return "", Options{}, nil, typeError("providerOptions", "an object", jsonType(v))
		}
		if err := decodeFields(&opts, m, "providerOptions."); err != nil {
			return "", Options{}, nil, err
		}
	}
	cfg = kind.New()
	if err := decodeFields(cfg, top, ""); err != nil {
		return "", Options{}, nil, err
	}
	Normalize(cfg)
	name, err = checkName(kind, name)
	if err != nil {
		return "", Options{}, nil, err
	}
	return name, opts, cfg, nil
}

// checkName applies the default name and the name's length rule. The
// message is protoc-gen-validate's for the add request.
func checkName(kind Kind, name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = kind.DefaultName
	}
	n := utf8.RuneCountInString(name)
	if n >= 1 && n <= 200 {
		return name, nil
	}
	reason := "value length must be between 1 and 200 runes, inclusive"
	if kind.DefaultName != "" {
		reason = "value length must be at most 200 runes"
	}
	return "", errs.InvalidArgument("IDP-"+kind.ConfigKey+"-name",
		fmt.Sprintf("invalid %s.Name: %s", kind.AddRequest(), reason))
}

func invalidJSON(msg string) error { return errs.InvalidArgument("IDP-json", msg) }

func typeError(field, want, got string) error {
	return invalidJSON(fmt.Sprintf("invalid value for field %q: expected %s, got %s", field, want, got))
}

// decodeBody reads the body into a map whose keys, at every depth, are
// lowerCamelCase. An empty body is an empty object.
func decodeBody(body []byte) (map[string]any, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return map[string]any{}, nil
	}
	// encoding/json would turn invalid UTF-8 into U+FFFD (protojson rejects
	// it) and \u0000 into a NUL that PostgreSQL cannot store: both are bad
	// input.
	if !utf8.Valid(body) {
		return nil, invalidJSON("malformed JSON body: invalid UTF-8")
	}
	if jsontext.HasNULEscape(body) {
		return nil, invalidJSON("malformed JSON body: strings must not contain the NUL character (\\u0000)")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, invalidJSON("malformed JSON body: " + err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalidJSON("malformed JSON body: unexpected data after the top-level value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidJSON("the request body must be a JSON object, got " + jsonType(v))
	}
	out, err := camelKeys(m, "")
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

// camelKeys rewrites snake_case object keys to lowerCamelCase, recursively,
// as grpc-gateway accepts both a field's proto name and its JSON name. Both
// spellings of one field in the same object is an error, as in protojson.
func camelKeys(v any, path string) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for _, k := range slices.Sorted(maps.Keys(t)) {
			ck := jsontext.CamelKey(k)
			if _, dup := out[ck]; dup {
				return nil, invalidJSON(fmt.Sprintf("duplicate field %q", path+ck))
			}
			cv, err := camelKeys(t[k], path+ck+".")
			if err != nil {
				return nil, err
			}
			out[ck] = cv
		}
		return out, nil
	case []any:
		for i := range t {
			cv, err := camelKeys(t[i], path)
			if err != nil {
				return nil, err
			}
			t[i] = cv
		}
	}
	return v, nil
}

// decodeFields sets dst's fields from m one key at a time, in sorted key
// order, so that an error names the field that caused it. Keys that are not
// dst's exact JSON names are ignored (encoding/json alone would also match
// them case-insensitively).
func decodeFields(dst any, m map[string]any, path string) error {
	known := jsonNames(reflect.TypeOf(dst).Elem())
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !known[k] {
			continue
		}
		raw, err := json.Marshal(map[string]any{k: m[k]})
		if err != nil {
			return invalidJSON(fmt.Sprintf("invalid value for field %q", path+k))
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return fieldError(path, k, err)
		}
	}
	return nil
}

func fieldError(path, key string, err error) error {
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
			return invalidJSON(fmt.Sprintf("invalid value for field %q: %s, got %s", path+field, r.InvalidValueReason(), got))
		}
		return typeError(path+field, want, got)
	}
	return invalidJSON(fmt.Sprintf("invalid value for field %q: %v", path+key, err))
}

// jsonNames lists the JSON names of a struct type's fields.
func jsonNames(t reflect.Type) map[string]bool {
	names := make(map[string]bool, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
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
