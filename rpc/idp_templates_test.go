package rpc_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/internal/app/apptest"
)

// anyMsg carries a generated message of a type chosen at run time through
// a connect client: its proto.Message is what goes on the wire.
type anyMsg struct{ proto.Message }

// callMsg calls procedure with req (a generated request message) over p
// and returns the generated response message, or the error.
func callMsg(t *testing.T, env *apptest.Env, p protocol, procedure string, req proto.Message, headers ...string) (proto.Message, error) {
	t.Helper()
	res := newMsg(t, methodOf(t, procedure).Output().FullName())
	dyn := protocol{p.name, append(slices.Clone(p.opts), connect.WithResponseInitializer(func(_ connect.Spec, m any) error {
		m.(*anyMsg).Message = res
		return nil
	}))}
	got, err := call[anyMsg, anyMsg](t, env, dyn, procedure, &anyMsg{req}, headers...)
	if err != nil {
		return res, err
	}
	return got.Message, nil
}

func methodOf(t *testing.T, procedure string) protoreflect.MethodDescriptor {
	t.Helper()
	svc, method, _ := strings.Cut(strings.TrimPrefix(procedure, "/"), "/")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		t.Fatalf("service %s: %v", svc, err)
	}
	md := d.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(method))
	if md == nil {
		t.Fatalf("no method %s", procedure)
	}
	return md
}

func newMsg(t *testing.T, name protoreflect.FullName) proto.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(name)
	if err != nil {
		t.Fatalf("message %s: %v", name, err)
	}
	return mt.New().Interface()
}

// requestOf returns procedure's request message filled from a REST body
// (protojson accepts the same JSON names).
func requestOf(t *testing.T, procedure, body string) proto.Message {
	t.Helper()
	m := newMsg(t, methodOf(t, procedure).Input().FullName())
	if err := protojson.Unmarshal([]byte(body), m); err != nil {
		t.Fatalf("%s: %s is no request: %v", procedure, body, err)
	}
	return m
}

// withField returns body with key set to value.
func withField(t *testing.T, body, key string, value any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	m[key] = value
	b, _ := json.Marshal(m)
	return string(b)
}

// templateAPI is one of the two v1 services with its REST prefix and the
// headers of its calls (the management one acts in an org's context).
type templateAPI struct {
	name, prefix, service string
	headers               []string
}

func templateAPIs(orgID string) []templateAPI {
	return []templateAPI{
		{"admin", "/admin/v1", "/zitadel.admin.v1.AdminService/", nil},
		{"management", "/management/v1", "/zitadel.management.v1.ManagementService/", []string{"x-zitadel-orgid", orgID}},
	}
}

func (api templateAPI) with(headers ...string) []string {
	return append(slices.Clone(api.headers), headers...)
}

var (
	tplSAMLXML   = base64.StdEncoding.EncodeToString([]byte(`<EntityDescriptor entityID="https://saml.example"/>`))
	tplAppleKey  = "SECRET-apple-private-key"
	tplAppleKey2 = "SECRET-apple-private-key-2"
	tplRootCA    = base64.StdEncoding.EncodeToString([]byte("root-ca-bytes"))
)

