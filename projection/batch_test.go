package projection

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Two copies of one schema: statements run one by one on the "_seq" tables
// and through the batcher on the "_bat" tables, and must leave equal rows.
const batchSchema = `
CREATE TABLE bt_items%[1]s (
    instance_id text NOT NULL,
    id          text NOT NULL,
    name        text NOT NULL,
    version     bigint NOT NULL,
    tags        text[],
    doc         jsonb NOT NULL DEFAULT '{}',
    flag        boolean NOT NULL DEFAULT false,
    changed_at  timestamptz,
    note        text NOT NULL DEFAULT 'default',
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX bt_items%[1]s_name_idx ON bt_items%[1]s (instance_id, name);
CREATE TABLE bt_links%[1]s (
    instance_id text NOT NULL,
    item_id     text NOT NULL,
    link        text NOT NULL,
    seq         integer NOT NULL,
    PRIMARY KEY (instance_id, item_id, link)
);
CREATE UNIQUE INDEX bt_links%[1]s_seq_idx ON bt_links%[1]s (instance_id, seq);`

var (
	btInsert      = Insert("bt_items", "instance_id", "id", "name", "version", "tags", "changed_at")
	btInsertMin   = Insert("bt_items", "id", "instance_id", "name", "version")
	btUpsert      = Upsert("bt_items", []string{"instance_id", "id"}, "instance_id", "id", "name", "version", "tags", "doc", "flag", "changed_at", "note")
	btUpsertSome  = Upsert("bt_items", []string{"instance_id", "id"}, "instance_id", "id", "name", "version")
	btRename      = Update("bt_items", []string{"name", "version"}, "instance_id", "id")
	btTouch       = Update("bt_items", []string{"changed_at", "doc", "flag"}, "id", "instance_id")
	btDelete      = Delete("bt_items", "instance_id", "id")
	btDeleteInst  = Delete("bt_items", "instance_id")
	btFlagByName  = Update("bt_items", []string{"flag"}, "instance_id", "name")
	btLinkInsert  = Insert("bt_links", "instance_id", "item_id", "link", "seq")
	btLinkDelete  = Delete("bt_links", "instance_id", "item_id", "link")
	btLinkOfItem  = Delete("bt_links", "instance_id", "item_id")
	btLinkReseq   = Update("bt_links", []string{"seq"}, "instance_id", "item_id", "link")
	btLinkUpsertP = Upsert("bt_links", []string{"instance_id", "item_id", "link"}, "instance_id", "item_id", "link", "seq")
)

// randomStatement returns one statement over a small key space, so that
// keys collide often, for the tables it is given.
func randomStatement(r *rand.Rand, n int) func(t Tables) Statement {
	inst := []string{"i1", "i2"}[r.IntN(2)]
	id := fmt.Sprintf("x%d", r.IntN(12))
	link := fmt.Sprintf("l%d", r.IntN(4))
	ts := time.Date(2026, 1, 1, 0, 0, n, 0, time.UTC)
	name := fmt.Sprintf("n%d", r.IntN(5))
	flag := r.IntN(2) == 0
	var tags any
	if r.IntN(3) > 0 {
		tags = []string{name, fmt.Sprintf("t%d", n)}
	}
	op := r.IntN(16)
	if (op == 9 || op == 15) && r.IntN(3) > 0 {
		op = 5 // statements that flush stay rare enough for runs to fold
	}
	switch op {
	case 0, 1:
		return func(t Tables) Statement { return btInsert.Stmt(t, inst, id, name, int64(n), tags, ts) }
	case 2:
		return func(t Tables) Statement { return btInsertMin.Stmt(t, id, inst, name, int64(n)) }
	case 3:
		return func(t Tables) Statement {
			return btUpsert.Stmt(t, inst, id, name, int64(n), tags, fmt.Sprintf(`{"n": %d}`, n), flag, ts, "upserted")
		}
	case 4:
		return func(t Tables) Statement { return btUpsertSome.Stmt(t, inst, id, name, int64(n)) }
	case 5, 6:
		return func(t Tables) Statement { return btRename.Stmt(t, name, int64(n), inst, id) }
	case 7:
		return func(t Tables) Statement {
			return btTouch.Stmt(t, ts, fmt.Sprintf(`{"touched": %d}`, n), true, id, inst)
		}
	case 8:
		return func(t Tables) Statement { return btDelete.Stmt(t, inst, id) }
	case 9:
		if r.IntN(8) == 0 {
			return func(t Tables) Statement { return btDeleteInst.Stmt(t, inst) }
		}
		return func(t Tables) Statement { return btFlagByName.Stmt(t, true, inst, name) }
	case 10, 11:
		return func(t Tables) Statement { return btLinkInsert.Stmt(t, inst, id, link, int32(n)) }
	case 12:
		return func(t Tables) Statement { return btLinkDelete.Stmt(t, inst, id, link) }
	case 13:
		if r.IntN(4) == 0 {
			return func(t Tables) Statement { return btLinkOfItem.Stmt(t, inst, id) }
		}
		return func(t Tables) Statement { return btLinkReseq.Stmt(t, n, inst, id, link) }
	case 14:
		return func(t Tables) Statement { return btLinkUpsertP.Stmt(t, inst, id, link, n) }
	default:
		// hand-written SQL: the batcher runs it in place
		return func(t Tables) Statement {
			return Statement{SQL: "UPDATE " + t.T("bt_items") + " SET version = version + 1 WHERE instance_id = $1 AND id = $2",
				Args: []any{inst, id}}
		}
	}
}

