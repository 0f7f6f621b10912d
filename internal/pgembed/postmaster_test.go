package pgembed

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
	"sync"
	"syscall"
	"testing"
	"time"
)

// initialised returns a data dir holding an initialised cluster that is not
// running.
func initialised(t *testing.T) string {
	t.Helper()
	if _, err := FindBinaries(); err != nil {
		t.Skip(err)
	}
	dir := tempDir(t)
	c, err := Start(context.Background(), Options{DataDir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fakeLock writes a postmaster.pid naming pid in the given status, the way a
// postmaster of the cluster in dataDir/postgres writes it.
func fakeLock(t *testing.T, dataDir string, pid int, status string) {
	t.Helper()
	dir := filepath.Join(dataDir, "postgres")
	body := fmt.Sprintf("%d\n%s\n%d\n%d\n%s\n127.0.0.1\n  1234567         8\n%-15s\n", pid, dir, time.Now().Unix(), 1, dataDir+"/run", status)
	path := filepath.Join(dir, "postmaster.pid")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	// The cluster's owner (postgres, when the tests run as root) wrote it.
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		if err := os.Chown(path, int(sys.Uid), int(sys.Gid)); err != nil {
			t.Fatal(err)
		}
	}
}

// otherProcess starts a process that lives until the test ends, running in
// dir (a postmaster runs in its data directory) as the user the cluster runs
// as (PostgreSQL takes a PID it may not signal for a dead one).
func otherProcess(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	owner, err := serverOwner()
	if err != nil {
		t.Skip(err)
	}
	cmd := exec.Command("sleep", "300")
	cmd.Dir = dir
	cmd.SysProcAttr = procAttr(owner)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// TestStartWaitsForStoppingPostmaster: a postmaster of the cluster that is
// stopping holds the lock file for a moment (after a kill -9 of serve it
// gets SIGINT and runs its shutdown checkpoint). Start waits for it to go
// and then starts the cluster, rather than failing on the lock.
func TestStartWaitsForStoppingPostmaster(t *testing.T) {
	dir := initialised(t)
	clusterDir := filepath.Join(dir, "postgres")
	stopping := otherProcess(t, clusterDir)
	fakeLock(t, dir, stopping.Process.Pid, "stopping")
	const stopsAfter = 700 * time.Millisecond
	go func() {
		time.Sleep(stopsAfter)
		_ = stopping.Process.Kill() // reaped by the cleanup
		_ = os.Remove(filepath.Join(clusterDir, "postmaster.pid"))
	}()
	var logs logLines
	began := time.Now()
	c, err := Start(context.Background(), Options{DataDir: dir, Fast: true, Log: logs.add})
	if err != nil {
		t.Fatalf("Start while a postmaster was stopping: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	if took := time.Since(began); took < stopsAfter {
		t.Errorf("Start returned after %v, before the stopping postmaster was gone", took)
	}
	if !c.Started() {
		t.Error("Start should have started the cluster once the old postmaster was gone")
	}
	ping(t, c.URL())
	want := fmt.Sprintf("PostgreSQL (pid %d) is stopping", stopping.Process.Pid)
	if !logs.contains(want) || !logs.contains("waited ") {
		t.Errorf("the log should say it waited (%q):\n%s", want, logs.String())
	}
}

// TestStartWaitIsBounded: a postmaster that stays in "starting" (crash
// recovery, or stuck) makes Start fail after Options.Wait, naming it.
func TestStartWaitIsBounded(t *testing.T) {
	dir := initialised(t)
	stuck := otherProcess(t, filepath.Join(dir, "postgres"))
	fakeLock(t, dir, stuck.Process.Pid, "starting")
	began := time.Now()
	c, err := Start(context.Background(), Options{DataDir: dir, Fast: true, Wait: time.Second})
	took := time.Since(began)
	if err == nil {
		_ = c.Stop()
		t.Fatal("Start succeeded although the cluster's postmaster never became ready")
	}
	want := fmt.Sprintf("PostgreSQL (pid %d)", stuck.Process.Pid)
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "still starting after 1s") {
		t.Errorf("error %q should name %q and the wait", err, want)
	}
	if took < time.Second || took > 10*time.Second {
		t.Errorf("Start gave up after %v; want about 1s", took)
	}
}

// TestStartStaleLock: a postmaster.pid left by a postmaster that died (kill
// -9, power loss), or whose PID now belongs to another program (a container
// restart reuses PIDs), does not stop Start. PostgreSQL itself refuses to
// start in the second case.
func TestStartStaleLock(t *testing.T) {
	for _, tc := range []struct {
		name string
		pid  func(t *testing.T) int
	}{
		{"dead pid", func(t *testing.T) int {
			cmd := exec.Command("true")
			if err := cmd.Run(); err != nil {
				t.Fatal(err)
			}
			return cmd.Process.Pid
		}},
		{"pid of another program", func(t *testing.T) int { return otherProcess(t, "/").Process.Pid }},
		{"no pid", func(*testing.T) int { return 0 }}, // a crash as the file was created
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := initialised(t)
			pid := tc.pid(t)
			fakeLock(t, dir, pid, "ready")
			if pid == 0 {
				lock := filepath.Join(dir, "postgres", "postmaster.pid")
				old := time.Now().Add(-time.Minute)
				if err := errors.Join(os.Truncate(lock, 0), os.Chtimes(lock, old, old)); err != nil {
					t.Fatal(err)
				}
			}
			var logs logLines
			c, err := Start(context.Background(), Options{DataDir: dir, Fast: true, Log: logs.add, Wait: 5 * time.Second})
			if err != nil {
				t.Fatalf("Start with a stale postmaster.pid (pid %d): %v", pid, err)
			}
			t.Cleanup(func() { _ = c.Stop() })
			if !c.Started() {
				t.Error("Start should have started the cluster")
			}
			ping(t, c.URL())
			want := fmt.Sprintf("names pid %d, which is", pid)
			if pid == 0 {
				want = "holds no PID"
			}
			if !logs.contains(want) {
				t.Errorf("the log should say the lock file was stale:\n%s", logs.String())
			}
		})
	}
}

// TestConcurrentStarts: several processes starting one stopped cluster at
// once all get it; exactly one of them starts the postmaster, the others
// wait for it and reuse it.
func TestConcurrentStarts(t *testing.T) {
	dir := initialised(t)
	const n = 3
	clusters := make([]*Cluster, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clusters[i], errs[i] = Start(context.Background(), Options{DataDir: dir, Fast: true})
		}()
	}
	wg.Wait()
	started := 0
	for i, c := range clusters {
		if errs[i] != nil {
			t.Errorf("Start %d: %v", i, errs[i])
			continue
		}
		t.Cleanup(func() { _ = c.Stop() })
		if c.Started() {
			started++
		}
		ping(t, c.URL())
	}
	if started != 1 {
		t.Errorf("%d of %d Starts started a postmaster; want exactly 1", started, n)
	}
}

