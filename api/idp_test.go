package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
)

// idpCase is one kind of the end-to-end table: an add body, the v2 config
// view it must render, and a change applied on update (to the body and to
// the expected view). Secrets are left out of the update, so the stored
// ones are kept.
type idpCase struct {
	kind, key      string // path and config oneof key
	typ            string // IDP_TYPE_ suffix
	body           string
	name           string // name the add stores (the default for some kinds)
	view           string // v2 view
	v1Extra        map[string]any
	bodyPatch      map[string]any // nil value: remove
	viewPatch      map[string]any
	secrets        []string
	options        string // options after add; "" is {}
	updateWithPOST bool   // admin API updates this kind with POST
}

var (
	samlXML   = base64.StdEncoding.EncodeToString([]byte(`<EntityDescriptor entityID="https://saml.example"/>`))
	applePKey = base64.StdEncoding.EncodeToString([]byte("SECRET-apple-private-key"))
)

const allOptions = `{"isLinkingAllowed":true,"isCreationAllowed":true,"isAutoCreation":true,"autoLinking":"AUTO_LINKING_OPTION_EMAIL"}`

var idpCases = []idpCase{
	{kind: "oauth", key: "oauth", typ: "OAUTH", name: "OAuth IdP",
		body: `{"name":"OAuth IdP","clientId":"oauth-cid","clientSecret":"SECRET-oauth-1","authorizationEndpoint":"https://oauth.example/auth",
			"tokenEndpoint":"https://oauth.example/token","userEndpoint":"https://oauth.example/user","scopes":["openid","profile"],
			"idAttribute":"sub","usePkce":true,"providerOptions":` + allOptions + `}`,
		view: `{"clientId":"oauth-cid","authorizationEndpoint":"https://oauth.example/auth","tokenEndpoint":"https://oauth.example/token",
			"userEndpoint":"https://oauth.example/user","scopes":["openid","profile"],"idAttribute":"sub"}`,
		v1Extra: map[string]any{"usePkce": true}, secrets: []string{"SECRET-oauth-1"}, options: allOptions},
	{kind: "generic_oidc", key: "oidc", typ: "OIDC", name: "OIDC IdP",
		body: `{"name":"OIDC IdP","issuer":"https://oidc.example","client_id":"oidc-cid","client_secret":"SECRET-oidc-1","scopes":["openid"],
			"isIdTokenMapping":true,"usePkce":true}`,
		view:    `{"issuer":"https://oidc.example","clientId":"oidc-cid","scopes":["openid"],"isIdTokenMapping":true}`,
		v1Extra: map[string]any{"usePkce": true}, secrets: []string{"SECRET-oidc-1"}},
	{kind: "generic_jwt", key: "jwt", typ: "JWT", name: "JWT IdP",
		body: `{"name":"JWT IdP","issuer":"https://jwt.example","jwtEndpoint":"https://jwt.example/jwt","keysEndpoint":"https://jwt.example/keys",
			"headerName":"x-auth"}`,
		view:      `{"jwtEndpoint":"https://jwt.example/jwt","issuer":"https://jwt.example","keysEndpoint":"https://jwt.example/keys","headerName":"x-auth"}`,
		bodyPatch: map[string]any{"headerName": "x-other"}, viewPatch: map[string]any{"headerName": "x-other"}},
	{kind: "ldap", key: "ldap", typ: "LDAP", name: "LDAP IdP",
		body: `{"name":"LDAP IdP","servers":["ldaps://ldap.example:636"],"startTls":true,"baseDn":"dc=example,dc=com",
			"bindDn":"cn=admin,dc=example,dc=com","bindPassword":"SECRET-ldap-1","userBase":"dn","userObjectClasses":["user"],
			"userFilters":["uid","mail"],"timeout":"10s","attributes":{"idAttribute":"uid","emailAttribute":"mail"}}`,
		view: `{"servers":["ldaps://ldap.example:636"],"startTls":true,"baseDn":"dc=example,dc=com","bindDn":"cn=admin,dc=example,dc=com",
			"userBase":"dn","userObjectClasses":["user"],"userFilters":["uid","mail"],"timeout":"10s",
			"attributes":{"idAttribute":"uid","emailAttribute":"mail"}}`,
		bodyPatch: map[string]any{"timeout": nil}, viewPatch: map[string]any{"timeout": nil},
		secrets: []string{"SECRET-ldap-1"}},
	{kind: "azure", key: "azureAd", typ: "AZURE_AD", name: "Azure IdP",
		body: `{"name":"Azure IdP","clientId":"azure-cid","clientSecret":"SECRET-azure-1","tenant":{"tenantId":"tenant-123"},
			"emailVerified":true,"scopes":["openid"]}`,
		view:      `{"clientId":"azure-cid","tenant":{"tenantId":"tenant-123"},"emailVerified":true,"scopes":["openid"]}`,
		bodyPatch: map[string]any{"tenant": nil}, viewPatch: map[string]any{"tenant": map[string]any{"tenantType": "AZURE_AD_TENANT_TYPE_COMMON"}},
		secrets: []string{"SECRET-azure-1"}},
	{kind: "github", key: "github", typ: "GITHUB", name: "GitHub",
		body:    `{"clientId":"github-cid","clientSecret":"SECRET-github-1","scopes":["read:user"]}`,
		view:    `{"clientId":"github-cid","scopes":["read:user"]}`,
		secrets: []string{"SECRET-github-1"}},
	{kind: "github_es", key: "githubEs", typ: "GITHUB_ES", name: "GHES IdP",
		body: `{"name":"GHES IdP","clientId":"ghes-cid","clientSecret":"SECRET-ghes-1","authorizationEndpoint":"https://ghes.example/auth",
			"tokenEndpoint":"https://ghes.example/token","userEndpoint":"https://ghes.example/user","scopes":["read:user"]}`,
		view: `{"clientId":"ghes-cid","authorizationEndpoint":"https://ghes.example/auth","tokenEndpoint":"https://ghes.example/token",
			"userEndpoint":"https://ghes.example/user","scopes":["read:user"]}`,
		secrets: []string{"SECRET-ghes-1"}},
	{kind: "gitlab", key: "gitlab", typ: "GITLAB", name: "GitLab", updateWithPOST: true,
		body:    `{"clientId":"gitlab-cid","clientSecret":"SECRET-gitlab-1","scopes":["openid"]}`,
		view:    `{"clientId":"gitlab-cid","scopes":["openid"]}`,
		secrets: []string{"SECRET-gitlab-1"}},
	{kind: "gitlab_self_hosted", key: "gitlabSelfHosted", typ: "GITLAB_SELF_HOSTED", name: "GLSH IdP", updateWithPOST: true,
		body:    `{"name":"GLSH IdP","issuer":"https://gitlab.example","clientId":"glsh-cid","clientSecret":"SECRET-glsh-1","scopes":["openid"]}`,
		view:    `{"issuer":"https://gitlab.example","clientId":"glsh-cid","scopes":["openid"]}`,
		secrets: []string{"SECRET-glsh-1"}},
	{kind: "google", key: "google", typ: "GOOGLE", name: "Google",
		body:    `{"clientId":"google-cid","clientSecret":"SECRET-google-1","scopes":["openid","profile","email"],"providerOptions":` + allOptions + `}`,
		view:    `{"clientId":"google-cid","scopes":["openid","profile","email"]}`,
		secrets: []string{"SECRET-google-1"}, options: allOptions,
		// A new secret on update replaces the stored one.
		bodyPatch: map[string]any{"clientSecret": "SECRET-google-2"}},
	{kind: "apple", key: "apple", typ: "APPLE", name: "Apple",
		body:    `{"clientId":"apple-cid","teamId":"TEAM123456","keyId":"KEY1234567","privateKey":"` + applePKey + `","scopes":["name","email"]}`,
		view:    `{"clientId":"apple-cid","teamId":"TEAM123456","keyId":"KEY1234567","scopes":["name","email"]}`,
		secrets: []string{applePKey, "SECRET-apple-private-key"}},
	{kind: "saml", key: "saml", typ: "SAML", name: "SAML IdP",
		body: `{"name":"SAML IdP","metadataXml":"` + samlXML + `","binding":"SAML_BINDING_POST","withSignedRequest":true}`,
		view: `{"metadataXml":"` + samlXML + `","binding":"SAML_BINDING_POST","withSignedRequest":true,
			"nameIdFormat":"SAML_NAME_ID_FORMAT_PERSISTENT","transientMappingAttributeName":"","federatedLogoutEnabled":false}`,
		bodyPatch: map[string]any{"binding": "SAML_BINDING_REDIRECT", "nameIdFormat": "SAML_NAME_ID_FORMAT_EMAIL_ADDRESS",
			"transientMappingAttributeName": "uid", "federatedLogoutEnabled": true},
		viewPatch: map[string]any{"binding": "SAML_BINDING_REDIRECT", "nameIdFormat": "SAML_NAME_ID_FORMAT_EMAIL_ADDRESS",
			"transientMappingAttributeName": "uid", "federatedLogoutEnabled": true}},
}

