package idp

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// roundTrip holds, for every kind, a full valid add request and the View it
// must render. TestEveryKindHasConfigAndRoundTrip fails for a kind that is in
// the table but not here, so a new kind cannot land without this test.
var roundTrip = map[string]struct {
	body string // full add request body
	name string // the name ParseRequest returns
	view string // View() as JSON
}{
	"oauth": {
		body: `{"name":" My OAuth ","clientId":"cid","clientSecret":"oauth-secret",
			"authorizationEndpoint":"https://a.example/auth","tokenEndpoint":"https://a.example/token",
			"userEndpoint":"https://a.example/user","scopes":["openid"," profile "],"idAttribute":"sub","usePkce":true,
			"providerOptions":{"isLinkingAllowed":true,"autoLinking":"AUTO_LINKING_OPTION_EMAIL"}}`,
		name: "My OAuth",
		view: `{"clientId":"cid","authorizationEndpoint":"https://a.example/auth","tokenEndpoint":"https://a.example/token",
			"userEndpoint":"https://a.example/user","scopes":["openid","profile"],"idAttribute":"sub","usePkce":true}`,
	},
	"generic_oidc": {
		body: `{"name":"OIDC","issuer":"https://issuer.example","clientId":"cid","clientSecret":"oidc-secret",
			"scopes":["openid"],"isIdTokenMapping":true,"usePkce":true}`,
		name: "OIDC",
		view: `{"issuer":"https://issuer.example","clientId":"cid","scopes":["openid"],"isIdTokenMapping":true,"usePkce":true}`,
	},
	"generic_jwt": {
		body: `{"name":"JWT","issuer":"https://jwt.example","jwtEndpoint":"https://jwt.example/jwt",
			"keysEndpoint":"https://jwt.example/keys","headerName":"x-auth-token"}`,
		name: "JWT",
		view: `{"jwtEndpoint":"https://jwt.example/jwt","issuer":"https://jwt.example",
			"keysEndpoint":"https://jwt.example/keys","headerName":"x-auth-token"}`,
	},
	"ldap": {
		body: `{"name":"LDAP","servers":["ldaps://ldap.example:636"],"startTls":true,"baseDn":"dc=example,dc=com",
			"bindDn":"cn=admin,dc=example,dc=com","bindPassword":"ldap-password","userBase":"dn",
			"userObjectClasses":["user"],"userFilters":["uid","mail"],"timeout":"1.5s",
			"attributes":{"idAttribute":"uid","emailAttribute":"mail"},"rootCa":"LS0tLS1CRUdJTi0tLS0t"}`,
		name: "LDAP",
		view: `{"servers":["ldaps://ldap.example:636"],"startTls":true,"baseDn":"dc=example,dc=com",
			"bindDn":"cn=admin,dc=example,dc=com","userBase":"dn","userObjectClasses":["user"],
			"userFilters":["uid","mail"],"timeout":"1.500s","attributes":{"idAttribute":"uid","emailAttribute":"mail"},
			"rootCa":"LS0tLS1CRUdJTi0tLS0t"}`,
	},
	"azure": {
		body: `{"name":"Azure","clientId":"cid","clientSecret":"azure-secret",
			"tenant":{"tenantType":"AZURE_AD_TENANT_TYPE_ORGANISATIONS"},"emailVerified":true,"scopes":["openid","User.Read"]}`,
		name: "Azure",
		view: `{"clientId":"cid","tenant":{"tenantType":"AZURE_AD_TENANT_TYPE_ORGANISATIONS"},"emailVerified":true,
			"scopes":["openid","User.Read"]}`,
	},
	"github": {
		body: `{"clientId":"cid","clientSecret":"github-secret","scopes":["read:user"]}`,
		name: "GitHub",
		view: `{"clientId":"cid","scopes":["read:user"]}`,
	},
	"github_es": {
		body: `{"clientId":"cid","name":"GHES","clientSecret":"ghes-secret","authorizationEndpoint":"https://gh.example/auth",
			"tokenEndpoint":"https://gh.example/token","userEndpoint":"https://gh.example/user","scopes":["read:user"]}`,
		name: "GHES",
		view: `{"clientId":"cid","authorizationEndpoint":"https://gh.example/auth","tokenEndpoint":"https://gh.example/token",
			"userEndpoint":"https://gh.example/user","scopes":["read:user"]}`,
	},
	"gitlab": {
		body: `{"name":"GitLab corp","clientId":"cid","clientSecret":"gitlab-secret","scopes":["openid"]}`,
		name: "GitLab corp",
		view: `{"clientId":"cid","scopes":["openid"]}`,
	},
	"gitlab_self_hosted": {
		body: `{"issuer":"https://gitlab.example","name":"GL","clientId":"cid","clientSecret":"glsh-secret","scopes":["openid"]}`,
		name: "GL",
		view: `{"issuer":"https://gitlab.example","clientId":"cid","scopes":["openid"]}`,
	},
	"google": {
		body: `{"name":"","clientId":"cid","clientSecret":"google-secret","scopes":["openid","profile","email"]}`,
		name: "Google",
		view: `{"clientId":"cid","scopes":["openid","profile","email"]}`,
	},
	"apple": {
		body: `{"clientId":"com.example.app","teamId":"ALT03JV3OS","keyId":"OGKDK25KD1",
			"privateKey":"LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t","scopes":["name","email"]}`,
		name: "Apple",
		view: `{"clientId":"com.example.app","teamId":"ALT03JV3OS","keyId":"OGKDK25KD1","scopes":["name","email"]}`,
	},
	"saml": {
		body: `{"name":"SAML","metadataXml":"PEVudGl0eURlc2NyaXB0b3IvPg==","binding":"SAML_BINDING_POST",
			"withSignedRequest":true,"nameIdFormat":"SAML_NAME_ID_FORMAT_TRANSIENT",
			"transientMappingAttributeName":"uid","federatedLogoutEnabled":true}`,
		name: "SAML",
		view: `{"metadataXml":"PEVudGl0eURlc2NyaXB0b3IvPg==","binding":"SAML_BINDING_POST","withSignedRequest":true,
			"nameIdFormat":"SAML_NAME_ID_FORMAT_TRANSIENT","transientMappingAttributeName":"uid","federatedLogoutEnabled":true}`,
	},
}

