package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/audit"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
)

func replayArgs(t *testing.T, args ...string) (eventstore.AggregateRef, audit.Point, error) {
	t.Helper()
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	o := audit.BindReplayFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return o.Parse()
}

// replayState runs Replay as the CLI does and splits its output into the
// state object and the change lines.
func replayState(t *testing.T, h *history, args ...string) (map[string]any, []string) {
	t.Helper()
	ref, at, err := replayArgs(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := audit.Replay(context.Background(), h.store, ref, at, &out); err != nil {
		t.Fatalf("replay %v: %v", args, err)
	}
	h.assertNoSecrets(t, "replay", out.String())
	dec := json.NewDecoder(&out)
	var state map[string]any
	if err := dec.Decode(&state); err != nil {
		t.Fatalf("state: %v", err)
	}
	rest := readAll(dec, &out)
	lines := strings.Split(strings.TrimSpace(rest), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "changes (") {
		t.Fatalf("no change list after the state: %q", rest)
	}
	return state, lines[1:]
}

func readAll(dec *json.Decoder, rest *bytes.Buffer) string {
	var b bytes.Buffer
	_, _ = b.ReadFrom(dec.Buffered())
	_, _ = b.ReadFrom(rest)
	return b.String()
}

func TestReplayIDPAtSeveralPoints(t *testing.T) {
	h := newHistory(t)
	added, changed := h.byName["p1"], h.byName["p1.changed"]
	wantAt := func(name, clientID, seq string, scopes int, change time.Time) func(t *testing.T, s map[string]any) {
		return func(t *testing.T, s map[string]any) {
			t.Helper()
			cfg := s["config"].(map[string]any)
			g := cfg["google"].(map[string]any)
			d := s["details"].(map[string]any)
			if s["name"] != name || g["clientId"] != clientID || len(g["scopes"].([]any)) != scopes || d["sequence"] != seq ||
				d["changeDate"] != audit.FormatTime(change) || d["creationDate"] != audit.FormatTime(added.CreatedAt) ||
				s["state"] != "IDP_STATE_ACTIVE" || s["type"] != "IDP_TYPE_GOOGLE" || s["id"] != "p1" || d["resourceOwner"] != "i1" {
				t.Errorf("state = %v", s)
			}
			if _, ok := cfg["options"]; !ok {
				t.Errorf("config.options missing: %v", cfg)
			}
		}
	}
	first := wantAt("Google", "cid-1", "1", 1, added.CreatedAt)
	second := wantAt("Google Workspace", "cid-2", "2", 2, changed.CreatedAt)
	between := added.CreatedAt.Add(time.Millisecond)
	for _, tc := range []struct {
		args  []string
		check func(t *testing.T, s map[string]any)
		lines int
	}{
		{[]string{"--aggregate", "idp/p1"}, second, 2},
		{[]string{"--aggregate", "idp/p1", "--instance", "i1"}, second, 2},
		{[]string{"--aggregate", "idp/p1", "--at", audit.FormatTime(added.CreatedAt)}, first, 1},
		{[]string{"--aggregate", "idp/p1", "--at", audit.FormatTime(between)}, first, 1},
		{[]string{"--aggregate", "idp/p1", "--at", audit.FormatTime(changed.CreatedAt)}, second, 2},
		{[]string{"--aggregate", "idp/p1", "--at-position", strconv.FormatInt(added.Position, 10)}, first, 1},
		// A position of another aggregate cuts by the global order.
		{[]string{"--aggregate", "idp/p1", "--at-position", strconv.FormatInt(h.byName["lp.idp"].Position, 10)}, first, 1},
		{[]string{"--aggregate", "idp/p1", "--at-position", strconv.FormatInt(h.byName["u1.pat"].Position, 10)}, second, 2},
	} {
		s, lines := replayState(t, h, tc.args...)
		tc.check(t, s)
		if len(lines) != tc.lines {
			t.Errorf("%v: %d change lines, want %d: %q", tc.args, len(lines), tc.lines, lines)
		}
	}
	_, lines := replayState(t, h, "--aggregate", "idp/p1")
	if !strings.Contains(lines[1], "admin-2") || !strings.Contains(lines[1], "idp.changed") ||
		!strings.Contains(lines[1], `name="Google Workspace"`) || !strings.Contains(lines[1], "config.google.clientId=cid-2") ||
		strings.Contains(lines[1], "clientSecret") {
		t.Errorf("change line = %q", lines[1])
	}
}

func TestReplayOtherAggregates(t *testing.T) {
	h := newHistory(t)
	inst, _ := replayState(t, h, "--aggregate", "instance/i1")
	if inst["name"] != "ZITADEL" || len(inst["domains"].([]any)) != 1 || inst["state"] != "active" {
		t.Errorf("instance = %v", inst)
	}
	org, _ := replayState(t, h, "--aggregate", "org/o1")
	if org["name"] != "Default" || org["details"].(map[string]any)["resourceOwner"] != "o1" {
		t.Errorf("org = %v", org)
	}
	user, lines := replayState(t, h, "--aggregate", "user/u1")
	links, _ := user["idpLinks"].(map[string]any)
	if user["username"] != "alice" || user["userType"] != "human" || len(links) != 1 || len(lines) != 3 {
		t.Errorf("user = %v, lines %q", user, lines)
	}
	before, _ := replayState(t, h, "--aggregate", "user/u1", "--at", audit.FormatTime(h.byName["u1"].CreatedAt))
	if _, ok := before["idpLinks"]; ok {
		t.Errorf("user before the link = %v", before)
	}
	lp, _ := replayState(t, h, "--aggregate", "login_policy/i1")
	if lp["isDefault"] != true || len(lp["idps"].(map[string]any)) != 1 {
		t.Errorf("login policy = %v", lp)
	}
	lp1, _ := replayState(t, h, "--aggregate", "login_policy/i1", "--at-position", strconv.FormatInt(h.byName["lp"].Position, 10))
	if _, ok := lp1["idps"]; ok {
		t.Errorf("login policy before the IdP = %v", lp1)
	}
}

func TestReplayErrors(t *testing.T) {
	h := newHistory(t)
	for _, tc := range []struct {
		args []string
		kind errs.Kind
	}{
		{[]string{"--aggregate", "idp"}, errs.KindInvalidArgument},
		{[]string{"--aggregate", "widget/1"}, errs.KindInvalidArgument},
		{[]string{"--aggregate", "idp/p1", "--at", "now"}, errs.KindInvalidArgument},
		{[]string{"--aggregate", "idp/p1", "--at", "2024-01-01T00:00:00Z", "--at-position", "3"}, errs.KindInvalidArgument},
		{[]string{"--aggregate", "idp/p1", "--at-position", "99999"}, errs.KindInvalidArgument},
		{[]string{"--aggregate", "idp/nope"}, errs.KindNotFound},
		{[]string{"--aggregate", "idp/p1", "--instance", "i2"}, errs.KindNotFound},
		{[]string{"--aggregate", "idp/p1", "--at", "2000-01-01T00:00:00Z"}, errs.KindNotFound},
	} {
		ref, at, err := replayArgs(t, tc.args...)
		if err == nil {
			err = audit.Replay(context.Background(), h.store, ref, at, &bytes.Buffer{})
		}
		if errs.KindOf(err) != tc.kind {
			t.Errorf("%v: err = %v, want %v", tc.args, err, tc.kind)
		}
	}
}
