package securitytest

import (
	"bytes"
	"encoding/json"
	"strings"
)

// This file is the malformed-request corpus of TestMalformedFlood. Every
// request it makes is invalid by construction:
//   - generic bodies are not a JSON object a decoder accepts (broken syntax,
//     a wrong top-level type, nesting deeper than any limit, invalid UTF-8,
//     over the size limit); an empty body is never sent, because it means {}
//     and {} is a valid request for some routes;
//   - path parameters are junk, or IDs that exist but in the other instance
//     or of another kind of object, so no handler finds its target;
//   - near-valid templates are valid requests (proved at the end of the
//     test, when each is sent unchanged and must succeed) with exactly one
//     field broken.

// junkParams are path parameter values that name nothing. They are put in
// the path as they are: some are escaped, some deliberately not.
func junkParams() []string {
	return []string{
		"..%2F..%2Fetc%2Fpasswd", "..%2f..%2f..%2fetc%2fpasswd%00", "%00", "a%00b", "%2e%2e", "..", ".",
		"%FF%FE%FD", "%C0%AF", "%ED%A0%80", "'%20OR%20'1'='1", "1;DROP%20TABLE%20events", "%27%3B--",
		strings.Repeat("9", 300), strings.Repeat("a", 8<<10), "-1", "0", "18446744073709551616",
		"%E2%80%AE", "%0D%0ASet-Cookie:x=y", "$%7Bjndi:ldap:%2F%2Fx%7D", "%7B%7D", "null", "true",
		"..%5C..%5Cwindows", "~", "*", "%25", "%20", "%E5%90%8D%E5%89%8D", "_search", "templates",
	}
}

// junkKinds are values of the {kind} parameter: junk, and real kinds whose
// body will be broken.
func junkKinds() []string {
	return []string{"google", "gitlab", "GOOGLE", "google%00", "..%2Fgoogle", "unknown", "%FF", "jwt", "oidc"}
}

// genericBodies are never a valid request body.
func genericBodies() [][]byte {
	deep := func(open, close string, n int) []byte {
		return []byte(strings.Repeat(open, n) + "1" + strings.Repeat(close, n))
	}
	big := strings.Repeat("A", 300<<10)
	out := [][]byte{
		// broken syntax
		[]byte(`{`), []byte(`{"name":`), []byte(`{"name":"x"`), []byte(`{"name":"x",}`), []byte(`{name:"x"}`),
		[]byte(`{'name':'x'}`), []byte(`{"a":1}}`), []byte(`]`), []byte(`{"a":NaN}`), []byte(`{"a":Infinity}`),
		[]byte(`{"a":01}`), []byte(`{"name":"x"} trailing`), []byte(`{"name":"\x"}`), []byte(`"unterminated`),
		[]byte(`{"a":tru}`), []byte(`{"a":[1,2}`), []byte("\xEF\xBB\xBF{}"), []byte(`{} {}`), []byte(`{"a":1,"a"}`),
		[]byte(`{"name":"` + big + `"`), []byte("{\"name\":\"x\x00\"}"), []byte(`{"userId":"1"` + strings.Repeat(`,`, 1000) + `}`),
		// a wrong top-level type
		[]byte(`[]`), []byte(`[{}]`), []byte(`"string"`), []byte(`123`), []byte(`true`), []byte(`-1`), []byte(`1e999`),
		// nesting 10,000 deep, closed and not
		deep("[", "]", 10000), deep(`{"a":`, "}", 10000), deep(`[{"query":`, "}]", 5000),
		[]byte(strings.Repeat("[", 10000)), []byte(`{"name":` + strings.Repeat("[", 10000)),
		// invalid UTF-8 in a value and in a key, overlong and surrogate encodings
		[]byte("{\"name\":\"\xff\xfe\"}"), []byte("{\"\xff\":1}"), []byte(`{"name":"\u0000"}`), []byte("{\"name\":\"\xc0\xaf\"}"),
		[]byte("{\"name\":\"\xed\xa0\x80\"}"), []byte("{\"userId\":\"ok\",\"roles\":[\"\x80\"]}"),
		// over the 1 MiB limit (413)
		[]byte(`{"name":"` + strings.Repeat("B", 1<<20) + `"}`),
	}
	return out
}

// contentTypes are sent with the bodies; "-" sends none. The gateway, like
// ZITADEL's, reads JSON whatever the content type says.
var contentTypes = []string{"application/json", "text/plain", "application/x-www-form-urlencoded",
	"multipart/form-data; boundary=x", "application/json; charset=utf-16", "-", "application/xml"}

// queryJunk are query strings: duplicate parameters, negative and huge
// limits, offsets and positions.
var queryJunk = []string{
	"", "?limit=-1&limit=1000000&offset=-5&offset=x", "?afterPosition=-1", "?afterPosition=abc&afterPosition=1",
	"?afterPosition=99999999999999999999999", "?afterPosition=9223372036854775807",
	"?organization.orgId=a&organization.orgId=b", "?organization.orgId=%00&organization.org_id=..%2F..",
	"?%zz=1", "?a=" + strings.Repeat("x", 4<<10), "?afterPosition=1e3", "?afterPosition=%00",
}

