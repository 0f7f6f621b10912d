package pgembed

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options configure Start.
type Options struct {
	// DataDir is idledger's data dir; the cluster lives in DataDir/postgres.
	DataDir string
	// Database is created on first start if missing. Default "idledger".
	Database string
	// Fast trades durability for speed (fsync off). Tests only.
	Fast bool
	// Log receives progress lines; nil discards them.
	Log func(format string, args ...any)
	// Port is the TCP port (and Unix socket name) to listen on; 0 picks a
	// free one. A restart on the same port keeps the cluster's URL valid.
	Port int
	// MustExist makes Start fail with ErrNoCluster, creating nothing, when
	// DataDir holds no initialised cluster.
	MustExist bool
	// Wait bounds how long Start waits for a postmaster of the cluster that
	// is starting or stopping (another process's). Default 30s.
	Wait time.Duration
}

// DefaultWait is how long Start waits, by default, for a postmaster that is
// starting or stopping. After a kill -9 of its starter the postmaster gets a
// parent-death signal and takes a moment (its shutdown checkpoint) to go.
const DefaultWait = 30 * time.Second

// Cluster is a running embedded cluster.
type Cluster struct {
	dir     string
	sockDir string
	port    int
	pass    string
	db      string
	cmd     *exec.Cmd // nil when the cluster was already running (reused)
	done    chan error
	report  *StopReport // set by the first Shutdown
}

// ErrNoBinaries is returned (wrapped) when no PostgreSQL server binaries exist.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries found")

// ErrNoCluster is returned (wrapped) by Start with Options.MustExist when the
// data dir holds no initialised cluster.
var ErrNoCluster = errors.New("no PostgreSQL cluster")

// URL returns a connection string for the database, over the Unix socket.
func (c *Cluster) URL() string { return c.urlFor(c.db) }

// URLFor returns a connection string for another database on the cluster.
func (c *Cluster) URLFor(db string) string { return c.urlFor(db) }

func (c *Cluster) urlFor(db string) string {
	q := url.Values{}
	q.Set("host", c.sockDir)
	q.Set("sslmode", "disable")
	return (&url.URL{Scheme: "postgres", User: url.UserPassword("postgres", c.pass), Host: "127.0.0.1:" + strconv.Itoa(c.port), Path: "/" + db, RawQuery: q.Encode()}).String()
}

// Port is the loopback TCP port the cluster listens on.
func (c *Cluster) Port() int { return c.port }

// Started reports whether this process started the cluster (and so stops it).
func (c *Cluster) Started() bool { return c.cmd != nil }

// Dir is the cluster's data directory.
func (c *Cluster) Dir() string { return c.dir }

// Stop is Shutdown for callers that need no report (deferred cleanups).
func (c *Cluster) Stop() error {
	_, err := c.Shutdown()
	return err
}

// StopReport says what Shutdown found and did. Its String is a log line.
type StopReport struct {
	// PID is the postmaster this process started; 0 when Start reused one.
	PID int
	// Stopped is true when Shutdown stopped PID. It is false when PID had
	// exited before (a crash, or pg_ctl stop or restart by hand), and when
	// this process started none.
	Stopped bool
	// Running is a postmaster that serves the cluster after Shutdown, which
	// this process did not start (one it reused, or one pg_ctl started); 0
	// when none does.
	Running int
}

func (r StopReport) String() string {
	left := "it is no longer running"
	if r.Running != 0 {
		left = fmt.Sprintf("left running (pid %d)", r.Running)
	}
	switch {
	case r.Stopped:
		return fmt.Sprintf("embedded PostgreSQL stopped (pid %d)", r.PID)
	case r.PID == 0:
		return "embedded PostgreSQL was not started by this process; " + left
	case r.Running != 0:
		return fmt.Sprintf("embedded PostgreSQL that this process started (pid %d) had already exited; "+
			"the one now running was not started by this process; %s", r.PID, left)
	default:
		return fmt.Sprintf("embedded PostgreSQL that this process started (pid %d) had already exited", r.PID)
	}
}

