package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/idledger/idledger/internal/pgembed"
	"github.com/idledger/idledger/migrations"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type server struct {
	adminURL string // a URL of the maintenance database
	template string
	cluster  *pgembed.Cluster
	dir      string
	err      error
}

var (
	once    sync.Once
	srv     server
	createM sync.Mutex
	counter int
)

// Main runs the tests and then removes the server it started. Use it as
// `func TestMain(m *testing.M) { pgtest.Main(m) }`.
func Main(m *testing.M) {
	code := m.Run()
	shutdown()
	os.Exit(code)
}

func shutdown() {
	if srv.cluster != nil {
		_ = srv.cluster.Stop()
	} else if srv.adminURL != "" && srv.template != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, srv.adminURL); err == nil {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{srv.template}.Sanitize()+" WITH (FORCE)")
			conn.Close(ctx)
		}
	}
	if srv.dir != "" {
		_ = os.RemoveAll(srv.dir)
	}
}

func start() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv.template = fmt.Sprintf("idl_tpl_%d", os.Getpid())
	if u := os.Getenv("IDLEDGER_TEST_DATABASE_URL"); u != "" {
		srv.adminURL = u
	} else {
		dir, err := os.MkdirTemp("", "idlt")
		if err != nil {
			srv.err = err
			return
		}
		srv.dir = dir
		c, err := pgembed.Start(ctx, pgembed.Options{DataDir: dir, Database: "postgres", Fast: true})
		if err != nil {
			srv.err = fmt.Errorf("start embedded postgres for tests: %w", err)
			return
		}
		srv.cluster = c
		srv.adminURL = c.URL()
	}
	conn, err := pgx.Connect(ctx, srv.adminURL)
	if err != nil {
		srv.err = fmt.Errorf("connect test server: %w", err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{srv.template}.Sanitize()+" WITH (FORCE)"); err != nil {
		srv.err = err
		return
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{srv.template}.Sanitize()); err != nil {
		srv.err = fmt.Errorf("create template database: %w", err)
		return
	}
	pool, err := pgxpool.New(ctx, withDB(srv.adminURL, srv.template))
	if err != nil {
		srv.err = err
		return
	}
	defer pool.Close()
	if _, err := migrations.Apply(ctx, pool); err != nil {
		srv.err = fmt.Errorf("migrate template: %w", err)
	}
}

func withDB(raw, db string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		// keyword/value form
		return raw + " dbname=" + db
	}
	u.Path = "/" + db
	return u.String()
}

// URL creates a fresh migrated database for t and returns its connection
// string. The database is dropped when t ends.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(start)
	if srv.err != nil {
		t.Fatalf("pgtest: %v", srv.err)
	}
	createM.Lock()
	counter++
	name := fmt.Sprintf("idl_t_%d_%d", os.Getpid(), counter)
	createM.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, srv.adminURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	createM.Lock()
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{srv.template}.Sanitize())
	createM.Unlock()
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, srv.adminURL); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	return withDB(srv.adminURL, name)
}

// Pool returns a pool on a fresh migrated database, closed when t ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return Connect(t, URL(t), 0)
}

// Connect returns a pool on the database at url (from URL, say), closed
// when t ends; maxConns > 0 caps its connections.
func Connect(t testing.TB, url string, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatalf("pgtest: pool: %v", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pgtest: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// AdminURL returns the connection string of the server's maintenance
// database (for tests that create databases of their own).
func AdminURL(t testing.TB) string {
	t.Helper()
	once.Do(start)
	if srv.err != nil {
		t.Fatalf("pgtest: %v", srv.err)
	}
	return srv.adminURL
}
