package idp

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/idledger/idledger/errs"
)

// required lists each kind's required config fields in the reference order
// (§5.1 "Add body fields"), name excluded: ParseRequest checks it.
var required = map[string][]string{
	"oauth":              {"clientId", "clientSecret", "authorizationEndpoint", "tokenEndpoint", "userEndpoint", "idAttribute"},
	"generic_oidc":       {"issuer", "clientId", "clientSecret"},
	"generic_jwt":        {"issuer", "jwtEndpoint", "keysEndpoint", "headerName"},
	"ldap":               {"servers", "baseDn", "bindDn", "bindPassword", "userBase", "userObjectClasses", "userFilters"},
	"azure":              {"clientId", "clientSecret"},
	"github":             {"clientId", "clientSecret"},
	"github_es":          {"clientId", "clientSecret", "authorizationEndpoint", "tokenEndpoint", "userEndpoint"},
	"gitlab":             {"clientId", "clientSecret"},
	"gitlab_self_hosted": {"issuer", "clientId", "clientSecret"},
	"google":             {"clientId", "clientSecret"},
	"apple":              {"clientId", "teamId", "keyId", "privateKey"},
	"saml":               {"metadataXml"}, // the required oneof "metadata"
}

// errorField is the field an error names when key is missing.
func errorField(key string) string {
	if key == "metadataXml" {
		return "metadata"
	}
	return key
}

var secretFields = map[string]bool{"clientSecret": true, "bindPassword": true, "privateKey": true}

