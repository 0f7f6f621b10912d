// Package nodetest runs Node.js test files (interop/test, node --test)
// against a running idledger from go test: the files get the server's URL
// and the admin's token (IDLEDGER_URL, IDLEDGER_TOKEN; see
// interop/lib/server.mjs) and their output is logged.
//
// A test is skipped, with the reason, when node is not on PATH, when
// interop/node_modules is missing (cd interop && npm ci) or when
// IDLEDGER_NODE_INTEROP=0 (.ci/run sets it for its plain go test run,
// right after node --test drove the built binary with the same files).
//
// Imports: no package of the module.
package nodetest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Interop returns the absolute path of the repository's interop/
// directory, found from the working directory upwards, and skips t when
// the node tests cannot run (see the package comment).
func Interop(t *testing.T) string {
	t.Helper()
	if os.Getenv("IDLEDGER_NODE_INTEROP") == "0" {
		t.Skip("IDLEDGER_NODE_INTEROP=0: the node interop tests ran on their own (cd interop && node --test)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not on PATH; to run the npm clients against idledger install Node.js 20+, then: cd interop && npm ci")
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("nodetest: no go.mod above the working directory")
		}
		dir = parent
	}
	dir = filepath.Join(dir, "interop")
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		t.Skip("interop/node_modules is missing; install the npm clients with: cd interop && npm ci")
	}
	return dir
}

// Run runs node --test on files (paths under interop/, absolute or
// relative to it) against the server at url with the admin token token,
// and fails t with node's output when a test fails. The run is bounded by
// five minutes; the node process ends with it.
func Run(t *testing.T, url, token string, files ...string) {
	t.Helper()
	dir := Interop(t)
	if len(files) == 0 {
		t.Fatal("nodetest.Run: no test files")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"--test", "--test-reporter=spec"}, files...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "IDLEDGER_URL="+url, "IDLEDGER_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test %s: %v\n%s", strings.Join(files, " "), err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "# ") || strings.HasPrefix(line, "ℹ ") {
			t.Log(line)
		}
	}
}