// resp is a decoded JSON response.
type resp struct {
	status int
	body   map[string]any
	raw    string
}

// client calls the server with one token ("" sends none) and, optionally,
// a context org.
type client struct {
	t     *testing.T
	env   *apptest.Env
	token string
	org   string
}

func (c client) do(method, path string, body any) resp {
	c.t.Helper()
	var headers []string
	if c.org != "" {
		headers = []string{"x-zitadel-orgid", c.org}
	}
	status, raw := c.env.DoAs(c.t, c.token, method, path, body, headers...)
	r := resp{status: status, raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		c.t.Fatalf("%s %s: not a JSON object (%d): %s", method, path, status, raw)
	}
	return r
}

func (c client) must(method, path string, body any) map[string]any {
	c.t.Helper()
	r := c.do(method, path, body)
	if r.status != http.StatusOK {
		c.t.Fatalf("%s %s: %d %s", method, path, r.status, r.raw)
	}
	return r.body
}

func (r resp) wantError(t *testing.T, status int, id string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if id == "" {
		return
	}
	details, _ := r.body["details"].([]any)
	if len(details) != 1 || details[0].(map[string]any)["id"] != id || !strings.HasSuffix(r.body["message"].(string), "("+id+")") {
		t.Fatalf("error body %s, want ID %s", r.raw, id)
	}
}

