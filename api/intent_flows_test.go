package api_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/rs/zerolog"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
)

// oidcLogin runs a whole generic-OIDC login and returns the intent ID and
// token.
func oidcLogin(t *testing.T, env *apptest.Env, idpID string) (id, token string) {
	t.Helper()
	start := startIntent(t, env, idpID)
	b := newBrowser(t, nil)
	to := b.loginAtOP(start["authUrl"].(string), "test-user@127.0.0.1", "verysecure", "https://login.example/")
	rq := redirectQuery(t, to, "https://login.example/idp/success")
	return rq.Get("id"), rq.Get("token")
}

// TestIntentSingleUse: the session check consumes an intent once
// (GHSA-g4r8): a second check, a concurrent one, and a retrieve after it
// fail; another user's check fails; another instance cannot read it.
func TestIntentSingleUse(t *testing.T) {
	env := newIntentEnv(t, nil)
	op := newTestOP(t, storage.WebClient("single", "s3cret-single", env.URL+"/idps/callback"))
	idpID := plIDP(t, env, "", "generic_oidc", fmt.Sprintf(
		`{"name":"OP","issuer":%q,"clientId":"single","clientSecret":"s3cret-single"}`, op.URL))
	org := env.CreateOrg(t, "acme")
	alice, bob := env.CreateHuman(t, org, "alice"), env.CreateHuman(t, org, "bob")
	env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+alice+"/links",
		map[string]any{"idpLink": map[string]string{"idpId": idpID, "userId": "id1", "userName": "test-user"}})

	// Linked at callback time: the success URL names the user.
	start := startIntent(t, env, idpID)
	to := newBrowser(t, nil).loginAtOP(start["authUrl"].(string), "test-user@127.0.0.1", "verysecure", "https://login.example/")
	rq := redirectQuery(t, to, "https://login.example/idp/success")
	id, token := rq.Get("id"), rq.Get("token")
	if rq.Get("user") != alice {
		t.Fatalf("success redirect names user %q, want %s", rq.Get("user"), alice)
	}
	got := env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents/"+id, map[string]string{"idpIntentToken": token})
	if got["userId"] != alice || got["addHumanUser"] != nil {
		t.Fatalf("retrieve of a linked user: %v", got)
	}

	// Another instance: the intent does not exist there.
	other := env.AddInstance(t, "other.example")
	st, body := env.DoAs(t, other.AdminPAT, "POST", "/v2/idp_intents/"+id, map[string]string{"idpIntentToken": token}, "Host", "other.example")
	if st != http.StatusForbidden || apptest.ErrorID(body) != "CRYPTO-CRYPTO" {
		t.Fatalf("another instance's intent: %d %s", st, body)
	}

	cmds, ctx := env.App.Commands(), context.Background()
	if _, err := cmds.ConsumeIntent(ctx, env.InstanceID, bob, id, token); errID(err) != "COMMAND-O8xk3w" {
		t.Fatalf("another user's check: %v", err)
	}
	if _, err := cmds.ConsumeIntent(ctx, env.InstanceID, alice, id, "wrong"); errID(err) != "CRYPTO-CRYPTO" {
		t.Fatalf("wrong token: %v", err)
	}
	// Concurrent checks: exactly one wins.
	results := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := cmds.ConsumeIntent(ctx, env.InstanceID, alice, id, token)
			results <- err
		}()
	}
	wins := 0
	for range 8 {
		err := <-results
		switch {
		case err == nil:
			wins++
		case errID(err) != "COMMAND-Df4bw":
			t.Errorf("a losing check answered %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d checks consumed the intent, want 1", wins)
	}
	st, body = env.Do(t, "POST", "/v2/idp_intents/"+id, map[string]string{"idpIntentToken": token})
	if st != http.StatusBadRequest || apptest.ErrorID(body) != "IDP-nme4gszsvx" {
		t.Fatalf("retrieve after consumption: %d %s", st, body)
	}

	// Not linked at callback time: the check needs a link now.
	id2, token2 := oidcLogin(t, env, idpID) // id1 is alice's: linked again
	if _, err := cmds.ConsumeIntent(ctx, env.InstanceID, alice, id2, token2); err != nil {
		t.Fatalf("check of a linked intent: %v", err)
	}

	// The upstream's error: TestIntentFailurePaths.
	// No state, and an unknown one: 400, no redirect.
	for q, want := range map[string]string{"": "IDP-Hk38e", "state=123": "IDP-gy3ctgkqe7"} {
		resp, err := http.Get(env.URL + "/idps/callback?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("callback ?%s: %d, want 400 %s", q, resp.StatusCode, want)
		}
	}
}

