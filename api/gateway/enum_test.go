package gateway_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/errs"
)

// The way a package declares an enum: a table, a definition type and an
// alias for the field type.
var idpStateEnum = gateway.NewEnum("IDP_STATE_UNSPECIFIED", "IDP_STATE_ACTIVE", "IDP_STATE_INACTIVE", "", "IDP_STATE_REMOVED")

type idpStateDef struct{}

func (idpStateDef) Enum() *gateway.Enum { return idpStateEnum }

type IDPState = gateway.EnumValue[idpStateDef]

func TestEnumTable(t *testing.T) {
	if got := idpStateEnum.Name(1); got != "IDP_STATE_ACTIVE" {
		t.Errorf("Name(1) = %q", got)
	}
	for _, n := range []int{-1, 3, 5} {
		if got := idpStateEnum.Name(n); got != "" {
			t.Errorf("Name(%d) = %q, want empty", n, got)
		}
	}
	tests := []struct {
		raw  string
		want int
		ok   bool
	}{
		{`"IDP_STATE_ACTIVE"`, 1, true},
		{`"IDP_STATE_REMOVED"`, 4, true},
		{`2`, 2, true},
		{`0`, 0, true},
		{`null`, 0, true},
		{`"IDP_STATE_GONE"`, 0, false},
		{`""`, 0, false},
		{`3`, 0, false},
		{`-1`, 0, false},
		{`1.5`, 0, false},
		{`"1"`, 0, false},
		{`99999999999`, 0, false},
		{`{}`, 0, false},
		{`true`, 0, false},
	}
	for _, tt := range tests {
		got, err := idpStateEnum.Parse(json.RawMessage(tt.raw))
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("Parse(%s) = %d, %v; want %d", tt.raw, got, err, tt.want)
		}
		if !tt.ok {
			e, isErrs := errs.As(err)
			if !isErrs || e.Kind != errs.KindInvalidArgument || e.Message != "value must be one of the defined enum values" {
				t.Errorf("Parse(%s) error = %v", tt.raw, err)
			}
		}
	}
}

func TestNewEnumPanicsOnBadTable(t *testing.T) {
	for _, names := range [][]string{{"A", "A"}, {"A", "B C"}, {`A"`}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewEnum(%q) did not panic", names)
				}
			}()
			gateway.NewEnum(names...)
		}()
	}
}

func TestEnumValueField(t *testing.T) {
	type idp struct {
		ID    string   `json:"id,omitempty"`
		State IDPState `json:"state,omitzero"`
	}
	got, _ := json.Marshal(idp{ID: "1", State: 1})
	if string(got) != `{"id":"1","state":"IDP_STATE_ACTIVE"}` {
		t.Errorf("marshal: %s", got)
	}
	got, _ = json.Marshal(idp{ID: "1"})
	if string(got) != `{"id":"1"}` {
		t.Errorf("unspecified is not omitted: %s", got)
	}
	got, _ = json.Marshal(idp{State: 7})
	if string(got) != `{"state":7}` {
		t.Errorf("undefined number: %s", got)
	}
	if s := IDPState(2).String(); s != "IDP_STATE_INACTIVE" {
		t.Errorf("String() = %q", s)
	}

	for _, body := range []string{`{"state":"IDP_STATE_INACTIVE"}`, `{"state":2}`} {
		var v idp
		if err := gateway.Decode(httptest.NewRequest("POST", "/", strings.NewReader(body)), &v); err != nil || v.State != 2 {
			t.Errorf("%s: %v %v", body, v.State, err)
		}
	}
	for _, body := range []string{`{"state":"NOPE"}`, `{"state":9}`, `{"state":[1]}`} {
		var v idp
		err := gateway.Decode(httptest.NewRequest("POST", "/", strings.NewReader(body)), &v)
		want := `invalid value for field "state": value must be one of the defined enum values`
		if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalidArgument || e.Message != want {
			t.Errorf("%s: %v", body, err)
		}
	}
}
