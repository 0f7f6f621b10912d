package main

import (
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

// readmeBlock returns the sh block of README.md between the markers
// <!-- name:begin --> and <!-- name:end -->.
// readREADME returns README.md for a test that runs its commands with
// tools: it skips without them, and fails without them in CI (.ci/run
// installs them).
func readREADME(t *testing.T, tools ...string) string {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed to run README's commands (.ci/run installs it)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readmeBlock(t *testing.T, readme, name string) string {
	t.Helper()
	_, block, ok := strings.Cut(readme, "<!-- "+name+":begin -->\n```sh\n")
	block, _, ok2 := strings.Cut(block, "```\n<!-- "+name+":end -->")
	if !ok || !ok2 {
		t.Fatalf("README.md has no %s block between the markers", name)
	}
	return block
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

var (
	dataLine    = regexp.MustCompile(`(?m)^DATA=\S*`)
	idledgerCmd = regexp.MustCompile(`(?m)^\./idledger .*$`)
)

// withDataDir checks that block sets DATA once and that each of its
// idledger commands takes --data-dir "$DATA", then points DATA at dir and
// the commands at the binary the tests built.
func withDataDir(t *testing.T, name, block, dir string) string {
	t.Helper()
	if n := len(dataLine.FindAllString(block, -1)); n != 1 {
		t.Fatalf("README %s block sets DATA %d times, want once", name, n)
	}
	cmds := idledgerCmd.FindAllString(block, -1)
	if len(cmds) == 0 {
		t.Fatalf("README %s block runs no ./idledger command", name)
	}
	for _, c := range cmds {
		if !strings.Contains(c, ` --data-dir "$DATA"`) {
			t.Errorf("README %s block: %q does not take --data-dir \"$DATA\"", name, c)
		}
	}
	if strings.Contains(dataLine.ReplaceAllString(block, ""), "idledger-data") {
		t.Errorf("README %s block names idledger-data other than in DATA=", name)
	}
	block = dataLine.ReplaceAllLiteralString(block, "DATA="+shellQuote(dir))
	return idledgerCmd.ReplaceAllStringFunc(block, func(c string) string {
		return shellQuote(binPath) + strings.TrimPrefix(c, "./idledger")
	})
}

// startShell runs script with bash in dir, like startIdledger: killed (by
// PID) when the test ends. A script that ends in `exec idledger …` is that
// idledger process then.
func startShell(t *testing.T, dir string, env []string, script string) *proc {
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	return startProc(t, cmd, "script:\n"+script)
}

// TestREADMEQuickstart follows the README as a newcomer would, with a data
// dir other than the default: the build-and-serve
// block starts `serve` on the embedded PostgreSQL in that dir, and the API
// quickstart block then runs exactly as written, but for DATA, the server's
// URL and the binary's path, against it. Both run from a directory of their
// own, so nothing can come from ./idledger-data by accident.
func TestREADMEQuickstart(t *testing.T) {
	t.Parallel()
	readme := readREADME(t, "bash", "curl", "jq")
	serveBlock, apiBlock := readmeBlock(t, readme, "serve"), readmeBlock(t, readme, "quickstart")
	if !strings.Contains(serveBlock, "go build -o idledger ./cmd/idledger") {
		t.Fatal("the README serve block does not say how to build the binary")
	}

	root := traversableTempDir(t) // the embedded cluster may run as postgres
	// Not "my data": pgembed's connection URL breaks on a space in the
	// data dir (its socket directory's query parameter encodes it as "+").
	dataDir, workDir := filepath.Join(root, "my-data"), filepath.Join(root, "work")
	if err := os.Mkdir(workDir, 0o755); err != nil {
		t.Fatal(err)
	}
	env := childEnv("IDLEDGER_LOG_FORMAT=json")
	if os.Getenv("IDLEDGER_TEST_DATABASE_URL") != "" {
		// No local server binaries need be there: use the test server, and
		// the data dir still holds the key and the token.
		env = append(env, "IDLEDGER_DATABASE_URL="+pgtest.URL(t))
	} else if _, err := pgembed.FindBinaries(); err != nil {
		t.Skip(err)
	}
	// Registered before serve starts, so it runs after serve is stopped.
	t.Cleanup(func() { stopLeftoverPostmaster(t, dataDir) })

	// TestMain built the binary from this package, as the block's go build does.
	serveScript := strings.Replace(withDataDir(t, "serve", serveBlock, dataDir), shellQuote(binPath)+" serve", "exec "+shellQuote(binPath)+" serve", 1)
	serveScript = regexp.MustCompile(`(?m)^go build .*$`).ReplaceAllString(serveScript, "")
	p := startShell(t, workDir, append(env, "IDLEDGER_LISTEN=127.0.0.1:0"), serveScript)
	base, took := p.waitHealthy(t, 90*time.Second)
	t.Logf("serve healthy after %v", took.Round(time.Millisecond))
	if _, err := os.Stat(filepath.Join(dataDir, "admin.pat")); err != nil {
		t.Fatalf("serve wrote no admin token into the data dir: %v", err)
	}

	script := strings.ReplaceAll(withDataDir(t, "quickstart", apiBlock, dataDir), "http://localhost:8080", base)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = workDir, env
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
	if _, err := os.Stat(filepath.Join(workDir, "idledger-data")); err == nil {
		t.Error("a command used the default data dir ./idledger-data")
	}
	if code := p.signalAndWait(t, syscall.SIGTERM, 15*time.Second); code != 0 {
		t.Errorf("serve exit %d", code)
	}
}
