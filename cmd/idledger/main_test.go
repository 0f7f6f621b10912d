package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
)

// binPath is the idledger binary that TestMain builds once for the
// end-to-end tests.
var binPath string

// testCommit is linked into the test binary to check the -X wiring.
const testCommit = "e2e-test-commit"

func TestMain(m *testing.M) {
	// pgtest.Main ends the process, so the build directory cannot be removed
	// after the tests. It is named after this process instead, and the
	// directories of earlier runs whose process is gone are removed here.
	sweepOldBuilds()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("idledger-e2e-%d", os.Getpid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "e2e build:", err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "idledger")
	build := exec.Command("go", "build", "-tags", "crashpoints", "-ldflags", "-X main.commit="+testCommit, "-o", binPath, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	pgtest.Main(m)
}

func sweepOldBuilds() {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "idledger-e2e-*"))
	for _, d := range old {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "idledger-e2e-"))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) != nil && !errors.Is(syscall.Kill(pid, 0), syscall.EPERM) {
			os.RemoveAll(d)
		}
	}
}

// proc is an idledger process started by a test. It is killed (by PID) when
// the test ends, whatever the outcome.
type proc struct {
	cmd     *exec.Cmd
	stdout  apptest.LogBuffer
	stderr  apptest.LogBuffer
	done    chan struct{}
	waitErr error
	started time.Time
}

// childEnv is the test's environment without IDLEDGER_* variables, so that
// a developer's settings cannot change what a test runs against.
func childEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "IDLEDGER_") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// startServe starts `serve` on the database at dbURL with data dir dataDir,
// a free local port and JSON logs, plus the flags in extra.
func startServe(t *testing.T, dbURL, dataDir string, extra ...string) *proc {
	t.Helper()
	args := []string{"serve", "--database-url", dbURL, "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "json"}
	return startIdledger(t, append(args, extra...)...)
}

func startIdledger(t *testing.T, args ...string) *proc {
	t.Helper()
	return startIdledgerEnv(t, nil, args...)
}

// startIdledgerEnv is startIdledger with extra environment variables.
func startIdledgerEnv(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = childEnv(env...)
	return startProc(t, cmd, "idledger "+strings.Join(args, " "))
}

// startProc starts cmd with its output captured; t's cleanup kills it if it
// still runs (an idledger's embedded PostgreSQL stops on parent death) and,
// when t failed, logs its output under label.
func startProc(t *testing.T, cmd *exec.Cmd, label string) *proc {
	t.Helper()
	p := &proc{cmd: cmd, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s\n--- stdout:\n%s--- stderr:\n%s", label, p.stdout.String(), p.stderr.String())
		}
	})
	return p
}

// runIdledger runs idledger to completion and returns its exit code and output.
func runIdledger(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	p := startIdledger(t, args...)
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("idledger %v did not finish", args)
	}
	return p.exitCode(t), p.stdout.String(), p.stderr.String()
}

func (p *proc) exitCode(t *testing.T) int {
	t.Helper()
	var exit *exec.ExitError
	switch {
	case p.waitErr == nil:
		return 0
	case errors.As(p.waitErr, &exit):
		return exit.ExitCode()
	}
	t.Fatalf("wait: %v", p.waitErr)
	return -1
}

// signalAndWait sends sig and waits up to timeout for the process to end.
func (p *proc) signalAndWait(t *testing.T, sig syscall.Signal, timeout time.Duration) int {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal: %v", err)
	}
	select {
	case <-p.done:
		t.Logf("exited %v after %v", sig, time.Since(start).Round(time.Millisecond))
	case <-time.After(timeout):
		t.Fatalf("still running %v after %v", timeout, sig)
	}
	return p.exitCode(t)
}

// startTimeout bounds a serve's start in the end-to-end tests. A first
// start runs initdb, which on a loaded 2-core machine (CI's race run beside
// other test binaries) has taken 14 s.
const startTimeout = 60 * time.Second

// serverURL waits for the "serving on" line and returns its URL.
func (p *proc) serverURL(t *testing.T, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		s := bufio.NewScanner(strings.NewReader(p.stdout.String()))
		for s.Scan() {
			if _, url, ok := strings.Cut(s.Text(), "idledger is serving on "); ok {
				return url
			}
		}
		select {
		case <-p.done:
			t.Fatalf("idledger exited before serving: %v", p.waitErr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("idledger printed no URL within %v", timeout)
	return ""
}

func TestVersion(t *testing.T) {
	code, out, _ := runIdledger(t, "version")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"idledger dev\n", "commit: " + testCommit + "\n", "go: go1."} {
		if !strings.Contains(out, want) {
			t.Errorf("version output %q lacks %q", out, want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string // in stderr, or in stdout for exit 0
	}{
		{nil, 2, "Usage: idledger <command>"},
		{[]string{"help"}, 0, "projections rebuild"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"events"}, 2, "events needs a subcommand: list, replay, verify"},
		{[]string{"events", "frob"}, 2, `unknown subcommand "frob" of events`},
		{[]string{"serve", "--no-such-flag"}, 2, "--no-such-flag is not a flag of this command"},
		{[]string{"serve", "--log-format", "xml"}, 2, "--log-format / IDLEDGER_LOG_FORMAT"},
		{[]string{"migrate", "--masterkey", "a-secret-that-is-too-short"}, 2, "got 26 characters"},
		{[]string{"serve", "-h"}, 0, "IDLEDGER_DATABASE_URL"},
	}
	for _, tc := range cases {
		code, out, errOut := runIdledger(t, tc.args...)
		text := errOut
		if tc.code == 0 {
			text = out
		}
		if code != tc.code || !strings.Contains(text, tc.want) {
			t.Errorf("idledger %v: exit %d (want %d)\nstdout: %s\nstderr: %s\nwant %q", tc.args, code, tc.code, out, errOut, tc.want)
		}
		if strings.Contains(out+errOut, "a-secret-that-is-too-short") {
			t.Errorf("idledger %v echoes the master key", tc.args)
		}
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	cmd := exec.Command(binPath, "serve")
	cmd.Env = childEnv("IDLEDGER_LISTEN=not-an-address")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), `IDLEDGER_LISTEN: "not-an-address"`) {
		t.Fatalf("want exit 2 naming IDLEDGER_LISTEN, got %v:\n%s", err, out)
	}
}
