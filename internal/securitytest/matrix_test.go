package securitytest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// caller is one kind of caller of the permission matrix.
type caller struct {
	name  string
	token string // "" sends no token
	auth  string // a whole Authorization header instead of the token
	org   string // the org it acts on
	// header sends org as x-zitadel-orgid; otherwise org is the caller's own.
	header bool
	self   string // the caller's user when it acts on itself
}

// The cells of the matrix: a status and, for errors, the error ID.
const (
	ok      = "200"
	created = "201"
	unauth  = "401 AUTH-7fs1e"
	v1Deny  = "403 AUTH-5mWD2"  // admin/management: a member without the permission
	v1None  = "404 AUTHZ-cdgFk" // admin/management: no membership at all
	v2Deny  = "403 AUTHZ-HKJD33"
)

// Expected statuses of the first seven callers (iam owner, iam viewer, owner
// of A on A, owner of A on B, user manager of A, plain user on itself, plain
// user on another user) by the permission a route needs (DESIGN.md §2,
// reference §0.4). The last six callers (no token, malformed header,
// unknown, expired, revoked token, token of another instance) always get
// 401 on an authenticated route.
var (
	adminRead    = [7]string{ok, ok, v1Deny, v1Deny, v1Deny, v1None, v1None}
	adminWrite   = [7]string{ok, v1Deny, v1Deny, v1Deny, v1Deny, v1None, v1None}
	orgRead      = [7]string{ok, ok, ok, v1Deny, v1Deny, v1None, v1None}
	orgWrite     = [7]string{ok, v1Deny, ok, v1Deny, v1Deny, v1None, v1None}
	orgUserWrite = [7]string{ok, v1Deny, ok, v1Deny, ok, v1None, v1None}
	// v2/v3 user routes: user.write on the user's org, or the user itself.
	selfOrUserWrite = [7]string{ok, v2Deny, ok, v2Deny, ok, ok, v2Deny}
	public          = [7]string{ok, ok, ok, ok, ok, ok, ok}
)

// cell prepares one request of a row for a caller.
type prep func(t *testing.T, w *world, c *caller) request

type row struct {
	prep  prep
	want  [7]string
	check func(t *testing.T, c *caller, resp response) // optional, on success
}

// target is the user a caller acts on: itself, or a new machine user of
// the org it acts on.
func target(t *testing.T, w *world, c *caller) string {
	if c.self != "" {
		return c.self
	}
	return w.machine(t, c.org)
}

func req(method, path string, body []byte) request {
	return request{Method: method, Path: path, Body: body}
}