func TestEveryKindHasConfigAndRoundTrip(t *testing.T) {
	for _, k := range Kinds() {
		t.Run(k.Path, func(t *testing.T) {
			if k.New == nil || k.New() == nil {
				t.Fatalf("kind %q has no config type", k.Path)
			}
			rt, ok := roundTrip[k.Path]
			if !ok {
				t.Fatalf("kind %q has no round-trip case in roundTrip", k.Path)
			}
			name, _, cfg, err := ParseRequest(k, []byte(rt.body))
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if name != rt.name {
				t.Errorf("name = %q, want %q", name, rt.name)
			}
			if err := Validate(cfg, "INST", false); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			payload, err := json.Marshal(cfg)
			if err != nil {
				t.Fatalf("marshal payload: %v", err)
			}
			back := k.New()
			if err := json.Unmarshal(payload, back); err != nil {
				t.Fatalf("unmarshal payload %s: %v", payload, err)
			}
			if !reflect.DeepEqual(cfg, back) {
				t.Fatalf("payload round trip differs:\n got %#v\nwant %#v", back, cfg)
			}
			assertJSONEqual(t, View(back), rt.view)
		})
	}
	for path := range roundTrip {
		if _, ok := ByPath(path); !ok {
			t.Errorf("roundTrip has %q, which is not a kind", path)
		}
	}
}

func assertJSONEqual(t *testing.T, v any, want string) {
	t.Helper()
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("JSON mismatch:\n got %s\nwant %s", got, strings.Join(strings.Fields(want), ""))
	}
}

