package oidc_test

import (
	"testing"

	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/nodetest"
)

// TestOpenIDClient runs interop/test/openid-client.test.mjs: panva's
// openid-client as a relying party against this package's app (discovery,
// the code flow with PKCE through the login API, every client
// authentication method, refresh rotation, the machine grants,
// introspection, revocation, userinfo, end session and the refusals).
//
// It needs node on PATH and interop/node_modules (cd interop && npm ci);
// IDLEDGER_NODE_INTEROP=0 skips it (internal/nodetest).
func TestOpenIDClient(t *testing.T) {
	nodetest.Interop(t)
	env := apptest.New(t)
	nodetest.Run(t, env.URL, env.AdminPAT, "test/openid-client.test.mjs")
}