func errID(err error) string {
	if e, ok := errs.As(err); ok {
		return e.ID
	}
	return fmt.Sprint(err)
}

// TestIntentOAuth: generic OAuth 2 against the OP's endpoints, the user
// from its userinfo as userEndpoint, the ID from idAttribute.
func TestIntentOAuth(t *testing.T) {
	env := newIntentEnv(t, nil)
	op := newTestOP(t, storage.WebClient("oauth2", "s3cret-oauth", env.URL+"/idps/callback"))
	body := fmt.Sprintf(`{"name":"OAuth","clientId":"oauth2","clientSecret":"s3cret-oauth",
		"authorizationEndpoint":%q,"tokenEndpoint":%q,"userEndpoint":%q,"scopes":["openid","email","profile"],"idAttribute":"sub","usePkce":true}`,
		op.URL+"/auth", op.URL+"/oauth/token", op.URL+"/userinfo")
	idpID := plIDP(t, env, "", "oauth", body)
	start := startIntent(t, env, idpID)
	if !strings.Contains(start["authUrl"].(string), "code_challenge=") {
		t.Fatalf("no PKCE: %v", start["authUrl"])
	}
	to := newBrowser(t, nil).loginAtOP(start["authUrl"].(string), "test-user@127.0.0.1", "verysecure", "https://login.example/")
	rq := redirectQuery(t, to, "https://login.example/idp/success")
	got := env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents/"+rq.Get("id"), map[string]string{"idpIntentToken": rq.Get("token")})
	if jsonPath(t, got, "idpInformation", "userId") != "id1" ||
		jsonPath(t, got, "idpInformation", "rawInformation", "RawInfo", "email") != "test-user@zitadel.ch" {
		t.Fatalf("retrieve: %v", got)
	}
	// Generic OAuth asserts nothing about the email (ZITADEL's mapping).
	if jsonPath(t, got, "addHumanUser", "email", "isVerified") != nil {
		t.Fatalf("generic OAuth email verified: %v", got)
	}
	t.Run("registered", func(t *testing.T) {
		idp := signInIDP(t, env, "oauth", body)
		signInTwice(t, env, idp, false, atOP(env, nil, idp, "test-user@127.0.0.1", "verysecure"))
	})
}

// jwks is a JWKS endpoint of our own.
type jwks struct {
	URL string
	key *rsa.PrivateKey
}

func newJWKS(t *testing.T) *jwks {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(srv.Close)
	return &jwks{URL: srv.URL, key: key}
}

// atJWTEndpointOf is the browser at env's JWT endpoint (on host, when
// not "") with the query of the authUrl and the proxy's header; it returns
// the status and where it is sent.
func atJWTEndpointOf(t *testing.T, env *apptest.Env, host, query, header string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, env.URL+"/idps/jwt?"+query, nil)
	req.Header.Set("x-auth-jwt", header)
	if host != "" {
		req.Host = host
	}
	resp, err := newBrowser(t, nil).c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// newClockedIntentEnv is an intent env whose clock runs offset ahead.
func newClockedIntentEnv(t *testing.T) (*apptest.Env, *atomic.Int64) {
	t.Helper()
	offset := new(atomic.Int64)
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	env := apptest.NewWith(t, app.Options{Log: zerolog.Nop(), Now: now})
	env.Host = strings.TrimPrefix(env.URL, "http://")
	return env, offset
}