// templateCases: one per kind, an add body and a full update body (without
// secrets, so the stored ones are kept, unless the update sets a new one).
// They cover what protojson writes differently from a hand-written body:
// defaults left out, enums as names, durations as "1.500s", bytes as
// base64, oneofs (the Azure tenant, the SAML metadata), proto3 optional
// fields set to their zero value (SAML).
var templateCases = []struct {
	kind, add, update string
	secrets           []string
}{
	{"oauth", `{"name":"OAuth","clientId":"c","clientSecret":"SECRET-oauth","authorizationEndpoint":"https://o.example/auth",
		"tokenEndpoint":"https://o.example/token","userEndpoint":"https://o.example/user","scopes":["openid","profile"],"idAttribute":"sub",
		"usePkce":true,"providerOptions":{"isLinkingAllowed":true,"isAutoCreation":true,"autoLinking":"AUTO_LINKING_OPTION_EMAIL"}}`,
		`{"name":"OAuth 2","clientId":"c2","authorizationEndpoint":"https://o.example/auth2","tokenEndpoint":"https://o.example/token",
		"userEndpoint":"https://o.example/user","idAttribute":"id","providerOptions":{"autoLinking":"AUTO_LINKING_OPTION_USERNAME"}}`,
		[]string{"SECRET-oauth"}},
	{"generic_oidc", `{"name":"OIDC","issuer":"https://oidc.example","clientId":"c","clientSecret":"SECRET-oidc","scopes":["openid"],
		"isIdTokenMapping":true,"usePkce":true}`,
		`{"name":"OIDC","issuer":"https://oidc2.example","clientId":"c","clientSecret":"SECRET-oidc-2","providerOptions":{"isCreationAllowed":true}}`,
		[]string{"SECRET-oidc", "SECRET-oidc-2"}},
	{"generic_jwt", `{"name":"JWT","issuer":"https://jwt.example","jwtEndpoint":"https://jwt.example/jwt","keysEndpoint":"https://jwt.example/keys","headerName":"x-auth"}`,
		`{"name":"JWT","issuer":"https://jwt.example","jwtEndpoint":"https://jwt.example/jwt","keysEndpoint":"https://jwt.example/keys","headerName":"x-other"}`, nil},
	{"ldap", `{"name":"LDAP","servers":["ldaps://ldap.example:636"],"startTls":true,"baseDn":"dc=example,dc=com","bindDn":"cn=admin",
		"bindPassword":"SECRET-ldap","userBase":"dn","userObjectClasses":["user"],"userFilters":["uid","mail"],"timeout":"10s",
		"attributes":{"idAttribute":"uid","emailAttribute":"mail","profileAttribute":"profile"},"rootCa":"` + tplRootCA + `"}`,
		`{"name":"LDAP","servers":["ldap://a","ldap://b"],"baseDn":"dc=example,dc=com","bindDn":"cn=admin","userBase":"dn",
		"userObjectClasses":["user","person"],"userFilters":["uid"],"timeout":"1.5s","attributes":{"idAttribute":"entryUUID"}}`,
		[]string{"SECRET-ldap"}},
	{"azure", `{"name":"Azure","clientId":"c","clientSecret":"SECRET-azure","tenant":{"tenantId":"tenant-123"},"emailVerified":true,"scopes":["openid"]}`,
		`{"name":"Azure","clientId":"c","tenant":{"tenantType":"AZURE_AD_TENANT_TYPE_COMMON"}}`, []string{"SECRET-azure"}},
	{"github", `{"clientId":"c","clientSecret":"SECRET-github","scopes":["read:user"]}`,
		`{"clientId":"c2","scopes":["read:user","user:email"]}`, []string{"SECRET-github"}},
	{"github_es", `{"name":"GHES","clientId":"c","clientSecret":"SECRET-ghes","authorizationEndpoint":"https://g.example/auth",
		"tokenEndpoint":"https://g.example/token","userEndpoint":"https://g.example/user","scopes":["read:user"]}`,
		`{"name":"GHES 2","clientId":"c","authorizationEndpoint":"https://g.example/auth","tokenEndpoint":"https://g.example/token","userEndpoint":"https://g.example/user"}`,
		[]string{"SECRET-ghes"}},
	{"gitlab", `{"clientId":"c","clientSecret":"SECRET-gitlab","scopes":["openid"]}`,
		`{"name":"My GitLab","clientId":"c"}`, []string{"SECRET-gitlab"}},
	{"gitlab_self_hosted", `{"name":"GLSH","issuer":"https://gitlab.example","clientId":"c","clientSecret":"SECRET-glsh","scopes":["openid"]}`,
		`{"name":"GLSH","issuer":"https://gitlab2.example","clientId":"c"}`, []string{"SECRET-glsh"}},
	{"google", `{"clientId":"c","clientSecret":"SECRET-google","scopes":["openid","email"],"providerOptions":{"isAutoUpdate":true}}`,
		`{"clientId":"c","clientSecret":"SECRET-google-2"}`, []string{"SECRET-google", "SECRET-google-2"}},
	{"apple", `{"clientId":"c","teamId":"TEAM123456","keyId":"KEY1234567","privateKey":"` + base64.StdEncoding.EncodeToString([]byte(tplAppleKey)) + `","scopes":["name","email"]}`,
		`{"clientId":"c","teamId":"TEAM654321","keyId":"KEY1234567","privateKey":"` + base64.StdEncoding.EncodeToString([]byte(tplAppleKey2)) + `"}`,
		[]string{tplAppleKey, tplAppleKey2}},
	{"saml", `{"name":"SAML","metadataXml":"` + tplSAMLXML + `","binding":"SAML_BINDING_POST","withSignedRequest":true,
		"nameIdFormat":"SAML_NAME_ID_FORMAT_TRANSIENT","transientMappingAttributeName":"uid","federatedLogoutEnabled":true}`,
		`{"name":"SAML","metadataXml":"` + tplSAMLXML + `","binding":"SAML_BINDING_REDIRECT","nameIdFormat":"SAML_NAME_ID_FORMAT_UNSPECIFIED",
		"transientMappingAttributeName":"","federatedLogoutEnabled":false}`, nil},
}