func obj(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return m
}

func patched(m map[string]any, p map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	norm := func(v any) any {
		b, _ := json.Marshal(v)
		var out any
		_ = json.Unmarshal(b, &out)
		return out
	}
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		t.Fatalf("%s:\n got %s\nwant %s", what, gb, wb)
	}
}

// runIDPLifecycle runs add → v2 get → v1 get → update → get → search →
// delete → get for one kind at one owner.
func runIDPLifecycle(t *testing.T, c client, prefix, ownerEnum, ro, namePrefix string, tc idpCase) {
	added := c.must("POST", prefix+"/idps/"+tc.kind, tc.body)
	id, _ := added["id"].(string)
	details := added["details"].(map[string]any)
	created := details["creationDate"]
	if id == "" || created == nil {
		t.Fatalf("add response %v", added)
	}
	sameJSON(t, "add response", added, map[string]any{"id": id,
		"details": map[string]any{"sequence": "1", "creationDate": created, "resourceOwner": ro}})

	options := obj(t, "{}")
	if tc.options != "" {
		options = obj(t, tc.options)
	}
	view := obj(t, tc.view)
	v2 := func(seq string, changed any, name string, options, view map[string]any) map[string]any {
		return map[string]any{"idp": map[string]any{
			"id":      id,
			"details": map[string]any{"sequence": seq, "changeDate": changed, "resourceOwner": ro, "creationDate": created},
			"state":   "IDP_STATE_ACTIVE", "name": name, "type": "IDP_TYPE_" + tc.typ,
			"config": map[string]any{"options": options, tc.key: view},
		}}
	}
	v1 := func(seq string, changed any, name string, options, view map[string]any) map[string]any {
		return map[string]any{
			"id":      id,
			"details": map[string]any{"sequence": seq, "changeDate": changed, "resourceOwner": ro, "creationDate": created},
			"state":   "IDP_STATE_ACTIVE", "name": name, "owner": ownerEnum, "type": "PROVIDER_TYPE_" + tc.typ,
			"config": map[string]any{"options": options, tc.key: patched(view, tc.v1Extra)},
		}
	}
	sameJSON(t, "v2 get after add", c.must("GET", "/v2/idps/"+id, nil), v2("1", created, tc.name, options, view))
	sameJSON(t, "v1 get after add", c.must("GET", prefix+"/idps/templates/"+id, nil),
		map[string]any{"idp": v1("1", created, tc.name, options, view)})

	// Update: full replacement without secrets (kept), options reset to
	// their defaults, a new name and the case's change.
	newName := namePrefix + " " + tc.name + " v2"
	body := obj(t, tc.body)
	for _, k := range []string{"clientSecret", "client_secret", "bindPassword", "privateKey"} {
		delete(body, k)
	}
	body = patched(body, tc.bodyPatch)
	body["name"] = newName
	delete(body, "providerOptions")
	method := "PUT"
	if tc.updateWithPOST && prefix == "/admin/v1" {
		method = "POST"
	}
	updated := c.must(method, prefix+"/idps/"+tc.kind+"/"+id, body)
	changed := updated["details"].(map[string]any)["changeDate"]
	sameJSON(t, "update response", updated, map[string]any{
		"details": map[string]any{"sequence": "2", "changeDate": changed, "resourceOwner": ro}})
	if changed == nil || changed == created {
		t.Fatalf("update changeDate %v (created %v)", changed, created)
	}
	// The same update again is a no-op: same details, no new event.
	sameJSON(t, "no-op update", c.must(method, prefix+"/idps/"+tc.kind+"/"+id, body), updated)

	view2 := patched(view, tc.viewPatch)
	sameJSON(t, "v2 get after update", c.must("GET", "/v2/idps/"+id, nil), v2("2", changed, newName, obj(t, "{}"), view2))
	want1 := v1("2", changed, newName, obj(t, "{}"), view2)
	sameJSON(t, "v1 get after update", c.must("GET", prefix+"/idps/templates/"+id, nil), map[string]any{"idp": want1})

	found := c.must("POST", prefix+"/idps/templates/_search", map[string]any{
		"query":   map[string]any{"limit": 10},
		"queries": []any{map[string]any{"idpNameQuery": map[string]any{"name": newName, "method": "TEXT_QUERY_METHOD_EQUALS"}}},
	})
	ld := found["details"].(map[string]any)
	if ld["totalResult"] != "1" || ld["viewTimestamp"] == nil {
		t.Fatalf("search details %v", ld)
	}
	sameJSON(t, "search result", found["result"], []any{want1})

	removed := c.must("DELETE", prefix+"/idps/templates/"+id, nil)
	rc := removed["details"].(map[string]any)["changeDate"]
	sameJSON(t, "delete response", removed, map[string]any{
		"details": map[string]any{"sequence": "3", "changeDate": rc, "resourceOwner": ro}})

	gone := c.do("GET", "/v2/idps/"+id, nil)
	gone.wantError(t, http.StatusNotFound, "QUERY-SAFrt")
	sameJSON(t, "404 body", gone.body, map[string]any{"code": 5,
		"message": "Identity Provider Configuration doesn't exist (QUERY-SAFrt)",
		"details": []any{map[string]any{"@type": "type.googleapis.com/zitadel.v1.ErrorDetail", "id": "QUERY-SAFrt",
			"message": "Identity Provider Configuration doesn't exist"}}})
	c.do("GET", prefix+"/idps/templates/"+id, nil).wantError(t, http.StatusNotFound, "QUERY-SAFrt")
}

