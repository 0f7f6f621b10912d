package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/internal/pgtest"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		// The run's rebuild, in a process of its own (rebuildInChild):
		// this binary is the bench then, not the tests.
		main()
		os.Exit(0)
	}
	pgtest.Main(m)
}

// TestSmoke runs the whole harness on tiny data so that it cannot rot: every
// scenario (the login path's against the bench's own OP, the token
// endpoint beside zitadel/oidc's example OP, the hosted login against an
// upstream example OP), both growth runs and the rebuild must complete
// without a single failed request, and the output must carry every BENCH
// line. It asserts nothing about speed.
func TestSmoke(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	url := pgtest.URL(t)
	rep, err := run(ctx, []string{"--smoke", "--database-url", url, "--history", "--scale", "--out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if rep.TotalErrors != 0 {
		t.Fatalf("%d requests failed:\n%s", rep.TotalErrors, stdout.String())
	}
	got := map[string]bool{}
	for _, s := range rep.Scenarios {
		if s.App.Requests == 0 || s.Baseline.Requests == 0 {
			t.Errorf("%s conc=%d: %d server and %d baseline requests", s.Name, s.Conc, s.App.Requests, s.Baseline.Requests)
		}
		got[s.Name] = true
		// The OP's scenarios ran SQL on the server and replayed some.
		if isOAuthScenario(s.Name) && (s.SQL.RoundTripsPerReq < 1 || len(s.BaselineSQL) == 0) {
			t.Errorf("%s conc=%d: %.2f round trips per request, baseline SQL %q", s.Name, s.Conc, s.SQL.RoundTripsPerReq, s.BaselineSQL)
		}
	}
	for _, s := range rep.Skipped {
		// AddIDPLink is served: no scenario may be skipped.
		t.Errorf("scenario %s skipped: %s", s.Name, s.Reason)
	}
	for _, name := range scenarioNames {
		if !got[name] {
			t.Errorf("scenario %s did not run", name)
		}
		for _, conc := range []string{"conc=1 ", "conc=4 "} {
			if !strings.Contains(stdout.String(), "BENCH name="+name+" "+conc) {
				t.Errorf("no BENCH line for %s %s", name, conc)
			}
		}
	}
	for _, line := range []string{"BENCH name=grpc_vs_rest scenario=get_idp_grpc rest=get_idp conc=4 ", "BENCH name=rebuild events=", "BENCH name=history ", "BENCH name=scale scenario=get_idp", "BENCH name=server_rss ",
		"BENCH name=argon2id verify_ms=", "BENCH name=login_upstream discovery_requests="} {
		if !strings.Contains(stdout.String(), line) {
			t.Errorf("output lacks %q", line)
		}
	}
	// The login path went to the bench's OP for real: discovery (start)
	// and the JWKS (the seeded JWT logins).
	if rep.Login == nil || rep.Login.Argon2VerifyMs <= 0 || rep.Login.OPDiscovery < 1 || rep.Login.OPKeys < 1 {
		t.Errorf("login: %+v", rep.Login)
	}
	if rep.Rebuild == nil || rep.Rebuild.Events == 0 || !rep.Rebuild.OwnProcess {
		t.Errorf("rebuild applied no events, or not in a process of its own: %+v", rep.Rebuild)
	}
	// The same store again, rebuilt alone and profiled (--rebuild-only).
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "rebuild.cpu"), filepath.Join(dir, "rebuild.mem")
	var again bytes.Buffer
	only, err := run(ctx, []string{"--rebuild-only", "--database-url", url, "--rebuild-cpuprofile", cpu, "--rebuild-memprofile", mem}, &again, &stderr)
	if err != nil {
		t.Fatalf("--rebuild-only: %v\n%s", err, stderr.String())
	}
	if only.Rebuild == nil || rep.Rebuild == nil || only.Rebuild.Events < rep.Rebuild.Events || !strings.Contains(again.String(), "BENCH name=rebuild events=") {
		t.Errorf("--rebuild-only: %+v after %+v\n%s", only.Rebuild, rep.Rebuild, again.String())
	}
	for _, f := range []string{cpu, mem} {
		if st, err := os.Stat(f); err != nil || st.Size() == 0 {
			t.Errorf("profile %s: %v", f, err)
		}
	}
	if _, err := run(ctx, []string{"--rebuild-only"}, &again, &stderr); err == nil {
		t.Error("--rebuild-only without --database-url: no error")
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(raw, &back); err != nil || len(back.Scenarios) != len(rep.Scenarios) {
		t.Errorf("--out JSON: %v, %d scenarios", err, len(back.Scenarios))
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}
