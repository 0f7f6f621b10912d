package projection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Status is where one projection is and whether it is healthy.
type Status struct {
	Name  string
	Async bool
	// Position is the global position of the last event it has seen: the
	// head of the log for a live inline projection.
	Position int64
	// LagEvents counts the committed events below the horizon it has not
	// applied; LagSeconds is the age of the oldest of them.
	LagEvents  int64
	LagSeconds float64
	State      string // StateLive, StateRebuilding or StateHalted
	// Error and FailedPosition say why and where a halted projection stopped.
	Error          string
	FailedPosition int64
	LastRebuild    time.Time // zero if never rebuilt
	UpdatedAt      time.Time
}

type stateRow struct {
	cursor         eventstore.Cursor
	state, err     string
	failed         int64
	lastRebuild    *time.Time
	updated        time.Time
	rebuildRunning bool
}

// Statuses reports every projection of reg, inline first, then async. Inline
// projections are applied in the append transaction, so they have no lag
// unless halted. A projection marked rebuilding whose rebuild process is
// gone (it died before its swap) is reported by its underlying state.
// Errors: only database errors.
func Statuses(ctx context.Context, pool *pgxpool.Pool, reg *Registry) ([]Status, error) {
	ps := reg.Projections()
	names := make([]string, len(ps))
	keys := make([]int64, len(ps))
	for i, p := range ps {
		names[i], keys[i] = p.Name, rebuildKey(p.Name)
	}
	rows, err := pool.Query(ctx, `SELECT s.name, s.tx_id::text, s.position, s.state, s.error, coalesce(s.failed_position, 0),
			s.last_rebuild, s.updated_at,
			EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
				AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
				AND l.classid = ((k.key >> 32) & 4294967295)::oid AND l.objid = (k.key & 4294967295)::oid)
		FROM projection_state s JOIN unnest($1::text[], $2::bigint[]) AS k(name, key) ON k.name = s.name`, names, keys)
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	byName := map[string]stateRow{}
	var name, txt string
	var r stateRow
	_, err = pgx.ForEachRow(rows, []any{&name, &txt, &r.cursor.Position, &r.state, &r.err, &r.failed, &r.lastRebuild, &r.updated, &r.rebuildRunning}, func() error {
		r.cursor.TxID, _ = strconv.ParseUint(txt, 10, 64)
		byName[name] = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	head, err := headCursor(ctx, pool, true)
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(ps))
	for _, p := range ps {
		st := Status{Name: p.Name, Async: reg.IsAsync(p), State: StateLive, Position: head.Position}
		row, ok := byName[p.Name]
		if ok {
			st.State, st.Error, st.FailedPosition, st.UpdatedAt = row.state, row.err, row.failed, row.updated
			if row.lastRebuild != nil {
				st.LastRebuild = *row.lastRebuild
			}
			if st.State == StateRebuilding && !row.rebuildRunning {
				st.State = StateLive
				if row.err != "" {
					st.State = StateHalted
				}
			}
		}
		if st.Async || st.State == StateHalted {
			st.Position = row.cursor.Position
			if err := lag(ctx, pool, row.cursor, &st); err != nil {
				return nil, err
			}
		}
		out = append(out, st)
	}
	return out, nil
}

func lag(ctx context.Context, pool *pgxpool.Pool, c eventstore.Cursor, st *Status) error {
	err := pool.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8
		FROM events WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot()) AND (tx_id, position) > ($1::text::xid8, $2)`,
		strconv.FormatUint(c.TxID, 10), c.Position).Scan(&st.LagEvents, &st.LagSeconds)
	if err != nil {
		return fmt.Errorf("projection %s lag: %w", st.Name, err)
	}
	return nil
}

// HaltedProjections lists the halted projections, for /readyz details and
// metrics. It reads projection_state only, so it is cheap enough for every
// probe. Errors: only database errors.
func HaltedProjections(ctx context.Context, pool *pgxpool.Pool) ([]Status, error) {
	rows, err := pool.Query(ctx, `SELECT name, position, error, coalesce(failed_position, 0), updated_at
		FROM projection_state WHERE state = $1 ORDER BY name`, StateHalted)
	if err != nil {
		return nil, fmt.Errorf("halted projections: %w", err)
	}
	var out []Status
	var s Status
	_, err = pgx.ForEachRow(rows, []any{&s.Name, &s.Position, &s.Error, &s.FailedPosition, &s.UpdatedAt}, func() error {
		s.State = StateHalted
		out = append(out, s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("halted projections: %w", err)
	}
	return out, nil
}

// Retry clears the halt of projection name, so runners resume it from the
// event that failed (wake-up is immediate). Use it once the cause is fixed;
// a failing event halts it again. Errors: NotFound when name has no
// recorded state, FailedPrecondition when it is not halted.
func Retry(ctx context.Context, pool *pgxpool.Pool, name string) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var state string
		err := tx.QueryRow(ctx, "SELECT state FROM projection_state WHERE name = $1 FOR UPDATE", name).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) {
			return errs.NotFound("PROJ-Rt404", fmt.Sprintf("projection %q has no recorded state", name))
		}
		if err != nil {
			return err
		}
		if state != StateHalted {
			return errs.FailedPrecondition("PROJ-Rt412", fmt.Sprintf("projection %s is not halted (it is %s)", name, state))
		}
		_, err = tx.Exec(ctx, `UPDATE projection_state SET state = $2, error = '', failed_position = NULL,
			updated_at = clock_timestamp() WHERE name = $1`, name, StateLive)
		return err
	})
	if _, ok := errs.As(err); ok {
		return err
	}
	if err != nil {
		return fmt.Errorf("retry projection %s: %w", name, err)
	}
	// Wake the runners at once rather than at their next poll.
	_, _ = pool.Exec(ctx, "SELECT pg_notify($1, '')", eventstore.NotifyChannel)
	return nil
}

// PrintStatus writes sts as an aligned table, one row per projection.
func PrintStatus(w io.Writer, sts []Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMODE\tPOSITION\tLAG_EVENTS\tLAG_SECONDS\tSTATE\tLAST_REBUILD\tERROR")
	for _, s := range sts {
		mode := "inline"
		if s.Async {
			mode = "async"
		}
		last := "never"
		if !s.LastRebuild.IsZero() {
			last = s.LastRebuild.UTC().Format(time.RFC3339)
		}
		errText := "-"
		if s.Error != "" {
			errText = strings.ReplaceAll(s.Error, "\n", " ")
			if s.FailedPosition != 0 {
				errText = fmt.Sprintf("at position %d: %s", s.FailedPosition, errText)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.1f\t%s\t%s\t%s\n", s.Name, mode, s.Position, s.LagEvents, s.LagSeconds, s.State, last, errText)
	}
	return tw.Flush()
}

// countPending counts the events of the given types after c below the
// snapshot horizon (all types when types is nil).
func countPending(ctx context.Context, q querier, c eventstore.Cursor, types []string) (int64, error) {
	sql := `SELECT count(*) FROM events WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
		AND (tx_id, position) > ($1::text::xid8, $2)`
	args := []any{strconv.FormatUint(c.TxID, 10), c.Position}
	if types != nil {
		sql += " AND event_type LIKE ANY($3)"
		args = append(args, eventstore.LikePatterns(types))
	}
	var n int64
	if err := q.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending events: %w", err)
	}
	return n, nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// headCursor is the cursor of the last event in the global order, below the
// horizon when horizon is set (zero for an empty log).
func headCursor(ctx context.Context, q querier, horizon bool) (eventstore.Cursor, error) {
	sql := "SELECT tx_id::text, position FROM events"
	if horizon {
		sql += " WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())"
	}
	// qualified: the output column tx_id::text is called tx_id too, and
	// ordering by it would compare transaction IDs as text
	sql += " ORDER BY events.tx_id DESC, events.position DESC LIMIT 1"
	var txt string
	var c eventstore.Cursor
	err := q.QueryRow(ctx, sql).Scan(&txt, &c.Position)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.Cursor{}, nil
	}
	if err != nil {
		return c, fmt.Errorf("read head of the log: %w", err)
	}
	c.TxID, _ = strconv.ParseUint(txt, 10, 64)
	return c, nil
}
