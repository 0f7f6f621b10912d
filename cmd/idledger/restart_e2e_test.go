package main

// Tests of issue 15 against the real binary on the embedded default: a
// restart right after `kill -9` under load, the shutdown log after a restart
// of PostgreSQL by hand, and commands pointed at a data dir with no cluster.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/internal/pgembed"
	"github.com/idledger/idledger/internal/pgtest"
)

// TestKillServeRestartAtOnce SIGKILLs serve on the embedded default while
// four clients write, and starts it again at once, 20 times. The embedded
// PostgreSQL is still shutting down (parent-death signal) when the new serve
// starts: the new serve must wait for it and then start its own, and every
// write acknowledged before each kill must be in the events and the read
// tables afterwards.
func TestKillServeRestartAtOnce(t *testing.T) {
	if _, err := pgembed.FindBinaries(); err != nil {
		t.Skip(err)
	}
	began := time.Now()
	dataDir := traversableTempDir(t)
	// Registered before any process starts, so it runs after they are killed:
	// the postmaster of the last serve outlives it for a moment.
	t.Cleanup(func() { stopLeftoverPostmaster(t, dataDir) })
	args := []string{"serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--log-format", "json"}

	const (
		iterations = 20
		workers    = 4
		perRound   = 200 // write cycles per round at most: the load is bounded
	)
	ack := newAcked()
	p := startIdledger(t, args...)
	base, took := p.waitHealthy(t, 60*time.Second)
	t.Logf("first start (initdb): healthy after %v", took.Round(time.Millisecond))
	c := newAPIClient(t, base, dataDir)
	waited, underLoad := 0, iterations
	var slowest time.Duration
	for round := 0; round < iterations; round++ {
		running, wait := startLoad(c, ack, round, workers, perRound)
		// Kill at a different point of the load each round (100ms to 480ms).
		time.Sleep(time.Duration(100+20*round) * time.Millisecond)
		if running() == 0 {
			underLoad--
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
		p = startIdledger(t, args...) // at once: the old postmaster is still stopping
		wait()

		base, took = p.waitHealthy(t, 45*time.Second)
		slowest = max(slowest, took)
		if strings.Contains(p.stderr.String(), "waiting up to") {
			waited++
		}
		c = newAPIClient(t, base, dataDir)
		n := assertAckedSQL(t, embeddedURL(t, dataDir), ack)
		t.Logf("round %d: healthy %v after the restart; %d acknowledged writes present", round, took.Round(time.Millisecond), n)
		if t.Failed() {
			t.FailNow()
		}
	}
	// Once, through the API as well: the read tables answer every acknowledged write.
	assertAcked(t, embeddedURL(t, dataDir), c, ack)
	ack.mu.Lock()
	if len(ack.bad) > 0 {
		t.Errorf("unexpected answers under load:\n%s", strings.Join(ack.bad, "\n"))
	}
	if len(ack.links) == 0 {
		t.Error("no write completed a whole cycle: the load did not run")
	}
	t.Logf("statuses seen: %v", ack.statuses)
	ack.mu.Unlock()
	pm := postmasterPID(t, dataDir)
	if code := p.signalAndWait(t, syscall.SIGTERM, 15*time.Second); code != 0 {
		t.Fatalf("serve exit %d after SIGTERM", code)
	}
	assertNoPostgres(t, dataDir, pm)
	t.Logf("%d restarts (%d killed with writes in flight), %d of them waited for the old postmaster; slowest healthy after %v; %v in all",
		iterations, underLoad, waited, slowest.Round(time.Millisecond), time.Since(began).Round(time.Second))
}

// embeddedURL is a connection string for the running embedded cluster of
// dataDir, which this test process reuses and never stops.
func embeddedURL(t *testing.T, dataDir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgembed.Start(ctx, pgembed.Options{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	if c.Started() {
		_ = c.Stop()
		t.Fatal("the embedded cluster was not running: serve should have started it")
	}
	return c.URL()
}

// assertAckedSQL checks that every acknowledged write is in the events and
// in the read tables, with one query per set, and returns how many writes it
// checked.
func assertAckedSQL(t *testing.T, dbURL string, ack *acked) int {
	t.Helper()
	ctx := context.Background()
	conn := dbConn(t, dbURL)
	rows := func(q string) map[string]bool {
		r, err := conn.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		vals, err := pgx.CollectRows(r, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		set := make(map[string]bool, len(vals))
		for _, v := range vals {
			set[v] = true
		}
		return set
	}
	ack.mu.Lock()
	defer ack.mu.Unlock()
	missing := 0
	check := func(what string, ids []string, sets ...map[string]bool) {
		for _, id := range ids {
			for i, set := range sets {
				if !set[id] {
					if missing++; missing <= 20 {
						t.Errorf("acknowledged %s %s is missing from %s", what, id, []string{"the events", "the read table"}[i])
					}
				}
			}
		}
	}
	check("IdP", ack.idps, eventSet(t, conn, "aggregate_id", "idp.added"), rows("SELECT id FROM idps"))
	check("policy IdP", ack.policy, eventSet(t, conn, "payload->>'idpId'", "login_policy.idp.added"),
		rows("SELECT idp_id FROM login_policy_idps"))
	check("user", ack.users, eventSet(t, conn, "aggregate_id", "user.human.added"), rows("SELECT id FROM users"))
	links := make([]string, 0, len(ack.links))
	for u, idp := range ack.links {
		links = append(links, u+"/"+idp)
	}
	check("link", links, eventSet(t, conn, "aggregate_id || '/' || (payload->>'idpId')", "user.human.externalidp.added"),
		rows("SELECT user_id || '/' || idp_id FROM user_idp_links"))
	if missing > 0 {
		t.Errorf("%d acknowledged writes missing", missing)
	}
	return len(ack.idps) + len(ack.policy) + len(ack.users) + len(links)
}

// TestServeShutdownLogAfterHandRestart: PostgreSQL restarted by hand with
// pg_ctl while serve runs is not serve's any more. serve keeps working on
// it, and on shutdown says it left that server running (and leaves it),
// rather than "embedded PostgreSQL stopped".
func TestServeShutdownLogAfterHandRestart(t *testing.T) {
	bin, err := pgembed.FindBinaries()
	if err != nil {
		t.Skip(err)
	}
	dataDir := traversableTempDir(t)
	t.Cleanup(func() { stopLeftoverPostmaster(t, dataDir) })
	p := startIdledger(t, "serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--log-format", "json")
	base, _ := p.waitHealthy(t, 60*time.Second)
	first := postmasterPID(t, dataDir)

	clusterDir := filepath.Join(dataDir, "postgres")
	pgCtl := exec.Command(filepath.Join(bin, "pg_ctl"), "restart", "-D", clusterDir, "-m", "fast", "-w",
		"-l", filepath.Join(clusterDir, "pg_ctl.log"))
	pgCtl.Dir = "/"
	if os.Geteuid() == 0 { // the cluster belongs to the postgres user
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pgCtl.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}}
	}
	if out, err := pgCtl.CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl restart: %v\n%s", err, out)
	}
	second := postmasterPID(t, dataDir)
	if second == first {
		t.Fatalf("pg_ctl restart kept postmaster %d", first)
	}
	// serve's pool reconnects to the new server (same port and socket).
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if status, _ := get(t, base+"/readyz"); status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz not 200 within 20s of pg_ctl restart")
		}
	}
	if code := p.signalAndWait(t, syscall.SIGTERM, 15*time.Second); code != 0 {
		t.Fatalf("serve exit %d after SIGTERM", code)
	}
	logs := p.stderr.String()
	if strings.Contains(logs, "embedded PostgreSQL stopped") {
		t.Error("serve logged that it stopped PostgreSQL, which pg_ctl had restarted and which keeps running")
	}
	want := fmt.Sprintf("had already exited; the one now running was not started by this process; left running (pid %d)", second)
	if !strings.Contains(logs, want) {
		t.Errorf("serve's shutdown log lacks %q", want)
	}
	if err := syscall.Kill(second, 0); err != nil {
		t.Errorf("the postmaster pg_ctl started (pid %d) is gone: %v", second, err)
	}
}

