package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/projection"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RebuildResult is the rebuild figure and its baseline.
type RebuildResult struct {
	Events       int64   `json:"events"`
	Seconds      float64 `json:"seconds"`
	EventsPerS   float64 `json:"events_per_s"`
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	PeakRSSExact bool    `json:"peak_rss_reset"` // false: VmHWM could not be reset, so it is the process's lifetime peak
	ScanPerS     float64 `json:"baseline_scan_per_s"`
	Ratio        float64 `json:"ratio"`
}

// measureRebuild rebuilds every projection through projection.Rebuild (the
// code `idledger projections rebuild --all` runs) and, beside it, streams the
// same events out of PostgreSQL in the same order with one query: what a
// rebuild could do at best if applying events cost nothing.
func measureRebuild(ctx context.Context, pool *pgxpool.Pool, reg *projection.Registry, store *eventstore.Postgres) (RebuildResult, error) {
	var res RebuildResult
	// The peak we want is the rebuild's, not the seeding's or the load's:
	// release what the earlier phases left, then reset the high-water mark.
	runtime.GC()
	debug.FreeOSMemory()
	res.PeakRSSExact = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	var done atomic.Int64
	restore := projection.TuneGC() // as idledger projections rebuild does
	start := time.Now()
	err := projection.Rebuild(ctx, pool, store, reg, nil, func(d, _ int64) { done.Store(d) })
	el := time.Since(start)
	restore()
	if err != nil {
		return res, fmt.Errorf("rebuild: %w", err)
	}
	res.PeakRSSMB = procStatusMB("VmHWM")
	res.Events = done.Load()
	res.Seconds = el.Seconds()
	if el > 0 {
		res.EventsPerS = float64(res.Events) / el.Seconds()
	}

	var types []string
	for _, p := range reg.Projections() {
		types = append(types, p.EventTypes...)
	}
	scanStart := time.Now()
	n, err := scanEvents(ctx, pool, types)
	if err != nil {
		return res, fmt.Errorf("baseline scan: %w", err)
	}
	if s := time.Since(scanStart).Seconds(); s > 0 {
		res.ScanPerS = float64(n) / s
	}
	if res.ScanPerS > 0 {
		res.Ratio = res.EventsPerS / res.ScanPerS
	}
	return res, nil
}

// scanEvents streams the events of the given type prefixes in the global
// order, every column, without decoding them.
func scanEvents(ctx context.Context, pool *pgxpool.Pool, types []string) (int64, error) {
	pats := make([]string, len(types))
	for i, t := range types {
		pats[i] = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(t) + "%"
	}
	rows, err := pool.Query(ctx, `SELECT instance_id, aggregate_type, aggregate_id, sequence, event_type, revision, payload,
        resource_owner, creator, request_id, client_ip, user_agent, created_at, position, tx_id::text, hash
        FROM events WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot()) AND event_type LIKE ANY($1)
        ORDER BY events.tx_id, events.position`, pats)
	if err != nil {
		return 0, err
	}
	var n int64
	for rows.Next() {
		_ = rows.RawValues()
		n++
	}
	rows.Close()
	return n, rows.Err()
}

// procStatusMB reads a kB field of /proc/self/status, in MiB (0 when absent,
// e.g. off Linux).
func procStatusMB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if !strings.HasPrefix(line, field+":") {
			continue
		}
		fs := strings.Fields(line[len(field)+1:])
		if len(fs) == 0 {
			return 0
		}
		kb, _ := strconv.ParseFloat(fs[0], 64)
		return kb / 1024
	}
	return 0
}

// rssSampler samples the process's VmRSS while the server is under load:
// the server runs in this process, so this is the server's RSS plus the load
// generator's (small, preallocated) buffers.
type rssSampler struct {
	mu   sync.Mutex
	peak float64
	stop chan struct{}
	done chan struct{}
}

func startRSS() *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) sample() {
	v := procStatusMB("VmRSS")
	s.mu.Lock()
	s.peak = max(s.peak, v)
	s.mu.Unlock()
}

// end stops sampling and returns the peak VmRSS in MiB.
func (s *rssSampler) end() float64 {
	close(s.stop)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}
