package pgembed

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// unwrittenLockAge is how long a postmaster.pid may be without a PID before
// it counts as stale. A postmaster writes its PID right after creating it.
const unwrittenLockAge = 5 * time.Second

// postmaster is what the cluster's postmaster.pid says, checked against the
// process table.
type postmaster struct {
	pid     int
	port    int
	sockDir string
	// status is the file's status line: "starting", "ready", "standby" or
	// "stopping". A file that is still being written (no status line yet)
	// counts as "starting".
	status string
	// stale: the PID is not a live PostgreSQL process (it died without
	// removing the file, or the PID now belongs to another program).
	stale bool
	// why says what made it stale, for the log ("names pid 12, which is
	// not running").
	why string
	raw []byte
}

// serving reports whether the postmaster accepts connections.
func (p *postmaster) serving() bool {
	return !p.stale && (p.status == "ready" || p.status == "standby")
}

// readPostmaster reads dir/postmaster.pid; it returns nil when there is none.
// The postmaster writes the file in steps (PID first, the status line last)
// and removes it when it has shut down.
func readPostmaster(dir string) (*postmaster, error) {
	path := filepath.Join(dir, "postmaster.pid")
	st, err := os.Stat(path)
	var raw []byte
	if err == nil {
		raw, err = os.ReadFile(path)
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read postmaster.pid: %w", err)
	}
	lines := strings.Split(string(raw), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	p := &postmaster{raw: raw, status: "starting"}
	p.pid, _ = strconv.Atoi(lines[0])
	if p.pid <= 0 {
		// Created but not written yet (the PID is the first thing
		// written), or left empty by a crash during that moment, which
		// PostgreSQL does not clean up by itself.
		if time.Since(st.ModTime()) > unwrittenLockAge {
			p.stale, p.why = true, "holds no PID, and was written "+time.Since(st.ModTime()).Round(time.Second).String()+" ago"
		}
		return p, nil
	}
	if len(lines) > 3 {
		p.port, _ = strconv.Atoi(lines[3])
	}
	if len(lines) > 4 {
		p.sockDir = lines[4]
	}
	if len(lines) > 7 && lines[7] != "" {
		p.status = lines[7]
	}
	if p.stale, p.why = staleLock(p.pid, dir); p.stale {
		p.why = fmt.Sprintf("names pid %d, which is %s", p.pid, p.why)
	}
	return p, nil
}

// staleLock reports whether pid is not a live postmaster of the cluster in
// dir. PostgreSQL itself treats only a dead PID as stale; after a container
// restart the PID is often taken by another program (even a thread of this
// one), and PostgreSQL then refuses to start. On Linux the process's working
// directory tells: a postmaster runs in its data directory.
func staleLock(pid int, dir string) (bool, string) {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true, "not running"
	}
	proc := "/proc/" + strconv.Itoa(pid)
	if cwd, err := os.Readlink(proc + "/cwd"); err == nil {
		if want, err := filepath.EvalSymlinks(dir); err == nil && cwd != want && cwd != dir {
			return true, "not a PostgreSQL server of this cluster (it runs in " + cwd + ")"
		}
		return false, ""
	}
	comm, err := os.ReadFile(proc + "/comm")
	if errors.Is(err, os.ErrNotExist) {
		if _, statErr := os.Stat("/proc/self"); statErr == nil {
			return true, "not running" // it exited meanwhile
		}
		return false, "" // no /proc: trust kill(0)
	}
	if err == nil {
		if name := string(bytes.TrimSpace(comm)); name != "postgres" && name != "postmaster" {
			return true, "not a PostgreSQL server (it is " + name + ")"
		}
	}
	return false, ""
}

// removeStaleLock removes postmaster.pid if it still holds what p read, so
// that a file a new postmaster wrote meanwhile stays. (What is left is the
// moment between that check and the removal; PostgreSQL's own removal of a
// stale file has the same. A postmaster whose file vanished also finds an
// attached shared memory segment, and refuses to start.)
func removeStaleLock(dir string, p *postmaster) error {
	path := filepath.Join(dir, "postmaster.pid")
	now, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil || !bytes.Equal(now, p.raw) {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale postmaster.pid: %w", err)
	}
	return nil
}
