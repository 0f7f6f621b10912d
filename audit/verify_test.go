package audit_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/idledger/idledger/audit"
)

// tamper runs sql with the append-only trigger bypassed, as an attacker with
// database access could.
func (h *history) tamper(t *testing.T, sqls ...string) {
	t.Helper()
	ctx := context.Background()
	tx, err := h.store.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
		t.Fatal(err)
	}
	for _, q := range sqls {
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyIntact(t *testing.T) {
	h := newHistory(t)
	var out bytes.Buffer
	if err := audit.Verify(context.Background(), h.store, 0, &out); err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "7 aggregates, 12 events in ") || !strings.Contains(out.String(), "OK") {
		t.Errorf("summary = %q", out.String())
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sql   []string
		event string // the first event named
		why   string
	}{
		{"update payload", []string{
			`UPDATE events SET payload = '{"kind":"google","name":"Evil","ownerType":"system","config":{}}' WHERE aggregate_id = 'p1' AND sequence = 1`,
		}, "i1/idp/p1 sequence 1", "hash mismatch"},
		{"update metadata", []string{
			`UPDATE events SET creator = 'someone-else' WHERE aggregate_id = 'u1' AND sequence = 2`,
		}, "i1/user/u1 sequence 2", "hash mismatch"},
		{"delete one event", []string{
			`DELETE FROM events WHERE aggregate_id = 'u1' AND sequence = 2`,
		}, "i1/user/u1 sequence 3", "sequence gap"},
		{"delete the first event", []string{
			`DELETE FROM events WHERE aggregate_type = 'instance' AND aggregate_id = 'i1' AND sequence = 1`,
		}, "i1/instance/i1 sequence 2", "sequence starts at 2"},
		{"swapped sequences", []string{
			`UPDATE events SET sequence = 100 WHERE aggregate_type = 'login_policy' AND aggregate_id = 'i1' AND sequence = 1`,
			`UPDATE events SET sequence = 1 WHERE aggregate_type = 'login_policy' AND aggregate_id = 'i1' AND sequence = 2`,
			`UPDATE events SET sequence = 2 WHERE aggregate_type = 'login_policy' AND aggregate_id = 'i1' AND sequence = 100`,
		}, "i1/login_policy/i1 sequence 2", "hash mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHistory(t)
			h.tamper(t, tc.sql...)
			var out bytes.Buffer
			err := audit.Verify(context.Background(), h.store, 0, &out)
			var broken *audit.BrokenError
			if !errors.As(err, &broken) {
				t.Fatalf("err = %v, want *BrokenError\n%s", err, out.String())
			}
			if !strings.Contains(err.Error(), "event "+tc.event+" ") || !strings.Contains(err.Error(), tc.why) {
				t.Errorf("err = %q, want it to name %q (%s)", err, tc.event, tc.why)
			}
			if !strings.Contains(out.String(), "FAILED: "+err.Error()) {
				t.Errorf("summary does not name the event:\n%s", out.String())
			}
		})
	}
}

func TestVerifyIncremental(t *testing.T) {
	h := newHistory(t)
	h.tamper(t, `UPDATE events SET payload = '{"name":"Evil"}' WHERE aggregate_type = 'org' AND aggregate_id = 'o1'`)
	// o1 has no events after the PAT: an incremental run does not look at it.
	var out bytes.Buffer
	if err := audit.Verify(context.Background(), h.store, h.byName["u1.pat"].Position, &out); err != nil {
		t.Fatalf("incremental verify past the tampered aggregate: %v", err)
	}
	if !strings.Contains(out.String(), "aggregates changed after position") {
		t.Errorf("summary = %q", out.String())
	}
	err := audit.Verify(context.Background(), h.store, h.byName["o1"].Position-1, &out)
	if err == nil || !strings.Contains(err.Error(), "i1/org/o1 sequence 1") {
		t.Errorf("incremental verify covering o1: %v", err)
	}
}

func TestBindVerifyFlags(t *testing.T) {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	from := audit.BindVerifyFlags(fs)
	if err := fs.Parse([]string{"--from-position", "42"}); err != nil || *from != 42 {
		t.Fatalf("from = %d, err = %v", *from, err)
	}
	h := newHistory(t)
	if err := audit.Verify(context.Background(), h.store, -1, &bytes.Buffer{}); err == nil {
		t.Error("negative --from-position accepted")
	}
}