// listBodies are search bodies with bad paging or filters. They go only to
// search routes, which write nothing whatever they are sent.
func listBodies() [][]byte {
	return [][]byte{
		[]byte(`{"query":{"limit":-1}}`), []byte(`{"query":{"offset":"-1"}}`), []byte(`{"query":{"limit":4294967296}}`),
		[]byte(`{"query":{"offset":"18446744073709551616"}}`), []byte(`{"query":{"offset":"9223372036854775808"}}`),
		[]byte(`{"query":{"limit":1001}}`), []byte(`{"query":{"limit":"abc"}}`), []byte(`{"query":{"asc":"yes"}}`),
		[]byte(`{"query":{"limit":1.5}}`), []byte(`{"query":[]}`), []byte(`{"queries":[{}]}`),
		[]byte(`{"queries":[{"idpNameQuery":{"name":"x","method":"TEXT_QUERY_METHOD_BOGUS"}}]}`),
		[]byte(`{"queries":[{"idpNameQuery":{"name":"x","method":99}}]}`),
		[]byte(`{"queries":[{"ownerTypeQuery":{"ownerType":"IDP_OWNER_TYPE_UNSPECIFIED"}}]}`),
		[]byte(`{"queries":[{"idpIdQuery":{"id":"` + strings.Repeat("x", 201) + `"}}]}`),
		[]byte(`{"queries":[{"idpNameQuery":{"name":"%_\\'"}}]}`),
		[]byte(`{"limit":-5}`), []byte(`{"limit":1001}`), []byte(`{"sequence":"-1"}`), []byte(`{"sequence":"abc"}`),
		[]byte(`{"range":{"since":"bogus"}}`), []byte(`{"range":{"since":"2025-01-01T00:00:00Z","until":"2024-01-01T00:00:00Z"}}`),
		[]byte(`{"afterPosition":"-1"}`), []byte(`{"afterPosition":"9223372036854775808"}`),
		[]byte(`{"afterPosition":"123456789"}`), []byte(`{"creationDate":"2024-01-01T00:00:00Z","from":"2024-01-01T00:00:00Z"}`),
		[]byte(`{"eventTypes":["` + strings.Repeat("x", 300<<10) + `"]}`), []byte(`{"eventTypes":"idp."}`),
		[]byte(`{"aggregateTypes":[1,2]}`), []byte(`{"aggregateId":"a\u0000"}`), []byte(`{"editorUserId":"\u0000"}`),
		[]byte(`{"resourceOwner":"\u0000"}`), []byte(`{"eventTypes":["idp.\u0000"]}`), []byte(`{"aggregateTypes":["\u0000"]}`),
		[]byte(`{"queries":[{"idpNameQuery":{"name":"\u0000"}}]}`), []byte(`{"queries":[{"idpIdQuery":{"id":"\u0000"}}]}`), []byte(`{"resourceOwner":{"$ne":null}}`), []byte(`{"editorUserId":"' OR 1=1 --"}`),
	}
}

// template is a valid request; each mutation breaks exactly one field.
type template struct {
	name     string
	method   string
	path     string
	body     map[string]any
	breaks   []mutation
	selfTest bool // sent unchanged at the end of the flood: must succeed
}

// mutation sets the value at a dotted key path; raw, when set, replaces the
// value's JSON text after encoding (for bytes json.Marshal cannot produce).
type mutation struct {
	key string
	val any
	raw string
}

func (m mutation) apply(body map[string]any) []byte {
	c := deepCopy(body)
	if m.key != "" {
		setPath(c, m.key, m.val)
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	if m.raw != "" {
		b = bytes.Replace(b, []byte(`"@@RAW@@"`), []byte(m.raw), 1)
	}
	return b
}

func deepCopy(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var c map[string]any
	_ = json.Unmarshal(b, &c)
	if c == nil {
		c = map[string]any{}
	}
	return c
}

// setPath sets key ("a.b.0.c": objects and array indexes) in m.
func setPath(m map[string]any, key string, v any) {
	parts := strings.Split(key, ".")
	var cur any = m
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[p] = v
				return
			}
			if _, ok := c[p]; !ok {
				c[p] = map[string]any{}
			}
			cur = c[p]
		case []any:
			n := int(p[0] - '0')
			if last {
				c[n] = v
				return
			}
			cur = c[n]
		}
	}
}

// Values that break a field.
var (
	huge     = strings.Repeat("Z", 300<<10)
	rawUTF8  = mutation{raw: "\"\xff\xfe\xfd\""}
	deepJSON = strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
)