// assertNoSecrets greps a pg_dump of the database, and the server log, for
// every plaintext secret.
func assertNoSecrets(t *testing.T, dbURL string, log string, secrets []string) {
	t.Helper()
	out, err := exec.Command("/usr/lib/postgresql/15/bin/pg_dump", "--no-owner", "--data-only", dbURL).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v: %s", err, out)
	}
	if !bytes.Contains(out, []byte("idp.added")) {
		t.Fatalf("pg_dump holds no IdP events; wrong database? %d bytes", len(out))
	}
	for _, s := range secrets {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("pg_dump contains secret %q", s)
		}
		if strings.Contains(log, s) {
			t.Errorf("server log contains secret %q", s)
		}
	}
}

func allSecrets() []string {
	out := []string{"SECRET-google-2", "SECRET-concurrent"}
	for _, tc := range idpCases {
		out = append(out, tc.secrets...)
	}
	return out
}

// concurrentUpdates fires n updates of one IdP at once. Each either applies
// (on fresh state) or is answered Aborted; the applied ones all show in the
// sequence, so none is lost.
func concurrentUpdates(t *testing.T, c client, n int) {
	added := c.must("POST", "/admin/v1/idps/github_es", `{"name":"race","clientId":"c","clientSecret":"SECRET-concurrent",
		"authorizationEndpoint":"https://r/a","tokenEndpoint":"https://r/t","userEndpoint":"https://r/u"}`)
	id := added["id"].(string)
	var wg sync.WaitGroup
	results := make([]resp, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.do("PUT", "/admin/v1/idps/github_es/"+id, fmt.Sprintf(`{"name":"race-%d","clientId":"c",
				"authorizationEndpoint":"https://r/a","tokenEndpoint":"https://r/t","userEndpoint":"https://r/u"}`, i))
		}()
	}
	wg.Wait()
	applied := map[string]bool{}
	for i, r := range results {
		switch r.status {
		case http.StatusOK:
			applied[fmt.Sprintf("race-%d", i)] = true
		case http.StatusConflict:
			r.wantError(t, http.StatusConflict, "EVENT-Abrt1")
		default:
			t.Fatalf("concurrent update: %d %s", r.status, r.raw)
		}
	}
	got := c.must("GET", "/v2/idps/"+id, nil)["idp"].(map[string]any)
	seq := got["details"].(map[string]any)["sequence"]
	if !applied[got["name"].(string)] || seq != fmt.Sprint(1+len(applied)) {
		t.Fatalf("after %d applied updates: name %v, sequence %v", len(applied), got["name"], seq)
	}
}