func js(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// matrix has a row for every route of the router. Adding a route without
// a row here fails TestPermissionMatrix.
func matrix() map[string]row {
	m := map[string]row{}
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/openapi.yaml"} {
		m["GET "+p] = row{func(t *testing.T, w *world, c *caller) request { return req("GET", p, nil) }, public, nil}
	}
	get := func(path string) prep {
		return func(t *testing.T, w *world, c *caller) request { return req("GET", path, nil) }
	}
	post := func(path string, body any) prep {
		return func(t *testing.T, w *world, c *caller) request { return req("POST", path, js(body)) }
	}

	// --- events (events.read on the instance) ---
	m["GET /admin/v1/aggregates/types"] = row{get("/admin/v1/aggregates/types"), adminRead, nil}
	m["POST /admin/v1/aggregates/types/_search"] = row{post("/admin/v1/aggregates/types/_search", map[string]any{}), adminRead, nil}
	m["GET /admin/v1/events/types"] = row{get("/admin/v1/events/types"), adminRead, nil}
	m["POST /admin/v1/events/types/_search"] = row{post("/admin/v1/events/types/_search", map[string]any{}), adminRead, nil}
	m["POST /admin/v1/events/_search"] = row{post("/admin/v1/events/_search", map[string]any{"limit": 5}), adminRead, nil}
	m["GET /admin/v1/events/_stream"] = row{get("/admin/v1/events/_stream"), adminRead, nil}

	// --- IdP templates ---
	m["POST /admin/v1/idps/templates/_search"] = row{post("/admin/v1/idps/templates/_search", map[string]any{}), adminRead, nil}
	m["GET /admin/v1/idps/templates/{id}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("GET", "/admin/v1/idps/templates/"+w.instanceIDP(t), nil)
	}, adminRead, nil}
	m["DELETE /admin/v1/idps/templates/{id}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("DELETE", "/admin/v1/idps/templates/"+w.instanceIDP(t), nil)
	}, adminWrite, nil}
	m["POST /admin/v1/idps/{kind}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/admin/v1/idps/google", js(googleIDP(w.uniq("g"))))
	}, adminWrite, nil}
	m["PUT /admin/v1/idps/{kind}/{id}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("PUT", "/admin/v1/idps/google/"+w.instanceIDP(t), js(googleIDP(w.uniq("renamed"))))
	}, adminWrite, nil}
	m["POST /admin/v1/idps/{kind:(gitlab|gitlab_self_hosted)}/{id}"] = row{func(t *testing.T, w *world, c *caller) request {
		id := field(t, w.admin(t, "POST", "/admin/v1/idps/gitlab", map[string]any{"clientId": "c", "clientSecret": "s"}, ""), "id")
		return req("POST", "/admin/v1/idps/gitlab/"+id, js(map[string]any{"name": w.uniq("gl"), "clientId": "c2"}))
	}, adminWrite, nil}
	m["POST /management/v1/idps/templates/_search"] = row{post("/management/v1/idps/templates/_search", map[string]any{}), orgRead, nil}
	m["GET /management/v1/idps/templates/{id}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("GET", "/management/v1/idps/templates/"+w.orgIDP(t, c.org), nil)
	}, orgRead, nil}
	m["DELETE /management/v1/idps/templates/{id}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("DELETE", "/management/v1/idps/templates/"+w.orgIDP(t, c.org), nil)
	}, orgWrite, nil}
	m["POST /management/v1/idps/{kind}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/management/v1/idps/google", js(googleIDP(w.uniq("g"))))
	}, orgWrite, nil}
	m["PUT /management/v1/idps/{kind}/{id}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("PUT", "/management/v1/idps/google/"+w.orgIDP(t, c.org), js(googleIDP(w.uniq("renamed"))))
	}, orgWrite, nil}
	// v2 read of an org IdP: org.idp.read on its org (AUTHZ-HKJD33).
	m["GET /v2/idps/{id}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("GET", "/v2/idps/"+w.orgIDP(t, c.org), nil)
	}, [7]string{ok, ok, ok, v2Deny, v2Deny, v2Deny, v2Deny}, nil}

	// --- login policies ---
	m["GET /admin/v1/policies/login"] = row{get("/admin/v1/policies/login"), adminRead, nil}
	// Each update sends another redirect URI, so that it changes something
	// (an unchanged policy is 400 INSTANCE-5M9vdd); the default keeps its
	// switches for the rows that log in.
	var policyN atomic.Int64
	m["PUT /admin/v1/policies/login"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("PUT", "/admin/v1/policies/login", js(map[string]any{"allowUsernamePassword": true, "allowRegister": true,
			"allowExternalIdp": true, "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED",
			"passwordCheckLifetime": "864000s", "externalLoginCheckLifetime": "864000s", "mfaInitSkipLifetime": "2592000s",
			"secondFactorCheckLifetime": "64800s", "multiFactorCheckLifetime": "43200s",
			"defaultRedirectUri": fmt.Sprintf("https://app.example/%d", policyN.Add(1))}))
	}, adminWrite, nil}
	m["PUT /management/v1/policies/login"] = row{func(t *testing.T, w *world, c *caller) request {
		w.customPolicy(t, c.org, true)
		return req("PUT", "/management/v1/policies/login", js(map[string]any{"allowExternalIdp": true,
			"defaultRedirectUri": fmt.Sprintf("https://app.example/%d", policyN.Add(1))}))
	}, orgWrite, nil}
	m["POST /admin/v1/policies/login/idps"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/admin/v1/policies/login/idps", js(map[string]any{"idpId": w.instanceIDP(t)}))
	}, adminWrite, nil}
	m["POST /admin/v1/policies/login/idps/_search"] = row{post("/admin/v1/policies/login/idps/_search", map[string]any{}), adminRead, nil}
	m["DELETE /admin/v1/policies/login/idps/{idpId}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("DELETE", "/admin/v1/policies/login/idps/"+w.defaultPolicyIDP(t), nil)
	}, adminWrite, nil}
	m["GET /management/v1/policies/login"] = row{get("/management/v1/policies/login"), orgRead, nil}
	m["POST /management/v1/policies/login"] = row{func(t *testing.T, w *world, c *caller) request {
		w.customPolicy(t, c.org, false)
		return req("POST", "/management/v1/policies/login", js(map[string]any{"allowExternalIdp": true}))
	}, orgWrite, nil}
	m["DELETE /management/v1/policies/login"] = row{func(t *testing.T, w *world, c *caller) request {
		w.customPolicy(t, c.org, true)
		return req("DELETE", "/management/v1/policies/login", nil)
	}, orgWrite, nil}
	m["POST /management/v1/policies/login/idps"] = row{func(t *testing.T, w *world, c *caller) request {
		w.customPolicy(t, c.org, true)
		return req("POST", "/management/v1/policies/login/idps", js(map[string]any{
			"idpId": w.orgIDP(t, c.org), "ownerType": "IDP_OWNER_TYPE_ORG"}))
	}, orgWrite, nil}
	m["POST /management/v1/policies/login/idps/_search"] = row{post("/management/v1/policies/login/idps/_search", map[string]any{}), orgRead, nil}
	m["DELETE /management/v1/policies/login/idps/{idpId}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("DELETE", "/management/v1/policies/login/idps/"+w.policyIDP(t, c.org), nil)
	}, orgWrite, nil}

	// --- orgs, users, tokens, members ---
	m["POST /v2/organizations"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/v2/organizations", js(map[string]any{"name": w.uniq("org")}))
	}, [7]string{created, v2Deny, v2Deny, v2Deny, v2Deny, v2Deny, v2Deny}, nil}
	m["POST /management/v1/orgs"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/management/v1/orgs", js(map[string]any{"name": w.uniq("org")}))
	}, adminWrite, nil}
	m["GET /management/v1/orgs/me"] = row{get("/management/v1/orgs/me"), orgRead, func(t *testing.T, c *caller, resp response) {
		if !strings.Contains(string(resp.Body), `"id":"`+c.org+`"`) {
			t.Errorf("orgs/me is not the context org %s: %s", c.org, resp.Body)
		}
	}}
	// Any authenticated caller reads its own user.
	m["GET /auth/v1/users/me"] = row{get("/auth/v1/users/me"), public, func(t *testing.T, c *caller, resp response) {
		if c.self != "" && !strings.Contains(string(resp.Body), `"id":"`+c.self+`"`) {
			t.Errorf("users/me is not the caller %s: %s", c.self, resp.Body)
		}
	}}
	m["POST /management/v1/orgs/me/members"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/management/v1/orgs/me/members", js(map[string]any{"userId": w.human(t, c.org), "roles": []string{"ORG_USER_MANAGER"}}))
	}, orgWrite, nil}
	m["POST /admin/v1/members"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/admin/v1/members", js(map[string]any{"userId": w.human(t, w.orgA), "roles": []string{"IAM_OWNER_VIEWER"}}))
	}, adminWrite, nil}
	m["POST /v2/users/human"] = row{func(t *testing.T, w *world, c *caller) request {
		name := w.uniq("h")
		return req("POST", "/v2/users/human", js(map[string]any{"organization": map[string]any{"orgId": c.org}, "username": name,
			"profile": map[string]any{"givenName": "G", "familyName": "F"}, "email": map[string]any{"email": name + "@example.com"}}))
	}, [7]string{created, v2Deny, created, v2Deny, created, v2Deny, v2Deny}, nil}
	m["GET /v2/users/{userId}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("GET", "/v2/users/"+target(t, w, c), nil)
	}, [7]string{ok, ok, ok, v2Deny, ok, ok, v2Deny}, nil}
	// Deleting oneself needs user.write like deleting anyone else (DESIGN
	// allows acting on oneself only for IdP links).
	m["DELETE /v2/users/{userId}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("DELETE", "/v2/users/"+target(t, w, c), nil)
	}, [7]string{ok, v2Deny, ok, v2Deny, ok, v2Deny, v2Deny}, nil}
	m["POST /management/v1/users/machine"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/management/v1/users/machine", js(map[string]any{"userName": w.uniq("m"), "name": "n"}))
	}, orgUserWrite, nil}
	// Management token routes need user.write even for one's own user.
	m["POST /management/v1/users/{userId}/pats"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/management/v1/users/"+target(t, w, c)+"/pats", js(map[string]any{}))
	}, orgUserWrite, nil}
	m["DELETE /management/v1/users/{userId}/pats/{tokenId}"] = row{func(t *testing.T, w *world, c *caller) request {
		u := target(t, w, c)
		tok, _ := w.pat(t, c.org, u, time.Time{})
		return req("DELETE", "/management/v1/users/"+u+"/pats/"+tok, nil)
	}, orgUserWrite, nil}

	// Machine credentials: user.write (user.read to list), as PATs.
	m["PUT /management/v1/users/{userId}/machine"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("PUT", "/management/v1/users/"+target(t, w, c)+"/machine",
			js(map[string]any{"name": w.uniq("n"), "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}))
	}, orgUserWrite, nil}
	m["PUT /management/v1/users/{userId}/secret"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("PUT", "/management/v1/users/"+target(t, w, c)+"/secret", js(map[string]any{}))
	}, orgUserWrite, nil}
	m["DELETE /management/v1/users/{userId}/secret"] = row{func(t *testing.T, w *world, c *caller) request {
		u := target(t, w, c)
		w.admin(t, "PUT", "/management/v1/users/"+u+"/secret", map[string]any{}, c.org)
		return req("DELETE", "/management/v1/users/"+u+"/secret", nil)
	}, orgUserWrite, nil}
	m["POST /management/v1/users/{userId}/keys"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/management/v1/users/"+target(t, w, c)+"/keys", js(map[string]any{"type": "KEY_TYPE_JSON"}))
	}, orgUserWrite, nil}
	m["POST /management/v1/users/{userId}/keys/_search"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/management/v1/users/"+target(t, w, c)+"/keys/_search", js(map[string]any{}))
	}, [7]string{ok, ok, ok, v1Deny, ok, v1None, v1None}, nil}
	m["DELETE /management/v1/users/{userId}/keys/{keyId}"] = row{func(t *testing.T, w *world, c *caller) request {
		u := target(t, w, c)
		key := field(t, w.admin(t, "POST", "/management/v1/users/"+u+"/keys", map[string]any{"type": "KEY_TYPE_JSON"}, c.org), "keyId")
		return req("DELETE", "/management/v1/users/"+u+"/keys/"+key, nil)
	}, orgUserWrite, nil}

	// --- IdP intents: any authenticated caller (ZITADEL's "authenticated");
	// the intent token is the capability. The callbacks are public. ---
	m["POST /v2/idp_intents"] = row{func(t *testing.T, w *world, c *caller) request {
		id := field(t, w.admin(t, "POST", "/admin/v1/idps/generic_jwt", map[string]any{"name": w.uniq("jwt"),
			"issuer": "https://issuer.example", "jwtEndpoint": "https://proxy.example/jwt",
			"keysEndpoint": "https://issuer.example/keys", "headerName": "x-jwt"}, ""), "id")
		return req("POST", "/v2/idp_intents", js(map[string]any{"idpId": id,
			"urls": map[string]string{"successUrl": "https://login.example/ok", "failureUrl": "https://login.example/fail"}}))
	}, public, nil}
	m["POST /v2/idp_intents/{idpIntentId}"] = row{post("/v2/idp_intents/123", map[string]any{"idpIntentToken": "forged"}),
		[7]string{"403 CRYPTO-CRYPTO", "403 CRYPTO-CRYPTO", "403 CRYPTO-CRYPTO", "403 CRYPTO-CRYPTO", "403 CRYPTO-CRYPTO", "403 CRYPTO-CRYPTO", "403 CRYPTO-CRYPTO"}, nil}
	m["POST /v2/idp_intents/{idpIntentId}/login"] = row{post("/v2/idp_intents/123/login", map[string]any{"idpIntentToken": "forged"}),
		[7]string{"403 CRYPTO-CRYPTO", "403 CRYPTO-CRYPTO", "403 CRYPTO-CRYPTO", "403 CRYPTO-CRYPTO", "403 CRYPTO-CRYPTO", "403 CRYPTO-CRYPTO", "403 CRYPTO-CRYPTO"}, nil}
	noState := [7]string{"400 IDP-Hk38e", "400 IDP-Hk38e", "400 IDP-Hk38e", "400 IDP-Hk38e", "400 IDP-Hk38e", "400 IDP-Hk38e", "400 IDP-Hk38e"}
	m["GET /idps/callback"] = row{get("/idps/callback?code=x"), noState, nil}
	m["POST /idps/callback"] = row{func(t *testing.T, w *world, c *caller) request {
		return request{Method: "POST", Path: "/idps/callback", Body: []byte("code=x"), ContentType: "application/x-www-form-urlencoded"}
	}, noState, nil}
	m["GET /idps/jwt"] = row{get("/idps/jwt"), noState, nil}
	// The SAML SP's endpoints: public, as the IdP and the browser call them.
	samlIDP := func(t *testing.T, w *world) string {
		return field(t, w.admin(t, "POST", "/admin/v1/idps/saml", map[string]any{"name": w.uniq("saml"),
			"metadataXml": base64.StdEncoding.EncodeToString([]byte(samlIdPMetadata))}, ""), "id")
	}
	m["POST /idps/{idpId}/saml/acs"] = row{func(t *testing.T, w *world, c *caller) request {
		return request{Method: "POST", Path: "/idps/" + samlIDP(t, w) + "/saml/acs", Body: []byte("SAMLResponse=x"),
			ContentType: "application/x-www-form-urlencoded"}
	}, noState, nil}
	m["GET /idps/{idpId}/saml/metadata"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("GET", "/idps/"+samlIDP(t, w)+"/saml/metadata", nil)
	}, public, nil}
	m["GET /idps/{idpId}/saml/certificate"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("GET", "/idps/"+samlIDP(t, w)+"/saml/certificate", nil)
	}, public, nil}

	// --- trusted domains (iam.write / iam.read). The first makes
	// login.example, the intent row's URL host, trusted, so that the rows
	// leave that one passing. ---
	m["POST /admin/v1/trusted_domains"] = row{func(t *testing.T, w *world, c *caller) request {
		w.trustIntentHost(t)
		return req("POST", "/admin/v1/trusted_domains", js(map[string]any{"domain": w.uniq("td") + ".example"}))
	}, adminWrite, nil}
	m["POST /admin/v1/trusted_domains/_search"] = row{post("/admin/v1/trusted_domains/_search", map[string]any{}), adminRead, nil}
	m["DELETE /admin/v1/trusted_domains/{domain}"] = row{func(t *testing.T, w *world, c *caller) request {
		w.trustIntentHost(t)
		d := w.uniq("td") + ".example"
		w.admin(t, "POST", "/admin/v1/trusted_domains", map[string]any{"domain": d}, "")
		return req("DELETE", "/admin/v1/trusted_domains/"+d, nil)
	}, adminWrite, nil}

	// --- OIDC settings (iam.read / iam.write). The add row's prep adds
	// the settings first, so that every run sees the same answer: the
	// owner's is AlreadyExists, after the permission check. ---
	oidcSettings := func(w *world, n int64) map[string]any {
		s := fmt.Sprintf("%ds", 3600+n)
		return map[string]any{"accessTokenLifetime": s, "idTokenLifetime": s, "refreshTokenIdleExpiration": s, "refreshTokenExpiration": s}
	}
	ensureOIDCSettings := func(t *testing.T, w *world) {
		w.c.must(t, request{Method: "POST", Path: "/admin/v1/settings/oidc", Token: w.env.AdminPAT, Body: jsonBody(t, oidcSettings(w, 0))})
	}
	m["GET /admin/v1/settings/oidc"] = row{get("/admin/v1/settings/oidc"), adminRead, nil}
	m["POST /admin/v1/settings/oidc"] = row{func(t *testing.T, w *world, c *caller) request {
		ensureOIDCSettings(t, w)
		return req("POST", "/admin/v1/settings/oidc", js(oidcSettings(w, 0)))
	}, [7]string{"409 INST-0aaj1o", v1Deny, v1Deny, v1Deny, v1Deny, v1None, v1None}, nil}
	m["PUT /admin/v1/settings/oidc"] = row{func(t *testing.T, w *world, c *caller) request {
		ensureOIDCSettings(t, w)
		return req("PUT", "/admin/v1/settings/oidc", js(oidcSettings(w, w.n.Add(1))))
	}, adminWrite, nil}

	// --- user IdP links ---
	link := func(t *testing.T, w *world) map[string]any {
		return map[string]any{"idpId": w.linkIDP(t), "userId": w.uniq("ext"), "userName": "x"}
	}
	m["POST /v2/users/{userId}/links"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/v2/users/"+target(t, w, c)+"/links", js(map[string]any{"idpLink": link(t, w)}))
	}, selfOrUserWrite, nil}
	m["POST /v2/users/{userId}/links/_search"] = row{func(t *testing.T, w *world, c *caller) request {
		u := target(t, w, c)
		w.link(t, u)
		return req("POST", "/v2/users/"+u+"/links/_search", js(map[string]any{}))
	}, public, func(t *testing.T, c *caller, resp response) {
		// Links the caller may not read are dropped, not refused.
		hidden := c.name == "owner of A on B" || c.name == "plain user on another"
		if got := strings.Contains(string(resp.Body), `"result"`); got == hidden {
			t.Errorf("links visible = %v, want %v: %s", got, !hidden, resp.Body)
		}
	}}
	m["DELETE /v2/users/{userId}/links/{idpId}/{linkedUserId}"] = row{func(t *testing.T, w *world, c *caller) request {
		u := target(t, w, c)
		idp, ext := w.link(t, u)
		return req("DELETE", "/v2/users/"+u+"/links/"+idp+"/"+ext, nil)
	}, selfOrUserWrite, nil}
	m["POST /v3alpha/users/{userId}/idps"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/v3alpha/users/"+target(t, w, c)+"/idps", js(map[string]any{"idpAuthenticator": link(t, w)}))
	}, selfOrUserWrite, nil}
	m["DELETE /v3alpha/users/{userId}/idps/{idpId}"] = row{func(t *testing.T, w *world, c *caller) request {
		u := target(t, w, c)
		idp, _ := w.link(t, u)
		return req("DELETE", "/v3alpha/users/"+u+"/idps/"+idp, nil)
	}, selfOrUserWrite, nil}
	m["POST /resources/v3alpha/users/{id}/idps"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/resources/v3alpha/users/"+target(t, w, c)+"/idps", js(link(t, w)))
	}, selfOrUserWrite, nil}
	m["DELETE /resources/v3alpha/users/{id}/idps/{idpId}"] = row{func(t *testing.T, w *world, c *caller) request {
		u := target(t, w, c)
		idp, _ := w.link(t, u)
		return req("DELETE", "/resources/v3alpha/users/"+u+"/idps/"+idp, nil)
	}, selfOrUserWrite, nil}
	sessionRows(m)
	projectRows(m)
	oidcRows(m)
	return m
}

