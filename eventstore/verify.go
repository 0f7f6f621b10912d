package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// VerifyReport is the result of a hash-chain verification.
type VerifyReport struct {
	Aggregates int64
	Events     int64
	Took       time.Duration
	// First is the first event (in position order) that does not verify; nil
	// when the log is intact.
	First *Broken
}

// Broken names an event that failed verification, and why.
type Broken struct {
	Aggregate AggregateRef
	Sequence  uint64
	Position  int64
	Reason    string
}

func (b *Broken) String() string {
	return fmt.Sprintf("%s sequence %d (position %d): %s", b.Aggregate, b.Sequence, b.Position, b.Reason)
}

// Verify walks every aggregate's hash chain and sequence continuity. The
// recomputation uses the same SQL function as Append, so the two cannot
// drift. With fromPosition > 0 only aggregates that have events after that
// position are checked (incremental verification).
//
// A per-aggregate chain cannot detect removal of an aggregate's newest
// events: a Checkpoint recorded earlier can (CheckpointAt).
func (s *Postgres) Verify(ctx context.Context, fromPosition int64) (VerifyReport, error) {
	start := time.Now()
	var r VerifyReport
	scope := "TRUE"
	args := []any{}
	if fromPosition > 0 {
		scope = `(instance_id, aggregate_type, aggregate_id) IN (SELECT DISTINCT instance_id, aggregate_type, aggregate_id FROM events WHERE position > $1)`
		args = append(args, fromPosition)
	}
	q := `WITH chain AS (
        SELECT instance_id, aggregate_type, aggregate_id, sequence, position, hash,
               lag(sequence) OVER w AS prev_seq,
               idledger_event_hash(coalesce(lag(hash) OVER w, '\x'::bytea), instance_id, aggregate_type,
                   aggregate_id, sequence, event_type, revision, payload, creator, request_id, client_ip,
                   user_agent, resource_owner, created_at) AS expected
        FROM events WHERE ` + scope + `
        WINDOW w AS (PARTITION BY instance_id, aggregate_type, aggregate_id ORDER BY sequence))
    SELECT (SELECT count(*) FROM chain),
           (SELECT count(*) FROM (SELECT DISTINCT instance_id, aggregate_type, aggregate_id FROM chain) a),
           b.instance_id, b.aggregate_type, b.aggregate_id, b.sequence, b.position,
           CASE WHEN b.prev_seq IS NULL AND b.sequence <> 1 THEN 'sequence starts at ' || b.sequence || ', not 1'
                WHEN b.prev_seq IS NOT NULL AND b.sequence <> b.prev_seq + 1 THEN 'sequence gap: previous is ' || b.prev_seq
                ELSE 'hash mismatch: content or chain changed' END
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT * FROM chain
        WHERE hash IS DISTINCT FROM expected
           OR (prev_seq IS NULL AND sequence <> 1)
           OR (prev_seq IS NOT NULL AND sequence <> prev_seq + 1)
        ORDER BY position LIMIT 1) b ON TRUE`
	var inst, typ, id, reason *string
	var seq, pos *int64
	err := s.pool.QueryRow(ctx, q, args...).Scan(&r.Events, &r.Aggregates, &inst, &typ, &id, &seq, &pos, &reason)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("verify: %w", err)
	}
	if inst != nil {
		r.First = &Broken{Aggregate: AggregateRef{InstanceID: *inst, Type: *typ, ID: *id}, Sequence: uint64(*seq), Position: *pos, Reason: *reason}
	}
	r.Took = time.Since(start)
	return r, nil
}

