package projection

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// A rebuild applies thousands of events per transaction. Running each
// reducer statement on its own would cost a round trip's worth of parsing,
// planning and index descent per event, so the rebuild folds a batch's
// statements per table first:
//
//   - a statement built from a Shape that names one row by the table's whole
//     primary key (an insert, a full-row upsert, an update or a delete by key)
//     joins the table's pending rows, where it combines with what the batch
//     already did to that key: an insert then an update is one insert, an
//     insert then a delete leaves nothing, three updates are one;
//   - any other statement (a delete of all of a user's rows, hand-written
//     SQL) first flushes what is pending on its table (on every table, for
//     hand-written SQL) and then runs as it is.
//
// A flush runs at most four set-based statements per table, in an order
// that gives the same rows as running the statements one by one: check that
// rows inserted and deleted again within the batch never existed before
// (their insert would have failed), delete, update, insert. Keys are distinct
// across those sets, so their order only matters where a unique index spans
// two keys, and there deleting first is what one-by-one order did.
// TestBatchMatchesOneByOne compares the two on random statements.

// tableInfo is what a batch needs to know of a physical table.
type tableInfo struct {
	name  string
	pk    []string
	cols  []string          // every column, in table order
	types map[string]string // column -> SQL type
	// unique: the columns of unique indexes other than the primary key;
	// uniqueExpr: one of them is partial or on an expression. An update of
	// none of those columns cannot collide with another row (carry).
	unique     map[string]bool
	uniqueExpr bool
}

