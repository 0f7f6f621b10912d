package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/internal/pgembed"
	"github.com/idledger/idledger/internal/pgtest"
	"github.com/idledger/idledger/migrations"
)

// TestServeExternalDatabase runs `serve --database-url` against a fresh test
// database: health, readiness, the 404 body, and a graceful SIGTERM.
func TestServeExternalDatabase(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	dataDir := t.TempDir()
	p := startServe(t, dbURL, dataDir, "--masterkey", "0123456789abcdef0123456789abcdef")
	base, took := p.waitHealthy(t, startTimeout)
	t.Logf("healthz 200 after %v", took)

	status, body := get(t, base+"/healthz")
	if status != http.StatusOK || body != `{"status":"ok"}` {
		t.Errorf("GET /healthz: %d %s", status, body)
	}
	if status, body := get(t, base+"/readyz"); status != http.StatusOK {
		t.Errorf("GET /readyz: %d %s", status, body)
	}
	status, body = get(t, base+"/nope")
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if status != http.StatusNotFound || json.Unmarshal([]byte(body), &e) != nil || e.Code != 5 || e.Message != "Not Found" {
		t.Errorf("GET /nope: %d %s; want 404 {\"code\":5,\"message\":\"Not Found\"}", status, body)
	}
	if want := "admin token file: " + filepath.Join(dataDir, "admin.pat"); !strings.Contains(p.stdout.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, p.stdout.String())
	}

	if code := p.signalAndWait(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	logs := p.stdout.String() + p.stderr.String()
	if !strings.Contains(logs, "shutting down") {
		t.Error("no shutdown log line")
	}
	if u, err := url.Parse(dbURL); err == nil {
		if pw, ok := u.User.Password(); ok && strings.Contains(logs, pw) {
			t.Error("the output contains the database password")
		}
	}
	if strings.Contains(logs, "0123456789abcdef0123456789abcdef") {
		t.Error("the output contains the master key")
	}
}

