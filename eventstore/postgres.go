package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// AppendLockKey is the advisory lock every append holds in shared mode for
// its whole transaction. A projection swap takes it exclusively for a moment,
// which waits for in-flight appends and holds new ones back.
const AppendLockKey int64 = 0x1d1ed9e8

// NotifyChannel is the LISTEN/NOTIFY channel appends signal on commit.
const NotifyChannel = "idledger_events"

// InlineHook runs inside the append transaction after the events are
// inserted; an error aborts the whole append. The projection package
// implements it to keep the read tables in step with the log.
type InlineHook interface {
	ApplyInline(ctx context.Context, tx pgx.Tx, events []Event) error
}

// InlineBatcher is an InlineHook that can queue its statements into the
// append's own batch instead of running them in the open transaction. A hook
// that implements it gets the one-round-trip append: the events, the unique
// constraints and its statements are sent as one pipeline, which PostgreSQL
// runs as one implicit transaction committed at its end. Its statements see
// the events as prepared (sequence, type, payload, metadata, CreatedAt), but
// not yet their Position, TxID or Hash.
type InlineBatcher interface {
	InlineHook
	QueueInline(b *pgx.Batch, events []Event) error
}

// Postgres is the PostgreSQL event store.
type Postgres struct {
	pool   *pgxpool.Pool
	inline InlineHook

	notifyOnce sync.Once
	notify     chan struct{}
}

var _ Store = (*Postgres)(nil)

// NewPostgres returns a store on pool. inline may be nil.
func NewPostgres(pool *pgxpool.Pool, inline InlineHook) *Postgres {
	return &Postgres{pool: pool, inline: inline}
}

// Pool returns the store's pool (for the projection package's own tables).
func (s *Postgres) Pool() *pgxpool.Pool { return s.pool }

// insertSQL inserts one event with its link in the hash chain. Its creation
// time is chosen by Append ($13), so the inline projections queued in the
// same round trip can write the very value the event row holds (a rebuild
// reproduces them from it).
const insertSQL = `WITH t AS (
    SELECT $13::timestamptz AS ts,
           CASE WHEN $4::bigint = 1 THEN '\x'::bytea
                ELSE (SELECT hash FROM events WHERE instance_id = $1 AND aggregate_type = $2
                      AND aggregate_id = $3 AND sequence = $4::bigint - 1) END AS prev)
INSERT INTO events (instance_id, aggregate_type, aggregate_id, sequence, event_type, revision,
    payload, creator, request_id, client_ip, user_agent, resource_owner, created_at, hash)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, t.ts,
    idledger_event_hash(t.prev, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, t.ts)
FROM t
RETURNING created_at, position, tx_id::text, hash`

// insertLockedSQL is insertSQL for an append's first event: it takes the
// append's shared AppendLockKey ($14) before the row is inserted, in the
// same statement (one statement fewer per append). t is computed before the
// INSERT reads its row, and a CTE that calls a volatile function is never
// folded away or evaluated twice.
var insertLockedSQL = strings.Replace(insertSQL, "END AS prev)",
	"END AS prev,\n           pg_advisory_xact_lock_shared($14::bigint) AS locked)", 1)

// The constraint statements. A hold or a none-with-prefix check that fails
// raises checkFailed (idledger_append_check, migrations/0012), so the
// append rolls back even when it is committed in the same round trip.
const (
	noneWithPrefixSQL = `SELECT idledger_append_check(NOT EXISTS (SELECT 1 FROM unique_constraints
        WHERE instance_id = $1 AND unique_type = $2 AND left(unique_value, length($3)) = $3))`
	// FOR SHARE: a concurrent release waits until this append commits; a
	// committed release leaves no row to lock.
	holdSQL = `SELECT idledger_append_check(EXISTS (SELECT 1 FROM unique_constraints
        WHERE instance_id = $1 AND unique_type = $2 AND unique_value = $3 FOR SHARE))`
	releaseSQL = "DELETE FROM unique_constraints WHERE instance_id = $1 AND unique_type = $2 AND unique_value = $3"
	claimSQL   = "INSERT INTO unique_constraints (instance_id, unique_type, unique_value) VALUES ($1, $2, $3)"

	checkFailed = "IL001"
)

