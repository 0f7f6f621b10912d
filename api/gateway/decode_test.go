package gateway_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/errs"
)

func decode(body string, dst any) error {
	return gateway.Decode(httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)), dst)
}

type linkRequest struct {
	IDPID     string            `json:"idpId"`
	OwnerType IDPState          `json:"ownerType"`
	Sequence  gateway.Int64     `json:"sequence"`
	Query     gateway.ListQuery `json:"query"`
	Links     []linkItem        `json:"links"`
	Nested    *linkRequest      `json:"nested"`
}

type linkItem struct {
	UserID   string `json:"userId"`
	UserName string `json:"userName"`
}

func TestDecodeSnakeAndCamel(t *testing.T) {
	want := linkRequest{
		IDPID: "1", OwnerType: 2, Sequence: 7,
		Query:  gateway.ListQuery{Offset: 3, Limit: 10, Asc: true},
		Links:  []linkItem{{UserID: "a", UserName: "x"}, {UserID: "b", UserName: "y"}},
		Nested: &linkRequest{IDPID: "2", Links: []linkItem{{UserID: "c"}}},
	}
	bodies := map[string]string{
		"snake": `{"idp_id":"1","owner_type":"IDP_STATE_INACTIVE","sequence":"7","query":{"offset":"3","limit":10,"asc":true},
			"links":[{"user_id":"a","user_name":"x"},{"user_id":"b","user_name":"y"}],
			"nested":{"idp_id":"2","links":[{"user_id":"c"}]},"unknown_field":{"deep_key":[1,2]}}`,
		"camel": `{"idpId":"1","ownerType":2,"sequence":7,"query":{"offset":3,"limit":10,"asc":true},
			"links":[{"userId":"a","userName":"x"},{"userId":"b","userName":"y"}],
			"nested":{"idpId":"2","links":[{"userId":"c"}]},"unknownField":null}`,
		"escaped keys": `{"idp\u005fid":"1","owner_type":2,"sequence":7,"query":{"offset":3,"limit":10,"asc":true},
			"links":[{"user\u005Fid":"a","user_name":"x"},{"userId":"b","userName":"y"}],"nested":{"idpId":"2","links":[{"userId":"c"}]}}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			var got linkRequest
			if err := decode(body, &got); err != nil {
				t.Fatal(err)
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			if !bytes.Equal(g, w) {
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
}

func TestDecodeEmptyBody(t *testing.T) {
	for _, body := range []string{"", "  \n", "{}", "null"} {
		var v linkRequest
		if err := decode(body, &v); err != nil || v.IDPID != "" {
			t.Errorf("%q: %+v %v", body, v, err)
		}
	}
	var v linkRequest
	if err := gateway.Decode(httptest.NewRequest(http.MethodPost, "/", nil), &v); err != nil {
		t.Errorf("no body: %v", err)
	}
}

func TestDecodeInvalid(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 65) + "1" + strings.Repeat("}", 65)
	ok := strings.Repeat(`[`, 64) + strings.Repeat("]", 64)
	if err := decode(`{"links":`+strings.Repeat(`[`, 63)+strings.Repeat("]", 63)+`}`, &linkRequest{}); err == nil {
		t.Error("nested arrays into []linkItem decoded") // a type error, but not a depth error
	} else if strings.Contains(err.Error(), "deeper") {
		t.Errorf("64 levels rejected as too deep: %v", err)
	}
	if err := decode(ok, new(any)); err != nil {
		t.Errorf("64 levels: %v", err)
	}
	tests := []struct {
		name string
		body string
		msg  string
	}{
		{"truncated", `{"idpId":"1"`, "invalid JSON: unexpected end of input"},
		{"trailing comma", `{"idpId":"1",}`, `invalid JSON: unexpected '}' at offset 13`},
		{"garbage", `hello`, `invalid JSON: unexpected 'h' at offset 0`},
		{"two values", `{} {}`, "invalid JSON: unexpected data after the top-level value at offset 3"},
		{"single quotes", `{'a':1}`, `invalid JSON: unexpected '\'' at offset 1`},
		{"leading zero", `{"sequence":01}`, `invalid JSON: unexpected '1' at offset 13`},
		{"bad escape", `{"idpId":"\x"}`, `invalid JSON: invalid escape in string at offset 10`},
		{"control char", "{\"idpId\":\"a\x01\"}", "invalid JSON: control character in string at offset 11"},
		{"invalid UTF-8", "{\"idpId\":\"a\xff\"}", "invalid JSON: invalid UTF-8 in string at offset 11"},
		{"invalid UTF-8 key", "{\"a\xc3\":1}", "invalid JSON: invalid UTF-8 in string at offset 3"},
		{"surrogate in UTF-8", "{\"idpId\":\"\xed\xa0\x80\"}", "invalid JSON: invalid UTF-8 in string at offset 10"},
		{"too deep", deep, "invalid JSON: nested deeper than 64 levels"},
		{"wrong type string", `{"idp_id":5}`, `invalid value for field "idpId": expected string`},
		{"wrong type nested", `{"query":{"limit":"x"}}`, `invalid value for field "query.limit": expected uint32`},
		{"negative limit", `{"query":{"limit":-1}}`, `invalid value for field "query.limit": expected uint32`},
		{"int64 garbage", `{"sequence":"abc"}`, `invalid value for field "sequence": expected int64 as a string or number`},
		{"uint64 negative", `{"query":{"offset":"-1"}}`, `invalid value for field "query.offset": expected uint64 as a string or number`},
		{"array element", `{"links":[{"userId":1}]}`, `invalid value for field "links.userId": expected string`},
		{"object for array", `{"links":{}}`, `invalid value for field "links": expected array`},
		{"top-level array", `[1]`, `invalid request body: expected object`},
		{"enum", `{"ownerType":"X"}`, `invalid value for field "ownerType": value must be one of the defined enum values`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decode(tt.body, &linkRequest{})
			e, ok := errs.As(err)
			if !ok || e.Kind != errs.KindInvalidArgument || e.ID != "" || e.Message != tt.msg {
				t.Errorf("got %v\nwant InvalidArgument %q", err, tt.msg)
			}
		})
	}
}

func TestDecodeBodyTooLarge(t *testing.T) {
	big := `{"idpId":"` + strings.Repeat("a", 2<<20) + `"}`
	tests := map[string]*http.Request{
		"content length": httptest.NewRequest(http.MethodPost, "/", strings.NewReader(big)),
		"chunked":        httptest.NewRequest(http.MethodPost, "/", io.MultiReader(strings.NewReader(big))),
	}
	tests["chunked"].ContentLength = -1
	for name, r := range tests {
		t.Run(name, func(t *testing.T) {
			err := gateway.Decode(r, &linkRequest{})
			if !errors.Is(err, gateway.ErrBodyTooLarge) || errs.KindOf(err) != errs.KindResourceExhausted {
				t.Errorf("error = %v", err)
			}
		})
	}
	exact := `"` + strings.Repeat("a", gateway.MaxBodyBytes-2) + `"`
	var s string
	if err := decode(exact, &s); err != nil || len(s) != gateway.MaxBodyBytes-2 {
		t.Errorf("a body of exactly MaxBodyBytes: %v", err)
	}
}

func TestDecodeNotAPointer(t *testing.T) {
	err := decode(`{}`, linkRequest{})
	if _, ok := errs.As(err); ok || err == nil {
		t.Errorf("error = %v, want a programming error", err)
	}
}

// FuzzDecode checks that no input panics, that every error is InvalidArgument
// or the body-too-large error, and that Decode accepts exactly valid JSON
// with valid UTF-8 nested at most 64 levels, rewriting keys into valid JSON.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `1`, `-0.5e+3`, `{"idp_id":"1"}`, `{"idpId":1}`,
		`{"a_b":{"c_d":[{"e_f":true}]}}`, `{"\u005f_x":1}`, `{"k\"_":1}`, `{"_":1,"a__b_":2}`,
		`{"ownerType":"IDP_STATE_ACTIVE","sequence":"9223372036854775807"}`, `{"query":{"limit":1e3}}`,
		`{"links":[{"user_id":"a"},{"userId":2}]}`, "{\"a\":\"\xff\"}", `{"a":1,}`, `[1,2`, `{"a" 1}`,
		strings.Repeat("[", 65) + strings.Repeat("]", 65), strings.Repeat(`{"a":`, 64) + "0" + strings.Repeat("}", 64),
		`"\ud800"`, `{"a":"\u0000"}`, `{"a":"\\u0000"}`, `{"\u0000":1}`, `{"é_ü":1}`, "\t{ \"a\" :\r\n1 } ", `tru`, `nul`, `-`, `1.`, `1e`, `01`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst linkRequest
		err := gateway.Decode(httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)), &dst)
		if err != nil {
			e, ok := errs.As(err)
			if !ok || (e.Kind != errs.KindInvalidArgument && !errors.Is(err, gateway.ErrBodyTooLarge)) {
				t.Fatalf("error %v (%T) is neither InvalidArgument nor body too large", err, err)
			}
		}
		var raw json.RawMessage
		err = gateway.Decode(httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)), &raw)
		want := len(bytes.Trim(body, " \t\r\n")) == 0 || json.Valid(body) && utf8.Valid(body) && depth(body) <= 64 && !holdsNUL(body)
		if (err == nil) != want {
			t.Fatalf("accepted = %v, want %v (err %v)", err == nil, want, err)
		}
		if err == nil && !json.Valid(raw) {
			t.Fatalf("rewritten body is not valid JSON: %s", raw)
		}
	})
}

// depth returns the nesting depth of valid JSON.
func depth(b []byte) int {
	dec := json.NewDecoder(bytes.NewReader(b))
	d, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			d++
			deepest = max(deepest, d)
		case json.Delim('}'), json.Delim(']'):
			d--
		}
	}
}

// holdsNUL reports whether valid JSON holds U+0000 in a string or key,
// which Decode refuses: PostgreSQL can store it neither as text nor in jsonb.
func holdsNUL(b []byte) bool {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return false
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch t := v.(type) {
		case string:
			return strings.ContainsRune(t, 0)
		case []any:
			for _, e := range t {
				if walk(e) {
					return true
				}
			}
		case map[string]any:
			for k, e := range t {
				if strings.ContainsRune(k, 0) || walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}
