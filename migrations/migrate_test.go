package migrations_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idledger/idledger/internal/pgtest"
	"github.com/idledger/idledger/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func allVersions(t *testing.T) []int {
	t.Helper()
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no migrations embedded")
	}
	var vs []int
	for _, m := range all {
		vs = append(vs, m.Version)
	}
	return vs
}

func TestAllOrderedAndUnique(t *testing.T) {
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Version <= all[i-1].Version {
			t.Errorf("%s does not come after %s", all[i].Name, all[i-1].Name)
		}
	}
}

// TestApplyIdempotent migrates an empty database, then migrates it again:
// the second run applies nothing and leaves the schema exactly as it was,
// which is also the schema of pgtest's migrated template.
func TestApplyIdempotent(t *testing.T) {
	ctx := context.Background()
	pool := newPool(t, emptyDatabase(t))

	applied, err := migrations.Apply(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(applied, allVersions(t)) {
		t.Fatalf("first Apply applied %v, want %v", applied, allVersions(t))
	}
	first := schemaDump(t, pool)
	t.Logf("schema dump: %d objects", strings.Count(first, "\n")+1)

	applied, err = migrations.Apply(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Fatalf("second Apply applied %v, want nothing", applied)
	}
	if second := schemaDump(t, pool); second != first {
		t.Fatalf("the schema changed on the second Apply:\n%s", diff(first, second))
	}
	assertRecordedOnce(t, pool)

	if tpl := schemaDump(t, pgtest.Pool(t)); tpl != first {
		t.Fatalf("pgtest's template schema differs from a fresh migration:\n%s", diff(first, tpl))
	}
}

// TestApplyConcurrent runs Apply from 8 pools (as 8 processes would) at the
// same moment on one empty database.
func TestApplyConcurrent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dbURL := emptyDatabase(t)
	const n = 8
	pools := make([]*pgxpool.Pool, n)
	for i := range pools {
		pools[i] = newPool(t, dbURL)
		// Connect before the start signal, so the Apply calls really overlap.
		if err := pools[i].Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var (
		start   = make(chan struct{})
		wg      sync.WaitGroup
		total   atomic.Int64
		errList = make([]error, n)
	)
	for i, pool := range pools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			applied, err := migrations.Apply(ctx, pool)
			errList[i] = err
			total.Add(int64(len(applied)))
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errList {
		if err != nil {
			t.Errorf("Apply %d: %v", i, err)
		}
	}
	if got, want := total.Load(), int64(len(allVersions(t))); got != want {
		t.Errorf("the 8 Apply calls applied %d migrations in total, want %d", got, want)
	}
	assertRecordedOnce(t, pools[0])

	// The result is the same schema as a single migration produces.
	single := newPool(t, emptyDatabase(t))
	if _, err := migrations.Apply(ctx, single); err != nil {
		t.Fatal(err)
	}
	if a, b := schemaDump(t, single), schemaDump(t, pools[0]); a != b {
		t.Fatalf("concurrent migration produced another schema:\n%s", diff(a, b))
	}
}

func assertRecordedOnce(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	var gotInts []int
	for _, v := range got {
		gotInts = append(gotInts, int(v))
	}
	if want := allVersions(t); !slices.Equal(gotInts, want) {
		t.Fatalf("schema_migrations holds %v, want each of %v once", gotInts, want)
	}
}

// schemaDump lists, in a stable order, every table column, index,
// constraint, function and trigger outside the system schemas.
func schemaDump(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	queries := []string{
		`SELECT 'column ' || table_schema || '.' || table_name || '.' || column_name || ' ' || data_type ||
			' nullable=' || is_nullable || ' default=' || coalesce(column_default, '') ||
			' identity=' || is_identity
		 FROM information_schema.columns
		 WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`,
		`SELECT 'index ' || schemaname || '.' || indexname || ': ' || indexdef
		 FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
		`SELECT 'constraint ' || n.nspname || '.' || c.conrelid::regclass::text || '.' || c.conname || ': ' || pg_get_constraintdef(c.oid)
		 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
		 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')`,
		`SELECT 'function ' || n.nspname || '.' || p.proname || ': ' || md5(pg_get_functiondef(p.oid))
		 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')`,
		`SELECT 'trigger ' || tgrelid::regclass::text || '.' || tgname || ': ' || pg_get_triggerdef(oid)
		 FROM pg_trigger WHERE NOT tgisinternal`,
	}
	var lines []string
	for _, q := range queries {
		rows, err := pool.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("schema dump: %v\n%s", err, q)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("schema dump: %v", err)
		}
		lines = append(lines, got...)
	}
	if len(lines) == 0 {
		t.Fatal("schema dump is empty")
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func diff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for _, l := range al {
		if !slices.Contains(bl, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

func newPool(t *testing.T, dbURL string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

var dbCounter atomic.Int64

// emptyDatabase creates a database with no migration applied on the test
// server, and drops it when t ends.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	admin := pgtest.AdminURL(t)
	name := fmt.Sprintf("idl_mig_%d_%d", os.Getpid(), dbCounter.Add(1))
	ident := pgx.Identifier{name}.Sanitize()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: the pools that tests open on this
	// database later are closed before it is dropped.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(admin)
	if err != nil || u.Scheme == "" {
		return admin + " dbname=" + name // keyword/value form
	}
	u.Path = "/" + name
	return u.String()
}
