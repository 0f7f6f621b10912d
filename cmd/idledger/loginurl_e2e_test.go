package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idledger/idledger/internal/pgtest"
)

// TestServeLoginURL: IDLEDGER_LOGIN_URL (the variable of --login-url)
// reaches the OpenID Provider of `serve`: /oauth/v2/authorize sends the
// browser of an app that names no login UI to
// <login-url>/login?authRequest=V2_<id>, and an app's own
// loginVersion.loginV2.baseUri still wins.
func TestServeLoginURL(t *testing.T) {
	t.Parallel()
	const loginURL = "https://login.example.com/ui/v2/login"
	dbURL := pgtest.URL(t)
	dataDir := t.TempDir()
	p := startIdledgerEnv(t, []string{"IDLEDGER_LOGIN_URL=" + loginURL},
		"serve", "--database-url", dbURL, "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "json")
	base, _ := p.waitHealthy(t, startTimeout)
	pat, err := os.ReadFile(filepath.Join(dataDir, "admin.pat"))
	if err != nil {
		t.Fatalf("admin PAT file: %v", err)
	}
	token := strings.TrimSpace(string(pat))
	post := func(path, body string) map[string]any {
		t.Helper()
		status, raw := call(t, "POST", base+path, token, "", body)
		var out map[string]any
		if status != http.StatusOK || json.Unmarshal(raw, &out) != nil {
			t.Fatalf("POST %s: %d %s", path, status, raw)
		}
		return out
	}
	project := post("/management/v1/projects", `{"name":"shop"}`)["id"].(string)
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	location := func(app string) string {
		t.Helper()
		clientID := post("/management/v1/projects/"+project+"/apps/oidc", app)["clientId"].(string)
		q := url.Values{"client_id": {clientID}, "redirect_uri": {"https://app.example/cb"}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"s"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
			"code_challenge_method": {"S256"}}
		resp, err := noRedirect.Get(base + "/oauth/v2/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("authorize: %d", resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	loc := location(`{"name":"web","redirectUris":["https://app.example/cb"]}`)
	if id := strings.TrimPrefix(loc, loginURL+"/login?authRequest="); id == loc || !strings.HasPrefix(id, "V2_") {
		t.Errorf("an app without a login UI: Location %q, want %s/login?authRequest=V2_…", loc, loginURL)
	}
	loc = location(`{"name":"own","redirectUris":["https://app.example/cb"],"loginVersion":{"loginV2":{"baseUri":"https://own.example.com/auth"}}}`)
	if id := strings.TrimPrefix(loc, "https://own.example.com/auth/login?authRequest="); id == loc || !strings.HasPrefix(id, "V2_") {
		t.Errorf("an app with a base URI: Location %q, want https://own.example.com/auth/login?authRequest=V2_…", loc)
	}
	if code := p.signalAndWait(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	if logs := p.stdout.String() + p.stderr.String(); !strings.Contains(logs, "login-url="+loginURL) {
		t.Errorf("the start log does not show login-url=%s", loginURL)
	}
}

// TestServeLoginURLInvalid: a --login-url that is not an absolute http(s)
// URL stops serve before it starts, with exit code 2, naming the flag and
// its variable.
func TestServeLoginURLInvalid(t *testing.T) {
	for _, bad := range []string{"/ui/v2/login", "login.example.com", "ftp://login.example.com", "https://login.example.com/?x=1"} {
		code, out, errOut := runIdledger(t, "serve", "--login-url", bad)
		if code != exitUsage || !strings.Contains(errOut, "--login-url / IDLEDGER_LOGIN_URL") {
			t.Errorf("serve --login-url %q: exit %d\nstdout: %s\nstderr: %s", bad, code, out, errOut)
		}
	}
}