// TestMustExist: with MustExist, a data dir without a cluster is an error,
// and nothing is created.
func TestMustExist(t *testing.T) {
	for _, dir := range []string{filepath.Join(t.TempDir(), "missing"), t.TempDir()} {
		_, err := Start(context.Background(), Options{DataDir: dir, MustExist: true})
		if !errors.Is(err, ErrNoCluster) || !strings.Contains(err.Error(), dir) {
			t.Errorf("Start(%s, MustExist): %v; want ErrNoCluster naming the dir", dir, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("Start(%s, MustExist) created %v", dir, entries)
		}
	}
	if _, err := os.Stat(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Start with MustExist created the data dir")
	}
}

// TestShutdownReport: Shutdown says what it did, and checks the PID this
// process started: after pg_ctl restarted the cluster by hand, the running
// server is not this process's, and it is left running.
func TestShutdownReport(t *testing.T) {
	bin, err := FindBinaries()
	if err != nil {
		t.Skip(err)
	}
	dir := tempDir(t)
	c, err := Start(context.Background(), Options{DataDir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	first := c.cmd.Process.Pid

	reused, err := Start(context.Background(), Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	r, err := reused.Shutdown()
	if err != nil || r != (StopReport{Running: first}) || !strings.Contains(r.String(), "not started by this process; left running") {
		t.Errorf("reused cluster: Shutdown = %+v %q, %v", r, r, err)
	}

	pgCtl(t, bin, "restart", "-D", c.Dir(), "-m", "fast", "-w", "-l", filepath.Join(c.Dir(), "pg_ctl.log"))
	pm, err := readPostmaster(c.Dir())
	if err != nil || pm == nil || !pm.serving() || pm.pid == first {
		t.Fatalf("after pg_ctl restart: %+v %v", pm, err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pm.pid, syscall.SIGQUIT) })
	r, err = c.Shutdown()
	if err != nil || r != (StopReport{PID: first, Running: pm.pid}) {
		t.Errorf("after pg_ctl restart: Shutdown = %+v, %v; want PID %d, not stopped, %d running", r, err, first, pm.pid)
	}
	if s := r.String(); strings.Contains(s, "stopped") || !strings.Contains(s, "left running") {
		t.Errorf("report %q", s)
	}
	if syscall.Kill(pm.pid, 0) != nil {
		t.Errorf("Shutdown stopped the postmaster (pid %d) that pg_ctl started", pm.pid)
	}
	ping(t, c.URL())

	pgCtl(t, bin, "stop", "-D", c.Dir(), "-m", "fast", "-w")
	c2, err := Start(context.Background(), Options{DataDir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	r, err = c2.Shutdown()
	if err != nil || !r.Stopped || r.PID == 0 || r.Running != 0 || r.String() != fmt.Sprintf("embedded PostgreSQL stopped (pid %d)", r.PID) {
		t.Errorf("own cluster: Shutdown = %+v %q, %v", r, r, err)
	}
	if again, _ := c2.Shutdown(); again != r {
		t.Errorf("second Shutdown = %+v; want the first report %+v", again, r)
	}
}

// pgCtl runs pg_ctl as the cluster's owner.
func pgCtl(t *testing.T, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "pg_ctl"), args...)
	cmd.Dir = "/"
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl %v: %v\n%s", args, err, out)
	}
}

// logLines collects Options.Log lines.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) contains(s string) bool { return strings.Contains(l.String(), s) }

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