func signJWT(t *testing.T, key *rsa.PrivateKey, c jwt.Claims, extra map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(c).Claims(extra).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestIntentJWT: the JWT IdP with a JWKS of our own; wrong key, wrong
// issuer, wrong audience, expired; and a started intent that expires.
func TestIntentJWT(t *testing.T) {
	env, offset := newClockedIntentEnv(t)
	keys := newJWKS(t)
	const issuer = "https://jwt-issuer.example"
	body := fmt.Sprintf(`{"name":"JWT","issuer":%q,"jwtEndpoint":"https://proxy.example/jwt","keysEndpoint":%q,"headerName":"x-auth-jwt"}`,
		issuer, keys.URL)
	idpID := plIDP(t, env, "", "generic_jwt", body)
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	good := func() jwt.Claims {
		return jwt.Claims{Issuer: issuer, Subject: "jwt-user-1", Audience: jwt.Audience{env.URL},
			IssuedAt: jwt.NewNumericDate(time.Now()), Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour))}
	}
	atJWTEndpoint := func(t *testing.T, query, header string) string {
		t.Helper()
		_, to := atJWTEndpointOf(t, env, "", query, header)
		return to
	}
	for _, tc := range []struct {
		name  string
		key   *rsa.PrivateKey
		edit  func(*jwt.Claims)
		valid bool
	}{
		{"valid", keys.key, func(*jwt.Claims) {}, true},
		{"wrong key", otherKey, func(*jwt.Claims) {}, false},
		{"wrong issuer", keys.key, func(c *jwt.Claims) { c.Issuer = "https://evil.example" }, false},
		{"wrong audience", keys.key, func(c *jwt.Claims) { c.Audience = jwt.Audience{"another-service"} }, false},
		{"expired", keys.key, func(c *jwt.Claims) {
			c.IssuedAt, c.Expiry = jwt.NewNumericDate(time.Now().Add(-2*time.Hour)), jwt.NewNumericDate(time.Now().Add(-time.Hour))
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := startIntent(t, env, idpID)
			au := start["authUrl"].(string)
			if !strings.HasPrefix(au, "https://proxy.example/jwt?") {
				t.Fatalf("authUrl %s", au)
			}
			c := good()
			tc.edit(&c)
			tok := signJWT(t, tc.key, c, map[string]any{"email": "jwt@example.com", "email_verified": true, "preferred_username": "jwtuser"})
			to := atJWTEndpoint(t, strings.SplitN(au, "?", 2)[1], "Bearer "+tok)
			if !tc.valid {
				redirectQuery(t, to, "https://login.example/idp/failure")
				return
			}
			rq := redirectQuery(t, to, "https://login.example/idp/success")
			got := env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents/"+rq.Get("id"), map[string]string{"idpIntentToken": rq.Get("token")})
			if jsonPath(t, got, "idpInformation", "userId") != "jwt-user-1" || jsonPath(t, got, "idpInformation", "userName") != "jwtuser" {
				t.Fatalf("retrieve: %v", got)
			}
		})
	}
	t.Run("wrong userAgentID", func(t *testing.T) {
		start := startIntent(t, env, idpID)
		au := start["authUrl"].(string)
		id := strings.SplitN(strings.SplitN(au, "authRequestID=", 2)[1], "&", 2)[0]
		redirectQuery(t, atJWTEndpoint(t, "authRequestID="+id+"&userAgentID=forged", signJWT(t, keys.key, good(), nil)), "https://login.example/idp/failure")
	})
	t.Run("started intent expires", func(t *testing.T) {
		start := startIntent(t, env, idpID)
		q := strings.SplitN(start["authUrl"].(string), "?", 2)[1]
		offset.Store(int64(11 * time.Minute))
		defer offset.Store(0)
		to := atJWTEndpoint(t, q, signJWT(t, keys.key, good(), nil))
		if rq := redirectQuery(t, to, "https://login.example/idp/failure"); rq.Get("error") != "IDP-SAf42" {
			t.Fatalf("expired: %s", to)
		}
	})
	t.Run("created", func(t *testing.T) {
		idp := signInIDP(t, env, "generic_jwt", body)
		signInTwice(t, env, idp, true, viaRedirect(func(t *testing.T) string {
			q := strings.SplitN(startIntent(t, env, idp)["authUrl"].(string), "?", 2)[1]
			return atJWTEndpoint(t, q, signJWT(t, keys.key, good(), map[string]any{"email": "jwt@example.com", "email_verified": true,
				"preferred_username": "jwtuser", "given_name": "Jay", "family_name": "Wt"}))
		}))
	})
}

