package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/client/profile"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestMachineAccessTokenType: a machine user with ACCESS_TOKEN_TYPE_JWT
// gets signed JWT access tokens from client_credentials and JWT profile,
// one with the default (bearer) opaque ones; each is introspected as
// active and works on the API only with the zitadel audience;
// UpdateMachine changes the kind of the next token; removing the machine
// ends its tokens at once, JWTs included.
func TestMachineAccessTokenType(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	p := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects", map[string]any{"name": "api"})
	projectID := p["id"].(string)
	api := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+projectID+"/apps/api", map[string]any{"name": "api"})
	projectAud := "urn:zitadel:iam:org:project:id:" + projectID + ":aud"

	add := func(name, tokenType string) (userID, secret string, keyFile []byte) {
		body := map[string]any{"userName": name, "name": name}
		if tokenType != "" {
			body["accessTokenType"] = tokenType
		}
		userID = env.MustDo(t, http.StatusOK, "POST", "/management/v1/users/machine", body)["userId"].(string)
		secret = env.MustDo(t, http.StatusOK, "PUT", "/management/v1/users/"+userID+"/secret", map[string]any{})["clientSecret"].(string)
		return userID, secret, machineKey(t, env, userID)
	}
	jwtUser, jwtSecret, jwtKey := add("jwtsvc", "ACCESS_TOKEN_TYPE_JWT")
	bearerUser, bearerSecret, bearerKey := add("bearersvc", "")

	// The read side shows the type (bearer, the zero value, is left out).
	if u := env.MustDo(t, http.StatusOK, "GET", "/v2/users/"+jwtUser, nil); u["user"].(map[string]any)["machine"].(map[string]any)["accessTokenType"] != "ACCESS_TOKEN_TYPE_JWT" {
		t.Fatalf("GetUserByID: %v", u)
	}

	scopes := []string{"openid", zitadelAud, projectAud}
	byCC := func(name, secret string, scopes ...string) string {
		t.Helper()
		cc := clientcredentials.Config{ClientID: name, ClientSecret: secret, TokenURL: env.URL + "/oauth/v2/token", Scopes: scopes}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatalf("client_credentials %s: %v", name, err)
		}
		return tok.AccessToken
	}
	byProfile := func(keyFile []byte, scopes ...string) string {
		t.Helper()
		//lint:ignore SA1019 the library's key-file support is what service accounts use today
		ts, err := profile.NewJWTProfileTokenSourceFromKeyFileData(ctx, env.URL, keyFile, scopes)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.Token()
		if err != nil {
			t.Fatalf("jwt profile: %v", err)
		}
		return tok.AccessToken
	}
	keys := func() jose.JSONWebKeySet {
		resp, body := get(t, env.URL+"/oauth/v2/keys")
		var ks jose.JSONWebKeySet
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &ks) != nil {
			t.Fatalf("keys: %d %s", resp.StatusCode, body)
		}
		return ks
	}()
	// isJWT checks a JWT access token against the published keys: issuer,
	// subject and audience.
	isJWT := func(tok, subject string) bool {
		t.Helper()
		if strings.Count(tok, ".") != 2 {
			return false
		}
		parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatalf("JWT access token: %v", err)
		}
		var c jwt.Claims
		if err := parsed.Claims(keys, &c); err != nil {
			t.Fatalf("JWT access token signature: %v", err)
		}
		if c.Issuer != env.URL || c.Subject != subject || !c.Audience.Contains(projectID) || c.ID == "" {
			t.Fatalf("JWT access token claims %+v", c)
		}
		return true
	}
	me := func(tok string) int {
		st, _ := env.DoAs(t, tok, "GET", "/auth/v1/users/me", nil)
		return st
	}
	introspect := func(tok string) map[string]any {
		_, m := tokenPost(t, env, "/oauth/v2/introspect", url.Values{"token": {tok}}, api["clientId"].(string), api["clientSecret"].(string))
		return m
	}
	type grant struct {
		name, user string
		jwt        bool
		mint       func(scopes ...string) string
	}
	grants := []grant{
		{"jwt/client_credentials", jwtUser, true, func(s ...string) string { return byCC("jwtsvc", jwtSecret, s...) }},
		{"jwt/jwt_profile", jwtUser, true, func(s ...string) string { return byProfile(jwtKey, s...) }},
		{"bearer/client_credentials", bearerUser, false, func(s ...string) string { return byCC("bearersvc", bearerSecret, s...) }},
		{"bearer/jwt_profile", bearerUser, false, func(s ...string) string { return byProfile(bearerKey, s...) }},
	}
	var mu sync.Mutex
	var issued []string
	for _, g := range grants {
		t.Run(g.name, func(t *testing.T) {
			tok := g.mint(scopes...)
			if got := isJWT(tok, g.user); got != g.jwt {
				t.Fatalf("JWT access token: %v, want %v (%.20s…)", got, g.jwt, tok)
			}
			if m := introspect(tok); m["active"] != true || m["sub"] != g.user || m["token_type"] != "Bearer" {
				t.Errorf("introspection: %v", m)
			}
			if st := me(tok); st != http.StatusOK {
				t.Errorf("API call: %d", st)
			}
			// Without the zitadel audience the API refuses the token.
			if st := me(g.mint("openid", projectAud)); st != http.StatusUnauthorized {
				t.Errorf("API call without the zitadel audience: %d", st)
			}
			mu.Lock()
			issued = append(issued, tok)
			mu.Unlock()
		})
	}

	// UpdateMachine: the next token is of the new type, on both grants.
	env.MustDo(t, http.StatusOK, "PUT", "/management/v1/users/"+jwtUser+"/machine", map[string]any{"name": "jwtsvc"})
	env.MustDo(t, http.StatusOK, "PUT", "/management/v1/users/"+bearerUser+"/machine",
		map[string]any{"name": "bearersvc", "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"})
	for _, g := range grants {
		if tok := g.mint(scopes...); isJWT(tok, g.user) == g.jwt {
			t.Errorf("%s after UpdateMachine: JWT %v", g.name, g.jwt)
		} else if st := me(tok); st != http.StatusOK {
			t.Errorf("%s after UpdateMachine: API call %d", g.name, st)
		}
	}
	if u := env.MustDo(t, http.StatusOK, "GET", "/v2/users/"+jwtUser, nil); u["user"].(map[string]any)["machine"].(map[string]any)["accessTokenType"] != nil {
		t.Fatalf("GetUserByID after the change to bearer: %v", u)
	}
	// The tokens, JWTs included, stop working at once when their user goes:
	// a JWT's jti is looked up, its signature alone does not do.
	env.RemoveUser(t, jwtUser)
	env.RemoveUser(t, bearerUser)
	for i, tok := range issued {
		if st := me(tok); st != http.StatusUnauthorized {
			t.Errorf("token %d of a removed machine on the API: %d", i, st)
		}
		if m := introspect(tok); m["active"] != false {
			t.Errorf("token %d of a removed machine introspected: %v", i, m)
		}
	}
}

