package rpc_test

import (
	"path/filepath"
	"testing"

	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/nodetest"
)

// TestZITADELClients runs the Node interop tests of ZITADEL's own npm
// clients (interop/test/clients.test.mjs, node --test) against this
// package's app: @zitadel/client over gRPC and gRPC-Web, connect-es over
// Connect JSON and binary, @zitadel/node over grpc-js call the served
// methods on a real listener with h2c. The wire check's own test and the
// openid-client suite (oidc.TestOpenIDClient) run elsewhere.
//
// It needs node on PATH and interop/node_modules (cd interop && npm ci);
// IDLEDGER_NODE_INTEROP=0 skips it (internal/nodetest).
func TestZITADELClients(t *testing.T) {
	dir := nodetest.Interop(t)
	env := apptest.New(t)
	nodetest.Run(t, env.URL, env.AdminPAT, filepath.Join(dir, "test", "clients.test.mjs"))
}