// Append implements Store. The events, the unique constraints and the inline
// projections commit in one transaction, or not at all.
//
// With no inline hook, or one that implements InlineBatcher, the whole
// append is one pipelined batch without BEGIN or COMMIT: PostgreSQL runs
// the statements before the batch's Sync as one implicit transaction, stops
// at the first error and rolls everything back, and commits at the Sync.
// The batch's results are read to the end (its ReadyForQuery) before Append
// returns, so a nil error means the commit is durable. One round trip in all
// (plus, once per connection and statement, pgx's prepare).
func (s *Postgres) Append(ctx context.Context, a Append) ([]Event, error) {
	events, err := prepare(a)
	if err != nil {
		return nil, err
	}
	// Microseconds: what timestamptz stores, so the events returned and the
	// rows the inline projections write hold the same value as the log.
	now := time.Now().Truncate(time.Microsecond)
	for i := range events {
		events[i].CreatedAt = now
	}
	b := &pgx.Batch{}
	for i := range events {
		e := &events[i]
		if i == 0 {
			b.Queue(insertLockedSQL, e.InstanceID, e.AggregateType, e.AggregateID, int64(e.Sequence), e.Type,
				int16(e.Revision), e.Payload, e.Creator, e.RequestID, e.ClientIP, e.UserAgent, e.ResourceOwner, e.CreatedAt,
				AppendLockKey)
			continue
		}
		b.Queue(insertSQL, e.InstanceID, e.AggregateType, e.AggregateID, int64(e.Sequence), e.Type,
			int16(e.Revision), e.Payload, e.Creator, e.RequestID, e.ClientIP, e.UserAgent, e.ResourceOwner, e.CreatedAt)
	}
	order := constraintOrder(a.Constraints)
	for _, c := range order {
		sql := claimSQL
		switch {
		case c.NoneWithPrefix:
			sql = noneWithPrefixSQL
		case c.Hold:
			sql = holdSQL
		case c.Remove:
			sql = releaseSQL
		}
		b.Queue(sql, c.InstanceID, c.Type, c.Value)
	}

	batcher, pipelined := s.inline.(InlineBatcher)
	if s.inline == nil || pipelined {
		fixed := b.Len()
		if pipelined {
			if err := batcher.QueueInline(b, events); err != nil {
				return nil, fmt.Errorf("append: inline projections: %w", err)
			}
		}
		br := s.pool.SendBatch(ctx, b)
		err := readAppendResults(br, events, order)
		for i := fixed; err == nil && i < b.Len(); i++ {
			if _, err = br.Exec(); err != nil {
				err = fmt.Errorf("append: inline projections: %w", err)
			}
		}
		if cerr := br.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("append: commit: %w", cerr)
		}
		if err != nil {
			return nil, err
		}
		s.wake()
		return events, nil
	}

	// A hook that needs the open transaction (tests that hold it open).
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("append: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	br := tx.SendBatch(ctx, b)
	err = readAppendResults(br, events, order)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("append: %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	if err := s.inline.ApplyInline(ctx, tx, events); err != nil {
		return nil, fmt.Errorf("append: inline projections: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("append: commit: %w", err)
	}
	s.wake()
	return events, nil
}

// wake asks the notifier to tell listeners that events were committed.
// NOTIFY inside the append would take PostgreSQL's database-wide notify lock
// at every commit and serialise the appends; one goroutine per process
// sends it instead, after commit, coalescing bursts. A notification lost to
// a crash right after commit costs a subscriber one poll interval, no more.
func (s *Postgres) wake() {
	s.notifyOnce.Do(func() {
		s.notify = make(chan struct{}, 1)
		go s.notifier()
	})
	select {
	case s.notify <- struct{}{}:
	default: // a notification is pending already; it covers this commit
	}
}

func (s *Postgres) notifier() {
	for range s.notify {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = s.pool.Exec(ctx, "SELECT pg_notify($1, '')", NotifyChannel)
		cancel()
	}
}

func readAppendResults(br pgx.BatchResults, events []Event, order []UniqueConstraint) error {
	for i := range events {
		e := &events[i]
		var txid string
		if err := br.QueryRow().Scan(&e.CreatedAt, &e.Position, &txid, &e.Hash); err != nil {
			var pgErr *pgconn.PgError
			// A duplicate (aggregate, sequence) means another append got
			// there first; a NULL hash means the previous sequence does not
			// exist (the command expected a sequence ahead of the log).
			if errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "23502") {
				return &ConcurrencyError{Aggregate: e.ref(), Expected: e.Sequence - 1 - uint64(offsetInAggregate(events, i))}
			}
			return fmt.Errorf("append: insert %s: %w", e.Type, err)
		}
		e.TxID, _ = strconv.ParseUint(txid, 10, 64)
	}
	for _, c := range order {
		if _, err := br.Exec(); err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				return &ConstraintError{Constraint: c}
			}
			// a hold whose value is gone, a prefix check that found a
			// claim, or two appends that waited for each other (a hold
			// and a release on two values): the command decides again
			if errors.As(err, &pgErr) && (pgErr.Code == checkFailed || pgErr.Code == "40P01") {
				return &ConstraintChangedError{Constraint: c}
			}
			return fmt.Errorf("append: unique constraint %s: %w", c.Type, err)
		}
	}
	return nil
}

