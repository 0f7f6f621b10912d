package oidc_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/client"
	"github.com/zitadel/oidc/v3/pkg/client/profile"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/idledger/idledger/internal/app/apptest"
)

const zitadelAud = "urn:zitadel:iam:org:project:id:zitadel:aud"

// machine creates a machine user; with secret, a client secret for it.
func machine(t *testing.T, env *apptest.Env, name string, secret bool) (userID, clientSecret string) {
	t.Helper()
	m := env.MustDo(t, http.StatusOK, "POST", "/management/v1/users/machine", map[string]any{"userName": name, "name": name})
	userID = m["userId"].(string)
	if secret {
		s := env.MustDo(t, http.StatusOK, "PUT", "/management/v1/users/"+userID+"/secret", map[string]any{})
		if s["clientId"] != name {
			t.Fatalf("secret: %v", s)
		}
		clientSecret = s["clientSecret"].(string)
	}
	return userID, clientSecret
}

func machineKey(t *testing.T, env *apptest.Env, userID string) []byte {
	t.Helper()
	k := env.MustDo(t, http.StatusOK, "POST", "/management/v1/users/"+userID+"/keys", map[string]any{"type": "KEY_TYPE_JSON"})
	b, err := base64.StdEncoding.DecodeString(k["keyDetails"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestClientCredentials(t *testing.T) {
	env := apptest.New(t)
	userID, secret := machine(t, env, "svc", true)
	machine(t, env, "nosecret", false)
	ctx := context.Background()
	cc := clientcredentials.Config{ClientID: "svc", ClientSecret: secret, TokenURL: env.URL + "/oauth/v2/token",
		Scopes: []string{"openid", zitadelAud}}
	tok, err := cc.Token(ctx)
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("client_credentials: %v", err)
	}
	// The token works at userinfo and on the API (audience holds the
	// instance's project).
	resp, body := get(t, env.URL+"/oidc/v1/userinfo", "Authorization", "Bearer "+tok.AccessToken)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"sub":"`+userID+`"`) {
		t.Fatalf("userinfo: %d %s", resp.StatusCode, body)
	}
	for name, c := range map[string]struct{ id, secret string }{
		"wrong secret": {"svc", "nope"}, "unknown client": {"nobody", secret}, "machine without secret": {"nosecret", secret},
	} {
		r, m := tokenPost(t, env, "/oauth/v2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}, c.id, c.secret)
		if r.StatusCode != http.StatusUnauthorized || m["error"] != "invalid_client" || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %v %q", name, r.StatusCode, m, r.Header.Get("WWW-Authenticate"))
		}
	}
	// client_secret_post works too; token responses are not cached.
	r, m := tokenPost(t, env, "/oauth/v2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"},
		"client_secret": {secret}}, "", "")
	if r.StatusCode != http.StatusOK || m["access_token"] == nil || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("client_secret_post: %d %v %q", r.StatusCode, m, r.Header.Get("Cache-Control"))
	}
}

func TestJWTProfile(t *testing.T) {
	env := apptest.New(t)
	userID, _ := machine(t, env, "robot", false)
	keyFile := machineKey(t, env, userID)
	ctx := context.Background()
	//lint:ignore SA1019 the library's key-file support is what service accounts use today
	ts, err := profile.NewJWTProfileTokenSourceFromKeyFileData(ctx, env.URL, keyFile, []string{"openid", zitadelAud})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("jwt profile: %v", err)
	}
	resp, body := get(t, env.URL+"/oidc/v1/userinfo", "Authorization", "Bearer "+tok.AccessToken)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), userID) {
		t.Fatalf("userinfo: %d %s", resp.StatusCode, body)
	}

	//lint:ignore SA1019 as above
	kf, err := client.ConfigFromKeyFileData(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	assertion := func(key []byte, keyID string, aud []string, iat time.Time) string {
		signer, err := client.NewSignerFromPrivateKeyByte(key, keyID)
		if err != nil {
			t.Fatal(err)
		}
		s, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: userID, Subject: userID, Audience: aud,
			IssuedAt: jwt.NewNumericDate(iat), Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour))}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	other, _ := machine(t, env, "other", false)
	//lint:ignore SA1019 as above
	otherKey, err := client.ConfigFromKeyFileData(machineKey(t, env, other))
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range map[string]string{
		"wrong key":   assertion([]byte(otherKey.Key), kf.KeyID, []string{env.URL}, time.Now()),
		"iat too old": assertion([]byte(kf.Key), kf.KeyID, []string{env.URL}, time.Now().Add(-2*time.Hour)),
		"aud missing": assertion([]byte(kf.Key), kf.KeyID, []string{"https://elsewhere.example"}, time.Now()),
		"not a JWT":   "garbage",
		"oversized":   strings.Repeat("a", 70000),
	} {
		r, m := tokenPost(t, env, "/oauth/v2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
			"assertion": {a}, "scope": {"openid"}}, "", "")
		if r.StatusCode/100 != 4 || m["error"] == nil {
			t.Errorf("%s: %d %v", name, r.StatusCode, m)
		}
	}
}

// TestMachineGrantLifetimes: a machine grant's access token lives as long
// as the instance's settings say at the time of the request: ZITADEL's 12
// hours before any are set, then the set value, then the changed one. The
// settings are read with the machine user, in the same round trip; nothing
// of them is kept from one request to the next. Both grants ask for the
// instance project's audience, which the second and later requests take
// from the OP's memory of it.
func TestMachineGrantLifetimes(t *testing.T) {
	env := apptest.New(t)
	_, secret := machine(t, env, "svc", true)
	robot, _ := machine(t, env, "robot", false)
	keyFile := machineKey(t, env, robot)
	ctx := context.Background()
	scopes := []string{"openid", zitadelAud}
	check := func(what string, want time.Duration) {
		t.Helper()
		cc := clientcredentials.Config{ClientID: "svc", ClientSecret: secret, TokenURL: env.URL + "/oauth/v2/token", Scopes: scopes}
		//lint:ignore SA1019 the library's key-file support is what service accounts use today
		ts, err := profile.NewJWTProfileTokenSourceFromKeyFileData(ctx, env.URL, keyFile, scopes)
		if err != nil {
			t.Fatal(err)
		}
		for grant, mint := range map[string]func() (*oauth2.Token, error){"client_credentials": func() (*oauth2.Token, error) { return cc.Token(ctx) },
			"jwt_profile": ts.Token} {
			tok, err := mint()
			if err != nil {
				t.Fatalf("%s, %s: %v", what, grant, err)
			}
			if left := time.Until(tok.Expiry); left > want || left < want-5*time.Second {
				t.Errorf("%s, %s: token expires in %s, want %s", what, grant, left.Round(time.Second), want)
			}
			// The token carries the instance project's audience: the API
			// takes it.
			resp, body := get(t, env.URL+"/auth/v1/users/me", "Authorization", "Bearer "+tok.AccessToken)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s, %s: the API refused the token: %d %s", what, grant, resp.StatusCode, body)
			}
		}
	}
	check("defaults", 12*time.Hour)
	env.MustDo(t, http.StatusOK, "POST", "/admin/v1/settings/oidc", map[string]string{"accessTokenLifetime": "60s",
		"idTokenLifetime": "120s", "refreshTokenIdleExpiration": "300s", "refreshTokenExpiration": "1000s"})
	check("set", time.Minute)
	env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/settings/oidc", map[string]string{"accessTokenLifetime": "90s",
		"idTokenLifetime": "120s", "refreshTokenIdleExpiration": "300s", "refreshTokenExpiration": "1000s"})
	check("changed", 90*time.Second)
}
