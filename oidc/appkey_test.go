package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/client"
	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/client/rs"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/idledger/idledger/internal/app/apptest"
)

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// appKeyFile adds a key to app appID of project projectID and returns the
// decoded application key file.
func appKeyFile(t *testing.T, env *apptest.Env, projectID, appID string) (raw []byte, kf *keyFile) {
	t.Helper()
	k := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+projectID+"/apps/"+appID+"/keys", map[string]any{"type": "KEY_TYPE_JSON"})
	raw, err := base64.StdEncoding.DecodeString(k["keyDetails"].(string))
	if err != nil {
		t.Fatal(err)
	}
	kf = new(keyFile)
	if err = json.Unmarshal(raw, kf); err != nil || kf.Type != "application" || kf.KeyID != k["id"] || kf.ClientID == "" || kf.AppID != appID {
		t.Fatalf("key file %s: %v", raw, err)
	}
	return raw, kf
}

// keyFile is ZITADEL's application key file.
type keyFile struct {
	Type     string `json:"type"`
	KeyID    string `json:"keyId"`
	Key      string `json:"key"`
	AppID    string `json:"appId"`
	ClientID string `json:"clientId"`
}

// clientAssertion signs claims for clientID with key (PKCS#1 PEM) under kid.
func clientAssertion(t *testing.T, key []byte, kid, iss, sub string, aud []string, iat, exp time.Time) string {
	t.Helper()
	signer, err := client.NewSignerFromPrivateKeyByte(key, kid)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: iss, Subject: sub, Audience: aud, ID: "j" + time.Now().String(),
		IssuedAt: jwt.NewNumericDate(iat), Expiry: jwt.NewNumericDate(exp)}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func eventCount(t *testing.T, env *apptest.Env) int {
	t.Helper()
	var n int
	if err := env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPrivateKeyJWT: an OIDC web app with private_key_jwt finishes the
// code flow with a client assertion signed by its app key (zitadel/oidc's
// RP), an API app introspects with one (zitadel/oidc's resource server),
// and every bad assertion is invalid_client with nothing written.
func TestPrivateKeyJWT(t *testing.T) {
	f := newFixture(t)
	env := f.env
	ctx := context.Background()
	web := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+f.projectID+"/apps/oidc", map[string]any{
		"name": "web-jwt", "redirectUris": []string{redirectURI}, "authMethodType": "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT",
		"grantTypes": []string{"OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"}})
	if web["clientSecret"] != nil {
		t.Fatalf("a secret for a private_key_jwt app: %v", web)
	}
	webID := web["clientId"].(string)
	_, webKey := appKeyFile(t, env, f.projectID, web["appId"].(string))
	if webKey.ClientID != webID {
		t.Fatalf("key file client %q, app %q", webKey.ClientID, webID)
	}
	party, err := rp.NewRelyingPartyOIDC(ctx, env.URL, webID, "", redirectURI,
		[]string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeOfflineAccess},
		rp.WithJWTProfile(rp.SignerFromKeyAndKeyID([]byte(webKey.Key), webKey.KeyID)),
		rp.WithVerifierOpts(rp.WithNonce(func(context.Context) string { return "n-0S6_WzA2Mj" })))
	if err != nil {
		t.Fatal(err)
	}
	assertion, err := client.SignedJWTProfileAssertion(webID, []string{env.URL}, time.Hour, party.Signer())
	if err != nil {
		t.Fatal(err)
	}
	tokens, _ := f.codeFlow(t, party, rp.WithClientAssertionJWT(assertion))
	if tokens.IDTokenClaims.Subject != f.userID || tokens.RefreshToken == "" {
		t.Fatalf("tokens %+v", tokens)
	}
	next, err := rp.RefreshTokens[*oidc.IDTokenClaims](ctx, party, tokens.RefreshToken, "", "")
	if err != nil || next.AccessToken == "" {
		t.Fatalf("refresh with a client assertion: %v", err)
	}

	// An API app with private_key_jwt introspects with its key.
	api := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+f.projectID+"/apps/api", map[string]any{
		"name": "api-jwt", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"})
	apiID := api["clientId"].(string)
	_, apiKey := appKeyFile(t, env, f.projectID, api["appId"].(string))
	server, err := rs.NewResourceServerJWTProfile(ctx, env.URL, apiID, apiKey.KeyID, []byte(apiKey.Key))
	if err != nil {
		t.Fatal(err)
	}
	in, err := rs.Introspect[*oidc.IntrospectionResponse](ctx, server, next.AccessToken)
	if err != nil || !in.Active || in.Subject != f.userID {
		t.Fatalf("introspection with a key: %+v %v", in, err)
	}

	// Bad assertions: invalid_client, nothing written.
	now := time.Now()
	aud := []string{env.URL}
	forged, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	forgedPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(forged)})
	machineID, _ := machine(t, env, "keyed", false)
	//lint:ignore SA1019 the library's key-file support is what service accounts use today
	mk, err := client.ConfigFromKeyFileData(machineKey(t, env, machineID))
	if err != nil {
		t.Fatal(err)
	}
	basic, basicSecret := f.app(t, "OIDC_AUTH_METHOD_TYPE_BASIC", nil)
	removedRaw := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+f.projectID+"/apps/"+api["appId"].(string)+"/keys",
		map[string]any{"type": "KEY_TYPE_JSON"})
	removedFile, _ := base64.StdEncoding.DecodeString(removedRaw["keyDetails"].(string))
	//lint:ignore SA1019 the library's key-file support is what service accounts use today
	removed, err := client.ConfigFromKeyFileData(removedFile)
	if err != nil {
		t.Fatal(err)
	}
	env.MustDo(t, http.StatusOK, "DELETE", "/management/v1/projects/"+f.projectID+"/apps/"+api["appId"].(string)+"/keys/"+removed.KeyID, nil)
	good := clientAssertion(t, []byte(apiKey.Key), apiKey.KeyID, apiID, apiID, aud, now, now.Add(time.Minute))
	hs := jwt.Signed(mustHS(t, []byte(basicSecret))).Claims(jwt.Claims{Issuer: basic, Subject: basic, Audience: aud,
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))})
	hsToken, err := hs.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{
		"forged signature":      clientAssertion(t, forgedPEM, apiKey.KeyID, apiID, apiID, aud, now, now.Add(time.Minute)),
		"expired":               clientAssertion(t, []byte(apiKey.Key), apiKey.KeyID, apiID, apiID, aud, now.Add(-2*time.Hour), now.Add(-time.Hour)),
		"iat too old":           clientAssertion(t, []byte(apiKey.Key), apiKey.KeyID, apiID, apiID, aud, now.Add(-2*time.Hour), now.Add(time.Minute)),
		"other app's key":       clientAssertion(t, []byte(webKey.Key), webKey.KeyID, apiID, apiID, aud, now, now.Add(time.Minute)),
		"other app's client":    clientAssertion(t, []byte(apiKey.Key), apiKey.KeyID, webID, webID, aud, now, now.Add(time.Minute)),
		"sub is not iss":        clientAssertion(t, []byte(apiKey.Key), apiKey.KeyID, apiID, f.userID, aud, now, now.Add(time.Minute)),
		"wrong audience":        clientAssertion(t, []byte(apiKey.Key), apiKey.KeyID, apiID, apiID, []string{"https://elsewhere.example"}, now, now.Add(time.Minute)),
		"removed key":           clientAssertion(t, []byte(removed.Key), removed.KeyID, apiID, apiID, aud, now, now.Add(time.Minute)),
		"machine key":           clientAssertion(t, []byte(mk.Key), mk.KeyID, machineID, machineID, aud, now, now.Add(time.Minute)),
		"basic app, HS256":      hsToken,
		"unsigned":              unsigned(apiID, aud),
		"not a JWT":             "garbage",
		"oversized":             good + strings.Repeat("A", 9000),
		"basic app, a real key": clientAssertion(t, []byte(apiKey.Key), apiKey.KeyID, basic, basic, aud, now, now.Add(time.Minute)),
	}
	before := eventCount(t, env)
	for name, a := range bad {
		for _, path := range []string{"/oauth/v2/introspect", "/oauth/v2/token", "/oauth/v2/revoke"} {
			form := url.Values{"client_assertion_type": {assertionType}, "client_assertion": {a}, "token": {next.AccessToken}}
			if path == "/oauth/v2/token" {
				form.Set("grant_type", "refresh_token")
				form.Set("refresh_token", next.RefreshToken)
			}
			r, m := tokenPost(t, env, path, form, "", "")
			if r.StatusCode != http.StatusUnauthorized && r.StatusCode != http.StatusBadRequest || m["error"] != "invalid_client" && m["error"] != "unauthorized_client" {
				t.Errorf("%s at %s: %d %v", name, path, r.StatusCode, m)
			}
		}
	}
	if after := eventCount(t, env); after != before {
		t.Errorf("%d events written by refused client assertions", after-before)
	}
	// The token survived all of that; the good assertion still works.
	r, m := tokenPost(t, env, "/oauth/v2/introspect", url.Values{"client_assertion_type": {assertionType}, "client_assertion": {good},
		"token": {next.AccessToken}}, "", "")
	if r.StatusCode != http.StatusOK || m["active"] != true {
		t.Fatalf("introspect with a good assertion: %d %v", r.StatusCode, m)
	}
	// It is single-use: its jti is refused the second time.
	r, m = tokenPost(t, env, "/oauth/v2/introspect", url.Values{"client_assertion_type": {assertionType}, "client_assertion": {good},
		"token": {next.AccessToken}}, "", "")
	if r.StatusCode != http.StatusUnauthorized || m["error"] != "invalid_client" {
		t.Fatalf("a replayed assertion: %d %v", r.StatusCode, m)
	}
	// Revocation with the web app's key, then introspection says inactive.
	wa := clientAssertion(t, []byte(webKey.Key), webKey.KeyID, webID, webID, aud, now, now.Add(time.Minute))
	if r, m := tokenPost(t, env, "/oauth/v2/revoke", url.Values{"client_assertion_type": {assertionType}, "client_assertion": {wa},
		"token": {next.AccessToken}}, "", ""); r.StatusCode != http.StatusOK {
		t.Fatalf("revoke with a client assertion: %d %v", r.StatusCode, m)
	}
	if in, err := rs.Introspect[*oidc.IntrospectionResponse](ctx, server, next.AccessToken); err != nil || in.Active {
		t.Fatalf("introspection after revocation: %+v %v", in, err)
	}
	// The web app switches to basic: its key no longer authenticates it.
	env.MustDo(t, http.StatusOK, "PUT", "/management/v1/projects/"+f.projectID+"/apps/"+web["appId"].(string)+"/oidc_config", map[string]any{
		"redirectUris": []string{redirectURI}, "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC",
		"grantTypes": []string{"OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"}})
	if r, m := tokenPost(t, env, "/oauth/v2/revoke", url.Values{"client_assertion_type": {assertionType}, "client_assertion": {wa},
		"token": {tokens.AccessToken}}, "", ""); r.StatusCode != http.StatusUnauthorized || m["error"] != "invalid_client" {
		t.Fatalf("a key of an app that left private_key_jwt: %d %v", r.StatusCode, m)
	}
}

func mustHS(t *testing.T, key []byte) jose.Signer {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: append(key, make([]byte, 32)...)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unsigned is an alg:none JWT.
func unsigned(clientID string, aud []string) string {
	enc := base64.RawURLEncoding.EncodeToString
	now := time.Now().Unix()
	claims := `{"iss":"` + clientID + `","sub":"` + clientID + `","aud":["` + aud[0] + `"],"iat":` +
		strconv.FormatInt(now, 10) + `,"exp":` + strconv.FormatInt(now+60, 10) + `}`
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(claims)) + "."
}
