package rpc_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestZITADELClients runs the Node interop tests (interop/test, node
// --test) against this package's app: ZITADEL's own npm clients
// (@zitadel/client over gRPC and gRPC-Web, connect-es over Connect JSON and
// binary, @zitadel/node over grpc-js) call the served methods on a real
// listener with h2c. The wire check's own test (wirecheck.test.mjs) needs
// no server and is left to .ci/run's node --test step.
//
// It needs node on PATH and interop/node_modules (cd interop && npm ci).
// IDLEDGER_NODE_INTEROP=0 skips it: .ci/run sets it for its plain go test
// run, right after node --test drove the built binary with the same tests.
func TestZITADELClients(t *testing.T) {
	if os.Getenv("IDLEDGER_NODE_INTEROP") == "0" {
		t.Skip("IDLEDGER_NODE_INTEROP=0: the node interop tests ran on their own (cd interop && node --test)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH; to run ZITADEL's npm clients against idledger install Node.js 20+, then: cd interop && npm ci")
	}
	dir, err := filepath.Abs(filepath.Join("..", "interop"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		t.Skip("interop/node_modules is missing; install ZITADEL's npm clients with: cd interop && npm ci")
	}
	files, err := filepath.Glob(filepath.Join(dir, "test", "*.test.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool { return filepath.Base(f) == "wirecheck.test.mjs" })
	if len(files) == 0 {
		t.Fatal("no interop/test/*.test.mjs besides the wire check's")
	}

	env := apptest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"--test", "--test-reporter=spec"}, files...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "IDLEDGER_URL="+env.URL, "IDLEDGER_TOKEN="+env.AdminPAT)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test %s: %v\n%s", strings.Join(files, " "), err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "# ") {
			t.Log(line)
		}
	}
}