// badField returns add with one config field made invalid.
func badField(t *testing.T, kind, add string) string {
	switch kind {
	case "generic_jwt":
		return withField(t, add, "issuer", " ")
	case "ldap":
		return withField(t, add, "servers", []string{"ldap://a", " "})
	case "saml":
		var m map[string]any
		_ = json.Unmarshal([]byte(add), &m)
		delete(m, "metadataXml")
		m["metadataUrl"] = "https://saml.example/" + strings.Repeat("m", 200)
		b, _ := json.Marshal(m)
		return string(b)
	}
	return withField(t, add, "scopes", []string{"openid", " "})
}

// sameShape fails t unless got, a write's answer, sets the fields the REST
// answer to a twin write sets, at every depth, with the same resource owner
// (IDs, sequences and times differ between twins).
func sameShape(t *testing.T, restBody []byte, got proto.Message) {
	t.Helper()
	want := got.ProtoReflect().New().Interface()
	if err := protojson.Unmarshal(restBody, want); err != nil {
		t.Fatalf("REST answer %s: %v", restBody, err)
	}
	if a, b := shapeOf(got.ProtoReflect()), shapeOf(want.ProtoReflect()); a != b {
		t.Fatalf("RPC answer sets %s, REST %s", a, b)
	}
}

func shapeOf(m protoreflect.Message) string {
	var out []string
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		s := string(fd.Name())
		switch {
		case fd.Name() == "resource_owner":
			s += "=" + v.String()
		case fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() &&
			!strings.HasPrefix(string(fd.Message().FullName()), "google.protobuf."):
			s += "{" + shapeOf(v.Message()) + "}"
		}
		out = append(out, s)
		return true
	})
	return strings.Join(out, ",")
}

// noSecrets fails t if a secret, or its base64, is in m's JSON.
func noSecrets(t *testing.T, m proto.Message, secrets []string) {
	t.Helper()
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(string(b), s) || strings.Contains(string(b), base64.StdEncoding.EncodeToString([]byte(s))) {
			t.Fatalf("secret %q in the RPC answer %s", s, b)
		}
	}
}

// restConfig reads an IdP over REST and returns it without its ID and
// details, which differ between twins.
func restConfig(t *testing.T, env *apptest.Env, api templateAPI, id string) map[string]any {
	t.Helper()
	got := env.MustDo(t, http.StatusOK, "GET", api.prefix+"/idps/templates/"+id, nil, api.headers...)["idp"].(map[string]any)
	delete(got, "id")
	delete(got, "details")
	return got
}

// updateMethod is the REST method of an update: ZITADEL's admin API
// updates the two GitLab kinds with POST.
func updateMethod(api templateAPI, kind string) string {
	if api.name == "admin" && (kind == "gitlab" || kind == "gitlab_self_hosted") {
		return "POST"
	}
	return "PUT"
}