// matrixCallers creates the thirteen callers.
func matrixCallers(t *testing.T, w *world) []*caller {
	env := w.env
	viewer, _, viewerPAT := w.machineWithPAT(t, env.DefaultOrgID, time.Time{})
	env.Grant(t, viewer, "", "IAM_OWNER_VIEWER")
	owner, _, ownerPAT := w.machineWithPAT(t, w.orgA, time.Time{})
	env.Grant(t, owner, w.orgA, "ORG_OWNER")
	mgr, _, mgrPAT := w.machineWithPAT(t, w.orgA, time.Time{})
	env.Grant(t, mgr, w.orgA, "ORG_USER_MANAGER")
	self, _, selfPAT := w.machineWithPAT(t, w.orgA, time.Time{})
	_, _, otherPAT := w.machineWithPAT(t, w.orgA, time.Time{})

	// The expired and revoked tokens belong to org owners, so that their
	// state is the only reason they fail; both are shown to work first.
	revokedUser, revokedID, revokedPAT := w.machineWithPAT(t, w.orgA, time.Time{})
	env.Grant(t, revokedUser, w.orgA, "ORG_OWNER")
	w.as(t, revokedPAT, "", "GET", "/management/v1/orgs/me", nil, "")
	w.admin(t, "DELETE", "/management/v1/users/"+revokedUser+"/pats/"+revokedID, nil, w.orgA)
	expiredUser := w.machine(t, w.orgA)
	env.Grant(t, expiredUser, w.orgA, "ORG_OWNER")
	expiresAt := time.Now().Add(2 * time.Second)
	_, expiredPAT := w.pat(t, w.orgA, expiredUser, expiresAt)
	w.as(t, expiredPAT, "", "GET", "/management/v1/orgs/me", nil, "")
	time.Sleep(time.Until(expiresAt) + 50*time.Millisecond)

	A, B := w.orgA, w.orgB
	return []*caller{
		{name: "iam owner", token: env.AdminPAT, org: A, header: true},
		{name: "iam viewer", token: viewerPAT, org: A, header: true},
		{name: "owner of A on A", token: ownerPAT, org: A},
		{name: "owner of A on B", token: ownerPAT, org: B, header: true},
		{name: "user manager", token: mgrPAT, org: A},
		{name: "plain user on itself", token: selfPAT, org: A, self: self},
		{name: "plain user on another", token: otherPAT, org: A},
		{name: "no token", org: A},
		{name: "malformed header", auth: "Basic YWRtaW46YWRtaW4=", org: A},
		{name: "unknown token", token: "dW5rbm93bi10b2tlbi1vZi1ub2JvZHk", org: A},
		{name: "expired token", token: expiredPAT, org: A},
		{name: "revoked token", token: revokedPAT, org: A},
		{name: "token of another instance", token: w.inst2.AdminPAT, org: A},
	}
}