func TestKindsTable(t *testing.T) {
	want := []struct{ path, key, typeName, defaultName, addRequest string }{
		{"generic_oidc", "oidc", "IDP_TYPE_OIDC", "", "AddGenericOIDCProviderRequest"},
		{"generic_jwt", "jwt", "IDP_TYPE_JWT", "", "AddJWTProviderRequest"},
		{"ldap", "ldap", "IDP_TYPE_LDAP", "", "AddLDAPProviderRequest"},
		{"oauth", "oauth", "IDP_TYPE_OAUTH", "", "AddGenericOAuthProviderRequest"},
		{"azure", "azureAd", "IDP_TYPE_AZURE_AD", "", "AddAzureADProviderRequest"},
		{"github", "github", "IDP_TYPE_GITHUB", "GitHub", "AddGitHubProviderRequest"},
		{"github_es", "githubEs", "IDP_TYPE_GITHUB_ES", "", "AddGitHubEnterpriseServerProviderRequest"},
		{"gitlab", "gitlab", "IDP_TYPE_GITLAB", "GitLab", "AddGitLabProviderRequest"},
		{"gitlab_self_hosted", "gitlabSelfHosted", "IDP_TYPE_GITLAB_SELF_HOSTED", "", "AddGitLabSelfHostedProviderRequest"},
		{"google", "google", "IDP_TYPE_GOOGLE", "Google", "AddGoogleProviderRequest"},
		{"apple", "apple", "IDP_TYPE_APPLE", "Apple", "AddAppleProviderRequest"},
		{"saml", "saml", "IDP_TYPE_SAML", "", "AddSAMLProviderRequest"},
	}
	ks := Kinds()
	if len(ks) != len(want) {
		t.Fatalf("%d kinds, want %d", len(ks), len(want))
	}
	for i, k := range ks {
		w := want[i]
		got := []string{k.Path, k.ConfigKey, k.TypeName, k.DefaultName, k.AddRequest()}
		if !slices.Equal(got, []string{w.path, w.key, w.typeName, w.defaultName, w.addRequest}) || k.Type != i+1 {
			t.Errorf("kind %d = %v (type %d), want %v", i, got, k.Type, w)
		}
		if k.UpdateRequest() != "Update"+strings.TrimPrefix(w.addRequest, "Add") {
			t.Errorf("%s: UpdateRequest = %s", k.Path, k.UpdateRequest())
		}
		if byPath, ok := ByPath(k.Path); !ok || byPath.Type != k.Type {
			t.Errorf("ByPath(%q) = %v, %v", k.Path, byPath.Type, ok)
		}
		if byType, ok := ByType(k.Type); !ok || byType.Path != k.Path {
			t.Errorf("ByType(%d) = %q, %v", k.Type, byType.Path, ok)
		}
		if ProviderTypeName(k.Type) != "PROVIDER_TYPE_"+strings.TrimPrefix(k.TypeName, "IDP_TYPE_") {
			t.Errorf("ProviderTypeName(%d) = %s", k.Type, ProviderTypeName(k.Type))
		}
		for _, name := range []string{k.TypeName, ProviderTypeName(k.Type)} {
			if n, ok := ParseIDPType(name); !ok || n != k.Type {
				t.Errorf("ParseIDPType(%s) = %d, %v", name, n, ok)
			}
		}
	}
	if _, ok := ByPath("jwt"); ok {
		t.Error(`ByPath("jwt") found a kind; the template path is generic_jwt`)
	}
	if _, ok := ByType(0); ok {
		t.Error("ByType(0) found a kind")
	}
	if IDPTypeName(13) != "IDP_TYPE_UNSPECIFIED" || ProviderTypeName(-1) != "PROVIDER_TYPE_UNSPECIFIED" {
		t.Error("unknown type numbers must name UNSPECIFIED")
	}
	if _, ok := ParseIDPType("IDP_TYPE_NOPE"); ok {
		t.Error("ParseIDPType accepted an unknown name")
	}
	ks[0].Path = "changed"
	if Kinds()[0].Path != "generic_oidc" {
		t.Error("Kinds returned the table itself, not a copy")
	}
}

func TestSecrets(t *testing.T) {
	want := map[string][]string{
		"oauth": {"clientSecret"}, "generic_oidc": {"clientSecret"}, "generic_jwt": nil,
		"ldap": {"bindPassword"}, "azure": {"clientSecret"}, "github": {"clientSecret"},
		"github_es": {"clientSecret"}, "gitlab": {"clientSecret"}, "gitlab_self_hosted": {"clientSecret"},
		"google": {"clientSecret"}, "apple": {"privateKey"}, "saml": {"spKey"},
	}
	for _, k := range Kinds() {
		_, _, cfg, err := ParseRequest(k, []byte(roundTrip[k.Path].body))
		if err != nil {
			t.Fatalf("%s: %v", k.Path, err)
		}
		if c, ok := cfg.(*SAMLConfig); ok {
			c.Key = "-----BEGIN RSA PRIVATE KEY-----" // the server's, generated at AddIDP
		}
		var fields []string
		for _, s := range Secrets(cfg) {
			fields = append(fields, s.Field)
			plain := *s.Value
			if plain == "" {
				t.Errorf("%s: secret %s is empty", k.Path, s.Field)
			}
			view, _ := json.Marshal(View(cfg))
			if strings.Contains(string(view), plain) {
				t.Errorf("%s: View contains the %s", k.Path, s.Field)
			}
			// The caller replaces plaintext through the pointer.
			*s.Value = "sealed:" + s.Field
			payload, _ := json.Marshal(cfg)
			if strings.Contains(string(payload), plain) || !strings.Contains(string(payload), "sealed:"+s.Field) {
				t.Errorf("%s: replacing %s through Secret.Value did not reach the payload: %s", k.Path, s.Field, payload)
			}
		}
		if !slices.Equal(fields, want[k.Path]) {
			t.Errorf("%s: secrets %v, want %v", k.Path, fields, want[k.Path])
		}
	}
}