// TestCommandsNeedACluster: every command but serve and migrate, pointed at
// a data dir that holds no cluster (missing, or empty), fails with exit 1 and
// a message naming the data dir and what to run, and creates nothing. With
// --database-url no embedded cluster is involved.
func TestCommandsNeedACluster(t *testing.T) {
	// Arguments each command needs to get as far as opening the database
	// (after the flags: positional arguments end the flags for now).
	needs := map[string][]string{
		"projections rebuild": {"--all"},
		"projections retry":   {"idps"},
		"keys retire":         {"1a2b3c4d"},
		"events replay":       {"--aggregate", "idp/1"},
		"instance add":        {"--domain", "other.example.com", "--admin-pat-file", filepath.Join(t.TempDir(), "other.pat")},
	}
	root := t.TempDir()
	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(root, "missing")
	for _, c := range commands {
		switch c.name {
		case "serve", "migrate", "version":
			continue
		}
		for _, dir := range []string{missing, empty} {
			args := append(strings.Fields(c.name), "--data-dir", dir, "--log-format", "json")
			args = append(args, needs[c.name]...)
			code, out, errOut := runIdledger(t, args...)
			msg := "no PostgreSQL cluster in the data dir " + dir
			if code != 1 || !strings.Contains(errOut, msg) || !strings.Contains(errOut, "run `idledger serve` or `idledger migrate`") {
				t.Errorf("idledger %s: exit %d (want 1), stderr lacks %q and what to run:\nstdout: %s\nstderr: %s",
					strings.Join(args, " "), code, msg, out, errOut)
			}
		}
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a command created the missing data dir %s (%v)", missing, err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) > 0 {
		t.Errorf("commands created %d entries in the empty data dir, e.g. %s", len(entries), entries[0].Name())
	}

	// With a database URL the data dir does not matter.
	dbURL := pgtest.URL(t)
	if code, out, errOut := runIdledger(t, "events", "list", "--database-url", dbURL, "--data-dir", missing, "--log-format", "json"); code != 0 {
		t.Errorf("events list --database-url with a data dir without a cluster: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestMigrateCreatesTheCluster: migrate (like serve) initialises the cluster
// of a new data dir, after which the other commands use it.
func TestMigrateCreatesTheCluster(t *testing.T) {
	if _, err := pgembed.FindBinaries(); err != nil {
		t.Skip(err)
	}
	dataDir := traversableTempDir(t)
	t.Cleanup(func() { stopLeftoverPostmaster(t, dataDir) })
	if code, out, errOut := runIdledger(t, "migrate", "--data-dir", dataDir, "--log-format", "json"); code != 0 {
		t.Fatalf("migrate on a new data dir: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := runIdledger(t, "projections", "status", "--data-dir", dataDir, "--log-format", "json")
	if code != 0 {
		t.Fatalf("projections status after migrate: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "embedded PostgreSQL stopped") {
		t.Errorf("projections status started the stopped cluster, so it should say it stopped it:\n%s", errOut)
	}
}