// TestIDPTemplateAddUpdate: for every kind on both services and over every
// protocol, an add and an update over RPC store what the same add and
// update over REST store, answer without secrets, and fail as REST does.
func TestIDPTemplateAddUpdate(t *testing.T) {
	env := apptest.New(t)
	orgA, orgB := env.CreateOrg(t, "a"), env.CreateOrg(t, "b")
	_, patA := env.CreateOrgOwner(t, orgA)
	_, patB := env.CreateOrgOwner(t, orgB)
	if len(templateCases) != len(idp.Kinds()) {
		t.Fatalf("%d cases for %d kinds", len(templateCases), len(idp.Kinds()))
	}
	for _, api := range templateAPIs(orgA) {
		for _, tc := range templateCases {
			kind, ok := idp.ByPath(tc.kind)
			if !ok {
				t.Fatalf("no kind %s", tc.kind)
			}
			add := api.service + strings.TrimSuffix(kind.AddRequest(), "Request")
			update := api.service + strings.TrimSuffix(kind.UpdateRequest(), "Request")
			t.Run(api.name+"/"+tc.kind, func(t *testing.T) {
				status, addBody := env.Do(t, "POST", api.prefix+"/idps/"+tc.kind, tc.add, api.headers...)
				var twinAdd struct{ ID string }
				if status != http.StatusOK || json.Unmarshal(addBody, &twinAdd) != nil {
					t.Fatalf("REST add: %d %s", status, addBody)
				}
				twin := twinAdd.ID
				added := restConfig(t, env, api, twin)
				status, updateBody := env.Do(t, updateMethod(api, tc.kind), api.prefix+"/idps/"+tc.kind+"/"+twin, tc.update, api.headers...)
				if status != http.StatusOK {
					t.Fatalf("REST update: %d %s", status, updateBody)
				}
				updated := restConfig(t, env, api, twin)
				if reflect.DeepEqual(added, updated) {
					t.Fatalf("the update changes nothing: %v", added)
				}
				for _, p := range protocols {
					res, err := callMsg(t, env, p, add, requestOf(t, add, tc.add), api.headers...)
					if err != nil {
						t.Fatalf("%s: add: %v", p.name, err)
					}
					noSecrets(t, res, tc.secrets)
					sameShape(t, addBody, res)
					id := res.ProtoReflect().Get(res.ProtoReflect().Descriptor().Fields().ByName("id")).String()
					if got := restConfig(t, env, api, id); !reflect.DeepEqual(got, added) {
						t.Fatalf("%s: added over RPC %v\nover REST %v", p.name, got, added)
					}
					res, err = callMsg(t, env, p, update, requestOf(t, update, withField(t, tc.update, "id", id)), api.headers...)
					if err != nil {
						t.Fatalf("%s: update: %v", p.name, err)
					}
					noSecrets(t, res, tc.secrets)
					sameShape(t, updateBody, res)
					if got := restConfig(t, env, api, id); !reflect.DeepEqual(got, updated) {
						t.Fatalf("%s: updated over RPC %v\nover REST %v", p.name, got, updated)
					}
					get := api.service + "GetProviderByID"
					res, err = callMsg(t, env, p, get, requestOf(t, get, `{"id":"`+id+`"}`), api.headers...)
					status, body := env.Do(t, "GET", api.prefix+"/idps/templates/"+id, nil, api.headers...)
					sameAsREST(t, p, status, body, res, err)
					noSecrets(t, res, tc.secrets)
				}
			})
			t.Run(api.name+"/"+tc.kind+"/errors", func(t *testing.T) {
				restWrongOrg := []string{"Authorization", "Bearer " + patB, "x-zitadel-orgid", orgA}
				if api.name == "admin" {
					restWrongOrg = []string{"Authorization", "Bearer " + patA}
				}
				for _, p := range protocols {
					for _, ec := range []struct {
						name, method, path, procedure, body string
						headers                             []string
					}{
						// No name where one is required, else no client ID.
						{"empty", "POST", "/idps/" + tc.kind, add, `{}`, api.headers},
						{"bad field", "POST", "/idps/" + tc.kind, add, badField(t, tc.kind, tc.add), api.headers},
						{"too long name", "POST", "/idps/" + tc.kind, add, withField(t, tc.add, "name", strings.Repeat("n", 201)), api.headers},
						{"update not found", updateMethod(api, tc.kind), "/idps/" + tc.kind + "/nope", update, tc.update, api.headers},
						{"update empty", updateMethod(api, tc.kind), "/idps/" + tc.kind + "/nope", update, `{}`, api.headers},
						{"permission denied", "POST", "/idps/" + tc.kind, add, tc.add, restWrongOrg},
						{"unauthenticated", "POST", "/idps/" + tc.kind, add, tc.add, api.with("Authorization", "")},
					} {
						status, body := env.Do(t, ec.method, api.prefix+ec.path, ec.body, ec.headers...)
						if status == http.StatusOK {
							t.Fatalf("%s: REST accepted %s %s", ec.name, ec.path, ec.body)
						}
						reqBody := ec.body
						if ec.procedure == update {
							reqBody = withField(t, ec.body, "id", "nope")
						}
						res, err := callMsg(t, env, p, ec.procedure, requestOf(t, ec.procedure, reqBody), ec.headers...)
						sameAsREST(t, p, status, body, res, err)
					}
					// REST has no route for an empty ID: the request check
					// answers, as ZITADEL's validation does.
					res, err := callMsg(t, env, p, update, requestOf(t, update, tc.update), api.headers...)
					sameAsREST(t, p, http.StatusBadRequest, []byte(`{"code":3,"message":"invalid `+kind.UpdateRequest()+`.Id: value length must be between 1 and 200 runes, inclusive"}`), res, err)
				}
			})
		}
	}
}