// offsetInAggregate is how many events of the same aggregate precede events[i].
func offsetInAggregate(events []Event, i int) int {
	n := 0
	for j := 0; j < i; j++ {
		if events[j].ref() == events[i].ref() {
			n++
		}
	}
	return n
}

func (e *Event) ref() AggregateRef {
	return AggregateRef{InstanceID: e.InstanceID, Type: e.AggregateType, ID: e.AggregateID}
}

// prepare validates an Append and expands it into events with their
// sequences and metadata; shared by every Store implementation.
// constraintOrder puts the NoneWithPrefix checks last, after every claim
// and release of the append (and after the waits its releases imply).
func constraintOrder(cs []UniqueConstraint) []UniqueConstraint {
	out := make([]UniqueConstraint, 0, len(cs))
	for _, c := range cs {
		if !c.NoneWithPrefix {
			out = append(out, c)
		}
	}
	for _, c := range cs {
		if c.NoneWithPrefix {
			out = append(out, c)
		}
	}
	return out
}

func prepare(a Append) ([]Event, error) {
	var events []Event
	seen := map[AggregateRef]bool{}
	for _, ag := range a.Aggregates {
		if ag.Aggregate.InstanceID == "" || ag.Aggregate.Type == "" || ag.Aggregate.ID == "" {
			return nil, fmt.Errorf("append: aggregate %q needs an instance, a type and an id", ag.Aggregate)
		}
		if seen[ag.Aggregate] {
			return nil, fmt.Errorf("append: aggregate %s listed twice", ag.Aggregate)
		}
		if len(ag.Events) == 0 {
			// It would check nothing: the head is guarded by inserting the
			// next sequence. Hold a unique value to guard without writing.
			return nil, fmt.Errorf("append: aggregate %s has no events", ag.Aggregate)
		}
		seen[ag.Aggregate] = true
		for i, pe := range ag.Events {
			payload := json.RawMessage("{}")
			if pe.Payload != nil {
				b, err := json.Marshal(pe.Payload)
				if err != nil {
					return nil, fmt.Errorf("append: marshal %s: %w", pe.Type, err)
				}
				payload = b
			}
			rev := pe.Revision
			if rev == 0 {
				rev = 1
			}
			events = append(events, Event{
				InstanceID: ag.Aggregate.InstanceID, AggregateType: ag.Aggregate.Type, AggregateID: ag.Aggregate.ID,
				Sequence: ag.Expected + uint64(i) + 1, Type: pe.Type, Revision: rev, Payload: payload,
				ResourceOwner: ag.ResourceOwner, Creator: a.Meta.Creator, RequestID: a.Meta.RequestID,
				ClientIP: a.Meta.ClientIP, UserAgent: a.Meta.UserAgent,
			})
		}
	}
	if len(events) == 0 {
		return nil, errors.New("append: no events")
	}
	return events, nil
}