// validationErrors checks the HTTP path of a few validation failures.
func validationErrors(t *testing.T, c client) {
	for _, tc := range []struct {
		method, path, body string
		status             int
		message            string
	}{
		{"POST", "/admin/v1/idps/google", `{"clientSecret":"x"}`, 400,
			"invalid AddGoogleProviderRequest.ClientId: value length must be between 1 and 200 runes, inclusive (INST-idp-google-clientId)"},
		{"POST", "/management/v1/idps/generic_oidc", `{"name":"n","clientId":"c"}`, 400,
			"invalid AddGenericOIDCProviderRequest.Issuer: value length must be between 1 and 200 runes, inclusive (ORG-idp-oidc-issuer)"},
		{"POST", "/admin/v1/idps/generic_oidc", `{"issuer":"i"}`, 400, ""},
		{"POST", "/admin/v1/idps/apple", `{"clientId":"c","teamId":"short","keyId":"KEY1234567","privateKey":"eA=="}`, 400,
			"invalid AddAppleProviderRequest.TeamId: value length must be 10 runes (INST-idp-apple-teamId)"},
		{"POST", "/admin/v1/idps/saml", `{"name":"s"}`, 400, ""},
		{"POST", "/admin/v1/idps/google", `{"clientId":"` + strings.Repeat("x", 201) + `","clientSecret":"s"}`, 400, ""},
		{"POST", "/admin/v1/idps/google", `{"clientId":`, 400, ""},
		{"POST", "/admin/v1/idps/nope", `{}`, 404, "Not Found"},
		{"PUT", "/admin/v1/idps/google/123", `{"clientId":"c"}`, 404, "Identity Provider Configuration doesn't exist (INST-Dg331)"},
		{"POST", "/admin/v1/idps/google/123", `{"clientId":"c"}`, 405, "Method Not Allowed"},
		{"GET", "/v2/idps/" + strings.Repeat("1", 201), "", 400,
			"invalid GetIDPByIDRequest.Id: value length must be between 1 and 200 runes, inclusive"},
		{"GET", "/v2/idps/123", "", 404, "Identity Provider Configuration doesn't exist (QUERY-SAFrt)"},
	} {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		r := c.do(tc.method, tc.path, body)
		if r.status != tc.status || (tc.message != "" && r.body["message"] != tc.message) {
			t.Errorf("%s %s %s: %d %s; want %d %q", tc.method, tc.path, tc.body, r.status, r.raw, tc.status, tc.message)
		}
	}
}

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestIDPTemplatesEveryKind is the acceptance table: every kind at both
// owners through the whole life cycle, then the secrets check over a
// pg_dump and the server log.
func TestIDPTemplatesEveryKind(t *testing.T) {
	env, logs := apptest.NewLogged(t)
	dbURL := env.Pool.Config().ConnString()
	if len(idpCases) != len(idp.Kinds()) {
		t.Fatalf("%d cases for %d kinds", len(idpCases), len(idp.Kinds()))
	}
	admin := client{t: t, env: env, token: env.AdminPAT}
	org := env.CreateOrg(t, "idp-org")
	_, ownerPAT := env.CreateOrgOwner(t, org)
	for _, tc := range idpCases {
		if _, ok := idp.ByPath(tc.kind); !ok {
			t.Fatalf("case %s is not in the kinds table", tc.kind)
		}
		t.Run("instance/"+tc.kind, func(t *testing.T) {
			runIDPLifecycle(t, client{t: t, env: env, token: env.AdminPAT}, "/admin/v1", "IDP_OWNER_TYPE_SYSTEM", env.InstanceID, "inst", tc)
		})
		t.Run("org/"+tc.kind, func(t *testing.T) {
			runIDPLifecycle(t, client{t: t, env: env, token: ownerPAT}, "/management/v1", "IDP_OWNER_TYPE_ORG", org, "org", tc)
		})
	}
	t.Run("validation", func(t *testing.T) { validationErrors(t, client{t: t, env: env, token: env.AdminPAT}) })
	t.Run("concurrency", func(t *testing.T) { concurrentUpdates(t, client{t: t, env: env, token: env.AdminPAT}, 4) })
	// Leave some IdPs in place, so the dump holds live sealed secrets too.
	for _, tc := range idpCases {
		admin.must("POST", "/admin/v1/idps/"+tc.kind, tc.body)
	}
	assertNoSecrets(t, dbURL, logs.String(), allSecrets())
}

