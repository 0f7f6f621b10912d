package idp

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/idledger/idledger/errs"
)

// Config is the typed configuration of one IdP kind. The concrete types are
// the JSON shapes of the add/update request bodies without name and
// providerOptions; the same JSON is the event payload (with secrets sealed).
type Config interface {
	// form declares the kind's fields once, in ZITADEL's order: Normalize,
	// Validate and Secrets below are written once over it for every kind.
	form() form
}

// viewer is a config whose response view is more than the config without
// its secrets (the Azure tenant, the LDAP attributes, the SAML defaults).
type viewer interface{ view() any }

// View returns c's v2 response config object, which never holds a secret.
// For most kinds it is c itself with its secret fields emptied: they are
// omitempty, so the JSON leaves them out.
func View(c Config) any {
	if v, ok := c.(viewer); ok {
		return v.view()
	}
	cp := reflect.New(reflect.TypeOf(c).Elem())
	cp.Elem().Set(reflect.ValueOf(c).Elem())
	for _, s := range Secrets(cp.Interface().(Config)) {
		*s.Value = ""
	}
	return cp.Elem().Interface()
}

// extraNormalizer is a config with defaults beyond trimming (the Azure
// tenant, the SAML optional strings).
type extraNormalizer interface{ normalizeExtra() }

// Normalize trims spaces from every string of c and applies its defaults.
// Template.Normalize calls it.
func Normalize(c Config) {
	c.form().normalize()
	if x, ok := c.(extraNormalizer); ok {
		x.normalizeExtra()
	}
}

// Validate checks c's fields in ZITADEL's order and returns
// errs.InvalidArgument for the first one that fails, with ID
// "<prefix>-idp-<ConfigKey>-<json field>" (prefix "INST" or "ORG") and
// protoc-gen-validate's message naming the field. With update set, secret
// fields may be empty: the stored secret is kept.
func Validate(c Config, prefix string, update bool) error { return c.form().validate(prefix, update) }

// Secrets returns pointers to c's secret fields, so the caller can replace
// plaintext with sealed text before the config becomes an event.
func Secrets(c Config) []Secret {
	s := c.form().secrets()
	if g, ok := c.(generator); ok {
		s = append(s, g.generatedSecrets()...)
	}
	return s
}

// generator is a config with secrets the server generates (the SAML SP
// key): not in the form, so neither normalized nor validated.
type generator interface{ generatedSecrets() []Secret }

// Secret is one secret field of a config: Field is its JSON name (also the
// secretbox AAD field), Value points into the config.
type Secret struct {
	Field string
	Value *string
}

// former is implemented by every config type: its declarative form.
type former interface{ form() form }

// form describes a config type once; Normalize, Validate and Secrets are
// derived from it.
type form struct {
	key     string  // oneof JSON key, e.g. "oidc"; also used in error IDs
	message string  // proto message stem, e.g. "GenericOIDCProvider"
	fields  []field // in ZITADEL's validation order (proto field order)
}

// field is one validated field. Exactly one of str, list, bin, check is set.
type field struct {
	name     string    // JSON name; "attributes.idAttribute" for a nested field
	str      *string   // a string field
	list     *[]string // a repeated string field
	bin      *Bytes    // a bytes field
	check    func() string
	base64   bool   // str holds base64 of a bytes field; min/max count decoded bytes
	min, max int    // runes (str), bytes (bin, base64), or items (list); max 0: no limit
	exact    bool   // min == max is protoc-gen-validate's "len" rule
	itemMax  int    // rune limit of each list item (items are 1..itemMax)
	secret   bool   // optional on update; returned by Secrets
	nested   string // proto message of a nested field, e.g. "LDAPAttributes"
}

func text(name string, p *string, lo, hi int) field {
	return field{name: name, str: p, min: lo, max: hi}
}

func exactText(name string, p *string, n int) field {
	return field{name: name, str: p, min: n, max: n, exact: true}
}

func secretText(name string, p *string, lo, hi int) field {
	return field{name: name, str: p, min: lo, max: hi, secret: true}
}

func secretBase64(name string, p *string, lo, hi int) field {
	return field{name: name, str: p, min: lo, max: hi, secret: true, base64: true}
}

func items(name string, p *[]string, lo, hi, itemMax int) field {
	return field{name: name, list: p, min: lo, max: hi, itemMax: itemMax}
}

func blob(name string, p *Bytes, hi int) field {
	return field{name: name, bin: p, max: hi}
}

// rule is a custom check that returns the failure reason, or "".
func rule(name string, check func() string) field {
	return field{name: name, check: check}
}

// scopes is the scopes rule every OAuth-like kind shares.
func scopes(p *[]string) field { return items("scopes", p, 0, 20, 100) }

