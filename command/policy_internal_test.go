package command

import (
	"context"
	"math"
	"testing"
	"time"

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
		{"default: empty idp", func() error {
			_, err := c.addIDPToPolicy(ctx, "inst", defaultPolicy, "", "", IDPOwnerSystem)
			return err
		}(), "INSTANCE-9nf88"},
		{"org: no owner", func() error { _, err := c.addIDPToPolicy(ctx, "inst", orgPolicy, "", "", IDPOwnerOrg); return err }(), "Org-M0fs9"},
		{"org: empty idp", func() error { _, err := c.addIDPToPolicy(ctx, "inst", orgPolicy, "org1", "", IDPOwnerOrg); return err }(), "Org-9nf88"},
	} {
		e, ok := errs.As(tc.err)
		if !ok || e.Kind != errs.KindInvalidArgument || e.ID != tc.id {
			t.Errorf("%s: %v, want InvalidArgument %s", tc.name, tc.err, tc.id)
		}
	}
}

// durationText writes what gateway.Duration's String wrote for the
// lifetimes before the command took time.Duration (protobuf JSON).
func TestDurationText(t *testing.T) {
	if got := durationText(nil); got != "" {
		t.Errorf("unset = %q", got)
	}
	for d, want := range map[time.Duration]string{
		0: "0s", time.Second: "1s", 864000 * time.Second: "864000s", 1500 * time.Millisecond: "1.500s",
		time.Nanosecond: "0.000000001s", 10 * time.Microsecond: "0.000010s", 1010 * time.Microsecond: "0.001010s",
		-250 * time.Millisecond: "-0.250s", -2 * time.Second: "-2s", math.MinInt64: "-9223372036.854775808s",
		math.MaxInt64: "9223372036.854775807s",
	} {
		if got := durationText(&d); got != want {
			t.Errorf("durationText(%d) = %q, want %q", int64(d), got, want)
		}
	}
}
