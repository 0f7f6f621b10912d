package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
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

// EncodeJSON is v as WriteJSON writes it, for a handler that caches a
// rendered body and writes it with WriteEncoded.
func EncodeJSON(v any) ([]byte, error) { return marshal(v) }

// WriteEncoded writes b, a body from EncodeJSON, with the given status and
// the headers WriteJSON sets.
func WriteEncoded(w http.ResponseWriter, status int, b []byte) { writeRaw(w, status, b) }

// writeJSONBody writes an error body, which always encodes.
func writeJSONBody(w http.ResponseWriter, status int, body errorBody) {
	writeRaw(w, status, mustMarshal(body))
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	// Header.Set with one allocation for the three values instead of
	// three: each value slice is capped at its one element, so a later Add
	// to one of them copies it rather than writing into the next.
	v := make([]string, 3)
	v[0], v[1], v[2] = "application/json", "nosniff", strconv.Itoa(len(b))
	h := w.Header()
	h["Content-Type"] = v[0:1:1]
	h["X-Content-Type-Options"] = v[1:2:2]
	h["Content-Length"] = v[2:3:3]
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
