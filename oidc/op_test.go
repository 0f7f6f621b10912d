package oidc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// clock is a settable clock for the commands.
type clock struct {
	mu sync.Mutex
	d  time.Duration
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.d) }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.d += d; c.mu.Unlock() }

func get(t *testing.T, url string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestDiscoveryAndKeys(t *testing.T) {
	clk := &clock{}
	env := apptest.NewWith(t, app.Options{Now: clk.Now})
	resp, body := get(t, env.URL+"/.well-known/openid-configuration")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %d %s", resp.StatusCode, body)
	}
	var d map[string]any
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	if d["issuer"] != env.URL {
		t.Fatalf("issuer %v, want %s", d["issuer"], env.URL)
	}
	for k, want := range map[string]string{
		"authorization_endpoint": "/oauth/v2/authorize", "token_endpoint": "/oauth/v2/token",
		"introspection_endpoint": "/oauth/v2/introspect", "revocation_endpoint": "/oauth/v2/revoke",
		"jwks_uri": "/oauth/v2/keys", "userinfo_endpoint": "/oidc/v1/userinfo", "end_session_endpoint": "/oidc/v1/end_session",
	} {
		if d[k] != env.URL+want {
			t.Errorf("%s = %v, want %s", k, d[k], env.URL+want)
		}
	}
	if !strings.Contains(string(body), `"S256"`) || !strings.Contains(string(body), `"client_credentials"`) ||
		!strings.Contains(string(body), "urn:ietf:params:oauth:grant-type:jwt-bearer") {
		t.Errorf("discovery lacks S256, client_credentials or jwt-bearer: %s", body)
	}
	// Another host of the same instance is another issuer; an unknown host is 404.
	_, body = get(t, env.URL+"/.well-known/openid-configuration", "Host", "localhost")
	if !strings.Contains(string(body), `"issuer":"http://localhost"`) {
		t.Errorf("issuer for Host localhost: %s", body)
	}
	if resp, _ := get(t, env.URL+"/.well-known/openid-configuration", "Host", "nowhere.example"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown host: %d", resp.StatusCode)
	}

	keys := func() *jose.JSONWebKeySet {
		resp, body := get(t, env.URL+"/oauth/v2/keys")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("keys: %d %s", resp.StatusCode, body)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "max-age=300, must-revalidate" {
			t.Errorf("Cache-Control %q", cc)
		}
		var ks jose.JSONWebKeySet
		if err := json.Unmarshal(body, &ks); err != nil {
			t.Fatalf("jwks: %v", err)
		}
		return &ks
	}
	ks := keys()
	if len(ks.Keys) != 2 {
		t.Fatalf("want the active and the next key, got %d", len(ks.Keys))
	}
	// A token signed before a rotation verifies after it.
	ctx := context.Background()
	sk, err := env.App.Commands().SigningKey(ctx, env.InstanceID)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: sk.Key}, (&jose.SignerOptions{}).WithHeader("kid", sk.ID))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: env.URL, Subject: "u"}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(6 * time.Minute)
	if _, err := env.App.Commands().RotateSigningKey(ctx, env.InstanceID); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	ks = keys()
	found := ks.Key(sk.ID)
	if len(found) != 1 {
		t.Fatalf("retired key %s not published after rotation", sk.ID)
	}
	var c jwt.Claims
	if err := tok.Claims(found[0].Key, &c); err != nil || c.Subject != "u" {
		t.Fatalf("verify after rotation: %v", err)
	}
}
