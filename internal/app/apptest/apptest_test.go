package apptest_test

import (
	"net/http"
	"testing"

	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestHelpers exercises every helper once, as other packages use them.
func TestHelpers(t *testing.T) {
	env := apptest.New(t)
	org := env.CreateOrg(t, "acme")
	owner, ownerPAT := env.CreateOrgOwner(t, org)
	human := env.CreateHuman(t, org, "alice")
	m := env.MustDoAs(t, ownerPAT, http.StatusOK, "GET", "/v2/users/"+human, nil)
	if m["user"] == nil {
		t.Fatalf("no user: %v", m)
	}
	_, pat := env.CreateMachineWithPAT(t, org)
	if st, body := env.DoAs(t, pat, "GET", "/management/v1/orgs/me", nil); st != http.StatusNotFound || apptest.ErrorID(body) != "AUTHZ-cdgFk" {
		t.Fatalf("no-membership user: %d %s", st, body)
	}
	env.Grant(t, owner, "", "IAM_OWNER_VIEWER")
	env.RemoveUser(t, owner)
	if st, body := env.DoAs(t, ownerPAT, "GET", "/management/v1/orgs/me", nil); st != http.StatusUnauthorized {
		t.Fatalf("removed user: %d %s", st, body)
	}
}
