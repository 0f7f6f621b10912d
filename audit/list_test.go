package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/idledger/idledger/audit"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
)

func parseJSONL(t *testing.T, out string) []audit.Record {
	t.Helper()
	var recs []audit.Record
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad jsonl line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

func listArgs(t *testing.T, args ...string) audit.ListOptions {
	t.Helper()
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	o := audit.BindListFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return *o
}

func TestListFilters(t *testing.T) {
	h := newHistory(t)
	p1 := h.byName["p1"]
	since := h.byName["lp"].CreatedAt
	until := h.byName["u1.link"].CreatedAt
	cases := []struct {
		name string
		args []string
		keep func(e eventstore.Event) bool
	}{
		{"all", nil, func(eventstore.Event) bool { return true }},
		{"instance", []string{"--instance", "i1"}, func(e eventstore.Event) bool { return e.InstanceID == "i1" }},
		{"aggregate type", []string{"--aggregate-type", "idp"}, func(e eventstore.Event) bool { return e.AggregateType == "idp" }},
		{"aggregate types repeated", []string{"--aggregate-type", "org", "--aggregate-type", "login_policy"},
			func(e eventstore.Event) bool { return e.AggregateType == "org" || e.AggregateType == "login_policy" }},
		{"aggregate id", []string{"--aggregate-id", "u1"}, func(e eventstore.Event) bool { return e.AggregateID == "u1" }},
		{"type prefix", []string{"--type", "idp."}, func(e eventstore.Event) bool { return strings.HasPrefix(e.Type, "idp.") }},
		{"type repeated and star", []string{"--type", "user.pat*", "--type", "login_policy.idp.added"},
			func(e eventstore.Event) bool { return e.Type == "user.pat.added" || e.Type == "login_policy.idp.added" }},
		{"creator", []string{"--creator", "admin-2"}, func(e eventstore.Event) bool { return e.Creator == "admin-2" }},
		{"since until", []string{"--since", audit.FormatTime(since), "--until", audit.FormatTime(until)},
			func(e eventstore.Event) bool { return !e.CreatedAt.Before(since) && e.CreatedAt.Before(until) }},
		{"after position", []string{"--after-position", strconv.FormatInt(p1.Position, 10)},
			func(e eventstore.Event) bool { return p1.Cursor().Less(e.Cursor()) }},
		{"combined", []string{"--instance", "i1", "--aggregate-type", "idp", "--creator", "admin-1"},
			func(e eventstore.Event) bool {
				return e.InstanceID == "i1" && e.AggregateType == "idp" && e.Creator == "admin-1"
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := h.positions(t, tc.keep)
			if len(want) == 0 {
				t.Fatal("case selects nothing; the fixture is wrong")
			}
			var out bytes.Buffer
			if err := audit.List(context.Background(), h.store, listArgs(t, append(tc.args, "--format", "jsonl")...), &out); err != nil {
				t.Fatal(err)
			}
			h.assertNoSecrets(t, "jsonl", out.String())
			var got []int64
			for _, r := range parseJSONL(t, out.String()) {
				got = append(got, r.Position)
			}
			if !slices.Equal(got, want) {
				t.Errorf("positions = %v, want %v", got, want)
			}
			// The table shows the same events, one row each after the header.
			out.Reset()
			if err := audit.List(context.Background(), h.store, listArgs(t, tc.args...), &out); err != nil {
				t.Fatal(err)
			}
			h.assertNoSecrets(t, "table", out.String())
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != len(want)+1 || !strings.HasPrefix(lines[0], "TIME") {
				t.Errorf("table has %d lines for %d events:\n%s", len(lines), len(want), out.String())
			}
			// --limit cuts the same sequence.
			out.Reset()
			if err := audit.List(context.Background(), h.store, listArgs(t, append(tc.args, "--format", "jsonl", "--limit", "1")...), &out); err != nil {
				t.Fatal(err)
			}
			if recs := parseJSONL(t, out.String()); len(recs) != 1 || recs[0].Position != want[0] {
				t.Errorf("--limit 1 gave %+v, want position %d", recs, want[0])
			}
		})
	}
}

func TestListRecordShape(t *testing.T) {
	h := newHistory(t)
	var out bytes.Buffer
	if err := audit.List(context.Background(), h.store, listArgs(t, "--aggregate-id", "p1", "--format", "jsonl"), &out); err != nil {
		t.Fatal(err)
	}
	recs := parseJSONL(t, out.String())
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	e := h.byName["p1.changed"]
	r := recs[1]
	if r.Position != e.Position || r.TxID != e.TxID || r.InstanceID != "i1" || r.AggregateType != "idp" || r.AggregateID != "p1" ||
		r.Sequence != 2 || r.Type != "idp.changed" || r.Revision != 1 || r.Creator != "admin-2" || r.RequestID != "req-9" ||
		r.ClientIP != "198.51.100.2" || r.UserAgent != "terraform" || r.ResourceOwner != "i1" || r.CreatedAt != audit.FormatTime(e.CreatedAt) {
		t.Errorf("record = %+v, event = %+v", r, e)
	}
	if !strings.HasSuffix(r.CreatedAt, "Z") {
		t.Errorf("createdAt %q is not UTC", r.CreatedAt)
	}
	var p struct {
		Name   string `json:"name"`
		Config struct {
			ClientID     string `json:"clientId"`
			ClientSecret string `json:"clientSecret"`
		} `json:"config"`
	}
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.Name != "Google Workspace" || p.Config.ClientID != "cid-2" || p.Config.ClientSecret != "[encrypted]" {
		t.Errorf("payload = %s", r.Payload)
	}
	// The table's summary shows the redacted secret and the public fields.
	out.Reset()
	if err := audit.List(context.Background(), h.store, listArgs(t, "--aggregate-id", "p1"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "config.clientSecret=[encrypted]") || !strings.Contains(out.String(), "config.clientId=cid-2") {
		t.Errorf("table:\n%s", out.String())
	}
}

func TestListBadOptions(t *testing.T) {
	h := newHistory(t)
	for _, args := range [][]string{
		{"--since", "yesterday"},
		{"--until", "2024-13-01T00:00:00Z"},
		{"--since", "2024-02-01T00:00:00Z", "--until", "2024-01-01T00:00:00Z"},
		{"--after-position", "-3"},
		{"--after-position", "abc"},
		{"--after-position", "999999"},
		{"--type", "IDP ADDED"},
		{"--format", "xml"},
		{"--limit", "-1"},
	} {
		err := audit.List(context.Background(), h.store, listArgs(t, args...), &bytes.Buffer{})
		if errs.KindOf(err) != errs.KindInvalidArgument {
			t.Errorf("%v: err = %v, want InvalidArgument", args, err)
		}
	}
}