// universal are mutations that break any string field.
func universal(key string) []mutation {
	return []mutation{
		{key: key, val: huge}, {key: key, val: 123}, {key: key, val: map[string]any{"$gt": ""}},
		{key: key, val: []any{"a"}}, {key: key, val: true}, {key: key, val: "@@RAW@@", raw: rawUTF8.raw},
		{key: key, val: "@@RAW@@", raw: deepJSON}, {key: key, val: "a\x00b"},
	}
}

// idpBodies is a valid add request per kind.
var idpBodies = map[string]map[string]any{
	"oauth": {"name": "OAuth", "clientId": "cid", "clientSecret": "s", "authorizationEndpoint": "https://a/auth",
		"tokenEndpoint": "https://a/token", "userEndpoint": "https://a/user", "idAttribute": "sub"},
	"generic_oidc": {"name": "OIDC", "issuer": "https://issuer", "clientId": "cid", "clientSecret": "s"},
	"generic_jwt": {"name": "JWT", "issuer": "https://jwt", "jwtEndpoint": "https://jwt/jwt", "keysEndpoint": "https://jwt/keys",
		"headerName": "x-auth"},
	"ldap": {"name": "LDAP", "servers": []any{"ldaps://l:636"}, "baseDn": "dc=x", "bindDn": "cn=a", "bindPassword": "s",
		"userBase": "dn", "userObjectClasses": []any{"user"}, "userFilters": []any{"uid"}, "timeout": "10s"},
	"azure":  {"name": "Azure", "clientId": "cid", "clientSecret": "s"},
	"github": {"clientId": "cid", "clientSecret": "s"},
	"github_es": {"name": "GHES", "clientId": "cid", "clientSecret": "s", "authorizationEndpoint": "https://g/a",
		"tokenEndpoint": "https://g/t", "userEndpoint": "https://g/u"},
	"gitlab":             {"clientId": "cid", "clientSecret": "s"},
	"gitlab_self_hosted": {"name": "GLSH", "issuer": "https://gl", "clientId": "cid", "clientSecret": "s"},
	"google":             {"clientId": "cid", "clientSecret": "s"},
	"apple":              {"clientId": "cid", "teamId": "ABCDEFGHIJ", "keyId": "KEYID12345", "privateKey": "Uy1hcHBsZS1wcml2YXRlLWtleQ=="},
	"saml":               {"name": "SAML", "metadataXml": "PEVudGl0eURlc2NyaXB0b3IvPg==", "binding": "SAML_BINDING_POST"},
}

// idpBreaks are the per-kind mutations, besides those of name and
// providerOptions that every kind gets.
var idpBreaks = map[string][]mutation{
	"oauth":        {{key: "idAttribute", val: ""}, {key: "tokenEndpoint", val: 5}, {key: "scopes", val: "openid"}, {key: "usePkce", val: "yes"}},
	"generic_oidc": {{key: "issuer", val: ""}, {key: "clientId", val: huge}, {key: "isIdTokenMapping", val: "true"}},
	"generic_jwt":  {{key: "issuer", val: ""}, {key: "headerName", val: 123}, {key: "jwtEndpoint", val: huge}},
	"ldap": {{key: "servers", val: []any{}}, {key: "timeout", val: "forever"}, {key: "bindPassword", val: huge},
		{key: "userObjectClasses", val: "user"}, {key: "attributes", val: "x"}, {key: "rootCa", val: "%%%"}},
	"azure":              {{key: "tenant", val: map[string]any{"tenantType": "AZURE_AD_TENANT_TYPE_BOGUS"}}, {key: "clientSecret", val: huge}, {key: "emailVerified", val: 1}},
	"github":             {{key: "clientId", val: ""}, {key: "clientSecret", val: 7}, {key: "scopes", val: []any{1}}},
	"github_es":          {{key: "tokenEndpoint", val: ""}, {key: "userEndpoint", val: huge}},
	"gitlab":             {{key: "clientId", val: huge}, {key: "scopes", val: []any{strings.Repeat("s", 101)}}},
	"gitlab_self_hosted": {{key: "issuer", val: ""}, {key: "clientSecret", val: []any{}}},
	"google":             {{key: "clientId", val: ""}, {key: "scopes", val: make([]any, 21)}},
	"apple":              {{key: "teamId", val: "SHORT"}, {key: "privateKey", val: "%%%not-base64"}, {key: "keyId", val: 10}},
	"saml": {{key: "binding", val: "SAML_BINDING_BOGUS"}, {key: "binding", val: 99}, {key: "metadataXml", val: "%%%"},
		{key: "nameIdFormat", val: "SAML_NAME_ID_FORMAT_BOGUS"}, {key: "federatedLogoutEnabled", val: "no"}},
}

// idpMutations are every mutation of an IdP request of kind.
func idpMutations(kind string) []mutation {
	out := append(universal("name"), mutation{key: "providerOptions", val: "x"},
		mutation{key: "providerOptions", val: map[string]any{"isLinkingAllowed": "yes"}},
		mutation{key: "providerOptions", val: map[string]any{"autoLinking": "AUTO_LINKING_OPTION_BOGUS"}})
	return append(out, idpBreaks[kind]...)
}