// body returns the kind's full round-trip body with keys removed or replaced.
func body(t *testing.T, path string, drop []string, set map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(roundTrip[path].body), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range drop {
		delete(m, k)
	}
	for k, v := range set {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// validate parses and validates a body; a parse error is returned as is.
func validate(t *testing.T, path string, b []byte, prefix string, update bool) error {
	t.Helper()
	k, _ := ByPath(path)
	_, _, cfg, err := ParseRequest(k, b)
	if err != nil {
		return err
	}
	return Validate(cfg, prefix, update)
}

// assertInvalid checks err is InvalidArgument with the field's ID and a
// message naming the field.
func assertInvalid(t *testing.T, err error, prefix, path, field string, update bool) {
	t.Helper()
	k, _ := ByPath(path)
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.KindInvalidArgument {
		t.Fatalf("error = %v, want InvalidArgument for %s", err, field)
	}
	if want := prefix + "-idp-" + k.ConfigKey + "-" + field; e.ID != want {
		t.Errorf("ID = %q, want %q", e.ID, want)
	}
	request := k.AddRequest()
	if update {
		request = k.UpdateRequest()
	}
	outer, _, _ := strings.Cut(field, ".")
	if want := "invalid " + request + "." + pgvName(outer); !strings.HasPrefix(e.Message, want) {
		t.Errorf("message = %q, want prefix %q", e.Message, want)
	}
}

func TestRequiredFields(t *testing.T) {
	for _, k := range Kinds() {
		req, ok := required[k.Path]
		if !ok {
			t.Fatalf("no required fields listed for %s", k.Path)
		}
		for i, key := range req {
			t.Run(k.Path+"/"+key, func(t *testing.T) {
				field := errorField(key)
				err := validate(t, k.Path, body(t, k.Path, []string{key}, nil), "INST", false)
				assertInvalid(t, err, "INST", k.Path, field, false)
				if k.Path != "saml" && !strings.Contains(err.Error(), "value") {
					t.Errorf("message %q does not say what is wrong", err)
				}

				blank := any("   ")
				if key == "metadataXml" {
					blank = "" // bytes: blanks are not base64
				}
				if key == "servers" || key == "userObjectClasses" || key == "userFilters" {
					blank = []string{}
				}
				err = validate(t, k.Path, body(t, k.Path, nil, map[string]any{key: blank}), "ORG", false)
				assertInvalid(t, err, "ORG", k.Path, field, false)

				// The first missing field in reference order wins.
				err = validate(t, k.Path, body(t, k.Path, req[i:], nil), "INST", false)
				assertInvalid(t, err, "INST", k.Path, field, false)

				// On update a secret may be left out: the stored one is kept.
				err = validate(t, k.Path, body(t, k.Path, []string{key}, nil), "INST", true)
				if secretFields[key] {
					if err != nil {
						t.Errorf("update without %s: %v", key, err)
					}
				} else {
					assertInvalid(t, err, "INST", k.Path, field, true)
				}
			})
		}
	}
}

func TestName(t *testing.T) {
	for _, k := range Kinds() {
		t.Run(k.Path, func(t *testing.T) {
			for _, name := range []any{nil, "", "   "} {
				set := map[string]any{"name": name}
				got, _, _, err := ParseRequest(k, body(t, k.Path, nil, set))
				if k.DefaultName != "" {
					if err != nil || got != k.DefaultName {
						t.Errorf("name %v: got %q, %v; want default %q", name, got, err, k.DefaultName)
					}
					continue
				}
				e, ok := errs.As(err)
				if !ok || e.Kind != errs.KindInvalidArgument || e.ID != "IDP-"+k.ConfigKey+"-name" ||
					e.Message != "invalid "+k.AddRequest()+".Name: value length must be between 1 and 200 runes, inclusive" {
					t.Errorf("name %v: error = %v", name, err)
				}
			}
			got, _, _, err := ParseRequest(k, body(t, k.Path, nil, map[string]any{"name": " " + strings.Repeat("é", 200) + " "}))
			if err != nil || got != strings.Repeat("é", 200) {
				t.Errorf("200-rune name: %v", err)
			}
			_, _, _, err = ParseRequest(k, body(t, k.Path, nil, map[string]any{"name": strings.Repeat("n", 201)}))
			if errs.KindOf(err) != errs.KindInvalidArgument || !strings.Contains(err.Error(), ".Name: value length must") {
				t.Errorf("201-rune name: %v", err)
			}
		})
	}
}

// limits are the maximum lengths that differ from 200. Base64 fields count
// decoded bytes.
var limits = map[string]int{
	"oauth/clientSecret": 1000, "generic_oidc/clientSecret": 1000,
	"apple/teamId": 10, "apple/keyId": 10, "apple/privateKey": 5000,
	"saml/metadataXml": 500000, "ldap/rootCa": 12000,
}

var base64Fields = map[string]bool{"privateKey": true, "metadataXml": true, "rootCa": true}

// notLimited are string fields without a length rule (or not plain strings).
var notLimited = map[string]bool{
	"name": true, "binding": true, "nameIdFormat": true, "timeout": true, "transientMappingAttributeName": true,
}

func TestTooLong(t *testing.T) {
	for _, k := range Kinds() {
		var m map[string]any
		_ = json.Unmarshal([]byte(roundTrip[k.Path].body), &m)
		for key, v := range m {
			if _, isString := v.(string); !isString || notLimited[key] {
				continue
			}
			t.Run(k.Path+"/"+key, func(t *testing.T) {
				limit, ok := limits[k.Path+"/"+key]
				if !ok {
					limit = 200
				}
				value := func(n int) string {
					if base64Fields[key] {
						return base64.StdEncoding.EncodeToString(make([]byte, n))
					}
					return strings.Repeat("x", n)
				}
				if err := validate(t, k.Path, body(t, k.Path, nil, map[string]any{key: value(limit)}), "INST", false); err != nil {
					t.Errorf("length %d rejected: %v", limit, err)
				}
				err := validate(t, k.Path, body(t, k.Path, nil, map[string]any{key: value(limit + 1)}), "INST", false)
				assertInvalid(t, err, "INST", k.Path, key, false)
			})
		}
	}
}

func TestListLimits(t *testing.T) {
	many := func(n int, item string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = item
		}
		return out
	}
	cases := []struct {
		path, key string
		value     []string
		wantErr   string // "" for valid, else the message's tail
	}{
		{"google", "scopes", many(20, strings.Repeat("s", 100)), ""},
		{"google", "scopes", many(21, "s"), ".Scopes: value must contain no more than 20 item(s)"},
		{"oauth", "scopes", []string{"ok", strings.Repeat("s", 101)}, ".Scopes[1]: value length must be between 1 and 100 runes, inclusive"},
		{"azure", "scopes", []string{"openid", " "}, ".Scopes[1]: value length must be between 1 and 100 runes, inclusive"},
		{"ldap", "servers", many(20, strings.Repeat("s", 200)), ""},
		{"ldap", "servers", many(21, "s"), ".Servers: value must contain between 1 and 20 items, inclusive"},
		{"ldap", "servers", []string{strings.Repeat("s", 201)}, ".Servers[0]: value length must be between 1 and 200 runes, inclusive"},
		{"ldap", "userFilters", many(21, "f"), ".UserFilters: value must contain between 1 and 20 items, inclusive"},
	}
	for _, c := range cases {
		err := validate(t, c.path, body(t, c.path, nil, map[string]any{c.key: c.value}), "INST", false)
		if c.wantErr == "" {
			if err != nil {
				t.Errorf("%s %s: %v", c.path, c.key, err)
			}
			continue
		}
		assertInvalid(t, err, "INST", c.path, c.key, false)
		if e, _ := errs.As(err); e == nil || !strings.HasSuffix(e.Message, c.wantErr) {
			t.Errorf("%s %s: message %q, want suffix %q", c.path, c.key, err, c.wantErr)
		}
	}
}

func TestSpecialRules(t *testing.T) {
	cases := []struct {
		name, path string
		set        map[string]any
		field      string // "" for valid
		wantMsg    string
	}{
		{"apple teamId too short", "apple", map[string]any{"teamId": "ABC"}, "teamId",
			"invalid AddAppleProviderRequest.TeamId: value length must be 10 runes"},
		{"apple key not base64", "apple", map[string]any{"privateKey": "not base64!"}, "privateKey",
			"invalid AddAppleProviderRequest.PrivateKey: value must be base64 encoded bytes"},
		{"apple key url-safe base64", "apple", map[string]any{"privateKey": "-_-_"}, "", ""},
		{"saml both metadata", "saml", map[string]any{"metadataUrl": "https://idp.example/m"}, "metadata",
			"invalid AddSAMLProviderRequest.Metadata: only one of metadataXml and metadataUrl may be set"},
		{"saml url too long", "saml", map[string]any{"metadataXml": nil, "metadataUrl": strings.Repeat("u", 201)}, "metadataUrl",
			"invalid AddSAMLProviderRequest.MetadataUrl: value length must be at most 200 runes"},
		{"ldap attribute too long", "ldap", map[string]any{"attributes": map[string]any{"emailAttribute": strings.Repeat("a", 201)}},
			"attributes.emailAttribute",
			"invalid AddLDAPProviderRequest.Attributes: embedded message failed validation | caused by: " +
				"invalid LDAPAttributes.EmailAttribute: value length must be at most 200 runes"},
		{"ldap root CA too long", "ldap", map[string]any{"rootCa": base64.StdEncoding.EncodeToString(make([]byte, 12001))}, "rootCa",
			"invalid AddLDAPProviderRequest.RootCa: value length must be at most 12000 bytes"},
		{"oidc secret too long", "generic_oidc", map[string]any{"clientSecret": strings.Repeat("s", 1001)}, "clientSecret",
			"invalid AddGenericOIDCProviderRequest.ClientSecret: value length must be between 1 and 1000 runes, inclusive"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := validate(t, c.path, body(t, c.path, nil, c.set), "INST", false)
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			assertInvalid(t, err, "INST", c.path, c.field, false)
			if e, _ := errs.As(err); e.Message != c.wantMsg {
				t.Errorf("message\n got %q\nwant %q", e.Message, c.wantMsg)
			}
		})
	}
}