// TestSessionWithIntent is the whole IdP login as a login UI runs it: a
// generic-OIDC login at the real OP, the success redirect, Retrieve, then a
// session created with the user and the intent (session.intent.checked and
// idpintent.consumed in one append); a second session with the same intent
// is refused, and so is one for another user.
func TestSessionWithIntent(t *testing.T) {
	env := newIntentEnv(t, nil)
	op := newTestOP(t, storage.WebClient("sess", "s3cret-sess", env.URL+"/idps/callback"))
	idpID := plIDP(t, env, "", "generic_oidc", fmt.Sprintf(
		`{"name":"OP","issuer":%q,"clientId":"sess","clientSecret":"s3cret-sess"}`, op.URL))
	org := env.CreateOrg(t, "acme")
	alice, bob := env.CreateHuman(t, org, "alice"), env.CreateHuman(t, org, "bob")
	env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+alice+"/links",
		map[string]any{"idpLink": map[string]string{"idpId": idpID, "userId": "id1", "userName": "test-user"}})

	id, token := oidcLogin(t, env, idpID)
	env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents/"+id, map[string]string{"idpIntentToken": token})
	sessionsWithIntent(t, env, id, token, alice, bob)

	t.Run("created", func(t *testing.T) {
		idp := signInIDP(t, env, "generic_oidc", fmt.Sprintf(`{"name":"OP auto","issuer":%q,"clientId":"sess","clientSecret":"s3cret-sess"}`, op.URL))
		signInTwice(t, env, idp, true, atOP(env, nil, idp, "test-user@127.0.0.1", "verysecure"))
	})
}

// sessionsWithIntent creates sessions with a succeeded intent as a login UI
// does: one for other (not the intent's user) is refused, one for user is
// created (session.intent.checked and idpintent.consumed in one append),
// and the consumed intent serves no second session and no retrieve.
func sessionsWithIntent(t *testing.T, env *apptest.Env, id, token, user, other string) {
	t.Helper()
	check := func(u string) map[string]any {
		return map[string]any{"checks": map[string]any{"user": map[string]string{"userId": u},
			"idpIntent": map[string]string{"idpIntentId": id, "idpIntentToken": token}}}
	}
	if st, body := env.Do(t, "POST", "/v2/sessions", check(other)); st != http.StatusBadRequest || apptest.ErrorID(body) != "COMMAND-O8xk3w" {
		t.Fatalf("a session for another user with the intent: %d %s", st, body)
	}
	created := env.MustDo(t, http.StatusCreated, "POST", "/v2/sessions", check(user))
	sid, stoken := created["sessionId"].(string), created["sessionToken"].(string)
	if sid == "" || stoken == "" {
		t.Fatalf("CreateSession answered %v", created)
	}
	got := env.MustDo(t, http.StatusOK, "GET", "/v2/sessions/"+sid+"?sessionToken="+url.QueryEscape(stoken), nil)
	if jsonPath(t, got, "session", "factors", "intent", "verifiedAt") == nil ||
		jsonPath(t, got, "session", "factors", "user", "id") != user {
		t.Fatalf("the session's factors: %v", got)
	}
	if st, body := env.Do(t, "POST", "/v2/sessions", check(user)); st != http.StatusBadRequest || apptest.ErrorID(body) != "COMMAND-Df4bw" {
		t.Fatalf("a second session with the consumed intent: %d %s", st, body)
	}
	if st, body := env.Do(t, "POST", "/v2/idp_intents/"+id, map[string]string{"idpIntentToken": token}); st != http.StatusBadRequest || apptest.ErrorID(body) != "IDP-nme4gszsvx" {
		t.Fatalf("retrieve after the session consumed the intent: %d %s", st, body)
	}
}