const selectCols = `instance_id, aggregate_type, aggregate_id, sequence, event_type, revision, payload,
    resource_owner, creator, request_id, client_ip, user_agent, created_at, position, tx_id::text AS tx_text, hash`

// Aggregate implements Store.
func (s *Postgres) Aggregate(ctx context.Context, ref AggregateRef, after uint64) ([]Event, error) {
	l := LoadAggregate(ref, after)
	err := s.Load(ctx, l)
	return l.Events, err
}

// Ends implements Store.
func (s *Postgres) Ends(ctx context.Context, ref AggregateRef) (Event, Event, bool, error) {
	l := LoadEnds(ref)
	err := s.Load(ctx, l)
	return l.First, l.Last, l.Found, err
}

// AggregateTypes implements Store.
func (s *Postgres) AggregateTypes(ctx context.Context, ref AggregateRef, types []string) ([]Event, uint64, error) {
	l := LoadTypes(ref, types)
	err := s.Load(ctx, l)
	return l.Events, l.Head, err
}

// Load implements Store: the loads are statements of one batch, one round
// trip. The Ends of every aggregate named are one statement, the first.
// A load of one statement is sent as a plain query: the same statement and
// round trip, without the batch's pipeline (its queue, its sync, its
// bookkeeping cost about a tenth of a one-select request's CPU).
func (s *Postgres) Load(ctx context.Context, loads ...*Load) error {
	var ends []*Load
	for _, l := range loads {
		if l.kind == loadEnds {
			ends = append(ends, l)
		}
	}
	switch {
	case len(loads) == 1 && len(ends) == 1:
		q, args := endsQuery(ends)
		rows, err := s.pool.Query(ctx, q, args...)
		return readEnds(rows, err, ends)
	case len(loads) == 1:
		q, args := loadQuery(loads[0])
		rows, err := s.pool.Query(ctx, q, args...)
		return readLoad(rows, err, loads[0])
	}
	b := &pgx.Batch{}
	if len(ends) > 0 {
		q, args := endsQuery(ends)
		b.Queue(q, args...)
	}
	for _, l := range loads {
		if l.kind != loadEnds {
			q, args := loadQuery(l)
			b.Queue(q, args...)
		}
	}
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	if len(ends) > 0 {
		rows, err := br.Query()
		if err := readEnds(rows, err, ends); err != nil {
			return err
		}
	}
	for _, l := range loads {
		if l.kind == loadEnds {
			continue
		}
		rows, err := br.Query()
		if err := readLoad(rows, err, l); err != nil {
			return err
		}
	}
	return br.Close()
}

// endsSQL(n) reads the first and the last event of n aggregates, each named
// by three parameters (instance, type, ID), in one statement (one
// snapshot): two rows per aggregate that has events (the same event twice
// when it has one), none for one that has none, each led by the aggregate's
// place (1..n). A UNION ALL of primary-key lookups rather than a lateral
// join over arrays: PostgreSQL keeps a generic plan for this one, while it
// re-planned the array form on every execution (custom plans only).
func endsSQL(n int) string {
	if q, ok := endsSQLs.Load(n); ok {
		return q.(string)
	}
	var b strings.Builder
	for i := range n {
		p := strconv.Itoa(3*i + 1)
		q, r := strconv.Itoa(3*i+2), strconv.Itoa(3*i+3)
		for _, dir := range []string{"", " DESC"} {
			if b.Len() > 0 {
				b.WriteString("\nUNION ALL ")
			}
			b.WriteString("(SELECT " + strconv.Itoa(i+1) + " AS n, " + selectCols + " FROM events WHERE instance_id = $" + p +
				" AND aggregate_type = $" + q + " AND aggregate_id = $" + r + " ORDER BY sequence" + dir + " LIMIT 1)")
		}
	}
	endsSQLs.Store(n, b.String())
	return b.String()
}

var endsSQLs sync.Map // n → endsSQL(n)

