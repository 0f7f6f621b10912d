package projection

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/idledger/idledger/eventstore"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Throughput is one measurement of RebuildThroughput.
type Throughput struct {
	Events       int64         // events the rebuild applied
	Duration     time.Duration // wall time of the rebuild
	EventsPerSec float64
	// ScanEvents and ScanPerSec time the raw scan of the whole events table,
	// SELECT count(*) FROM (SELECT payload FROM events) s, as the baseline.
	ScanEvents int64
	ScanPerSec float64
	Ratio      float64 // EventsPerSec / ScanPerSec
	// ReadPerSec times streaming the same events to this process in the
	// rebuild's batches, without reducing or writing them: the rebuild's
	// own read stage, a tighter baseline than the server-side scan.
	ReadPerSec float64
	PeakRSS    int64 // bytes, this process's high-water mark (Linux; 0 elsewhere)
}

// benchProjection reduces the synthetic events SeedSynthetic writes. Its
// shape follows the IdP projection: insert, full replacement, delete.
func benchProjection() *Projection {
	type payload struct {
		Kind   string          `json:"kind"`
		Name   string          `json:"name"`
		Config json.RawMessage `json:"config"`
	}
	return &Projection{
		Name:       "bench_items",
		Tables:     []string{"bench_items"},
		EventTypes: []string{"bench."},
		Reduce: func(e *eventstore.Event, t Tables) ([]Statement, error) {
			var p payload
			if err := e.Unmarshal(&p); err != nil {
				return nil, err
			}
			switch e.Type {
			case "bench.item.added":
				return []Statement{benchInsert.Stmt(t, e.InstanceID, e.AggregateID, e.ResourceOwner, p.Kind, p.Name,
					string(p.Config), int64(e.Sequence), e.CreatedAt, e.CreatedAt)}, nil
			case "bench.item.changed":
				return []Statement{benchChange.Stmt(t, p.Name, string(p.Config), int64(e.Sequence), e.CreatedAt,
					e.InstanceID, e.AggregateID)}, nil
			case "bench.item.removed":
				return []Statement{benchDelete.Stmt(t, e.InstanceID, e.AggregateID)}, nil
			}
			return nil, nil
		},
	}
}

var (
	benchInsert = Insert("bench_items", "instance_id", "id", "owner", "kind", "name", "config", "version", "created_at", "changed_at")
	benchChange = Update("bench_items", []string{"name", "config", "version", "changed_at"}, "instance_id", "id")
	benchDelete = Delete("bench_items", "instance_id", "id")
)

const benchSchema = `CREATE TABLE IF NOT EXISTS bench_items (
    instance_id text NOT NULL,
    id          text NOT NULL,
    owner       text NOT NULL,
    kind        text NOT NULL,
    name        text NOT NULL,
    config      jsonb NOT NULL,
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    changed_at  timestamptz NOT NULL,
    PRIMARY KEY (instance_id, id)
);
CREATE INDEX IF NOT EXISTS bench_items_owner_idx ON bench_items (instance_id, owner, name)`

// seedSQL inserts event number $2 of aggregates $3..$4 (set-based, with the
// hash chain computed by the same SQL function appends use). Every aggregate
// is added, changed twice, then removed (one in four) or changed again.
const seedSQL = `INSERT INTO events (instance_id, aggregate_type, aggregate_id, sequence, event_type, revision,
    payload, creator, resource_owner, created_at, hash)
SELECT 'bench', 'bench', a.id, $2::bigint, a.typ, 1, a.payload, 'bench', a.owner, a.ts,
    idledger_event_hash(coalesce(p.hash, '\x'::bytea), 'bench', 'bench', a.id, $2::bigint, a.typ, 1::smallint,
        a.payload, 'bench', '', '', '', a.owner, a.ts)
FROM (SELECT $1 || g AS id, 'org' || (g % 100) AS owner, clock_timestamp() AS ts,
        CASE WHEN $2 = 1 THEN 'bench.item.added' WHEN $2 = 4 AND g % 4 = 0 THEN 'bench.item.removed' ELSE 'bench.item.changed' END AS typ,
        CASE WHEN $2 = 4 AND g % 4 = 0 THEN '{}'::jsonb ELSE jsonb_build_object('kind', 'oidc', 'name', 'IdP ' || g || ' v' || $2,
            'config', jsonb_build_object('issuer', 'https://issuer' || g || '.example.com', 'clientId', 'client-' || g,
                'clientSecret', 'v1:key1:' || md5(g::text || $2::text) || md5(g::text), 'scopes', jsonb_build_array('openid', 'profile', 'email'),
                'isIdTokenMapping', g % 2 = 0)) END AS payload
      FROM generate_series($3::bigint, $4::bigint) g) a
LEFT JOIN events p ON $2 > 1 AND p.instance_id = 'bench' AND p.aggregate_type = 'bench' AND p.aggregate_id = a.id AND p.sequence = $2 - 1`