// TestServeEmbeddedDefault runs `serve` with no database URL: the first run
// initialises the embedded cluster, Ctrl-C leaves no PostgreSQL behind, and a
// second run is fast.
func TestServeEmbeddedDefault(t *testing.T) {
	if _, err := pgembed.FindBinaries(); err != nil {
		t.Skip(err)
	}
	dataDir := traversableTempDir(t)
	// Registered before any process starts, so it runs after they are killed.
	t.Cleanup(func() { stopLeftoverPostmaster(t, dataDir) })
	args := []string{"serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--log-format", "json"}

	first := startIdledger(t, args...)
	base, took := first.waitHealthy(t, startTimeout)
	t.Logf("first run (initdb): healthz 200 after %v", took.Round(time.Millisecond))
	if status, body := get(t, base+"/readyz"); status != http.StatusOK {
		t.Fatalf("GET /readyz: %d %s", status, body)
	}
	pm := postmasterPID(t, dataDir)
	if code := first.signalAndWait(t, syscall.SIGINT, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGINT", code)
	}
	assertNoPostgres(t, dataDir, pm)

	second := startIdledger(t, args...)
	_, took = second.waitHealthy(t, 3*time.Second)
	t.Logf("second run: healthz 200 after %v", took.Round(time.Millisecond))
	pm = postmasterPID(t, dataDir)
	if code := second.signalAndWait(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	assertNoPostgres(t, dataDir, pm)
}

// TestConcurrentMigrate starts two `migrate` processes at once on one empty
// database: both succeed and each migration is recorded once.
func TestConcurrentMigrate(t *testing.T) {
	t.Parallel()
	dbURL := emptyDatabase(t)
	a := startIdledger(t, "migrate", "--database-url", dbURL, "--log-format", "json")
	b := startIdledger(t, "migrate", "--database-url", dbURL, "--log-format", "json")
	for _, p := range []*proc{a, b} {
		select {
		case <-p.done:
		case <-time.After(time.Minute):
			t.Fatal("migrate did not finish within a minute")
		}
		if code := p.exitCode(t); code != 0 {
			t.Fatalf("migrate exit code %d:\n%s%s", code, p.stdout.String(), p.stderr.String())
		}
	}
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	out := a.stdout.String() + b.stdout.String()
	for _, m := range all {
		if n := strings.Count(out, "applied "+m.Name+"\n"); n != 1 {
			t.Errorf("%s reported applied %d times:\n%s", m.Name, n, out)
		}
	}
	assertVersionsOnce(t, dbURL, all)

	code, out, _ := runIdledger(t, "migrate", "--database-url", dbURL, "--log-format", "json")
	if code != 0 || !strings.Contains(out, "schema is up to date") {
		t.Errorf("third migrate: exit %d, stdout %q", code, out)
	}
	assertVersionsOnce(t, dbURL, all)
}

// dbConn connects to url for the rest of the test.
func dbConn(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func assertVersionsOnce(t *testing.T, dbURL string, all []migrations.Migration) {
	t.Helper()
	ctx := context.Background()
	conn := dbConn(t, dbURL)
	rows, err := conn.Query(ctx, "SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var v, n int
		if err := rows.Scan(&v, &n); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d×%d", v, n))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range all {
		want = append(want, fmt.Sprintf("%d×1", m.Version))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("schema_migrations versions×count = %v, want %v", got, want)
	}
}

// waitHealthy waits, from the process start, for the printed URL and a 200
// from /healthz, and returns the base URL and how long that took.
func (p *proc) waitHealthy(t *testing.T, timeout time.Duration) (string, time.Duration) {
	t.Helper()
	base := p.serverURL(t, timeout)
	client := &http.Client{Timeout: time.Second}
	for deadline := p.started.Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, time.Since(p.started)
			}
		}
	}
	t.Fatalf("GET %s/healthz gave no 200 within %v of the start", base, timeout)
	return "", 0
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// traversableTempDir is a t.TempDir that the postgres system user can reach
// when the tests run as root (the embedded cluster runs as postgres then).
func traversableTempDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for _, p := range []string{d, filepath.Dir(d)} {
		if err := os.Chmod(p, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// postmasterPID reads the running cluster's postmaster.pid.
func postmasterPID(t *testing.T, dataDir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "postgres", "postmaster.pid"))
	if err != nil {
		t.Fatalf("embedded cluster not running: %v", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		t.Fatalf("postmaster.pid: %q", first)
	}
	return pid
}

// assertNoPostgres fails when the postmaster or any of its children is alive,
// or when any process's command line mentions dataDir.
func assertNoPostgres(t *testing.T, dataDir string, postmaster int) {
	t.Helper()
	if err := syscall.Kill(postmaster, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postmaster %d is still alive (kill 0: %v)", postmaster, err)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range procs {
		pid, _ := strconv.Atoi(filepath.Base(dir))
		cmdline, err := os.ReadFile(dir + "/cmdline")
		if err != nil {
			continue // exited meanwhile
		}
		line := strings.ReplaceAll(string(cmdline), "\x00", " ")
		if strings.Contains(line, dataDir) {
			t.Errorf("process %d still runs with the data dir: %s", pid, line)
		}
		if stat, err := os.ReadFile(dir + "/stat"); err == nil {
			// pid (comm) state ppid ...; comm may hold spaces, so cut after ')'.
			if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
				if f := strings.Fields(string(stat[i+1:])); len(f) > 1 && f[1] == strconv.Itoa(postmaster) {
					t.Errorf("process %d (a child of postmaster %d) is still alive: %s", pid, postmaster, line)
				}
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, "postgres", "postmaster.pid")); err == nil {
		t.Error("postmaster.pid is still there")
	}
}

// stopLeftoverPostmaster stops, by the PID in postmaster.pid, a cluster that
// a failed test left running.
func stopLeftoverPostmaster(t *testing.T, dataDir string) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postgres", "postmaster.pid"))
	if err != nil {
		return
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 || syscall.Kill(pid, 0) != nil {
		return
	}
	t.Logf("stopping leftover postmaster %d", pid)
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// emptyDatabase creates a database without any migration on the test
// server and drops it when t ends.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	admin := pgtest.AdminURL(t)
	name := fmt.Sprintf("idl_e2e_empty_%d_%s", os.Getpid(), strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_")))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	return withDatabase(admin, name)
}

// withDatabase points a connection string at another database.
func withDatabase(raw, db string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw + " dbname=" + db // keyword/value form
	}
	u.Path = "/" + db
	return u.String()
}