// endsQuery is the statement of the Ends loads ends (endsSQL).
func endsQuery(ends []*Load) (string, []any) {
	args := make([]any, 0, 3*len(ends))
	for _, l := range ends {
		args = append(args, l.Ref.InstanceID, l.Ref.Type, l.Ref.ID)
	}
	return endsSQL(len(ends)), args
}

// readEnds reads the rows of endsQuery(ends) (err is the query's).
func readEnds(rows pgx.Rows, err error, ends []*Load) error {
	if err != nil {
		return fmt.Errorf("load ends: %w", err)
	}
	defer rows.Close()
	got := make([][]Event, len(ends))
	var n int32
	sc := newEventScanner([]any{&n}, false)
	for rows.Next() {
		e, err := sc.scan(rows)
		if err != nil {
			return fmt.Errorf("load ends: %w", err)
		}
		if n < 1 || int(n) > len(ends) {
			return fmt.Errorf("load ends: row for aggregate %d of %d", n, len(ends))
		}
		got[n-1] = append(got[n-1], e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load ends: %w", err)
	}
	for i, l := range ends {
		l.Found = len(got[i]) == 2
		if !l.Found {
			continue
		}
		// by sequence, not by the rows' order: UNION ALL promises none
		l.First, l.Last = got[i][0], got[i][1]
		if l.First.Sequence > l.Last.Sequence {
			l.First, l.Last = l.Last, l.First
		}
	}
	return nil
}

// loadQuery is the statement of load l, which is not an Ends load
// (endsQuery).
func loadQuery(l *Load) (string, []any) {
	ref := l.Ref
	switch l.kind {
	case loadAggregate:
		return `SELECT ` + selectCols + ` FROM events
        WHERE instance_id = $1 AND aggregate_type = $2 AND aggregate_id = $3 AND sequence > $4
        ORDER BY sequence`, []any{ref.InstanceID, ref.Type, ref.ID, int64(l.after)}
	case loadTypes:
		// It reads the aggregate through the primary key and filters by
		// type: the cost grows with the aggregate's history (see Ends for
		// write models that need only its ends). No index leads with the
		// aggregate and the type: see migrations/0005_read_paths.sql.
		//
		// The head leads every row and the events and the head are one
		// statement, so one snapshot: read as two statements, an append
		// committed between them would put the head past the events read,
		// and a decision on those events would append at that head as if it
		// had seen the missing ones. When no event has one of the types, a
		// placeholder row (sequence 0, which no event has) carries the head.
		cond, args := typesCond(l.types, []any{ref.InstanceID, ref.Type, ref.ID})
		return `WITH h AS (SELECT coalesce(max(sequence), 0) AS head FROM events
            WHERE instance_id = $1 AND aggregate_type = $2 AND aggregate_id = $3),
        e AS (SELECT ` + selectCols + ` FROM events
            WHERE instance_id = $1 AND aggregate_type = $2 AND aggregate_id = $3 AND (` + cond + `))
        SELECT h.head, e.* FROM h, e
        UNION ALL
        SELECT h.head, $1, $2, $3, 0::bigint, '', 0::smallint, '{}'::jsonb, '', '', '', '', '',
            'epoch'::timestamptz, 0::bigint, '0', '\x'::bytea
        FROM h WHERE NOT EXISTS (SELECT 1 FROM e)
        ORDER BY sequence`, args
	case loadIDs:
		return l.sql, l.args
	case loadTypesNamed:
		// The lookup's own parameters come first, as its SQL numbers them.
		// It names one aggregate or none (HAVING), and the head rides on
		// every row, so the lookup, the events and the head are one
		// statement and one snapshot.
		n := len(l.args)
		inst, typ := "$"+strconv.Itoa(n+1), "$"+strconv.Itoa(n+2)
		cond, args := typesCond(l.types, append(slices.Clone(l.args), ref.InstanceID, ref.Type))
		return `WITH one AS (SELECT min(id) AS id FROM (` + l.sql + `) AS named(id) HAVING count(*) = 1)
        SELECT (SELECT coalesce(max(sequence), 0) FROM events WHERE instance_id = ` + inst + ` AND aggregate_type = ` + typ + ` AND aggregate_id = (SELECT id FROM one)),
          ` + selectCols + `
        FROM events
        WHERE instance_id = ` + inst + ` AND aggregate_type = ` + typ + ` AND aggregate_id = (SELECT id FROM one)
          AND (` + cond + `)
        ORDER BY sequence`, args
	}
	panic(fmt.Sprintf("eventstore: no statement for load kind %d", l.kind))
}

// typesCond is LoadTypes' condition on event_type for types (an entry
// ending in "." or "*" is a prefix), with its parameters appended to args.
func typesCond(types []string, args []any) (string, []any) {
	exact, prefixes := []string{}, []string{}
	for _, t := range types {
		if strings.HasSuffix(t, ".") || strings.HasSuffix(t, "*") {
			prefixes = append(prefixes, t)
		} else {
			exact = append(exact, t)
		}
	}
	pats := LikePatterns(prefixes)
	// An OR of the two forms would keep the planner off the index, so
	// the condition names only the forms present.
	var cond []string
	if len(exact) > 0 {
		args = append(args, exact)
		cond = append(cond, "event_type = ANY($"+strconv.Itoa(len(args))+")")
	}
	if len(pats) > 0 {
		args = append(args, pats)
		cond = append(cond, "event_type LIKE ANY($"+strconv.Itoa(len(args))+")")
	}
	if len(cond) == 0 {
		cond = append(cond, "FALSE")
	}
	return strings.Join(cond, " OR "), args
}

// readLoad reads the rows of loadQuery(l) into l (err is the query's).
func readLoad(rows pgx.Rows, err error, l *Load) error {
	ref := l.Ref
	switch l.kind {
	case loadAggregate:
		if err == nil {
			l.Events, err = collect(rows, 0)
		}
		if err != nil {
			return fmt.Errorf("load %s: %w", ref, err)
		}
	case loadTypes:
		var head int64
		if err == nil {
			l.Events, err = collect(rows, 0, &head)
		}
		if err != nil {
			return fmt.Errorf("load %s: %w", ref, err)
		}
		if len(l.Events) == 1 && l.Events[0].Sequence == 0 {
			l.Events = l.Events[:0] // the placeholder: no event of the types
		}
		l.Head = uint64(head)
	case loadIDs:
		if err == nil {
			l.IDs, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if err != nil {
			return fmt.Errorf("load ids: %w", err)
		}
	case loadTypesNamed:
		var head int64
		if err == nil {
			l.Events, err = collect(rows, 0, &head)
		}
		if err != nil {
			return fmt.Errorf("load named %s: %w", ref.Type, err)
		}
		l.Found, l.Ref.ID, l.Head = len(l.Events) > 0, "", 0
		if l.Found {
			l.Ref.ID, l.Head = l.Events[0].AggregateID, uint64(head)
		}
	}
	return nil
}

// Read implements Store.
func (s *Postgres) Read(ctx context.Context, f Filter) ([]Event, error) {
	q, args := readQuery(f, true)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return collect(rows, f.Limit)
}

// ReadLean is Read without the columns no projection reads: the request ID,
// client IP, user agent and hash stay empty. A rebuild reads the whole log;
// those columns are a fifth of each row.
func (s *Postgres) ReadLean(ctx context.Context, f Filter) ([]Event, error) {
	q, args := readQuery(f, true)
	q = strings.Replace(q, selectCols, leanCols, 1)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return collectWith(rows, f.Limit, newEventScanner(nil, true))
}

const leanCols = `instance_id, aggregate_type, aggregate_id, sequence, event_type, revision, payload,
    resource_owner, creator, created_at, position, tx_id::text AS tx_text`

// ReadAll is Read without the snapshot horizon. Only correct while no append
// can be in flight, i.e. while holding AppendLockKey exclusively in tx.
func ReadAll(ctx context.Context, tx pgx.Tx, f Filter) ([]Event, error) {
	q, args := readQuery(f, false)
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return collect(rows, f.Limit)
}

// readQuery builds the filtered, ordered read. With horizon, only events of
// transactions older than every running one are returned: their set can no
// longer grow, so a reader resuming from its cursor never skips a late commit.
func readQuery(f Filter, horizon bool) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if horizon {
		where = append(where, "tx_id < pg_snapshot_xmin(pg_current_snapshot())")
	}
	if f.After != (Cursor{}) {
		where = append(where, fmt.Sprintf("(tx_id, position) > (%s::text::xid8, %s)", arg(strconv.FormatUint(f.After.TxID, 10)), arg(f.After.Position)))
	}
	if f.AtOrBefore != (Cursor{}) {
		where = append(where, fmt.Sprintf("(tx_id, position) <= (%s::text::xid8, %s)", arg(strconv.FormatUint(f.AtOrBefore.TxID, 10)), arg(f.AtOrBefore.Position)))
	}
	if f.InstanceID != "" {
		where = append(where, "instance_id = "+arg(f.InstanceID))
	}
	if len(f.AggregateTypes) > 0 {
		where = append(where, "aggregate_type = ANY("+arg(f.AggregateTypes)+")")
	}
	if len(f.AggregateIDs) > 0 {
		where = append(where, "aggregate_id = ANY("+arg(f.AggregateIDs)+")")
	}
	if len(f.EventTypes) > 0 {
		// Each pattern costs a comparison per row read: drop the ones a
		// shorter prefix already covers (a rebuild of every projection
		// asks for a dozen, which double the cost of its read).
		where = append(where, "event_type LIKE ANY("+arg(LikePatterns(f.EventTypes))+")")
	}
	if f.Creator != "" {
		where = append(where, "creator = "+arg(f.Creator))
	}
	if f.ResourceOwner != "" {
		where = append(where, "resource_owner = "+arg(f.ResourceOwner))
	}
	if !f.Since.IsZero() {
		where = append(where, "created_at >= "+arg(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "created_at < "+arg(f.Until))
	}
	q := "SELECT " + selectCols + " FROM events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Descending {
		q += " ORDER BY events.tx_id DESC, events.position DESC"
	} else {
		q += " ORDER BY events.tx_id, events.position"
	}
	if f.Limit > 0 {
		q += " LIMIT " + arg(f.Limit)
	}
	return q, args
}

// LikePatterns are the LIKE patterns of event types (a trailing "." or "*"
// marks a prefix), without those a shorter prefix covers, sorted: each
// pattern costs a comparison per row read, and a rebuild of every
// projection names a dozen prefixes that half as many cover.
func LikePatterns(types []string) []string {
	pats := coveringPrefixes(types)
	for i, p := range pats {
		pats[i] = likeEscape(p) + "%"
	}
	slices.Sort(pats)
	return pats
}

// coveringPrefixes returns the prefixes of types (a trailing "*" marks a
// prefix too) without those another one already covers, in their order.
func coveringPrefixes(types []string) []string {
	pre := make([]string, len(types))
	for i, t := range types {
		pre[i] = strings.TrimSuffix(t, "*")
	}
	var out []string
	for i, p := range pre {
		covered := false
		for j, q := range pre {
			if j != i && strings.HasPrefix(p, q) && (len(q) < len(p) || j < i) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, p)
		}
	}
	return out
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// collect scans the events of rows (selectCols), and into lead the
// columns that come before selectCols (the same for every row); limit,
// when the query has one, sizes the result.
func collect(rows pgx.Rows, limit int, lead ...any) ([]Event, error) {
	return collectWith(rows, limit, newEventScanner(lead, false))
}

// collectWith is collect with the scanner of the result's columns.
func collectWith(rows pgx.Rows, limit int, sc *eventScanner) ([]Event, error) {
	defer rows.Close()
	out := make([]Event, 0, min(max(limit, 0), 10000))
	for rows.Next() {
		e, err := sc.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// eventScanner scans rows of lead columns followed by selectCols (leanCols
// when it is lean). One
// scanner serves every row of a result: its scan targets are made once,
// and a text column equal to the previous row's (the instance, the
// aggregate, the owner, the creator, the request's metadata) takes that
// row's string instead of a new one: nine text columns were nine
// allocations per row, most of them repeating the row before.
type eventScanner struct {
	e    Event
	seq  int64
	rev  int16
	tx   txIDText
	text [9]sameString
	dest []any
}

func newEventScanner(lead []any, lean bool) *eventScanner {
	sc := &eventScanner{}
	e := &sc.e
	for i, p := range []*string{&e.InstanceID, &e.AggregateType, &e.AggregateID, &e.Type,
		&e.ResourceOwner, &e.Creator, &e.RequestID, &e.ClientIP, &e.UserAgent} {
		sc.text[i].dst = p
	}
	t := &sc.text
	// The payload is scanned as raw bytes: it is valid JSON by the column
	// type, and validating it again costs a sixth of a rebuild's CPU.
	sc.dest = append(lead[:len(lead):len(lead)], &t[0], &t[1], &t[2], &sc.seq, &t[3], &sc.rev, (*[]byte)(&e.Payload), &t[4], &t[5])
	if lean {
		sc.dest = append(sc.dest, &e.CreatedAt, &e.Position, &sc.tx)
	} else {
		sc.dest = append(sc.dest, &t[6], &t[7], &t[8], &e.CreatedAt, &e.Position, &sc.tx, &e.Hash)
	}
	return sc
}

// scan scans the current row. pgx gives the payload and the hash new
// slices on every row, so the event returned shares nothing mutable with
// the scanner.
func (sc *eventScanner) scan(rows pgx.Rows) (Event, error) {
	if err := rows.Scan(sc.dest...); err != nil {
		return Event{}, fmt.Errorf("scan event: %w", err)
	}
	e := sc.e
	e.Sequence, e.Revision, e.TxID = uint64(sc.seq), uint16(sc.rev), sc.tx.v
	return e, nil
}

// sameString is a text column's scan target that keeps the string it
// already holds when the column's bytes equal it.
type sameString struct{ dst *string }

// ScanBytes implements pgtype.BytesScanner; v is pgx's buffer, valid only
// during the call.
func (s *sameString) ScanBytes(v []byte) error {
	if v == nil {
		return errors.New("cannot scan NULL into a string")
	}
	if string(v) != *s.dst {
		*s.dst = string(v)
	}
	return nil
}

// txIDText scans tx_id::text (an xid8 in decimal) into a number without
// keeping the string (the conversion for ParseUint does not escape); a
// malformed one is 0, as before.
type txIDText struct{ v uint64 }

// ScanBytes implements pgtype.BytesScanner.
func (t *txIDText) ScanBytes(v []byte) error {
	t.v, _ = strconv.ParseUint(string(v), 10, 64)
	return nil
}

// CursorAt implements Store.
func (s *Postgres) CursorAt(ctx context.Context, position int64) (Cursor, error) {
	if position == 0 {
		return Cursor{}, nil
	}
	var txid string
	err := s.pool.QueryRow(ctx, "SELECT tx_id::text FROM events WHERE position = $1", position).Scan(&txid)
	if errors.Is(err, pgx.ErrNoRows) {
		return Cursor{}, ErrUnknownPosition
	}
	if err != nil {
		return Cursor{}, fmt.Errorf("cursor at %d: %w", position, err)
	}
	t, _ := strconv.ParseUint(txid, 10, 64)
	return Cursor{TxID: t, Position: position}, nil
}

// Head returns the number of events a reader at cursor has not yet seen
// (below the horizon), and the creation time of the newest event.
func (s *Postgres) Head(ctx context.Context, after Cursor) (pending int64, newest time.Time, err error) {
	var ts *time.Time
	err = s.pool.QueryRow(ctx, `SELECT count(*), max(created_at) FROM events
        WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot()) AND (tx_id, position) > ($1::text::xid8, $2)`,
		strconv.FormatUint(after.TxID, 10), after.Position).Scan(&pending, &ts)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("event head: %w", err)
	}
	if ts != nil {
		newest = *ts
	}
	return pending, newest, nil
}