// Shutdown stops (fast shutdown) the postmaster this process started, if it
// still runs, and reports what it did and which postmaster, if any, still
// serves the cluster. It is safe to call more than once: later calls return
// the first report. The error is one of reading postmaster.pid.
func (c *Cluster) Shutdown() (StopReport, error) {
	if c.report != nil {
		return *c.report, nil
	}
	var r StopReport
	if c.cmd != nil && c.cmd.Process != nil {
		r.PID = c.cmd.Process.Pid
		// c.done is filled once the child is reaped: until then its PID
		// cannot name another process, so signalling it is safe.
		select {
		case err := <-c.done:
			c.done <- err
		default:
			r.Stopped = true
			_ = c.cmd.Process.Signal(syscall.SIGINT)
			select {
			case err := <-c.done:
				c.done <- err
			case <-time.After(30 * time.Second):
				_ = c.cmd.Process.Signal(syscall.SIGQUIT)
				err := <-c.done
				c.done <- err
			}
		}
	}
	pm, err := readPostmaster(c.dir)
	if err != nil {
		return r, err
	}
	if pm != nil && !pm.stale && pm.pid != r.PID {
		r.Running = pm.pid
	}
	c.report = &r
	return r, nil
}

// FindBinaries returns the directory holding initdb and postgres: PATH first,
// then the newest /usr/lib/postgresql/*/bin.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	for _, dir := range matches {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w: looked for initdb and postgres on PATH and under /usr/lib/postgresql/*/bin. "+
		"Install the server (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@15), "+
		"or point idledger at an existing server with --database-url / IDLEDGER_DATABASE_URL", ErrNoBinaries)
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start initialises (first run), starts or reuses the cluster under
// opts.DataDir/postgres, and makes sure opts.Database exists.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Database == "" {
		opts.Database = "idledger"
	}
	logf := opts.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	c := &Cluster{dir: filepath.Join(dataDir, "postgres"), db: opts.Database}
	if _, err := os.Stat(filepath.Join(c.dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if opts.MustExist {
			return nil, fmt.Errorf("%w in %s", ErrNoCluster, c.dir)
		}
	} else if err != nil {
		return nil, fmt.Errorf("inspect cluster: %w", err)
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	owner, err := serverOwner()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", dataDir, err)
	}
	if owner != nil {
		// The postgres user must traverse the data dir to reach its cluster;
		// the admin token and master key inside stay 0600 and root-owned.
		if err := os.Chmod(dataDir, 0o711); err != nil {
			return nil, fmt.Errorf("chmod data dir: %w", err)
		}
		if err := checkTraversable(dataDir, owner); err != nil {
			return nil, err
		}
	}
	passFile := filepath.Join(dataDir, "postgres.pass")
	sockDir, err := socketDir(dataDir, owner)
	if err != nil {
		return nil, err
	}
	c.sockDir = sockDir

	if _, err := os.Stat(filepath.Join(c.dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		logf("initialising PostgreSQL cluster in %s (first run)", c.dir)
		if err := initCluster(ctx, bin, c.dir, passFile, owner); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("inspect cluster: %w", err)
	}
	pass, err := os.ReadFile(passFile)
	if err != nil {
		return nil, fmt.Errorf("read cluster password %s: %w", passFile, err)
	}
	c.pass = strings.TrimSpace(string(pass))

	wait := opts.Wait
	if wait <= 0 {
		wait = DefaultWait
	}
	if err := c.run(ctx, logf, wait, func() error {
		return c.start(ctx, bin, owner, opts.Fast, opts.Port, filepath.Join(dataDir, "postgres.log"))
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// run brings the cluster up: it reuses a postmaster that serves it, waits
// (up to wait) for one that is starting or stopping, and starts one with
// start when there is none, or only a stale postmaster.pid. It loops because
// the state moves under it: the postmaster it waits for goes away, another
// process starts one first, the one it was about to reuse begins to stop.
func (c *Cluster) run(ctx context.Context, logf func(string, ...any), wait time.Duration, start func() error) error {
	deadline := time.Now().Add(wait)
	waitingFor, waitStart := "", time.Time{}
	startErrs := 0
	for {
		pm, err := readPostmaster(c.dir)
		if err != nil {
			return err
		}
		if waitingFor != "" && (pm == nil || pm.stale || pm.serving()) {
			logf("waited %v for PostgreSQL (pid %s)", time.Since(waitStart).Round(time.Millisecond), waitingFor)
			waitingFor = ""
		}
		switch {
		case pm == nil:
			err := start()
			if err == nil {
				if err = c.ensureDatabase(ctx); err != nil {
					_ = c.Stop()
					c.cmd, c.report = nil, nil
				}
				return err
			}
			c.cmd = nil
			if ctx.Err() != nil {
				return err
			}
			// Losing the lock to another process's postmaster is no
			// failure: wait for it, then reuse it. Anything else (a port
			// taken meanwhile) gets three tries, as before.
			if other, _ := readPostmaster(c.dir); other == nil || other.stale {
				if startErrs++; startErrs >= 3 {
					return err
				}
			}
			continue
		case pm.stale:
			logf("PostgreSQL's lock file %s %s: removing it", filepath.Join(c.dir, "postmaster.pid"), pm.why)
			if err := removeStaleLock(c.dir, pm); err != nil {
				return err
			}
			continue
		case pm.serving():
			c.port, c.sockDir = pm.port, pm.sockDir
			err := c.ensureDatabase(ctx)
			if err == nil {
				logf("reusing PostgreSQL already running (pid %d, port %d)", pm.pid, pm.port)
				return nil
			}
			// A postmaster that just began to stop refuses connections:
			// see what it does now.
			if now, _ := readPostmaster(c.dir); now != nil && now.serving() && bytes.Equal(now.raw, pm.raw) || ctx.Err() != nil {
				return err
			}
			continue
		}
		// Starting or stopping, in another process.
		if state := fmt.Sprintf("%d, %s", pm.pid, pm.status); state != waitingFor {
			if waitingFor == "" {
				waitStart = time.Now()
			}
			waitingFor = state
			logf("PostgreSQL (pid %d) is %s in %s: waiting up to %v for it", pm.pid, pm.status, c.dir, time.Until(deadline).Round(time.Second))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL (pid %d) in %s is still %s after %v; if that server is stuck, stop it (pg_ctl stop -D %s) and try again",
				pm.pid, c.dir, pm.status, wait, c.dir)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

type osUser struct{ uid, gid uint32 }

// serverOwner returns the postgres system user when running as root (initdb
// refuses root), or nil to run the server as the current user.
func serverOwner() (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root: PostgreSQL refuses to run as root and the 'postgres' system user was not found (%v); create it (useradd --system postgres) or run idledger as a non-root user", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &osUser{uid: uint32(uid), gid: uint32(gid)}, nil
}

// checkTraversable verifies that every parent of dir lets others (the postgres
// user) search it, and names the first one that does not.
func checkTraversable(dir string, owner *osUser) error {
	for p := dir; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		sys, _ := st.Sys().(*syscall.Stat_t)
		mode := st.Mode().Perm()
		ok := mode&0o001 != 0 ||
			(sys != nil && sys.Uid == owner.uid && mode&0o100 != 0) ||
			(sys != nil && sys.Gid == owner.gid && mode&0o010 != 0)
		if !ok {
			return fmt.Errorf("the postgres system user cannot reach the data dir: %s (mode %v) is not searchable by it; "+
				"choose a --data-dir outside it (for example under /var/lib or /tmp) or run: chmod o+x %s", p, mode, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// socketDir picks the Unix socket directory: <data-dir>/run when the socket
// path fits the 107-byte limit, else a short folder under /tmp named after a
// hash of the data dir.
func socketDir(dataDir string, owner *osUser) (string, error) {
	dir := filepath.Join(dataDir, "run")
	if len(dir)+len("/.s.PGSQL.65535.lock") > 100 {
		sum := sha256.Sum256([]byte(dataDir))
		dir = filepath.Join(os.TempDir(), "idl-"+hex.EncodeToString(sum[:6]))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create socket dir: %w", err)
	}
	if owner != nil {
		if err := os.Chown(dir, int(owner.uid), int(owner.gid)); err != nil {
			return "", fmt.Errorf("chown socket dir: %w", err)
		}
	}
	return dir, nil
}

func initCluster(ctx context.Context, bin, dir, passFile string, owner *osUser) error {
	pass := randomHex(24)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create cluster dir: %w", err)
	}
	pwFile := filepath.Join(dir, ".initpw")
	if err := os.WriteFile(pwFile, []byte(pass+"\n"), 0o600); err != nil {
		return err
	}
	if owner != nil {
		for _, p := range []string{dir, pwFile} {
			if err := os.Chown(p, int(owner.uid), int(owner.gid)); err != nil {
				return fmt.Errorf("chown %s to postgres: %w", p, err)
			}
		}
	}
	// initdb wants an empty directory: move the password file out of it.
	tmpPw := dir + ".initpw"
	if err := os.Rename(pwFile, tmpPw); err != nil {
		return err
	}
	defer os.Remove(tmpPw)
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", dir, "-U", "postgres", "--pwfile", tmpPw, "--auth", "scram-sha-256",
		"-E", "UTF8", "--locale", "C.UTF-8", "--no-instructions", "--no-sync")
	cmd.SysProcAttr = procAttr(owner)
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("initdb failed: %w\n%s", err, out)
	}
	// initdb fsyncs every file one by one, which can take over ten seconds on
	// a busy disk; one filesystem-wide sync gives the same durability.
	syscall.Sync()
	if err := os.WriteFile(passFile, []byte(pass+"\n"), 0o600); err != nil {
		return fmt.Errorf("write cluster password: %w", err)
	}
	return nil
}

// start starts a postmaster (one attempt) and waits until it is ready. On
// error nothing of it is left running.
func (c *Cluster) start(ctx context.Context, bin string, owner *osUser, fast bool, fixedPort int, logPath string) error {
	port, err := fixedPort, error(nil)
	if port == 0 {
		port, err = freePort()
	}
	if err != nil {
		return err
	}
	args := []string{"-D", c.dir, "-p", strconv.Itoa(port), "-k", c.sockDir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "shared_buffers=128MB"}
	if fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open postgres log: %w", err)
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = "/"
	cmd.SysProcAttr = procAttr(owner)
	// If idledger dies without stopping it, the kernel asks the postmaster
	// for a fast shutdown, so no server is left behind.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start postgres: %w", err)
	}
	logFile.Close()
	c.cmd, c.port, c.report = cmd, port, nil
	c.done = make(chan error, 1)
	go func() { c.done <- cmd.Wait() }()
	if err := c.waitReady(ctx, logPath); err != nil {
		_ = c.Stop()
		c.cmd, c.report = nil, nil
		return err
	}
	return nil
}

// waitReady waits until the postmaster this process started says, in
// postmaster.pid, that it is ready (another process's postmaster being ready
// does not count).
func (c *Cluster) waitReady(ctx context.Context, logPath string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			c.done <- err
			return fmt.Errorf("postgres exited during start (%v); see %s:\n%s", err, logPath, tail(logPath, 15))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if pm, _ := readPostmaster(c.dir); pm != nil && pm.pid == c.cmd.Process.Pid && pm.serving() {
			return nil
		}
	}
	return fmt.Errorf("postgres did not become ready within 60s; see %s", logPath)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func procAttr(owner *osUser) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	if owner != nil {
		a.Credential = &syscall.Credential{Uid: owner.uid, Gid: owner.gid, NoSetGroups: true}
	}
	return a
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