func batchTables(suffix string) Tables {
	return Tables{"bt_items": "bt_items" + suffix, "bt_links": "bt_links" + suffix}
}

func setupBatchTables(t *testing.T, pool *pgxpool.Pool) map[string]*tableInfo {
	t.Helper()
	ctx := context.Background()
	infos := map[string]*tableInfo{}
	for _, sfx := range []string{"_seq", "_bat"} {
		if _, err := pool.Exec(ctx, fmt.Sprintf(batchSchema, sfx)); err != nil {
			t.Fatal(err)
		}
		for _, tbl := range []string{"bt_items" + sfx, "bt_links" + sfx} {
			ti, err := loadTableInfo(ctx, pool, tbl)
			if err != nil {
				t.Fatal(err)
			}
			infos[tbl] = ti
		}
	}
	return infos
}

// TestBatchMatchesOneByOne runs random statements one by one, keeping the
// ones that succeed, then runs the kept ones through the batcher in random
// batches on a second copy of the tables: the rows must be identical. Some
// batches end by carrying their updates to the next batch, as a rebuild's
// pass does (bt_links.seq is in a unique index: its updates are not
// carried).
func TestBatchMatchesOneByOne(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	infos := setupBatchTables(t, pool)
	if got := infos["bt_items_bat"].pk; strings.Join(got, ",") != "instance_id,id" {
		t.Fatalf("primary key of bt_items_bat = %v", got)
	}
	seqT, batT := batchTables("_seq"), batchTables("_bat")
	for seed := uint64(1); seed <= 6; seed++ {
		r := rand.New(rand.NewPCG(seed, 42))
		for _, tbl := range []string{"bt_items_seq", "bt_links_seq", "bt_items_bat", "bt_links_bat"} {
			if _, err := pool.Exec(ctx, "TRUNCATE "+tbl); err != nil {
				t.Fatal(err)
			}
		}
		// one by one, each in a savepoint: a failing statement is dropped
		type gen struct{ seq, bat Statement }
		var kept []gen
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		failed := 0
		for n := 0; n < 1500; n++ {
			mk := randomStatement(r, n)
			s, b := mk(seqT), mk(batT)
			sp, err := tx.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sp.Exec(ctx, s.SQL, s.Args...); err != nil {
				failed++
				_ = sp.Rollback(ctx)
				continue
			}
			if err := sp.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			kept = append(kept, gen{s, b})
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if failed == 0 || failed > 1000 {
			t.Fatalf("seed %d: %d of 1500 statements failed; the generator should make some, not most, fail", seed, failed)
		}
		// batched, in batches of random size
		bt := newBatcher(batT, infos)
		queued := 0
		for i := 0; i < len(kept); {
			size := 1 + r.IntN(300)
			b := &plan{}
			bt.start(b)
			// inserts by COPY from every row, from a few, or as a rebuild does
			bt.copyMin = []int{1, 5, copyRows}[r.IntN(3)]
			for _, g := range kept[i:min(i+size, len(kept))] {
				bt.add(g.bat)
			}
			if i+size >= len(kept) || r.IntN(3) == 0 {
				bt.flushAll()
			} else {
				bt.carry([]int{0, 3, 1000}[r.IntN(3)])
			}
			queued += b.statements()
			if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return b.exec(ctx, tx) }); err != nil {
				t.Fatalf("seed %d: batch at statement %d: %v", seed, i, err)
			}
			i += size
		}
		// the batcher must have folded, not merely passed statements on
		if queued*10 > len(kept)*8 {
			t.Fatalf("seed %d: %d statements became %d; expected folding", seed, len(kept), queued)
		}
		for _, tbl := range []string{"bt_items", "bt_links"} {
			want := checksum(t, pool, tbl+"_seq")
			got := checksum(t, pool, tbl+"_bat")
			if strings.SplitN(want, "=", 2)[1] != strings.SplitN(got, "=", 2)[1] {
				logDiff(t, pool, tbl+"_seq", tbl+"_bat")
				t.Fatalf("seed %d: %s differ after %d statements (%d dropped):\n one by one %s\n batched    %s",
					seed, tbl, len(kept), failed, want, got)
			}
		}
	}
}

