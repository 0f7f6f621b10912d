package idpstate

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/internal/pbjson"
)

// Enum names of an IdP's state (zitadel.idp.v2.IDPState; v1 uses the same).
var stateNames = []string{"IDP_STATE_UNSPECIFIED", "IDP_STATE_ACTIVE", "IDP_STATE_INACTIVE", "IDP_STATE_REMOVED", "IDP_STATE_MIGRATED"}

// State numbers.
const (
	StateActive  = 1
	StateRemoved = 3
)

// StateName returns the IDPState enum name of n, or "" for an undefined one.
func StateName(n int) string {
	if n < 0 || n >= len(stateNames) {
		return ""
	}
	return stateNames[n]
}

// V2 is zitadel.idp.v2.IDP, the "idp" of GetIDPByIDResponse.
type V2 struct {
	ID      string           `json:"id,omitempty"`
	Details pbjson.DetailsV2 `json:"details"`
	State   string           `json:"state,omitempty"`
	Name    string           `json:"name,omitempty"`
	Type    string           `json:"type,omitempty"`
	Config  Config           `json:"config"`
}

// Row is what an IdP's read table holds: the common columns and the
// config's public view (idp.View as JSON), never a secret.
type Row struct {
	ID, KindPath, ResourceOwner, Name string
	Type, State                       int
	Options, View                     json.RawMessage
	Sequence                          uint64
	Created, Changed                  time.Time
}

// V2 renders the folded state as GET /v2/idps/{id} renders the read table.
func (s *State) V2() V2 {
	state := StateActive
	if s.Removed {
		state = StateRemoved
	}
	v := V2{
		ID:      s.ID,
		Details: s.details(),
		State:   StateName(state),
		Name:    s.Name,
		Type:    idp.IDPTypeName(s.Kind.Type),
		Config:  Config{options: []byte("{}")},
	}
	if s.Kind.New != nil && s.Config != nil {
		v.Config = RenderConfig(s.Kind, s.Options, idp.View(s.Config), false)
	}
	return v
}

func (s *State) details() pbjson.DetailsV2 {
	return pbjson.V2(pbjson.ObjectDetails{Sequence: s.Sequence, Created: s.Created, Changed: s.Changed, ResourceOwner: s.ResourceOwner})
}

// RowV2 renders a read-table row as GET /v2/idps/{id} answers it.
func RowV2(r Row) V2 {
	return V2{
		ID:      r.ID,
		Details: pbjson.V2(pbjson.ObjectDetails{Sequence: r.Sequence, Created: r.Created, Changed: r.Changed, ResourceOwner: r.ResourceOwner}),
		State:   StateName(r.State),
		Name:    r.Name,
		Type:    idp.IDPTypeName(r.Type),
		Config:  RenderRow(r.KindPath, r.Options, r.View, false),
	}
}

// Config is the config of an IdP response: {"options": …, "<key>": view}.
// options is always present, as ZITADEL always sets it.
type Config struct {
	options json.RawMessage
	key     string // "" with no view: {"options": …} alone
	view    json.RawMessage
}

// MarshalJSON writes the options, then the kind's view under its key.
func (c Config) MarshalJSON() ([]byte, error) {
	if c.key == "" {
		return fmt.Appendf(nil, `{"options":%s}`, c.options), nil
	}
	key, _ := json.Marshal(c.key)
	return fmt.Appendf(nil, `{"options":%s,%s:%s}`, c.options, key, c.view), nil
}

// RenderConfig renders kind's public view (idp.View of a config, or a value
// of its view type) with the options, in the order of the proto fields.
// The v2 config messages have no usePkce, so only v1 keeps it.
func RenderConfig(kind idp.Kind, opts idp.Options, view any, v1 bool) Config {
	c := Config{options: []byte("{}"), key: kind.ConfigKey, view: []byte("{}")}
	if b, err := json.Marshal(opts); err == nil {
		c.options = b
	}
	if !v1 {
		view = withoutPKCE(view)
	}
	if b, err := json.Marshal(view); err == nil {
		c.view = b
	}
	return c
}

// RenderRow renders the options and public view a read table stores
// (jsonb, keys reordered) by decoding them into their types first. What
// does not decode is passed on as stored; a kind not in the table is shown
// under "unspecified".
func RenderRow(kindPath string, options, view json.RawMessage, v1 bool) Config {
	c := Config{options: options, key: "unspecified", view: view}
	if len(c.options) == 0 {
		c.options = []byte("{}")
	}
	if len(c.view) == 0 {
		c.view = []byte("{}")
	}
	kind, ok := idp.ByPath(kindPath)
	if !ok {
		return c
	}
	c.key = kind.ConfigKey
	var opts idp.Options
	if json.Unmarshal(c.options, &opts) == nil {
		if b, err := json.Marshal(opts); err == nil {
			c.options = b
		}
	}
	v := reflect.New(reflect.TypeOf(idp.View(kind.New())))
	if json.Unmarshal(c.view, v.Interface()) != nil {
		return c
	}
	if !v1 {
		v = reflect.ValueOf(withoutPKCE(v.Interface()))
	}
	if b, err := json.Marshal(v.Interface()); err == nil {
		c.view = b
	}
	return c
}

// withoutPKCE returns a copy of a view struct (or pointer to one) with
// UsePKCE cleared, which omitempty then leaves out.
func withoutPKCE(view any) any {
	v := reflect.ValueOf(view)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return view
	}
	cp := reflect.New(v.Type())
	cp.Elem().Set(v)
	if f := cp.Elem().FieldByName("UsePKCE"); f.IsValid() && f.Kind() == reflect.Bool {
		f.SetBool(false)
	}
	return cp.Interface()
}