// withoutViewTimestamp clears details.viewTimestamp of a list answer (the
// time the database answered), in the RPC message and in the REST body.
func withoutViewTimestamp(t *testing.T, body []byte, got proto.Message) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("REST list %s: %v", body, err)
	}
	if d, ok := m["details"].(map[string]any); ok {
		delete(d, "viewTimestamp")
	}
	body, _ = json.Marshal(m)
	r := got.ProtoReflect()
	if fd := r.Descriptor().Fields().ByName("details"); r.Has(fd) {
		d := r.Mutable(fd).Message()
		d.Clear(d.Descriptor().Fields().ByName("view_timestamp"))
	}
	return body
}

// TestIDPTemplateGetListDelete: GetProviderByID, ListProviders and
// DeleteProvider on both services answer as REST's GET, _search and
// DELETE on …/idps/templates.
func TestIDPTemplateGetListDelete(t *testing.T) {
	env := apptest.New(t)
	orgA, orgB := env.CreateOrg(t, "a"), env.CreateOrg(t, "b")
	_, patA := env.CreateOrgOwner(t, orgA)
	_, patB := env.CreateOrgOwner(t, orgB)
	google := `{"clientId":"c","clientSecret":"SECRET-list","providerOptions":{"isLinkingAllowed":true}}`
	secrets := []string{"SECRET-list"}
	inst := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/google", google)["id"].(string)
	env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/saml", templateCases[11].add)
	env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/ldap", templateCases[3].add)
	orgIDP := env.MustDo(t, http.StatusOK, "POST", "/management/v1/idps/azure", templateCases[4].add, "x-zitadel-orgid", orgA)["id"].(string)

	for _, api := range templateAPIs(orgA) {
		wrongOrg := []string{"Authorization", "Bearer " + patB, "x-zitadel-orgid", orgA}
		own := inst
		if api.name == "admin" {
			wrongOrg = []string{"Authorization", "Bearer " + patA}
		} else {
			own = orgIDP
		}
		get, list, del := api.service+"GetProviderByID", api.service+"ListProviders", api.service+"DeleteProvider"
		for _, p := range protocols {
			t.Run(api.name+"/"+p.name, func(t *testing.T) {
				for _, tc := range []struct {
					name, id string
					headers  []string
				}{
					{"found", own, api.headers},
					{"instance's", inst, api.headers},
					{"not found", "nope", api.headers},
					{"wrong org", own, wrongOrg},
					{"unauthenticated", own, api.with("Authorization", "")},
				} {
					status, body := env.Do(t, "GET", api.prefix+"/idps/templates/"+tc.id, nil, tc.headers...)
					res, err := callMsg(t, env, p, get, requestOf(t, get, `{"id":"`+tc.id+`"}`), tc.headers...)
					sameAsREST(t, p, status, body, res, err)
					noSecrets(t, res, secrets)
				}
				res, err := callMsg(t, env, p, get, requestOf(t, get, `{}`), api.headers...)
				sameAsREST(t, p, http.StatusBadRequest, []byte(`{"code":3,"message":"invalid GetProviderByIDRequest.Id: value length must be between 1 and 200 runes, inclusive"}`), res, err)

				searches := []struct {
					name, body string
					headers    []string
				}{
					{"all", `{}`, api.headers},
					{"page", `{"query":{"offset":"1","limit":2,"asc":true}}`, api.headers},
					{"by name", `{"queries":[{"idpNameQuery":{"name":"goo","method":"TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]}`, api.headers},
					{"by id", `{"queries":[{"idpIdQuery":{"id":"` + own + `"}}]}`, api.headers},
					{"limit too large", `{"query":{"limit":1001}}`, api.headers},
					{"name too long", `{"queries":[{"idpNameQuery":{"name":"` + strings.Repeat("n", 201) + `"}}]}`, api.headers},
					{"empty query", `{"queries":[{}]}`, api.headers},
					{"wrong org", `{}`, wrongOrg},
				}
				if api.name == "management" {
					searches = append(searches, struct {
						name, body string
						headers    []string
					}{"by owner", `{"queries":[{"ownerTypeQuery":{"ownerType":"IDP_OWNER_TYPE_ORG"}}]}`, api.headers},
						struct {
							name, body string
							headers    []string
						}{"owner unspecified", `{"queries":[{"ownerTypeQuery":{}}]}`, api.headers})
				}
				for _, sc := range searches {
					status, body := env.Do(t, "POST", api.prefix+"/idps/templates/_search", sc.body, sc.headers...)
					res, err := callMsg(t, env, p, list, requestOf(t, list, sc.body), sc.headers...)
					if err == nil {
						body = withoutViewTimestamp(t, body, res)
					}
					sameAsREST(t, p, status, body, res, err)
					noSecrets(t, res, secrets)
				}

				// Deletes: an error answers as REST's; a success removes the
				// IdP as REST's delete of a twin does.
				for _, tc := range []struct {
					name, id string
					headers  []string
				}{
					{"not found", "nope", api.headers},
					{"wrong org", own, wrongOrg},
					{"unauthenticated", own, api.with("Authorization", "")},
				} {
					status, body := env.Do(t, "DELETE", api.prefix+"/idps/templates/"+tc.id, nil, tc.headers...)
					res, err := callMsg(t, env, p, del, requestOf(t, del, `{"id":"`+tc.id+`"}`), tc.headers...)
					sameAsREST(t, p, status, body, res, err)
				}
				res, err = callMsg(t, env, p, del, requestOf(t, del, `{}`), api.headers...)
				sameAsREST(t, p, http.StatusBadRequest, []byte(`{"code":3,"message":"invalid DeleteProviderRequest.Id: value length must be between 1 and 200 runes, inclusive"}`), res, err)
				victim := env.MustDo(t, http.StatusOK, "POST", api.prefix+"/idps/google", google, api.headers...)["id"].(string)
				twin := env.MustDo(t, http.StatusOK, "POST", api.prefix+"/idps/google", google, api.headers...)["id"].(string)
				res, err = callMsg(t, env, p, del, requestOf(t, del, `{"id":"`+victim+`"}`), api.headers...)
				if err != nil {
					t.Fatalf("delete: %v", err)
				}
				_, twinBody := env.Do(t, "DELETE", api.prefix+"/idps/templates/"+twin, nil, api.headers...)
				sameShape(t, twinBody, res)
				for _, id := range []string{victim, twin} {
					status, body := env.Do(t, "GET", api.prefix+"/idps/templates/"+id, nil, api.headers...)
					if status != http.StatusNotFound {
						t.Fatalf("deleted %s: %d %s", id, status, body)
					}
					// A second delete is not found, over both transports.
					status, body = env.Do(t, "DELETE", api.prefix+"/idps/templates/"+id, nil, api.headers...)
					res, err := callMsg(t, env, p, del, requestOf(t, del, `{"id":"`+id+`"}`), api.headers...)
					sameAsREST(t, p, status, body, res, err)
				}
			})
		}
	}
}