// SeedSynthetic appends n synthetic events (aggregate type "bench") straight
// into the events table, in large set-based statements, for benchmarks only:
// never run it against a database that serves users. Errors: database errors.
func SeedSynthetic(ctx context.Context, pool *pgxpool.Pool, n int64) error {
	if _, err := pool.Exec(ctx, benchSchema); err != nil {
		return fmt.Errorf("seed: create bench table: %w", err)
	}
	prefix := "b" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
	aggs := (n + 3) / 4
	const chunk = 50000
	for seq := int64(1); seq <= 4; seq++ {
		// aggregate g has an event seq when 4*(g-1)+seq <= n
		last := min(aggs, (n-seq)/4+1)
		for from := int64(1); from <= last; from += chunk {
			to := min(last, from+chunk-1)
			if _, err := pool.Exec(ctx, seedSQL, prefix, seq, from, to); err != nil {
				return fmt.Errorf("seed: insert events: %w", err)
			}
		}
	}
	return nil
}

// RebuildThroughput seeds n synthetic events (none when n is 0), rebuilds
// their projection and times it, then times a raw scan of the events table
// as the baseline. For the bench command: use a scratch database. progress
// is passed to Rebuild. Errors: those of SeedSynthetic and Rebuild.
func RebuildThroughput(ctx context.Context, pool *pgxpool.Pool, n int64, progress func(done, total int64)) (Throughput, error) {
	var t Throughput
	if n > 0 {
		if err := SeedSynthetic(ctx, pool, n); err != nil {
			return t, err
		}
	} else if _, err := pool.Exec(ctx, benchSchema); err != nil {
		return t, fmt.Errorf("create bench table: %w", err)
	}
	// Fresh statistics, as a long-lived database would have.
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE events"); err != nil {
		return t, fmt.Errorf("analyze events: %w", err)
	}
	reg := NewRegistry(benchProjection())
	store := eventstore.NewPostgres(pool, nil)
	var done int64
	counted := func(d, total int64) {
		done = d
		if progress != nil {
			progress(d, total)
		}
	}
	start := time.Now()
	if err := Rebuild(ctx, pool, store, reg, nil, counted); err != nil {
		return t, err
	}
	t.Duration = time.Since(start)
	t.Events = done
	t.EventsPerSec = float64(done) / t.Duration.Seconds()

	start = time.Now()
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM (SELECT payload FROM events) s").Scan(&t.ScanEvents); err != nil {
		return t, fmt.Errorf("scan events: %w", err)
	}
	t.ScanPerSec = float64(t.ScanEvents) / time.Since(start).Seconds()
	if t.ScanPerSec > 0 {
		t.Ratio = t.EventsPerSec / t.ScanPerSec
	}
	start = time.Now()
	var read int64
	for after := (eventstore.Cursor{}); ; {
		evs, err := store.Read(ctx, eventstore.Filter{After: after, EventTypes: []string{"bench."}, Limit: rebuildBatch})
		if err != nil {
			return t, err
		}
		read += int64(len(evs))
		if len(evs) < rebuildBatch {
			break
		}
		after = evs[len(evs)-1].Cursor()
	}
	t.ReadPerSec = float64(read) / time.Since(start).Seconds()
	t.PeakRSS = peakRSS()
	return t, nil
}

// peakRSS reads VmHWM from /proc/self/status.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