func TestIDPPermissions(t *testing.T) {
	env := apptest.New(t)
	admin := client{t: t, env: env, token: env.AdminPAT}
	orgA, orgB := env.CreateOrg(t, "a"), env.CreateOrg(t, "b")
	_, patA := env.CreateOrgOwner(t, orgA)
	_, patB := env.CreateOrgOwner(t, orgB)
	ownerA, ownerB := client{t: t, env: env, token: patA}, client{t: t, env: env, token: patB}
	google := `{"clientId":"c","clientSecret":"SECRET-perm"}`

	inst := admin.must("POST", "/admin/v1/idps/google", google)["id"].(string)
	orgIDP := ownerA.must("POST", "/management/v1/idps/google", google)["id"].(string)

	// v2: lookup first (404), then owner-dependent permission (403).
	ownerA.must("GET", "/v2/idps/"+orgIDP, nil)
	ownerB.do("GET", "/v2/idps/"+orgIDP, nil).wantError(t, http.StatusForbidden, "AUTHZ-HKJD33")
	ownerA.do("GET", "/v2/idps/"+inst, nil).wantError(t, http.StatusForbidden, "AUTHZ-HKJD33")
	ownerA.do("GET", "/v2/idps/404404", nil).wantError(t, http.StatusNotFound, "QUERY-SAFrt")
	admin.must("GET", "/v2/idps/"+inst, nil)
	admin.must("GET", "/v2/idps/"+orgIDP, nil)
	viewerID, viewerPAT := env.CreateMachineWithPAT(t, env.DefaultOrgID)
	env.Grant(t, viewerID, "", "IAM_OWNER_VIEWER")
	viewer := client{t: t, env: env, token: viewerPAT}
	viewer.must("GET", "/v2/idps/"+inst, nil)
	viewer.must("GET", "/v2/idps/"+orgIDP, nil)
	viewer.do("POST", "/admin/v1/idps/google", google).wantError(t, http.StatusForbidden, "AUTH-5mWD2")
	client{t: t, env: env}.do("GET", "/v2/idps/"+inst, nil).wantError(t, http.StatusUnauthorized, "")
	client{t: t, env: env}.do("POST", "/admin/v1/idps/google", google).wantError(t, http.StatusUnauthorized, "")

	// v1: an org owner writes its org's IdPs only, and cannot use the admin API.
	ownerA.do("POST", "/admin/v1/idps/google", google).wantError(t, http.StatusForbidden, "AUTH-5mWD2")
	ownerA.do("GET", "/admin/v1/idps/templates/"+inst, nil).wantError(t, http.StatusForbidden, "AUTH-5mWD2")
	ownerB.do("GET", "/management/v1/idps/templates/"+orgIDP, nil).wantError(t, http.StatusNotFound, "QUERY-SAFrt")
	ownerB.do("PUT", "/management/v1/idps/google/"+orgIDP, google).wantError(t, http.StatusNotFound, "ORG-Dg331")
	ownerB.do("DELETE", "/management/v1/idps/templates/"+orgIDP, nil).wantError(t, http.StatusNotFound, "ORG-Se3tg")
	client{t: t, env: env, token: patB, org: orgA}.do("GET", "/management/v1/idps/templates/"+orgIDP, nil).
		wantError(t, http.StatusForbidden, "AUTH-5mWD2")
	// The instance admin may act in org A's context.
	client{t: t, env: env, token: env.AdminPAT, org: orgA}.must("GET", "/management/v1/idps/templates/"+orgIDP, nil)
	// The management API also reads the instance's IdPs (owner SYSTEM).
	got := ownerA.must("GET", "/management/v1/idps/templates/"+inst, nil)["idp"].(map[string]any)
	if got["owner"] != "IDP_OWNER_TYPE_SYSTEM" {
		t.Fatalf("owner %v", got["owner"])
	}
	list := ownerA.must("POST", "/management/v1/idps/templates/_search", map[string]any{"query": map[string]any{"asc": true}})
	if list["details"].(map[string]any)["totalResult"] != "2" {
		t.Fatalf("management search %v", list)
	}
	list = ownerA.must("POST", "/management/v1/idps/templates/_search",
		map[string]any{"queries": []any{map[string]any{"ownerTypeQuery": map[string]any{"ownerType": "IDP_OWNER_TYPE_ORG"}}}})
	if r := list["result"].([]any); len(r) != 1 || r[0].(map[string]any)["id"] != orgIDP {
		t.Fatalf("owner type query %v", list)
	}
	// A user without any membership: ZITADEL's 404.
	_, lonely := env.CreateMachineWithPAT(t, orgA)
	client{t: t, env: env, token: lonely}.do("POST", "/management/v1/idps/google", google).wantError(t, http.StatusNotFound, "AUTHZ-cdgFk")

	// Another instance sees nothing of this one.
	other := env.AddInstance(t, "other.example")
	status, body := env.DoAs(t, other.AdminPAT, "GET", "/v2/idps/"+inst, nil, "Host", "other.example")
	if status != http.StatusNotFound || apptest.ErrorID(body) != "QUERY-SAFrt" {
		t.Fatalf("other instance: %d %s", status, body)
	}
}

