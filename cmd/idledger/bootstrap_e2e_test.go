package main

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idledger/idledger/internal/pgtest"
)

// TestTwoServesOneInstance starts two `serve` processes at the same moment
// on one empty database: exactly one instance is created, and only one of
// them writes an admin token file.
func TestTwoServesOneInstance(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	dirs := []string{t.TempDir(), t.TempDir()}
	var procs []*proc
	for _, d := range dirs {
		procs = append(procs, startServe(t, dbURL, d, "--masterkey", "0123456789abcdef0123456789abcdef"))
	}
	for _, p := range procs {
		p.waitHealthy(t, 20*time.Second)
	}
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var instances, orgs int
	if err := conn.QueryRow(context.Background(),
		"SELECT (SELECT count(*) FROM events WHERE event_type = 'instance.added'), (SELECT count(*) FROM events WHERE event_type = 'org.added')").
		Scan(&instances, &orgs); err != nil {
		t.Fatal(err)
	}
	if instances != 1 || orgs != 1 {
		t.Fatalf("two serves on an empty database made %d instances and %d orgs, want 1 and 1", instances, orgs)
	}
	written := 0
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "admin.pat")); err == nil {
			written++
		}
	}
	if written != 1 {
		t.Fatalf("%d admin token files written, want exactly 1", written)
	}
	for _, p := range procs {
		if code := p.signalAndWait(t, syscall.SIGTERM, 10*time.Second); code != 0 {
			t.Errorf("serve exit %d", code)
		}
	}
}