// loadTableInfo reads the columns, types and primary key of table.
func loadTableInfo(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, table string) (*tableInfo, error) {
	rows, err := q.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod),
            coalesce(array_position(i.indkey::int2[], a.attnum) - array_lower(i.indkey::int2[], 1) + 1, 0)
        FROM pg_attribute a
        LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
        WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`, ident(table))
	if err != nil {
		return nil, fmt.Errorf("rebuild: read columns of %s: %w", table, err)
	}
	ti := &tableInfo{name: table, types: map[string]string{}}
	pkPos := map[int]string{}
	var name, typ string
	var pos int
	if _, err := pgx.ForEachRow(rows, []any{&name, &typ, &pos}, func() error {
		ti.cols = append(ti.cols, name)
		ti.types[name] = typ
		if pos > 0 {
			pkPos[pos] = name
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("rebuild: read columns of %s: %w", table, err)
	}
	for i := 1; i <= len(pkPos); i++ {
		ti.pk = append(ti.pk, pkPos[i])
	}
	rows, err = q.Query(ctx, `SELECT coalesce(a.attname, ''), i.indexprs IS NOT NULL OR i.indpred IS NOT NULL
        FROM pg_index i
        LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey::int2[]) AND a.attnum > 0
        WHERE i.indrelid = $1::text::regclass AND (i.indisunique OR i.indisexclusion) AND NOT i.indisprimary`, ident(table))
	if err != nil {
		return nil, fmt.Errorf("rebuild: read unique indexes of %s: %w", table, err)
	}
	ti.unique = map[string]bool{}
	var expr bool
	if _, err := pgx.ForEachRow(rows, []any{&name, &expr}, func() error {
		if name != "" {
			ti.unique[name] = true
		}
		ti.uniqueExpr = ti.uniqueExpr || expr
		return nil
	}); err != nil {
		return nil, fmt.Errorf("rebuild: read unique indexes of %s: %w", table, err)
	}
	return ti, nil
}

// shapeInfo says whether and how a shape's statements name one row by key.
type shapeInfo struct {
	t      *tableInfo
	keyed  bool
	keyArg []int // argument index of each primary key column
	nset   int   // Update: the first nset arguments are the set values
	// the shape's columns (Insert, Upsert: given; Update: set) sorted, the
	// argument index of each, and their signature: entries hold their
	// columns sorted, so that shapes naming the same columns in another
	// order share one statement
	sorted []string
	perm   []int
	sig    string
}

// values returns the arguments of the shape's columns in sorted order.
func (si *shapeInfo) values(args []any) []any {
	out := make([]any, len(si.perm))
	for i, j := range si.perm {
		out[i] = args[j]
	}
	return out
}

func describe(s *Shape, t *tableInfo) *shapeInfo {
	si := &shapeInfo{t: t}
	if t == nil || len(t.pk) == 0 {
		return si
	}
	var named []string // the columns whose arguments identify the row
	switch s.op {
	case opInsert:
		named = s.cols
	case opUpsert:
		// a full-row replacement only when every column is given
		if len(s.cols) != len(t.cols) || !sameSet(s.key, t.pk) {
			return si
		}
		for _, c := range t.cols {
			if !contains(s.cols, c) {
				return si
			}
		}
		named = s.cols
	case opUpdate:
		if !sameSet(s.where, t.pk) {
			return si
		}
		for _, c := range s.cols {
			if contains(t.pk, c) {
				return si // a key change is not a change of one row
			}
		}
		si.nset = len(s.cols)
		named = append(make([]string, len(s.cols)), s.where...)
	case opDelete:
		if !sameSet(s.where, t.pk) {
			return si
		}
		named = s.where
	}
	for _, k := range t.pk {
		i := slices.Index(named, k)
		if i < 0 {
			return si
		}
		si.keyArg = append(si.keyArg, i)
	}
	si.keyed = true
	si.perm = make([]int, len(s.cols))
	for i := range si.perm {
		si.perm[i] = i
	}
	slices.SortFunc(si.perm, func(a, b int) int { return strings.Compare(s.cols[a], s.cols[b]) })
	si.sorted = make([]string, len(s.cols))
	for i, j := range si.perm {
		si.sorted[i] = s.cols[j]
	}
	si.sig = strings.Join(si.sorted, ",")
	return si
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !contains(b, x) {
			return false
		}
	}
	return true
}

// Row states within a batch, relative to the row as it was before it.
const (
	stInsert  = iota + 1 // the row was absent; now it holds cols/vals
	stReplace            // the row, if any, was deleted; now it holds cols/vals
	stDeleted            // the row, if any, was deleted
	stUpdated            // the row, if any, has cols set to vals
	stGone               // the row was absent (an insert succeeded), and is again
)

type entry struct {
	state int
	key   []any
	cols  []string
	vals  []any
	sig   string // cols joined, when known ("": normalize sorts and joins)
	ks    string // the key as the pending entries' map has it
}

// set gives the entry's columns the values, adding the ones it lacks.
func (e *entry) set(cols []string, vals []any) {
	e.cols, e.vals = slices.Clone(e.cols), slices.Clone(e.vals)
	for i, c := range cols {
		if j := slices.Index(e.cols, c); j >= 0 {
			e.vals[j] = vals[i]
		} else {
			e.cols, e.vals = append(e.cols, c), append(e.vals, vals[i])
			e.sig = ""
		}
	}
}

type pending struct {
	t       *tableInfo
	entries map[string]*entry
	order   []*entry // first-touch order, so flushes are deterministic
}

// copyRows is the fewest rows a flush inserts with COPY instead of an
// INSERT from unnest: COPY writes its rows to the heap a page at a time and
// skips the arrays and the set-returning function, but costs a round trip of
// its own.
const copyRows = 200

// A plan is what a batch of events does to the shadows: statement batches
// and COPYs, run in order in one transaction.
type plan struct {
	steps []planStep
}

type planStep struct {
	batch *pgx.Batch // or:
	table string     // a COPY of rows into table's cols
	cols  []string
	rows  [][]any
}

// batch returns the statement batch at the plan's end, starting one after a
// COPY.
func (p *plan) batch() *pgx.Batch {
	if n := len(p.steps); n > 0 && p.steps[n-1].batch != nil {
		return p.steps[n-1].batch
	}
	p.steps = append(p.steps, planStep{batch: &pgx.Batch{}})
	return p.steps[len(p.steps)-1].batch
}

// Queue adds a statement at the plan's end.
func (p *plan) Queue(sql string, args ...any) *pgx.QueuedQuery { return p.batch().Queue(sql, args...) }

// exec runs the plan in tx.
func (p *plan) exec(ctx context.Context, tx pgx.Tx) error {
	for _, st := range p.steps {
		if st.batch != nil {
			if st.batch.Len() == 0 {
				continue
			}
			if err := tx.SendBatch(ctx, st.batch).Close(); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{st.table}, st.cols, pgx.CopyFromRows(st.rows)); err != nil {
			return fmt.Errorf("copy into %s: %w", st.table, err)
		}
	}
	return nil
}

// statements is how many statements and COPYs the plan holds.
func (p *plan) statements() int {
	n := 0
	for _, st := range p.steps {
		if st.batch != nil {
			n += st.batch.Len()
		} else {
			n++
		}
	}
	return n
}

// batcher folds statements into set-based ones, queued on b.
type batcher struct {
	b       *plan
	copyMin int // the fewest rows inserted with COPY
	tables  Tables
	infos   map[string]*tableInfo // by physical name
	shapes  map[*Shape]*shapeInfo
	pending map[string]*pending // by physical name
	sql     map[string]string   // generated statements, by table, kind and columns
}

func newBatcher(tables Tables, infos map[string]*tableInfo) *batcher {
	return &batcher{tables: tables, infos: infos, shapes: map[*Shape]*shapeInfo{},
		pending: map[string]*pending{}, sql: map[string]string{}, copyMin: copyRows}
}

// start directs the statements bt queues from now on to b.
func (bt *batcher) start(b *plan) { bt.b = b }

func (bt *batcher) info(s *Shape) *shapeInfo {
	si, ok := bt.shapes[s]
	if !ok {
		si = describe(s, bt.infos[bt.tables.T(s.table)])
		bt.shapes[s] = si
	}
	return si
}

// add folds s into the batch.
func (bt *batcher) add(s Statement) {
	if s.shape == nil {
		bt.flushAll()
		bt.b.Queue(s.SQL, s.Args...)
		return
	}
	si := bt.info(s.shape)
	if !si.keyed {
		if si.t != nil {
			bt.flush(si.t.name)
		} else {
			bt.flushAll()
		}
		bt.b.Queue(s.SQL, s.Args...)
		return
	}
	key := make([]any, len(si.keyArg))
	var kb strings.Builder
	size := 0
	for _, a := range si.keyArg {
		if v, ok := s.Args[a].(string); ok {
			size += len(v) + 1
		}
	}
	kb.Grow(size)
	for i, a := range si.keyArg {
		key[i] = s.Args[a]
		if v, ok := key[i].(string); ok {
			kb.WriteString(v)
		} else {
			fmt.Fprintf(&kb, "%T:%v", key[i], key[i])
		}
		kb.WriteByte(0)
	}
	ks := kb.String()
	p := bt.pendingOn(si.t)
	if e := p.entries[ks]; e != nil {
		if fold(e, s.shape, si, s.Args) {
			return
		}
		// What the batch holds for this key cannot absorb s (an insert over
		// a row it knows exists): run everything so far as written, so the
		// database answers exactly as it would have one by one.
		bt.flush(si.t.name)
		p = bt.pendingOn(si.t)
	}
	e := &entry{key: key, ks: ks}
	fold(e, s.shape, si, s.Args)
	p.entries[ks] = e
	p.order = append(p.order, e)
}

func (bt *batcher) pendingOn(t *tableInfo) *pending {
	p := bt.pending[t.name]
	if p == nil {
		p = &pending{t: t, entries: map[string]*entry{}}
		bt.pending[t.name] = p
	}
	return p
}

// fold applies one keyed statement to e (state 0: nothing pending for the
// key yet). It reports false when e cannot absorb it.
func fold(e *entry, s *Shape, si *shapeInfo, args []any) bool {
	switch s.op {
	case opInsert, opUpsert:
		insert := s.op == opInsert
		switch e.state {
		case 0:
			e.state = stReplace
			if insert {
				e.state = stInsert
			}
		case stInsert, stGone:
			if insert && e.state == stInsert {
				return false // a duplicate key: let the database say so
			}
			e.state = stInsert
		case stReplace, stUpdated:
			if insert {
				return false
			}
			e.state = stReplace
		case stDeleted:
			e.state = stReplace
		}
		e.cols, e.vals, e.sig = si.sorted, si.values(args), si.sig
	case opUpdate:
		switch e.state {
		case 0:
			e.state = stUpdated
			e.cols, e.vals, e.sig = si.sorted, si.values(args[:si.nset]), si.sig
		case stInsert, stReplace, stUpdated:
			e.set(s.cols, args[:si.nset])
		}
	case opDelete:
		switch e.state {
		case stInsert, stGone:
			e.state = stGone
		default:
			e.state = stDeleted
		}
		e.cols, e.vals, e.sig = nil, nil, ""
	}
	return true
}

// flushAll flushes every table, in a fixed order.
func (bt *batcher) flushAll() {
	names := make([]string, 0, len(bt.pending))
	for n := range bt.pending {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		bt.flush(n)
	}
}

// carry ends a batch like flushAll, except that it keeps the pending
// updates of existing rows that can collide with no other row (they set no
// column of a unique index) for the next batch, while there are at most
// limit of them: a row updated by many batches (a user's sequence, moved by
// each of its links) is then written once, as if the batches were one. The
// rows it flushes only ever have other keys than the ones it keeps, and a
// statement that is not keyed still flushes its table (hand-written SQL:
// every table) first, so the rows come out as in one larger batch; the
// caller runs flushAll after the last batch.
func (bt *batcher) carry(limit int) {
	kept := 0
	for _, p := range bt.pending {
		for _, e := range p.order {
			if e.carries(p.t) {
				kept++
			}
		}
	}
	if kept > limit {
		bt.flushAll()
		return
	}
	names := make([]string, 0, len(bt.pending))
	for n := range bt.pending {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p := bt.pending[n]
		// flush reads only the order of what it flushes
		rest := &pending{t: p.t}
		order := p.order[:0]
		for _, e := range p.order {
			if e.carries(p.t) {
				order = append(order, e)
			} else {
				rest.order = append(rest.order, e)
				delete(p.entries, e.ks)
			}
		}
		if len(rest.order) == 0 {
			continue
		}
		clear(p.order[len(order):])
		p.order = order
		bt.pending[n] = rest
		bt.flush(n)
		if len(p.order) > 0 {
			bt.pending[n] = p
		}
	}
}

// carried is how many entries are pending.
func (bt *batcher) carried() int {
	n := 0
	for _, p := range bt.pending {
		n += len(p.order)
	}
	return n
}

// carries reports whether the entry, pending on table t, may wait for a
// later batch: an update of an existing row, of no column a unique index
// covers.
func (e *entry) carries(t *tableInfo) bool {
	if e.state != stUpdated || t.uniqueExpr {
		return false
	}
	for _, c := range e.cols {
		if t.unique[c] {
			return false
		}
	}
	return true
}

// flush queues the set-based statements for what is pending on table.
func (bt *batcher) flush(table string) {
	p := bt.pending[table]
	if p == nil || len(p.order) == 0 {
		return
	}
	delete(bt.pending, table)
	var gone, dels []*entry
	updates, inserts := map[string][]*entry{}, map[string][]*entry{}
	var updOrder, insOrder []string
	group := func(m map[string][]*entry, order *[]string, e *entry) {
		normalize(e)
		sig := e.sig
		if _, ok := m[sig]; !ok {
			*order = append(*order, sig)
		}
		m[sig] = append(m[sig], e)
	}
	for _, e := range p.order {
		switch e.state {
		case stGone:
			gone = append(gone, e)
		case stDeleted:
			dels = append(dels, e)
		case stReplace:
			dels = append(dels, e)
			group(inserts, &insOrder, e)
		case stInsert:
			group(inserts, &insOrder, e)
		case stUpdated:
			group(updates, &updOrder, e)
		}
	}
	t := p.t
	if len(gone) > 0 {
		q, args := bt.keyed(t, "check", gone, nil)
		n := len(gone)
		bt.b.Queue(q, args...).QueryRow(func(row pgx.Row) error {
			var found int64
			if err := row.Scan(&found); err != nil {
				return err
			}
			if found > 0 {
				return fmt.Errorf("duplicate key value violates the primary key of %s: %d of %d rows the batch inserted and deleted already existed", t.name, found, n)
			}
			return nil
		})
	}
	if len(dels) > 0 {
		q, args := bt.keyed(t, "delete", dels, nil)
		bt.b.Queue(q, args...)
	}
	for _, sig := range updOrder {
		es := updates[sig]
		q, args := bt.keyed(t, "update", es, es[0].cols)
		bt.b.Queue(q, args...)
	}
	for _, sig := range insOrder {
		es := inserts[sig]
		if len(es) >= bt.copyMin {
			rows := make([][]any, len(es))
			for i, e := range es {
				rows[i] = e.vals
			}
			bt.b.steps = append(bt.b.steps, planStep{table: t.name, cols: es[0].cols, rows: rows})
			continue
		}
		q, args := bt.insert(t, es, es[0].cols)
		bt.b.Queue(q, args...)
	}
}

// normalize sorts an entry's columns, so that entries setting the same
// columns in another order share one statement.
func normalize(e *entry) {
	if e.sig != "" {
		return // sorted when it was set
	}
	defer func() { e.sig = strings.Join(e.cols, ",") }()
	if slices.IsSorted(e.cols) {
		return
	}
	idx := make([]int, len(e.cols))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(e.cols[a], e.cols[b]) })
	cols, vals := make([]string, len(idx)), make([]any, len(idx))
	for i, j := range idx {
		cols[i], vals[i] = e.cols[j], e.vals[j]
	}
	e.cols, e.vals = cols, vals
}

// keyed builds a statement that joins the table to the entries' keys (and,
// for update, their values of cols) unnested from arrays: kind is check,
// delete or update.
func (bt *batcher) keyed(t *tableInfo, kind string, es []*entry, cols []string) (string, []any) {
	args := make([]any, 0, len(t.pk)+len(cols))
	for i, k := range t.pk {
		args = append(args, column(t.types[k], es, func(e *entry) any { return e.key[i] }))
	}
	for i, c := range cols {
		args = append(args, column(t.types[c], es, func(e *entry) any { return e.vals[i] }))
	}
	sk := t.name + "\x00" + kind + "\x00" + strings.Join(cols, ",")
	if q, ok := bt.sql[sk]; ok {
		return q, args
	}
	from, alias := unnestFrom(t, t.pk, cols)
	var match []string
	for i, k := range t.pk {
		match = append(match, "t."+ident(k)+" = u.k"+strconv.Itoa(i))
	}
	on := strings.Join(match, " AND ")
	var q string
	switch kind {
	case "check":
		q = "SELECT count(*) FROM " + ident(t.name) + " t, " + from + " WHERE " + on
	case "delete":
		q = "DELETE FROM " + ident(t.name) + " t USING " + from + " WHERE " + on
	case "update":
		set := make([]string, len(cols))
		for i, c := range cols {
			set[i] = ident(c) + " = " + alias[len(t.pk)+i]
		}
		q = "UPDATE " + ident(t.name) + " t SET " + strings.Join(set, ", ") + " FROM " + from + " WHERE " + on
	}
	bt.sql[sk] = q
	return q, args
}

// insert builds one INSERT of the entries' rows (all with columns cols).
func (bt *batcher) insert(t *tableInfo, es []*entry, cols []string) (string, []any) {
	args := make([]any, 0, len(cols))
	for i, c := range cols {
		args = append(args, column(t.types[c], es, func(e *entry) any { return e.vals[i] }))
	}
	sk := t.name + "\x00insert\x00" + strings.Join(cols, ",")
	if q, ok := bt.sql[sk]; ok {
		return q, args
	}
	from, alias := unnestFrom(t, nil, cols)
	q := "INSERT INTO " + ident(t.name) + " (" + identList(cols) + ") SELECT " + strings.Join(alias, ", ") + " FROM " + from
	bt.sql[sk] = q
	return q, args
}

// unnestFrom returns "unnest($1::T[], …) AS u(k0, …, c0, …)" for the key
// columns and value columns, and the expression that reads each from u.
// Array-typed columns travel as JSON (unnest would flatten them).
func unnestFrom(t *tableInfo, keys, cols []string) (string, []string) {
	var params, names, exprs []string
	add := func(name, col string) {
		typ := t.types[col]
		n := "$" + strconv.Itoa(len(params)+1)
		if strings.HasSuffix(typ, "[]") {
			params = append(params, n+"::jsonb[]")
			exprs = append(exprs, "CASE WHEN u."+name+" IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(u."+name+"))::"+typ+" END")
		} else {
			params = append(params, n+"::"+typ+"[]")
			exprs = append(exprs, "u."+name)
		}
		names = append(names, name)
	}
	for i, k := range keys {
		add("k"+strconv.Itoa(i), k)
	}
	for i, c := range cols {
		add("c"+strconv.Itoa(i), c)
	}
	return "unnest(" + strings.Join(params, ", ") + ") AS u(" + strings.Join(names, ", ") + ")", exprs
}

// column gathers one column's values across es as a typed slice, which pgx
// sends as an array without per-element reflection.
func column(typ string, es []*entry, get func(*entry) any) any {
	if strings.HasSuffix(typ, "[]") {
		out := make([]*string, len(es))
		for i, e := range es {
			if v := get(e); v != nil {
				b, err := json.Marshal(v)
				if err != nil {
					b = []byte("null")
				}
				s := string(b)
				out[i] = &s
			}
		}
		return out
	}
	switch get(es[0]).(type) {
	case string:
		if out, ok := gather[string](es, get); ok {
			return out
		}
	case int64, int32, int16, int:
		if out, ok := gatherInts(es, get); ok {
			return out
		}
	case time.Time:
		if out, ok := gather[time.Time](es, get); ok {
			return out
		}
	case bool:
		if out, ok := gather[bool](es, get); ok {
			return out
		}
	}
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = get(e)
	}
	return out
}

func gather[T any](es []*entry, get func(*entry) any) ([]T, bool) {
	out := make([]T, len(es))
	for i, e := range es {
		v, ok := get(e).(T)
		if !ok {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

func gatherInts(es []*entry, get func(*entry) any) ([]int64, bool) {
	out := make([]int64, len(es))
	for i, e := range es {
		switch v := get(e).(type) {
		case int64:
			out[i] = v
		case int32:
			out[i] = int64(v)
		case int16:
			out[i] = int64(v)
		case int:
			out[i] = int64(v)
		default:
			return nil, false
		}
	}
	return out, true
}
