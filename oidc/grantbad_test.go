package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/client"

	"github.com/idledger/idledger/internal/app/apptest"
)

// grantEvents counts the database's events and unique constraints.
func grantEvents(t *testing.T, env *apptest.Env) [2]int64 {
	t.Helper()
	var n [2]int64
	if err := env.Pool.QueryRow(context.Background(),
		`SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM unique_constraints)`).Scan(&n[0], &n[1]); err != nil {
		t.Fatal(err)
	}
	return n
}

// rawToken posts body with contentType and the Authorization header auth
// ("" sends none) to the token endpoint, and returns the status and the
// decoded body (nil when it is not JSON).
func rawToken(t *testing.T, env *apptest.Env, contentType, body, auth string) (int, map[string]any, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, env.URL+"/oauth/v2/token", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m, resp.Header.Get("Content-Type")
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(user)+":"+url.QueryEscape(pass)))
}

// TestMachineGrantBadInput: bad requests of the client_credentials and
// JWT-profile grants get the RFC 6749 error (status and code), never a
// 500, and write nothing; scopes beyond the machine's own org are dropped.
func TestMachineGrantBadInput(t *testing.T) {
	env := apptest.New(t)
	userID, secret := machine(t, env, "svc", true)
	keyFile := machineKey(t, env, userID)
	//lint:ignore SA1019 the library's key-file support is what service accounts use today
	kf, err := client.ConfigFromKeyFileData(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := client.NewSignerFromPrivateKeyByte([]byte(kf.Key), kf.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	forgedKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	forger, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: forgedKey},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kf.KeyID))
	if err != nil {
		t.Fatal(err)
	}
	claims := func(sub string, iat, exp time.Time) jwt.Claims {
		return jwt.Claims{Issuer: sub, Subject: sub, Audience: []string{env.URL}, IssuedAt: jwt.NewNumericDate(iat), Expiry: jwt.NewNumericDate(exp)}
	}
	sign := func(s jose.Signer, c any) string {
		out, err := jwt.Signed(s).Claims(c).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	now := time.Now()
	good := sign(signer, claims(userID, now, now.Add(time.Hour)))
	parts := strings.Split(good, ".")
	otherSub, _ := json.Marshal(claims(env.AdminUserID, now, now.Add(time.Hour)))
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(otherSub) + "." + parts[2]
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"`+kf.KeyID+`"}`)) + "." + parts[1] + "."
	huge := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"`+strings.Repeat("x", 200_000)+`"}`)) + "." + parts[2]

	const form = "application/x-www-form-urlencoded"
	jwtForm := func(assertion string) string {
		return url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}, "scope": {"openid"}}.Encode()
	}
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}.Encode()
	for _, tc := range []struct {
		name, contentType, body, auth string
		status                        int
		code                          string
	}{
		{"cc: basic not base64", form, cc, "Basic !!!", 401, "invalid_client"},
		{"cc: basic without colon", form, cc, "Basic " + base64.StdEncoding.EncodeToString([]byte("svc")), 401, "invalid_client"},
		{"cc: basic bad escape", form, cc, "Basic " + base64.StdEncoding.EncodeToString([]byte("svc%zz:"+secret)), 401, "invalid_client"},
		{"cc: unknown client", form, cc, basic("nobody", secret), 401, "invalid_client"},
		{"cc: JSON body", "application/json", `{"grant_type":"client_credentials"}`, basic("svc", secret), 400, "invalid_request"},
		{"cc: bad form escape", form, "grant_type=client_credentials&scope=%zz", basic("svc", secret), 400, "invalid_request"},
		{"cc: oversized form", form, cc + "&scope=" + strings.Repeat("a", 2<<20), basic("svc", secret), 400, "invalid_request"},
		{"cc: no content type", "", cc, basic("svc", secret), 400, "invalid_request"},
		{"jwt: expired", form, jwtForm(sign(signer, claims(userID, now.Add(-2*time.Hour), now.Add(-time.Hour)))), "", 400, "invalid_grant"},
		{"jwt: issued in the future", form, jwtForm(sign(signer, claims(userID, now.Add(time.Hour), now.Add(2*time.Hour)))), "", 400, "invalid_grant"},
		{"jwt: forged signature", form, jwtForm(sign(forger, claims(userID, now, now.Add(time.Hour)))), "", 400, "invalid_grant"},
		{"jwt: tampered subject", form, jwtForm(tampered), "", 401, "invalid_client"},
		{"jwt: alg none", form, jwtForm(none), "", 400, "invalid_grant"},
		{"jwt: unknown subject", form, jwtForm(sign(signer, claims("404404", now, now.Add(time.Hour)))), "", 401, "invalid_client"},
		{"jwt: unknown key", form, jwtForm(sign(mustSigner(t, forgedKey, "nokey"), claims(userID, now, now.Add(time.Hour)))), "", 401, "invalid_client"},
		{"jwt: oversized JWT", form, jwtForm(huge), "", 400, "invalid_grant"},
		{"jwt: no assertion", form, jwtForm(""), "", 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := grantEvents(t, env)
			st, m, ct := rawToken(t, env, tc.contentType, tc.body, tc.auth)
			if st != tc.status || m["error"] != tc.code || !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%d %v (%s), want %d %s", st, m, ct, tc.status, tc.code)
			}
			if st == http.StatusUnauthorized && tc.auth != "" && m["error"] != "invalid_client" {
				t.Errorf("a 401 without invalid_client: %v", m)
			}
			if after := grantEvents(t, env); after != before {
				t.Errorf("wrote: %v -> %v", before, after)
			}
		})
	}

	// Scope escalation: an org scope of another org is dropped, on both
	// grants (ZITADEL's checkOrgScopes for JWT profile; its
	// client_credentials leaves that sanitation as a TODO, idledger applies
	// it there too). (A project audience scope is taken
	// as sent, as ZITADEL's AddAudScopeToAudience does: an unknown
	// project's ID in the audience opens nothing.)
	other := env.CreateOrg(t, "other")
	p := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects", map[string]any{"name": "api"})
	api := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+p["id"].(string)+"/apps/api", map[string]any{"name": "api"})
	scope := "openid urn:zitadel:iam:org:project:id:" + p["id"].(string) + ":aud urn:zitadel:iam:org:id:" + other +
		" urn:zitadel:iam:org:id:" + env.DefaultOrgID
	for name, f := range map[string]string{
		"client_credentials": url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}.Encode(),
		"jwt profile": url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "scope": {scope},
			"assertion": {sign(signer, claims(userID, time.Now(), time.Now().Add(time.Hour)))}}.Encode(),
	} {
		auth := ""
		if name == "client_credentials" {
			auth = basic("svc", secret)
		}
		st, m, _ := rawToken(t, env, form, f, auth)
		if st != http.StatusOK {
			t.Fatalf("%s: %d %v", name, st, m)
		}
		if sc, _ := m["scope"].(string); strings.Contains(sc, other) || !strings.Contains(sc, env.DefaultOrgID) {
			t.Errorf("%s: granted scope %q", name, sc)
		}
		_, in := tokenPost(t, env, "/oauth/v2/introspect", url.Values{"token": {m["access_token"].(string)}},
			api["clientId"].(string), api["clientSecret"].(string))
		if sc, _ := in["scope"].(string); in["active"] != true || strings.Contains(sc, other) {
			t.Errorf("%s: introspection %v", name, in)
		}
	}
}

func mustSigner(t *testing.T, key *rsa.PrivateKey, kid string) jose.Signer {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
