package idp

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/idledger/idledger/errs"
)

func mustKind(t testing.TB, path string) Kind {
	t.Helper()
	k, ok := ByPath(path)
	if !ok {
		t.Fatalf("no kind %q", path)
	}
	return k
}

func TestSnakeCaseEqualsCamelCase(t *testing.T) {
	cases := []struct{ path, snake, camel string }{
		{"oauth",
			`{"name":"o","client_id":"c","client_secret":"s","authorization_endpoint":"a","token_endpoint":"t",
			  "user_endpoint":"u","id_attribute":"i","use_pkce":true,
			  "provider_options":{"is_linking_allowed":true,"is_creation_allowed":true,"is_auto_creation":true,
			  "is_auto_update":true,"auto_linking":"AUTO_LINKING_OPTION_USERNAME"}}`,
			`{"name":"o","clientId":"c","clientSecret":"s","authorizationEndpoint":"a","tokenEndpoint":"t",
			  "userEndpoint":"u","idAttribute":"i","usePkce":true,
			  "providerOptions":{"isLinkingAllowed":true,"isCreationAllowed":true,"isAutoCreation":true,
			  "isAutoUpdate":true,"autoLinking":1}}`},
		{"ldap",
			`{"name":"l","servers":["s"],"start_tls":true,"base_dn":"b","bind_dn":"d","bind_password":"p","user_base":"u",
			  "user_object_classes":["o"],"user_filters":["f"],"attributes":{"avatar_url_attribute":"a","id_attribute":"i"},
			  "root_ca":"AAAA"}`,
			`{"name":"l","servers":["s"],"startTls":true,"baseDn":"b","bindDn":"d","bindPassword":"p","userBase":"u",
			  "userObjectClasses":["o"],"userFilters":["f"],"attributes":{"avatarUrlAttribute":"a","idAttribute":"i"},
			  "rootCa":"AAAA"}`},
		{"azure",
			`{"name":"a","client_id":"c","client_secret":"s","tenant":{"tenant_id":"t"},"email_verified":true}`,
			`{"name":"a","clientId":"c","clientSecret":"s","tenant":{"tenantId":"t"},"emailVerified":true}`},
		{"saml",
			`{"name":"s","metadata_url":"u","with_signed_request":true,"name_id_format":"SAML_NAME_ID_FORMAT_EMAIL_ADDRESS",
			  "transient_mapping_attribute_name":"x","federated_logout_enabled":false}`,
			`{"name":"s","metadataUrl":"u","withSignedRequest":true,"nameIdFormat":1,
			  "transientMappingAttributeName":"x","federatedLogoutEnabled":false}`},
		{"generic_oidc",
			`{"name":"o","issuer":"i","client_id":"c","client_secret":"s","is_id_token_mapping":true}`,
			`{"name":"o","issuer":"i","clientId":"c","clientSecret":"s","isIdTokenMapping":true}`},
	}
	for _, c := range cases {
		k := mustKind(t, c.path)
		n1, o1, c1, err1 := ParseRequest(k, []byte(c.snake))
		n2, o2, c2, err2 := ParseRequest(k, []byte(c.camel))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v / %v", c.path, err1, err2)
		}
		if n1 != n2 || o1 != o2 || !reflect.DeepEqual(c1, c2) {
			t.Errorf("%s: snake_case %q %+v %+v\n differs from camelCase %q %+v %+v", c.path, n1, o1, c1, n2, o2, c2)
		}
		if err := Validate(c1, "INST", false); err != nil {
			t.Errorf("%s: %v", c.path, err)
		}
	}
}