// nestedIn marks fields as belonging to a nested message (LDAPAttributes).
func nestedIn(message string, fs ...field) []field {
	for i := range fs {
		fs[i].nested = message
	}
	return fs
}

func (f form) normalize() {
	for _, fl := range f.fields {
		switch {
		case fl.str != nil:
			// Only trimmed, never re-encoded: Normalize may run on a stored
			// config whose secret already holds sealed text.
			*fl.str = strings.TrimSpace(*fl.str)
		case fl.list != nil:
			*fl.list = trimAll(*fl.list)
		case fl.bin != nil && len(*fl.bin) == 0:
			*fl.bin = nil
		}
	}
}

func (f form) secrets() []Secret {
	var out []Secret
	for _, fl := range f.fields {
		if fl.secret {
			out = append(out, Secret{Field: fl.name, Value: fl.str})
		}
	}
	return out
}

// validate returns the first failing field as errs.InvalidArgument. The
// message follows protoc-gen-validate, which ZITADEL runs first; the ID is
// prefix-idp-<key>-<field>, unique per kind and field.
func (f form) validate(prefix string, update bool) error {
	request := "Add" + f.message + "Request"
	if update {
		request = "Update" + f.message + "Request"
	}
	for _, fl := range f.fields {
		index, reason := fl.reason(update)
		if reason == "" {
			continue
		}
		target := pgvName(fl.name)
		if index >= 0 {
			target += fmt.Sprintf("[%d]", index)
		}
		msg := fmt.Sprintf("invalid %s.%s: %s", request, target, reason)
		if fl.nested != "" {
			outer, inner, _ := strings.Cut(fl.name, ".")
			msg = fmt.Sprintf("invalid %s.%s: embedded message failed validation | caused by: invalid %s.%s: %s",
				request, pgvName(outer), fl.nested, pgvName(inner), reason)
		}
		return errs.InvalidArgument(prefix+"-idp-"+f.key+"-"+fl.name, msg)
	}
	return nil
}

// reason returns why the field is invalid ("" when valid) and, for a list
// item, its index (-1 otherwise).
func (fl field) reason(update bool) (int, string) {
	lo := fl.min
	if update && fl.secret {
		lo = 0 // "only updated if provided"
	}
	switch {
	case fl.check != nil:
		return -1, fl.check()
	case fl.str != nil && fl.base64:
		b, err := decodeBase64(strings.TrimSpace(*fl.str))
		if err != nil {
			return -1, "value must be base64 encoded bytes"
		}
		return -1, lengthReason(len(b), lo, fl.max, false, "bytes")
	case fl.str != nil:
		n := utf8.RuneCountInString(strings.TrimSpace(*fl.str))
		return -1, lengthReason(n, lo, fl.max, fl.exact, "runes")
	case fl.bin != nil:
		return -1, lengthReason(len(*fl.bin), lo, fl.max, false, "bytes")
	case fl.list != nil:
		if n := len(*fl.list); n < lo || n > fl.max {
			if lo > 0 {
				return -1, fmt.Sprintf("value must contain between %d and %d items, inclusive", lo, fl.max)
			}
			return -1, fmt.Sprintf("value must contain no more than %d item(s)", fl.max)
		}
		for i, item := range *fl.list {
			if r := lengthReason(utf8.RuneCountInString(strings.TrimSpace(item)), 1, fl.itemMax, false, "runes"); r != "" {
				return i, r
			}
		}
	}
	return -1, ""
}

// lengthReason words a length failure as protoc-gen-validate does; hi 0
// means no upper limit.
func lengthReason(n, lo, hi int, exact bool, unit string) string {
	switch {
	case exact && n != lo:
		return fmt.Sprintf("value length must be %d %s", lo, unit)
	case n >= lo && (hi == 0 || n <= hi):
		return ""
	case lo > 0 && hi > 0:
		return fmt.Sprintf("value length must be between %d and %d %s, inclusive", lo, hi, unit)
	case lo > 0:
		return fmt.Sprintf("value length must be at least %d %s", lo, unit)
	default:
		return fmt.Sprintf("value length must be at most %d %s", hi, unit)
	}
}

// pgvName turns a JSON name into the Go field name protoc-gen-validate
// prints: clientId -> ClientId.
func pgvName(json string) string {
	if json == "" {
		return ""
	}
	return strings.ToUpper(json[:1]) + json[1:]
}

// trimAll trims every item; an empty list becomes nil so that a stored
// config round-trips through JSON with omitempty unchanged.
func trimAll(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	for i := range list {
		list[i] = strings.TrimSpace(list[i])
	}
	return list
}

func trimPtr(p *string) {
	if p != nil {
		*p = strings.TrimSpace(*p)
	}
}
