package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idledger/idledger/internal/pgtest"
)

// TestREADMEQuickstart runs the README's API quickstart block, exactly as
// written except for where the server, its token and the binary are,
// against a live `serve`, so the README cannot drift from the code.
func TestREADMEQuickstart(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed for the README quickstart (.ci/run installs it)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "<!-- quickstart:begin -->\n```sh\n")
	block, _, ok2 := strings.Cut(block, "```\n<!-- quickstart:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no quickstart block between the markers")
	}

	dbURL := pgtest.URL(t)
	dataDir := t.TempDir()
	p := startIdledger(t, "serve", "--database-url", dbURL, "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "json")
	base, _ := p.waitHealthy(t, 15*time.Second)
	script := strings.NewReplacer(
		"http://localhost:8080", base,
		"idledger-data/admin.pat", filepath.Join(dataDir, "admin.pat"),
		"go run ./cmd/idledger", binPath,
	).Replace(block)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Env = childEnv("IDLEDGER_DATABASE_URL="+dbURL, "IDLEDGER_LOG_FORMAT=json")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("quickstart failed: %v\n%s", err, out)
	}
	for _, want := range []string{`"type":"IDP_TYPE_GOOGLE"`, "user.human.externalidp.added", "login_policy.idp.added", "[encrypted]"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("quickstart output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "my-google-client-secret") {
		t.Error("the client secret appears in the quickstart output")
	}
	if code := p.signalAndWait(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Errorf("serve exit %d", code)
	}
}
