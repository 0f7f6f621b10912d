package securitytest

import (
	"testing"
)

// oidcRows are the OpenID Provider's endpoints and the v2 OIDC service.
// The OAuth endpoints authenticate clients, not bearer callers (userinfo
// takes an access token or a PAT): they answer every caller of the matrix
// alike, with the RFC error for a request that names no client or token.
// CreateCallback needs session.link (IAM_LOGIN_CLIENT only, not even
// IAM_OWNER); GetAuthRequest session.read.
func oidcRows(m map[string]row) {
	form := func(method, path string) prep {
		return func(t *testing.T, w *world, c *caller) request {
			r := req(method, path, []byte("x=1"))
			r.Headers = append(r.Headers, "Content-Type", "application/x-www-form-urlencoded")
			return r
		}
	}
	get := func(path string) prep {
		return func(t *testing.T, w *world, c *caller) request { return req("GET", path, nil) }
	}
	m["GET /.well-known/openid-configuration"] = row{get("/.well-known/openid-configuration"), public, nil}
	m["GET /oauth/v2/keys"] = row{get("/oauth/v2/keys"), public, nil}
	m["GET /oauth/v2/authorize"] = row{get("/oauth/v2/authorize"), oauthAll("400"), nil}
	m["POST /oauth/v2/authorize"] = row{form("POST", "/oauth/v2/authorize"), oauthAll("400"), nil}
	m["POST /oauth/v2/token"] = row{form("POST", "/oauth/v2/token"), oauthAll("400"), nil}
	m["POST /oauth/v2/introspect"] = row{form("POST", "/oauth/v2/introspect"), oauthAll("401"), nil}
	m["POST /oauth/v2/revoke"] = row{form("POST", "/oauth/v2/revoke"), oauthAll("401"), nil}
	// Without a registered post_logout_redirect_uri, end session sends the
	// browser to the hosted login's logout page ("you are signed out"),
	// which the client follows.
	m["GET /oidc/v1/end_session"] = row{get("/oidc/v1/end_session"), public, nil}
	m["POST /oidc/v1/end_session"] = row{form("POST", "/oidc/v1/end_session"), public, nil}
	// Userinfo with the callers' PATs, as ZITADEL accepts them.
	m["GET /oidc/v1/userinfo"] = row{get("/oidc/v1/userinfo"), public, nil}
	m["POST /oidc/v1/userinfo"] = row{form("POST", "/oidc/v1/userinfo"), public, nil}

	m["GET /v2/oidc/auth_requests/{authRequestId}"] = row{get("/v2/oidc/auth_requests/V2_unknown"),
		[7]string{"404 COMMAND-Bsf3g", "404 COMMAND-Bsf3g", v2Deny, v2Deny, v2Deny, v2Deny, v2Deny}, nil}
	m["POST /v2/oidc/auth_requests/{authRequestId}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/v2/oidc/auth_requests/V2_unknown", js(map[string]any{"error": map[string]any{"error": "ERROR_REASON_ACCESS_DENIED"}}))
	}, [7]string{v2Deny, v2Deny, v2Deny, v2Deny, v2Deny, v2Deny, v2Deny}, nil}
}

func oauthAll(s string) [7]string { return [7]string{s, s, s, s, s, s, s} }
