package idp

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/idledger/idledger/errs"
)

// Template is the typed input of an IdP add or update, whatever transport
// decoded it: the kind (a row of the table), the name, the provider
// options and the kind's config, with secrets in plaintext. Transports map
// their wire names onto it; Normalize and Validate hold the rules.
type Template struct {
	Kind    Kind
	Name    string
	Options Options
	Config  Config // of Kind's type (Kind.New)
}

// Normalize trims the name and every string of the config, applies the
// config's defaults, and gives an empty name the kind's default name. It
// works on a copy of the config (Clone), so the caller's value is never
// changed.
//
// Errors: errs.Internal when Kind is not a table row or Config is not of
// Kind's type.
func (t *Template) Normalize() error {
	if t.Kind.New == nil {
		return errs.Internal("IDP-kind", fmt.Errorf("idp: kind %q is not in the table", t.Kind.Path))
	}
	if t.Config == nil || reflect.TypeOf(t.Config) != reflect.TypeOf(t.Kind.New()) {
		return errs.Internal("IDP-kind", fmt.Errorf("idp: config %T is not of kind %q", t.Config, t.Kind.Path))
	}
	t.Config = Clone(t.Config)
	Normalize(t.Config)
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		t.Name = t.Kind.DefaultName
	}
	return nil
}

// Validate checks a normalized template in ZITADEL's order: the name (1 to
// 200 runes), then the config's fields (see Validate). prefix is the owner's
// error ID prefix ("INST" or "ORG"); with update set, secrets may be empty.
//
// Errors: errs.InvalidArgument naming the first field that fails.
func (t *Template) Validate(prefix string, update bool) error {
	if err := checkName(t.Kind, t.Name); err != nil {
		return err
	}
	return Validate(t.Config, prefix, update)
}

// checkName applies the name's length rule. The message is
// protoc-gen-validate's for the add request, on update too, as ZITADEL's.
func checkName(kind Kind, name string) error {
	if n := utf8.RuneCountInString(name); n >= 1 && n <= 200 {
		return nil
	}
	reason := "value length must be between 1 and 200 runes, inclusive"
	if kind.DefaultName != "" {
		reason = "value length must be at most 200 runes"
	}
	return errs.InvalidArgument("IDP-"+kind.ConfigKey+"-name",
		fmt.Sprintf("invalid %s.Name: %s", kind.AddRequest(), reason))
}

// Clone returns a copy of c that shares no memory Normalize or a secret's
// sealing writes to: the struct, its lists and its bytes.
func Clone(c Config) Config {
	cp := reflect.New(reflect.TypeOf(c).Elem())
	cp.Elem().Set(reflect.ValueOf(c).Elem())
	out := cp.Interface().(Config)
	for _, fl := range out.form().fields {
		switch {
		case fl.list != nil:
			*fl.list = slices.Clone(*fl.list)
		case fl.bin != nil:
			*fl.bin = slices.Clone(*fl.bin)
		}
	}
	return out
}