func TestErrorIDsAreUnique(t *testing.T) {
	seen := map[string]string{}
	for _, k := range Kinds() {
		f := k.New().(former).form()
		for _, fl := range f.fields {
			id := "INST-idp-" + f.key + "-" + fl.name
			if prev, dup := seen[id]; dup {
				t.Errorf("ID %s used by %s and %s", id, prev, k.Path)
			}
			seen[id] = k.Path
		}
		if n := "IDP-" + k.ConfigKey + "-name"; seen[n] != "" {
			t.Errorf("name ID %s collides", n)
		} else {
			seen[n] = k.Path
		}
	}
	if len(seen) < 60 {
		t.Errorf("only %d IDs; the table looks too small", len(seen))
	}
}

func Example_validationError() {
	k, _ := ByPath("generic_oidc")
	_, _, cfg, _ := ParseRequest(k, []byte(`{"name":"OIDC","client_id":"c","client_secret":"s"}`))
	err := Validate(cfg, "INST", false)
	var e *errs.Error
	errors.As(err, &e)
	fmt.Println(e.Kind, e.ID)
	fmt.Println(e.Message)
	// Output:
	// InvalidArgument INST-idp-oidc-issuer
	// invalid AddGenericOIDCProviderRequest.Issuer: value length must be between 1 and 200 runes, inclusive
}