func TestViewDefaults(t *testing.T) {
	cases := []struct{ path, body, view string }{
		{"saml", `{"name":"s","metadataUrl":"https://idp.example/metadata"}`,
			`{"nameIdFormat":"SAML_NAME_ID_FORMAT_PERSISTENT","transientMappingAttributeName":"",
			  "federatedLogoutEnabled":false,"metadataUrl":"https://idp.example/metadata"}`},
		{"saml", `{"name":"s","metadataUrl":"u","binding":2,"nameIdFormat":0,"transientMappingAttributeName":"",
			"federatedLogoutEnabled":false}`,
			`{"binding":"SAML_BINDING_REDIRECT","transientMappingAttributeName":"","federatedLogoutEnabled":false,"metadataUrl":"u"}`},
		{"saml", `{"name":"s","metadataUrl":"u","binding":"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact","nameIdFormat":1}`,
			`{"binding":"SAML_BINDING_ARTIFACT","nameIdFormat":"SAML_NAME_ID_FORMAT_EMAIL_ADDRESS",
			  "transientMappingAttributeName":"","federatedLogoutEnabled":false,"metadataUrl":"u"}`},
		{"azure", `{"name":"a","clientId":"c","clientSecret":"s"}`,
			`{"clientId":"c","tenant":{"tenantType":"AZURE_AD_TENANT_TYPE_COMMON"}}`},
		{"azure", `{"name":"a","clientId":"c","clientSecret":"s","tenant":{"tenantType":2}}`,
			`{"clientId":"c","tenant":{"tenantType":"AZURE_AD_TENANT_TYPE_CONSUMERS"}}`},
		{"azure", `{"name":"a","clientId":"c","clientSecret":"s","tenant":{"tenantId":" 0b2f-tenant "}}`,
			`{"clientId":"c","tenant":{"tenantId":"0b2f-tenant"}}`},
		{"azure", `{"name":"a","clientId":"c","clientSecret":"s","tenant":{"tenantId":"consumers"}}`,
			`{"clientId":"c","tenant":{"tenantType":"AZURE_AD_TENANT_TYPE_CONSUMERS"}}`},
		{"ldap", `{"name":"l","servers":["s"],"baseDn":"b","bindDn":"d","bindPassword":"p","userBase":"u",
			"userObjectClasses":["o"],"userFilters":["f"],"timeout":"0s","scopes":[]}`,
			`{"servers":["s"],"baseDn":"b","bindDn":"d","userBase":"u","userObjectClasses":["o"],"userFilters":["f"],"attributes":{}}`},
		{"oauth", `{"name":"o","clientId":"c","clientSecret":"s","authorizationEndpoint":"a","tokenEndpoint":"t",
			"userEndpoint":"u","idAttribute":"i","scopes":[]}`,
			`{"clientId":"c","authorizationEndpoint":"a","tokenEndpoint":"t","userEndpoint":"u","idAttribute":"i"}`},
	}
	for _, c := range cases {
		k, _ := ByPath(c.path)
		_, _, cfg, err := ParseRequest(k, []byte(c.body))
		if err != nil {
			t.Fatalf("%s %s: %v", c.path, c.body, err)
		}
		if err := Validate(cfg, "ORG", false); err != nil {
			t.Fatalf("%s %s: Validate: %v", c.path, c.body, err)
		}
		assertJSONEqual(t, View(cfg), c.view)
		// The stored payload round-trips here too.
		payload, _ := json.Marshal(cfg)
		back := k.New()
		if err := json.Unmarshal(payload, back); err != nil || !reflect.DeepEqual(back, cfg) {
			t.Errorf("%s: payload %s does not round-trip (%v)", c.path, payload, err)
		}
	}
}
