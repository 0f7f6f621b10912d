package api_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idledger/idledger/internal/app/apptest"
)

// checkMachineSecret runs the OP's client_credentials check, waiting
// briefly for the users table to list a new machine.
func checkMachineSecret(t *testing.T, env *apptest.Env, clientID, secret string) (string, error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		id, err := env.App.Commands().CheckMachineSecret(context.Background(), env.InstanceID, clientID, secret)
		if err == nil || time.Now().After(deadline) {
			return id, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func errorID(t *testing.T, raw []byte) string {
	t.Helper()
	var m struct {
		Details []struct {
			ID string `json:"id"`
		} `json:"details"`
	}
	_ = json.Unmarshal(raw, &m)
	if len(m.Details) == 0 {
		return ""
	}
	return m.Details[0].ID
}

// TestMachineCredentialsAPI: secrets and keys of machine users through the
// management routes, and the lookups the OP uses on them.
func TestMachineCredentialsAPI(t *testing.T) {
	env := apptest.New(t)
	org := env.DefaultOrgID
	other := env.CreateOrg(t, "other")
	hdr := []string{"x-zitadel-orgid", org}
	m := env.MustDo(t, 200, "POST", "/management/v1/users/machine", map[string]any{"userName": "svc", "name": "S"}, hdr...)
	svc := m["userId"].(string)
	base := "/management/v1/users/" + svc

	// secret: generate, check, regenerate, remove
	s := env.MustDo(t, 200, "PUT", base+"/secret", map[string]any{}, hdr...)
	secret, _ := s["clientSecret"].(string)
	if s["clientId"] != "svc" || len(secret) != 64 || s["details"] == nil {
		t.Fatalf("generate = %v", s)
	}
	if id, err := checkMachineSecret(t, env, "svc", secret); err != nil || id != svc {
		t.Fatalf("check = %q, %v", id, err)
	}
	s2 := env.MustDo(t, 200, "PUT", base+"/secret", map[string]any{}, hdr...)
	if _, err := env.App.Commands().CheckMachineSecret(context.Background(), env.InstanceID, "svc", secret); err == nil {
		t.Fatal("the old secret still works")
	}
	if _, err := checkMachineSecret(t, env, "svc", s2["clientSecret"].(string)); err != nil {
		t.Fatal(err)
	}
	env.MustDo(t, 200, "DELETE", base+"/secret", nil, hdr...)
	if _, err := env.App.Commands().CheckMachineSecret(context.Background(), env.InstanceID, "svc", s2["clientSecret"].(string)); err == nil {
		t.Fatal("a removed secret still works")
	}
	if st, raw := env.Do(t, "DELETE", base+"/secret", nil, hdr...); st != 400 || errorID(t, raw) != "COMMAND-coi82n" {
		t.Fatalf("remove twice: %d %s", st, raw)
	}

	// key: generated, the key file signs an assertion the stored key verifies
	k := env.MustDo(t, 200, "POST", base+"/keys", map[string]any{"type": "KEY_TYPE_JSON"}, hdr...)
	keyID := k["keyId"].(string)
	raw, err := base64.StdEncoding.DecodeString(k["keyDetails"].(string))
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]string
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if file["type"] != "serviceaccount" || file["keyId"] != keyID || file["userId"] != svc || file["expirationDate"] != "9999-12-31T23:59:59Z" {
		t.Fatalf("key file = %s", raw)
	}
	block, _ := pem.Decode([]byte(file["key"]))
	priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: priv}, (&jose.SignerOptions{}).WithHeader("kid", keyID))
	if err != nil {
		t.Fatal(err)
	}
	assertion, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: svc, Subject: svc, Audience: jwt.Audience{env.URL},
		IssuedAt: jwt.NewNumericDate(time.Now())}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	mk, err := env.App.Commands().MachineKeyByID(context.Background(), env.InstanceID, parsed.Headers[0].KeyID, svc)
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.Claims
	if err := parsed.Claims(mk.PublicKey, &claims); err != nil || claims.Subject != svc {
		t.Fatalf("verify: %v", err)
	}

	// key: caller-supplied public key, with an expiry; no key file
	pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	exp := time.Now().Add(2 * time.Second).UTC()
	k2 := env.MustDo(t, 200, "POST", base+"/keys", map[string]any{"type": "KEY_TYPE_JSON",
		"expirationDate": exp.Format(time.RFC3339Nano), "publicKey": base64.StdEncoding.EncodeToString(pubPEM)}, hdr...)
	if _, ok := k2["keyDetails"]; ok {
		t.Fatalf("supplied key answered a key file: %v", k2)
	}
	key2 := k2["keyId"].(string)
	if _, err := env.App.Commands().MachineKeyByID(context.Background(), env.InstanceID, key2, svc); err != nil {
		t.Fatal(err)
	}

	// list: both, no key material
	st, body := env.Do(t, "POST", base+"/keys/_search", map[string]any{}, hdr...)
	if st != 200 || strings.Contains(string(body), "PUBLIC KEY") || !strings.Contains(string(body), `"totalResult":"2"`) ||
		!strings.Contains(string(body), `"type":"KEY_TYPE_JSON"`) || !strings.Contains(string(body), keyID) {
		t.Fatalf("list: %d %s", st, body)
	}

	// bad input: a clear 400, never a 500
	for _, b := range []string{`{"type":"KEY_TYPE_JSON","publicKey":"bm90IGEga2V5"}`, `{"type":"KEY_TYPE_JSON","publicKey":"%%%"}`,
		`{"type":"KEY_TYPE_JSON","expirationDate":"2001-01-01T00:00:00Z"}`, `{}`, `{"type":"KEY_TYPE_NOPE"}`, `{"type":`} {
		if st, raw := env.Do(t, "POST", base+"/keys", b, hdr...); st != 400 {
			t.Errorf("%s: %d %s", b, st, raw)
		}
	}

	// remove; the expired key is refused by the lookup
	env.MustDo(t, 200, "DELETE", base+"/keys/"+keyID, nil, hdr...)
	if _, err := env.App.Commands().MachineKeyByID(context.Background(), env.InstanceID, keyID, svc); err == nil {
		t.Fatal("removed key still found")
	}
	if st, raw := env.Do(t, "DELETE", base+"/keys/"+keyID, nil, hdr...); st != 404 || errorID(t, raw) != "COMMAND-4m77G" {
		t.Fatalf("remove twice: %d %s", st, raw)
	}
	time.Sleep(time.Until(exp.Add(100 * time.Millisecond)))
	if _, err := env.App.Commands().MachineKeyByID(context.Background(), env.InstanceID, key2, svc); err == nil {
		t.Fatal("expired key still found")
	}

	// refusals: a human, another org, a user manager for an owner
	human := env.CreateHuman(t, org, "hu")
	for _, c := range []struct{ method, path, id string }{
		{"PUT", "/management/v1/users/" + human + "/secret", "COMMAND-x8910n"},
		{"POST", "/management/v1/users/" + human + "/keys", "COMMAND-Dggw3"},
	} {
		if st, raw := env.Do(t, c.method, c.path, map[string]any{"type": "KEY_TYPE_JSON"}, hdr...); st != 400 || errorID(t, raw) != c.id {
			t.Errorf("%s %s: %d %s", c.method, c.path, st, raw)
		}
	}
	if st, raw := env.Do(t, "PUT", base+"/secret", map[string]any{}, "x-zitadel-orgid", other); st != 404 || errorID(t, raw) != "COMMAND-Dggw2" {
		t.Errorf("other org: %d %s", st, raw)
	}
	ownerID, _ := env.CreateOrgOwner(t, org)
	mgrID, mgr := env.CreateMachineWithPAT(t, org)
	env.Grant(t, mgrID, org, "ORG_USER_MANAGER")
	for _, c := range []struct{ method, path string }{
		{"PUT", "/secret"}, {"POST", "/keys"},
	} {
		path := "/management/v1/users/" + ownerID + c.path
		if st, raw := env.DoAs(t, mgr, c.method, path, map[string]any{"type": "KEY_TYPE_JSON"}); st != http.StatusForbidden || errorID(t, raw) != "AUTHZ-Cov01" {
			t.Errorf("manager %s %s: %d %s", c.method, path, st, raw)
		}
	}
	// the manager may for a machine without roles
	env.MustDoAs(t, mgr, 200, "PUT", base+"/secret", map[string]any{})
}
