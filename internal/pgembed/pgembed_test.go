package pgembed

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestStartReuseStop(t *testing.T) {
	if _, err := FindBinaries(); err != nil {
		t.Skip(err)
	}
	ctx := context.Background()
	dir := tempDir(t)
	c, err := Start(ctx, Options{DataDir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	if !c.Started() {
		t.Fatal("first Start should start the cluster")
	}
	ping(t, c.URL())

	// A second Start on the same data dir reuses the running cluster.
	c2, err := Start(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if c2.Started() || c2.Port() != c.Port() {
		t.Fatalf("second Start should reuse port %d, got started=%v port=%d", c.Port(), c2.Started(), c2.Port())
	}
	ping(t, c2.URL())
	if err := c2.Stop(); err != nil { // no-op: it did not start the cluster
		t.Fatal(err)
	}
	ping(t, c.URL())

	pid := c.cmd.Process.Pid
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Fatalf("postmaster %d still alive after Stop", pid)
	}
	if pm, err := readPostmaster(c.Dir()); err != nil || pm != nil {
		t.Fatalf("postmaster.pid still there after Stop: %+v %v", pm, err)
	}

	// Restart of an initialised cluster is fast and keeps the data.
	start := time.Now()
	c3, err := Start(ctx, Options{DataDir: dir, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c3.Stop() })
	ping(t, c3.URL())
	t.Logf("restart took %v", time.Since(start))
}

func TestSocketDirShortForDeepDataDir(t *testing.T) {
	deep := "/tmp/" + strings.Repeat("d", 120)
	dir, err := socketDir(deep, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if len(dir)+len("/.s.PGSQL.65535") >= 107 {
		t.Fatalf("socket dir %q too long", dir)
	}
}

func TestUntraversableParentIsNamed(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	owner, err := serverOwner()
	if err != nil {
		t.Skip(err)
	}
	parent := t.TempDir()
	if err := os.Chmod(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	err = checkTraversable(parent+"/data", owner)
	if err == nil || !strings.Contains(err.Error(), parent) {
		t.Fatalf("want an error naming %s, got %v", parent, err)
	}
}

func TestNoBinariesMessage(t *testing.T) {
	t.Setenv("PATH", "/nonexistent")
	_, err := FindBinaries()
	if err == nil {
		if _, statErr := os.Stat("/usr/lib/postgresql"); statErr == nil {
			t.Skip("binaries installed under /usr/lib/postgresql")
		}
		t.Fatal("expected an error")
	}
	for _, want := range []string{"apt-get install postgresql", "--database-url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q should mention %q", err, want)
		}
	}
}

// TestChildDeathStopsCluster checks that a cluster whose starter is killed
// (SIGKILL, no cleanup) shuts down by itself.
func TestChildDeathStopsCluster(t *testing.T) {
	if os.Getenv("PGEMBED_CHILD_DIR") != "" {
		c, err := Start(context.Background(), Options{DataDir: os.Getenv("PGEMBED_CHILD_DIR"), Fast: true})
		if err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("PID " + strconv.Itoa(c.cmd.Process.Pid) + "\n")
		time.Sleep(time.Minute)
		return
	}
	if _, err := FindBinaries(); err != nil {
		t.Skip(err)
	}
	dir := tempDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=TestChildDeathStopsCluster$")
	cmd.Env = append(os.Environ(), "PGEMBED_CHILD_DIR="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := out.Read(buf)
	line := strings.TrimSpace(string(buf[:n]))
	pid, err := strconv.Atoi(strings.TrimPrefix(line, "PID "))
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("child said %q", line)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGQUIT)
			t.Fatalf("postmaster %d survived its parent", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ping(t *testing.T, url string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var one int
	if err := conn.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("ping: %v", err)
	}
}

// tempDir is a t.TempDir that the postgres user can traverse when we are root.
func tempDir(t *testing.T) string {
	d := t.TempDir()
	for _, p := range []string{d, filepath.Dir(d)} {
		if err := os.Chmod(p, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return d
}
