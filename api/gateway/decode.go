package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"

	"github.com/idledger/idledger/errs"
)

// MaxBodyBytes is the largest request body Decode reads, and the limit
// NewRouter installs with BodyLimit.
const MaxBodyBytes = 1 << 20

// Decode reads the JSON request body into dst, which must be a non-nil
// pointer, the way ZITADEL's gateway does: keys may be lowerCamelCase or
// snake_case ("idpId" or "idp_id"), unknown fields are ignored and an empty
// body is {}. Key rewriting applies to every object, including free-form
// ones (map fields), so do not decode caller-chosen keys with it.
//
// It returns InvalidArgument for malformed JSON, invalid UTF-8, nesting
// deeper than 64 levels and values of the wrong type (naming the field:
// `invalid value for field "idpId": expected string`), and an error that
// WriteError answers with 413 for a body over MaxBodyBytes. Any other error
// means dst is not a pointer.
func Decode(r *http.Request, dst any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return DecodeBody(body, dst)
}

// DecodeBody is Decode of a body already read (an RPC request rendered as
// protojson, for one): the same key rules and errors.
func DecodeBody(body []byte, dst any) error {
	norm, err := normalizeKeys(body)
	if err != nil {
		return err
	}
	if hasNULEscape(norm) {
		return errs.InvalidArgument("", msgNUL)
	}
	if err := json.Unmarshal(norm, dst); err != nil {
		return unmarshalError(err)
	}
	return nil
}

// readBody reads at most MaxBodyBytes, whether or not BodyLimit is installed.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, bodyTooLarge(nil)
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		// ReadFrom asks for bytes.MinRead of room before every read, the
		// one that finds the end too: without it the buffer would be
		// allocated twice for every body.
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, MaxBodyBytes+1))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, bodyTooLarge(err)
	case err != nil:
		return nil, errs.InvalidArgument("", "could not read the request body").WithCause(err)
	case buf.Len() > MaxBodyBytes:
		return nil, bodyTooLarge(nil)
	}
	return buf.Bytes(), nil
}

// bodyTooLarge is the error for a body over the limit; WriteError finds
// ErrBodyTooLarge in its chain.
func bodyTooLarge(cause error) error {
	if cause != nil {
		cause = fmt.Errorf("%w: %w", ErrBodyTooLarge, cause)
	} else {
		cause = ErrBodyTooLarge
	}
	return errs.ResourceExhausted("", msgTooLarge).WithCause(cause)
}

// reasoner is implemented by the protobuf-JSON value types (internal/pbjson):
// it says what a field of that type expects.
type reasoner interface {
	InvalidValueReason() string
}

// unmarshalError turns an encoding/json error into InvalidArgument. The JSON
// was already validated, so only type errors remain, plus errors from
// Unmarshalers outside this package.
func unmarshalError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var invalid *json.InvalidUnmarshalError
	switch {
	case errors.As(err, &typeErr):
		return errs.InvalidArgument("", fieldMessage(typeErr)).WithCause(err)
	case errors.As(err, &invalid):
		return fmt.Errorf("gateway: decode: %w", err)
	}
	if e, ok := errs.As(err); ok && e.Kind == errs.KindInvalidArgument {
		return e
	}
	return errs.InvalidArgument("", "invalid request body").WithCause(err)
}

func fieldMessage(e *json.UnmarshalTypeError) string {
	reason := "expected " + expected(e.Type)
	if e.Type != nil {
		if r, ok := reflect.Zero(e.Type).Interface().(reasoner); ok {
			reason = r.InvalidValueReason()
		}
	}
	if e.Field == "" {
		return "invalid request body: " + reason
	}
	return fmt.Sprintf("invalid value for field %q: %s", e.Field, reason)
}

// expected names the JSON a Go type takes, in protobuf's terms.
func expected(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return "int32"
	case reflect.Int, reflect.Int64:
		return "int64"
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return "uint32"
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return "uint64"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "base64 string"
		}
		return "array"
	case reflect.Array:
		return "array"
	}
	return "a different type"
}

// msgNUL is the message for a string holding U+0000: valid JSON, but no
// text column or jsonb payload can store it, so letting it through turns
// bad input into a 500 wherever a command or query does not check for it.
const msgNUL = "invalid request body: strings must not contain the NUL character (\\u0000)"