// linkIDP is one instance IdP that every link of the matrix uses.
// trustIntentHost makes login.example a trusted domain of the instance, once.
func (w *world) trustIntentHost(t *testing.T) {
	w.trustOnce.Do(func() {
		w.admin(t, "POST", "/admin/v1/trusted_domains", map[string]any{"domain": "login.example"}, "")
	})
}

func (w *world) linkIDP(t *testing.T) string {
	if len(w.instanceIDPs) == 0 {
		w.instanceIDPs = append(w.instanceIDPs, w.instanceIDP(t))
	}
	return w.instanceIDPs[0]
}

// TestPermissionMatrix sends every route as each of thirteen callers and
// asserts the exact status and error ID of each cell. It fails when the
// router serves a route that has no row.
func TestPermissionMatrix(t *testing.T) {
	w := newWorld(t)
	rows := matrix()
	served := map[string]bool{}
	for _, r := range routes(t, w.env.App.Handler()) {
		served[r.String()] = true
		if _, ok := rows[r.String()]; !ok {
			t.Errorf("route %s has no row in the permission matrix", r)
		}
	}
	for k := range rows {
		if !served[k] {
			t.Errorf("matrix row %s names no route of the router", k)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	callers := matrixCallers(t, w)
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var report strings.Builder // IDLEDGER_MATRIX_PRINT=1 prints the actual matrix
	for _, k := range keys {
		r := rows[k]
		_, path, _ := strings.Cut(k, " ")
		fmt.Fprintf(&report, "%-62s", k)
		for i, c := range callers {
			want := unauth
			switch {
			case i < 7:
				want = r.want[i]
			case publicRoutes[path]:
				want = r.want[0] // a public route answers everyone alike
			case oauthRoutes[path]:
				// userinfo: no, a malformed, unknown, expired, revoked or
				// foreign token is the RFC 6750 401.
				want = "401"
			}
			t.Run(k+"/"+c.name, func(t *testing.T) {
				rq := r.prep(t, w, c)
				rq.Token, rq.Auth = c.token, c.auth
				if c.header {
					rq.Headers = append(rq.Headers, "x-zitadel-orgid", c.org)
				}
				resp := w.c.must(t, rq)
				got := statusID(resp)
				fmt.Fprintf(&report, " | %s", got)
				if got != want {
					t.Errorf("%s as %s: got %s, want %s: %s", k, c.name, got, want, resp.Body)
				} else if r.check != nil && resp.Status/100 == 2 {
					r.check(t, c, resp)
				}
			})
		}
		report.WriteString("\n")
	}
	if os.Getenv("IDLEDGER_MATRIX_PRINT") != "" {
		t.Logf("matrix (callers: %v):\n%s", callerNames(callers), report.String())
	}
}

func callerNames(cs []*caller) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.name)
	}
	return out
}

// samlIdPMetadata is a SAML IdP's metadata with one SingleSignOnService.
const samlIdPMetadata = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example/metadata">` +
	`<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
	`<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso"/>` +
	`</IDPSSODescriptor></EntityDescriptor>`