// TestUpdateMachine: the command's answers: nothing changed, a human,
// an unknown user, a bad enum, a missing name.
func TestUpdateMachine(t *testing.T) {
	env := apptest.New(t)
	userID, _ := machine(t, env, "svc", false)
	human := env.CreateHuman(t, env.DefaultOrgID, "h")
	for _, tc := range []struct {
		name, user string
		body       any
		status     int
		id         string
	}{
		{"changed", userID, map[string]any{"name": "svc2", "description": "d", "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}, 200, ""},
		{"not changed", userID, map[string]any{"name": "svc2", "description": "d", "accessTokenType": 1}, 400, "COMMAND-2n8vs"},
		{"human", human, map[string]any{"name": "x"}, 400, "COMMAND-Dggw3"},
		{"unknown", "nope", map[string]any{"name": "x"}, 404, "COMMAND-Dggw2"},
		{"no name", userID, map[string]any{"description": "x"}, 400, ""},
		{"bad type", userID, map[string]any{"name": "x", "accessTokenType": "ACCESS_TOKEN_TYPE_OPAQUE"}, 400, ""},
		{"bad type number", userID, map[string]any{"name": "x", "accessTokenType": 7}, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := env.Do(t, "PUT", "/management/v1/users/"+tc.user+"/machine", tc.body)
			if st != tc.status || (tc.id != "" && apptest.ErrorID(body) != tc.id) {
				t.Fatalf("%d %s", st, body)
			}
		})
	}
	u := env.MustDo(t, http.StatusOK, "GET", "/v2/users/"+userID, nil)["user"].(map[string]any)["machine"].(map[string]any)
	if u["name"] != "svc2" || u["description"] != "d" || u["accessTokenType"] != "ACCESS_TOKEN_TYPE_JWT" {
		t.Fatalf("machine after UpdateMachine: %v", u)
	}
}
