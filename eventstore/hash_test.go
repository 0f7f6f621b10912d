package eventstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/pgtest"
	"github.com/idledger/idledger/migrations"
)

// TestEventHashInlinesAndMatches0001: migration 0013 redeclares
// idledger_event_hash so that PostgreSQL inlines it. The hashes must stay
// byte-identical to those of the function as 0001 declared it, for the events
// the store writes and for odd inputs (escapes, non-ASCII, nested payloads,
// times before 1970 and with microseconds); a NULL prev must still yield NULL,
// which is how a stale sequence becomes a ConcurrencyError.
func TestEventHashInlinesAndMatches0001(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)

	// The function exactly as 0001 created it, under another name.
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	src := all[0].SQL
	start := strings.Index(src, "CREATE FUNCTION idledger_event_hash(")
	end := -1
	if start >= 0 {
		end = strings.Index(src[start:], "\n$$;") // the body's closing quote
	}
	if all[0].Version != 1 || start < 0 || end < 0 {
		t.Fatal("0001's idledger_event_hash not found")
	}
	end = start + end + len("\n$$;")
	old := strings.Replace(src[start:end], "idledger_event_hash(", "idledger_event_hash_0001(", 1)
	if !strings.Contains(old, "IMMUTABLE STRICT") {
		t.Fatalf("not 0001's declaration:\n%s", old)
	}
	if _, err := pool.Exec(ctx, old); err != nil {
		t.Fatal(err)
	}

	// It inlines: STABLE, not STRICT, and a plan shows its body, not a call.
	var vol string
	var strict bool
	if err := pool.QueryRow(ctx, `SELECT provolatile::text, proisstrict FROM pg_proc WHERE proname = 'idledger_event_hash'`).Scan(&vol, &strict); err != nil {
		t.Fatal(err)
	}
	if vol != "s" || strict {
		t.Fatalf("idledger_event_hash is provolatile %q, strict %v; want STABLE, not STRICT", vol, strict)
	}
	var plan strings.Builder
	rows, err := pool.Query(ctx, `EXPLAIN (VERBOSE) SELECT idledger_event_hash('\x01'::bytea, 'i', 't', 'a', 2::bigint, 'e', 1::smallint,
        '{}'::jsonb, 'c', 'r', 'ip', 'ua', 'o', '2026-12-04 19:00:00.123456+00'::timestamptz)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if strings.Contains(plan.String(), "idledger_event_hash") || !strings.Contains(plan.String(), "sha256") {
		t.Fatalf("idledger_event_hash is not inlined:\n%s", plan.String())
	}

	// The events the store writes (their stored hashes come from the new
	// function) hash the same under the old one.
	s := eventstore.NewPostgres(pool, nil)
	payloads := []any{
		map[string]any{"idpId": "312345678901234567", "userId": "ext-1", "displayName": "ext-1@idp"},
		map[string]any{"quote": `a "b" \ c`, "ctl": "tab\tnl\n\u0001", "uni": "Zürich 東京 🙂", "html": "<a>&amp;"},
		map[string]any{"n": []any{1, 2.5, -3e30, 12345678901234567890.0, nil, true}, "o": map[string]any{"z": 1, "a": map[string]any{}}},
		nil,
	}
	var pending []eventstore.PendingEvent
	for _, p := range payloads {
		pending = append(pending, eventstore.PendingEvent{Type: "thing.changed", Payload: p})
	}
	for i, meta := range []eventstore.Metadata{
		{Creator: "u1", RequestID: "r1"},
		{Creator: `o'brien "x"`, RequestID: "", ClientIP: "::1", UserAgent: "Mozilla/5.0 (ä)"},
	} {
		ref := agg("hash" + string(rune('a'+i)))
		if _, err := s.Append(ctx, eventstore.Append{Meta: meta, Aggregates: []eventstore.AggregateAppend{
			{Aggregate: ref, ResourceOwner: "o1", Events: pending},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	var n, differ int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE hash IS DISTINCT FROM idledger_event_hash_0001(
            coalesce((SELECT p.hash FROM events p WHERE p.instance_id = e.instance_id AND p.aggregate_type = e.aggregate_type
                      AND p.aggregate_id = e.aggregate_id AND p.sequence = e.sequence - 1), '\x'::bytea),
            instance_id, aggregate_type, aggregate_id, sequence, event_type, revision, payload, creator, request_id,
            client_ip, user_agent, resource_owner, created_at))
        FROM events e`).Scan(&n, &differ); err != nil {
		t.Fatal(err)
	}
	if n != 2*len(payloads) || differ != 0 {
		t.Fatalf("%d of %d stored hashes differ from 0001's function", differ, n)
	}

	// Synthetic inputs: both functions, side by side.
	if err := pool.QueryRow(ctx, `WITH x AS (
            SELECT g, sha256(g::text::bytea) AS prev,
                   'inst-' || g AS inst, CASE WHEN g % 3 = 0 THEN '' ELSE 'user' END AS typ,
                   repeat(chr(32 + g % 95), g % 7) || chr(160 + g) AS id,
                   (g * 7919)::bigint AS seq, 'type.' || g AS ev, (g % 5)::smallint AS rev,
                   jsonb_build_object('k' || g, g / 7.0, 'arr', jsonb_build_array(g, 'x' || chr(33 + g % 90), NULL)) AS payload,
                   '1901-01-01 00:00:00+00'::timestamptz + g * interval '37 days 1 hour 0.000123 second' AS at
            FROM generate_series(1, 2000) g)
        SELECT count(*), count(*) FILTER (WHERE
            idledger_event_hash(prev, inst, typ, id, seq, ev, rev, payload, id, inst, typ, ev, id, at)
            IS DISTINCT FROM idledger_event_hash_0001(prev, inst, typ, id, seq, ev, rev, payload, id, inst, typ, ev, id, at))
        FROM x`).Scan(&n, &differ); err != nil {
		t.Fatal(err)
	}
	if n != 2000 || differ != 0 {
		t.Fatalf("%d of %d synthetic hashes differ from 0001's function", differ, n)
	}

	var isNull bool
	if err := pool.QueryRow(ctx, `SELECT idledger_event_hash(NULL, 'i', 't', 'a', 2::bigint, 'e', 1::smallint,
        '{}'::jsonb, 'c', 'r', 'ip', 'ua', 'o', now()) IS NULL`).Scan(&isNull); err != nil || !isNull {
		t.Fatalf("a NULL prev must hash to NULL: %v %v", isNull, err)
	}
}