// Checkpoint is a digest of the log up to a cursor: how many events lie at or
// below it, how many aggregates they belong to, and a SHA-256 over each
// aggregate's last event at or below it (its sequence and hash). Events at or
// below a cursor under the read horizon never change: later appends land
// above it. So the same checkpoint recomputed later must match. When an event
// at or below it was deleted, including an aggregate's newest (which its hash
// chain cannot show), or an aggregate vanished, it does not. Keep checkpoints
// where whoever can write the database cannot (a log, a ticket, a safe).
type Checkpoint struct {
	Cursor     Cursor
	Events     int64
	Aggregates int64
	Digest     string // hex
}

// checkpointPrefix starts the text form of a checkpoint (format version 1).
const checkpointPrefix = "idledger-checkpoint v1"

func (c Checkpoint) String() string {
	return fmt.Sprintf("%s tx=%d position=%d events=%d aggregates=%d sha256=%s",
		checkpointPrefix, c.Cursor.TxID, c.Cursor.Position, c.Events, c.Aggregates, c.Digest)
}

// ParseCheckpoint reads the text form String writes.
func ParseCheckpoint(s string) (Checkpoint, error) {
	var c Checkpoint
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), checkpointPrefix+" ")
	if !ok {
		return c, fmt.Errorf("not an idledger checkpoint (it starts with %q)", checkpointPrefix)
	}
	if _, err := fmt.Sscanf(rest, "tx=%d position=%d events=%d aggregates=%d sha256=%s",
		&c.Cursor.TxID, &c.Cursor.Position, &c.Events, &c.Aggregates, &c.Digest); err != nil {
		return c, fmt.Errorf("malformed checkpoint: %w", err)
	}
	if len(c.Digest) != 64 || strings.Trim(c.Digest, "0123456789abcdef") != "" {
		return c, errors.New("malformed checkpoint: the digest is not 64 hex digits")
	}
	return c, nil
}

// Checkpoint takes a checkpoint at the last event below the read horizon
// (the zero cursor and the empty digest's when there is none).
func (s *Postgres) Checkpoint(ctx context.Context) (Checkpoint, error) {
	var txid string
	var pos int64
	err := s.pool.QueryRow(ctx, `SELECT tx_id::text, position FROM events
        WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY events.tx_id DESC, events.position DESC LIMIT 1`).Scan(&txid, &pos)
	var cur Cursor
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return Checkpoint{}, fmt.Errorf("checkpoint: find the horizon: %w", err)
	default:
		cur.TxID, _ = strconv.ParseUint(txid, 10, 64)
		cur.Position = pos
	}
	return s.CheckpointAt(ctx, cur)
}

// CheckpointAt computes the checkpoint at cursor c, as Checkpoint took it
// then. Compare it with the recorded one: any difference means events at or
// below c changed.
func (s *Postgres) CheckpointAt(ctx context.Context, c Cursor) (Checkpoint, error) {
	cp := Checkpoint{Cursor: c}
	err := s.pool.QueryRow(ctx, `WITH upto AS (
            SELECT instance_id, aggregate_type, aggregate_id, sequence, hash FROM events
            WHERE (tx_id, position) <= ($1::text::xid8, $2)),
        heads AS (
            SELECT DISTINCT ON (instance_id, aggregate_type, aggregate_id) instance_id, aggregate_type, aggregate_id, sequence, hash
            FROM upto ORDER BY instance_id, aggregate_type, aggregate_id, sequence DESC)
        SELECT (SELECT count(*) FROM upto), (SELECT count(*) FROM heads),
            encode(sha256(convert_to(coalesce((SELECT string_agg(
                jsonb_build_array(instance_id, aggregate_type, aggregate_id, sequence, encode(hash, 'hex'))::text, E'\n'
                ORDER BY instance_id COLLATE "C", aggregate_type COLLATE "C", aggregate_id COLLATE "C") FROM heads), ''), 'UTF8')), 'hex')`,
		strconv.FormatUint(c.TxID, 10), c.Position).Scan(&cp.Events, &cp.Aggregates, &cp.Digest)
	if err != nil {
		return cp, fmt.Errorf("checkpoint: %w", err)
	}
	return cp, nil
}