func TestOptions(t *testing.T) {
	k := mustKind(t, "google")
	_, opts, _, err := ParseRequest(k, []byte(`{"providerOptions":{"isLinkingAllowed":true,"isAutoUpdate":true,"autoLinking":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Options{IsLinkingAllowed: true, IsAutoUpdate: true, AutoLinking: AutoLinkingEmail}
	if opts != want {
		t.Fatalf("options = %+v, want %+v", opts, want)
	}
	assertJSONEqual(t, opts, `{"isLinkingAllowed":true,"isAutoUpdate":true,"autoLinking":"AUTO_LINKING_OPTION_EMAIL"}`)
	assertJSONEqual(t, Options{}, `{}`)
	var back Options
	b, _ := json.Marshal(opts)
	if err := json.Unmarshal(b, &back); err != nil || back != opts {
		t.Fatalf("options round trip: %+v, %v", back, err)
	}
	_, opts, _, err = ParseRequest(k, []byte(`{"providerOptions":null}`))
	if err != nil || opts != (Options{}) {
		t.Fatalf("null options: %+v, %v", opts, err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, path, body string
		mention          string // the message must contain this
	}{
		{"not JSON", "google", `{"clientId":`, "malformed JSON"},
		{"trailing data", "google", `{} {}`, "malformed JSON"},
		{"array body", "google", `[]`, "JSON object"},
		{"string body", "google", `"x"`, "JSON object"},
		{"duplicate spellings", "google", `{"clientId":"a","client_id":"b"}`, `"clientId"`},
		{"number for string", "google", `{"clientId":5}`, `"clientId": expected a string, got a number`},
		{"string for list", "google", `{"scopes":"openid"}`, `"scopes"`},
		{"number in list", "google", `{"scopes":["openid",1]}`, `"scopes`},
		{"string for bool", "generic_oidc", `{"isIdTokenMapping":"true"}`, `"isIdTokenMapping"`},
		{"name not string", "google", `{"name":1}`, `"name": expected a string, got a number`},
		{"options not object", "google", `{"providerOptions":true}`, `"providerOptions"`},
		{"option wrong type", "google", `{"providerOptions":{"isLinkingAllowed":"yes"}}`, `"providerOptions.isLinkingAllowed"`},
		{"auto linking unknown name", "google", `{"providerOptions":{"autoLinking":"AUTO_LINKING_OPTION_PHONE"}}`, `"providerOptions.autoLinking"`},
		{"auto linking unknown number", "google", `{"providerOptions":{"auto_linking":3}}`, `"providerOptions.autoLinking"`},
		{"nested wrong type", "ldap", `{"attributes":{"idAttribute":1}}`, `"attributes.idAttribute"`},
		{"attributes not object", "ldap", `{"attributes":"uid"}`, `"attributes"`},
		{"bad duration", "ldap", `{"timeout":"10"}`, `"timeout"`},
		{"duration number", "ldap", `{"timeout":10}`, `"timeout"`},
		{"bad base64", "ldap", `{"rootCa":"!!"}`, `"rootCa"`},
		{"binding unknown name", "saml", `{"binding":"SAML_BINDING_SOAP"}`, `"binding"`},
		{"binding unknown number", "saml", `{"binding":7}`, `"binding"`},
		{"binding unknown URN", "saml", `{"binding":"urn:oasis:names:tc:SAML:2.0:bindings:SOAP"}`, `"binding"`},
		{"name id format unknown", "saml", `{"nameIdFormat":9}`, `"nameIdFormat"`},
		{"federated logout not bool", "saml", `{"federatedLogoutEnabled":"no"}`, `"federatedLogoutEnabled"`},
		{"tenant type unknown", "azure", `{"tenant":{"tenantType":"AZURE_AD_TENANT_TYPE_ALL"}}`, `"tenant"`},
		{"tenant both members", "azure", `{"tenant":{"tenantType":0,"tenantId":"x"}}`, "only one of"},
		{"tenant id not string", "azure", `{"tenant":{"tenantId":5}}`, `"tenant"`},
		{"tenant not object", "azure", `{"tenant":5}`, `"tenant"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, _, err := ParseRequest(mustKind(t, c.path), []byte(c.body))
			e, ok := errs.As(err)
			if !ok || e.Kind != errs.KindInvalidArgument {
				t.Fatalf("error = %v, want InvalidArgument", err)
			}
			if !strings.Contains(e.Message, c.mention) {
				t.Errorf("message %q does not mention %q", e.Message, c.mention)
			}
		})
	}
}

func TestParseLenient(t *testing.T) {
	k := mustKind(t, "google")
	for _, b := range []string{``, `  `, `{}`, `{"unknown":1,"nested":{"x":[1,2]},"ClientID":"ignored","clientid":"ignored"}`} {
		name, _, cfg, err := ParseRequest(k, []byte(b))
		if err != nil || name != "Google" {
			t.Fatalf("body %q: %q, %v", b, name, err)
		}
		if got := cfg.(*ClientConfig).ClientID; got != "" {
			t.Errorf("body %q: ClientID = %q; only exact JSON names may match", b, got)
		}
	}
	// Path wins over body: an update body's id is ignored.
	if _, _, _, err := ParseRequest(k, []byte(`{"id":"123","clientId":"c"}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := ParseRequest(Kind{}, []byte(`{}`)); errs.KindOf(err) != errs.KindInternal {
		t.Errorf("zero Kind: %v, want Internal", err)
	}
}

// FuzzParseRequest checks that no input panics or yields anything but
// InvalidArgument, and that whatever parses also validates, renders and
// round-trips as a payload without panicking.
func FuzzParseRequest(f *testing.F) {
	for path, rt := range roundTrip {
		f.Add(path, []byte(rt.body))
	}
	f.Add("saml", []byte(`{"metadata_url":"u","binding":3,"name_id_format":null}`))
	f.Add("azure", []byte(`{"tenant":{"tenant_type":1}}`))
	f.Add("ldap", []byte(`{"timeout":"-0.000000001s","attributes":{}}`))
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		k, ok := ByPath(path)
		if !ok {
			return
		}
		_, _, cfg, err := ParseRequest(k, body)
		if err != nil {
			if errs.KindOf(err) != errs.KindInvalidArgument {
				t.Fatalf("error kind %v: %v", errs.KindOf(err), err)
			}
			return
		}
		if err := Validate(cfg, "INST", false); err != nil && errs.KindOf(err) != errs.KindInvalidArgument {
			t.Fatalf("Validate error kind %v: %v", errs.KindOf(err), err)
		}
		if _, err := json.Marshal(View(cfg)); err != nil {
			t.Fatalf("View: %v", err)
		}
		payload, err := json.Marshal(cfg)
		if err != nil {
			t.Fatalf("payload: %v", err)
		}
		back := k.New()
		if err := json.Unmarshal(payload, back); err != nil {
			t.Fatalf("payload %s does not unmarshal: %v", payload, err)
		}
		Normalize(back)
		if !reflect.DeepEqual(cfg, back) {
			t.Fatalf("payload round trip differs:\n got %#v\nwant %#v", back, cfg)
		}
	})
}