// TestIDPRemoveCascadesHTTP: deleting an IdP unlinks it from the login
// policy and from users, in the same append (see command tests for the
// single transaction).
func TestIDPRemoveCascadesHTTP(t *testing.T) {
	env := apptest.New(t)
	admin := client{t: t, env: env, token: env.AdminPAT}
	id := admin.must("POST", "/admin/v1/idps/google", `{"clientId":"c","clientSecret":"SECRET-cascade"}`)["id"].(string)
	admin.must("POST", "/admin/v1/policies/login/idps", map[string]any{"idpId": id, "ownerType": "IDP_OWNER_TYPE_SYSTEM"})
	linked := func() bool {
		list := admin.must("POST", "/admin/v1/policies/login/idps/_search", map[string]any{})
		res, _ := list["result"].([]any)
		for _, r := range res {
			if r.(map[string]any)["idpId"] == id {
				return true
			}
		}
		return false
	}
	if !linked() {
		t.Fatal("IdP not linked to the default policy")
	}
	user := env.CreateHuman(t, env.DefaultOrgID, "alice")
	link := admin.do("POST", "/v2/users/"+user+"/links",
		map[string]any{"idpLink": map[string]any{"idpId": id, "userId": "ext-1", "userName": "alice-ext"}})
	userLinks := link.status == http.StatusOK
	if !userLinks && link.status != http.StatusNotFound && link.status != http.StatusMethodNotAllowed {
		t.Fatalf("add user link: %d %s", link.status, link.raw)
	}
	admin.must("DELETE", "/admin/v1/idps/templates/"+id, nil)
	if linked() {
		t.Fatal("removed IdP still linked to the default policy")
	}
	if !userLinks {
		t.Log("user link routes not mounted yet: user cascade covered by command tests only")
		return
	}
	list := admin.must("POST", "/v2/users/"+user+"/links/_search", map[string]any{})
	if res, _ := list["result"].([]any); len(res) != 0 {
		t.Fatalf("user still linked: %v", list)
	}
}
