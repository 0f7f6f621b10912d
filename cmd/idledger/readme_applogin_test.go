package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idledger/idledger/internal/pgembed"
	"github.com/idledger/idledger/internal/pgtest"
)

var (
	reAppCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	reAppLink = regexp.MustCompile(`<a class="button" href="([^"]+)"`)
)

// TestREADMEAppLogin runs README's "Sign in to an app through an IdP" as
// written (but for DATA and the server's URL) against a real serve: the
// first block registers the app, the IdP and bob and prints the authorize
// URL; the test's browser (an HTTP client with cookies) opens it, sees the
// IdP's button on the hosted login, signs in as bob and stops at the
// app's redirect URI with a code and the state; the second block trades
// the code for the tokens.
func TestREADMEAppLogin(t *testing.T) {
	t.Parallel()
	readme := readREADME(t, "bash", "curl", "jq", "openssl")
	loginBlock, codeBlock := readmeBlock(t, readme, "applogin"), readmeBlock(t, readme, "appcode")

	root := traversableTempDir(t)
	dataDir, workDir := filepath.Join(root, "data"), filepath.Join(root, "work")
	if err := os.Mkdir(workDir, 0o755); err != nil {
		t.Fatal(err)
	}
	env := childEnv("IDLEDGER_LOG_FORMAT=json")
	if os.Getenv("IDLEDGER_TEST_DATABASE_URL") != "" {
		env = append(env, "IDLEDGER_DATABASE_URL="+pgtest.URL(t))
	} else if _, err := pgembed.FindBinaries(); err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { stopLeftoverPostmaster(t, dataDir) })
	p := startShell(t, workDir, append(env, "IDLEDGER_LISTEN=127.0.0.1:0"),
		"exec "+shellQuote(binPath)+" serve --data-dir "+shellQuote(dataDir))
	base, _ := p.waitHealthy(t, 90*time.Second)

	run := func(name, script string) string {
		t.Helper()
		if n := len(dataLine.FindAllString(script, -1)); name == "applogin" && n != 1 {
			t.Fatalf("README %s block sets DATA %d times, want once", name, n)
		}
		script = dataLine.ReplaceAllLiteralString(script, "DATA="+shellQuote(dataDir))
		script = strings.ReplaceAll(script, "http://localhost:8080", base)
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir, cmd.Env = workDir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("README %s block failed: %v\n%s", name, err, out)
		}
		return string(out)
	}
	// The first block, and the variables the second one uses.
	out := run("applogin", loginBlock+`echo "VARS $CLIENT_ID $REDIRECT $VERIFIER"`+"\n")
	var authorize, clientID, redirect, verifier string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, base+"/oauth/v2/authorize?") {
			authorize = line
		}
		if f := strings.Fields(line); len(f) == 4 && f[0] == "VARS" {
			clientID, redirect, verifier = f[1], f[2], f[3]
		}
	}
	if authorize == "" || clientID == "" || clientID == "null" {
		t.Fatalf("the block printed no authorize URL:\n%s", out)
	}

	// The browser: the hosted login with the IdP's button, then bob.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(r.URL.String(), base) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	page := func(res *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", res.Request.URL, res.StatusCode, body)
		}
		return string(body)
	}
	csrf := func(body string) string {
		m := reAppCSRF.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no form: %s", body)
		}
		return m[1]
	}
	login := page(c.Get(authorize))
	if !strings.Contains(login, ">My OIDC provider</button>") || !strings.Contains(login, `id="loginName"`) {
		t.Fatalf("the hosted login lacks the IdP's button or the login name:\n%s", login)
	}
	pwPage := page(c.PostForm(base+"/ui/v2/login/login", url.Values{"csrf": {csrf(login)}, "loginName": {"bob"}}))
	done := page(c.PostForm(base+"/ui/v2/login/password", url.Values{"csrf": {csrf(pwPage)}, "password": {"Secr3t!pass"}}))
	m := reAppLink.FindStringSubmatch(done)
	if m == nil {
		t.Fatalf("no way back to the app:\n%s", done)
	}
	cb, err := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
	if err != nil || !strings.HasPrefix(cb.String(), redirect+"?") || cb.Query().Get("state") != "demo" || cb.Query().Get("code") == "" {
		t.Fatalf("callback %q", m[1])
	}

	// The second block with the code pasted in.
	if !strings.Contains(codeBlock, "CODE=paste-the-code-here") {
		t.Fatal("the README appcode block has no CODE=paste-the-code-here")
	}
	code := strings.Replace(codeBlock, "CODE=paste-the-code-here", "CODE="+shellQuote(cb.Query().Get("code")), 1)
	vars := "BASE=" + shellQuote(base) + "\nCLIENT_ID=" + shellQuote(clientID) + "\nREDIRECT=" + shellQuote(redirect) +
		"\nVERIFIER=" + shellQuote(verifier) + "\n"
	tokens := run("appcode", vars+code)
	for _, want := range []string{`"id_token"`, `"access_token"`, `"token_type": "Bearer"`} {
		if !strings.Contains(tokens, want) {
			t.Errorf("token answer lacks %s:\n%s", want, tokens)
		}
	}
	if code := p.signalAndWait(t, syscall.SIGTERM, 15*time.Second); code != 0 {
		t.Errorf("serve exit %d", code)
	}
}
