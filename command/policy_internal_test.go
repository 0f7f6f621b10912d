package command

import (
	"context"
	"testing"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
)

// The checks below are unreachable through the API, whose request
// validation runs first, but they are the command's own contract.
func TestPolicyCommandGuards(t *testing.T) {
	c := New(Deps{Store: eventstore.NewMemory()})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		err  error
		id   string
	}{
		{"default: empty idp", func() error { _, err := c.addIDPToDefault(ctx, "inst", ""); return err }(), "INSTANCE-9nf88"},
		{"org: no owner", func() error { _, err := c.addIDPToOrgPolicy(ctx, "inst", "", "", "org"); return err }(), "Org-M0fs9"},
		{"org: empty idp", func() error { _, err := c.addIDPToOrgPolicy(ctx, "inst", "org1", "", "org"); return err }(), "Org-9nf88"},
	} {
		e, ok := errs.As(tc.err)
		if !ok || e.Kind != errs.KindInvalidArgument || e.ID != tc.id {
			t.Errorf("%s: %v, want InvalidArgument %s", tc.name, tc.err, tc.id)
		}
	}
}