// TestBatchCarry: updates carried from batch to batch are written once, by
// the batch that flushes them, and an update of a column in a unique index
// is not carried: it may free a value that a later insert of the same batch
// takes.
func TestBatchCarry(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE bt_carry (id text PRIMARY KEY, name text NOT NULL UNIQUE, v bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	ti, err := loadTableInfo(ctx, pool, "bt_carry")
	if err != nil {
		t.Fatal(err)
	}
	if !ti.unique["name"] || ti.unique["id"] || ti.unique["v"] {
		t.Fatalf("unique columns of bt_carry = %v, want name", ti.unique)
	}
	tables := Tables{"bt_carry": "bt_carry"}
	ins := Insert("bt_carry", "id", "name", "v")
	setV := Update("bt_carry", []string{"v"}, "id")
	rename := Update("bt_carry", []string{"name", "v"}, "id")
	bt := newBatcher(tables, map[string]*tableInfo{"bt_carry": ti})
	bt.copyMin = copyRows
	run := func(last bool, sts ...Statement) int {
		t.Helper()
		b := &plan{}
		bt.start(b)
		for _, s := range sts {
			bt.add(s)
		}
		if last {
			bt.flushAll()
		} else {
			bt.carry(10)
		}
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return b.exec(ctx, tx) }); err != nil {
			t.Fatal(err)
		}
		return b.statements()
	}
	rows := func() string {
		t.Helper()
		var s string
		if err := pool.QueryRow(ctx, `SELECT coalesce(string_agg(id || ':' || name || ':' || v, ' ' ORDER BY id), '') FROM bt_carry`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	run(false, ins.Stmt(tables, "a", "x", int64(1)))
	// a's v moves in two batches: nothing is written until the last one
	if n := run(false, setV.Stmt(tables, int64(2), "a")); n != 0 {
		t.Fatalf("a carried update ran %d statements", n)
	}
	if n := run(false, setV.Stmt(tables, int64(3), "a")); n != 0 {
		t.Fatalf("a carried update ran %d statements", n)
	}
	if got := rows(); got != "a:x:1" {
		t.Fatalf("rows while carrying = %q", got)
	}
	// a gives its name up and b takes it, in one batch: one by one that
	// succeeds, so the rename must not wait behind the insert
	run(false, rename.Stmt(tables, "y", int64(4), "a"), ins.Stmt(tables, "b", "x", int64(5)))
	run(true)
	if got := rows(); got != "a:y:4 b:x:5" {
		t.Fatalf("rows = %q, want a:y:4 b:x:5", got)
	}
	// more updates than the limit: the batch flushes them all
	var sts []Statement
	for i := range 11 {
		id := fmt.Sprintf("c%02d", i)
		run(false, ins.Stmt(tables, id, id, int64(0)))
		sts = append(sts, setV.Stmt(tables, int64(1), id))
	}
	run(true)
	if n := run(false, sts...); n == 0 {
		t.Fatal("11 updates against a limit of 10 were carried")
	}
}

// TestBatchFailsWhereOneByOneFails: a batch whose statements would fail one
// by one fails too, including an insert over an existing row that the batch
// then deletes again (the row never reaches an INSERT of its own).
func TestBatchFailsWhereOneByOneFails(t *testing.T) {
	// inserts as INSERT statements, and by COPY
	for _, copyMin := range []int{copyRows, 1} {
		t.Run(fmt.Sprintf("copy from %d rows", copyMin), func(t *testing.T) { batchFailsWhereOneByOneFails(t, copyMin) })
	}
}

func batchFailsWhereOneByOneFails(t *testing.T, copyMin int) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	infos := setupBatchTables(t, pool)
	batT := batchTables("_bat")
	run := func(sts ...Statement) error {
		bt := newBatcher(batT, infos)
		b := &plan{}
		bt.start(b)
		bt.copyMin = copyMin
		for _, s := range sts {
			bt.add(s)
		}
		bt.flushAll()
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return b.exec(ctx, tx) })
	}
	ts := time.Now()
	if err := run(btInsert.Stmt(batT, "i", "a", "n", int64(1), nil, ts)); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]Statement{
		"insert twice": {
			btInsert.Stmt(batT, "i", "b", "n", int64(1), nil, ts),
			btInsert.Stmt(batT, "i", "b", "n", int64(2), nil, ts),
		},
		"insert over an existing row": {btInsert.Stmt(batT, "i", "a", "n", int64(2), nil, ts)},
		"insert over an existing row, then delete it": {
			btInsert.Stmt(batT, "i", "a", "n", int64(2), nil, ts),
			btDelete.Stmt(batT, "i", "a"),
		},
		"update, then insert over the row": {
			btRename.Stmt(batT, "m", int64(3), "i", "a"),
			btInsert.Stmt(batT, "i", "a", "n", int64(2), nil, ts),
		},
	}
	for name, sts := range cases {
		if err := run(sts...); err == nil {
			t.Errorf("%s: the batch succeeded; one by one it fails", name)
		}
	}
	if got := checksum(t, pool, "bt_items_bat"); !strings.Contains(got, "=") || strings.HasSuffix(got, "=empty") {
		t.Fatalf("the first row is gone: %s", got)
	}
	// and the cases that succeed one by one succeed batched
	for name, sts := range map[string][]Statement{
		"delete, then insert": {btDelete.Stmt(batT, "i", "a"), btInsert.Stmt(batT, "i", "a", "n", int64(4), nil, ts)},
		"insert, delete, insert": {
			btInsert.Stmt(batT, "i", "c", "n", int64(1), nil, ts),
			btDelete.Stmt(batT, "i", "c"),
			btInsert.Stmt(batT, "i", "c", "n", int64(2), nil, ts),
		},
	} {
		if err := run(sts...); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// logDiff logs the rows that are in one table and not in the other.
func logDiff(t *testing.T, pool *pgxpool.Pool, a, b string) {
	rows, err := pool.Query(context.Background(), "(SELECT '"+a+"', * FROM "+a+" EXCEPT SELECT '"+a+"', * FROM "+b+
		") UNION ALL (SELECT '"+b+"', * FROM "+b+" EXCEPT SELECT '"+b+"', * FROM "+a+")")
	if err != nil {
		t.Logf("diff: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		v, _ := rows.Values()
		t.Logf("%v", v)
	}
}

func TestBatchLimitFollowsPayloadSize(t *testing.T) {
	of := func(n, size int) []eventstore.Event {
		evs := make([]eventstore.Event, n)
		for i := range evs {
			evs[i].Payload = make([]byte, size)
		}
		return evs
	}
	for _, c := range []struct{ n, size, want int }{
		{5000, 200, rebuildBatch},                            // typical events: full batches
		{1000, 100 << 10, rebuildBatchBytes / (100<<10 + 1)}, // 100 KB each: about 81
		{60, 1 << 20, 50},                                    // 1 MB each: the floor
	} {
		if got := batchLimit(of(c.n, c.size)); got != c.want {
			t.Errorf("%d events of %d bytes: next batch %d, want %d", c.n, c.size, got, c.want)
		}
	}
}
