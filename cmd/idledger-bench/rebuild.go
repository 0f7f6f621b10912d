package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	OwnProcess   bool    `json:"own_process"`    // measured in a process of its own, as idledger projections rebuild runs
	HeapBeforeMB float64 `json:"heap_before_mb"` // the live heap the process holds before the rebuild starts (the server's, in a default run)
	PeakHeapMB   float64 `json:"peak_heap_mb"`   // the largest heap (live and not yet collected objects) sampled during the rebuild
	CPUS         float64 `json:"cpu_s"`          // this process's CPU time (user and system) during the rebuild: on a shared machine, steadier than its rate
	GCCycles     uint32  `json:"gc_cycles"`
	GCCPUS       float64 `json:"gc_cpu_s"` // the collector's CPU time during the rebuild (assists, dedicated workers, pauses; not idle workers)
	ScanPerS     float64 `json:"baseline_scan_per_s"`
	Ratio        float64 `json:"ratio"`
}

func (r RebuildResult) print(w io.Writer) {
	fmt.Fprintf(w, "BENCH name=rebuild events=%d events_per_s=%.0f peak_rss_mb=%.1f baseline_scan_per_s=%.0f ratio=%.2f heap_before_mb=%.1f peak_heap_mb=%.1f cpu_s=%.2f gc_cycles=%d gc_cpu_s=%.2f\n",
		r.Events, r.EventsPerS, r.PeakRSSMB, r.ScanPerS, r.Ratio, r.HeapBeforeMB, r.PeakHeapMB, r.CPUS, r.GCCycles, r.GCCPUS)
}

// rebuildOnly is --rebuild-only: the rebuild of the store as it is, so that
// one store (say, a default run's, kept with --database-url) can be rebuilt
// again and again, by one binary and then another.
func rebuildOnly(ctx context.Context, cfg config, pool *pgxpool.Pool, stdout io.Writer) (*Report, error) {
	reg := projection.NewRegistry(projection.All()...) // as idledger projections rebuild builds it
	r, err := measureRebuild(ctx, pool, reg, eventstore.NewPostgres(pool, reg), cfg.RebuildCPU, cfg.RebuildMem)
	if err != nil {
		return nil, err
	}
	r.print(stdout)
	rep := &Report{StartedAt: time.Now().UTC(), GoMaxProcs: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), Rebuild: &r}
	if cfg.Out != "" {
		if err := writeJSON(cfg.Out, rep); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// measureRebuild rebuilds every projection through projection.Rebuild (the
// code `idledger projections rebuild --all` runs) and, beside it, streams the
// same events out of PostgreSQL in the same order with one query: what a
// rebuild could do at best if applying events cost nothing. cpuProfile and
// memProfile, when set, name files for a CPU profile of the rebuild and a
// heap profile of its allocations (go tool pprof -sample_index=alloc_space).
func measureRebuild(ctx context.Context, pool *pgxpool.Pool, reg *projection.Registry, store *eventstore.Postgres, cpuProfile, memProfile string) (RebuildResult, error) {
	var res RebuildResult
	// The peak we want is the rebuild's, not the seeding's or the load's:
	// release what the earlier phases left, then reset the high-water mark.
	runtime.GC()
	debug.FreeOSMemory()
	res.PeakRSSExact = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	res.HeapBeforeMB = float64(heapBytes()) / (1 << 20)
	stopProfile, err := startCPUProfile(cpuProfile)
	if err != nil {
		return res, err
	}
	heap := startHeapSampler()
	gc0, cpu0 := gcStats(), processCPU()
	var done atomic.Int64
	restore := projection.TuneGC() // as idledger projections rebuild does
	start := time.Now()
	err = projection.Rebuild(ctx, pool, store, reg, nil, func(d, _ int64) { done.Store(d) })
	el := time.Since(start)
	restore()
	stopProfile()
	gc1, cpu1 := gcStats(), processCPU()
	peakHeap := heap.end()
	if err != nil {
		return res, fmt.Errorf("rebuild: %w", err)
	}
	res.PeakRSSMB = procStatusMB("VmHWM")
	res.PeakHeapMB = peakHeap / (1 << 20)
	res.CPUS = cpu1 - cpu0
	res.GCCycles = gc1.cycles - gc0.cycles
	res.GCCPUS = gc1.cpu - gc0.cpu
	if memProfile != "" {
		if err := writeHeapProfile(memProfile); err != nil {
			return res, fmt.Errorf("write heap profile: %w", err)
		}
	}
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

// processCPU is the user and system CPU seconds this process has used (0
// where getrusage is missing).
func processCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

type gcCounters struct {
	cycles uint32
	cpu    float64
}

func gcStats() gcCounters {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/cpu/classes/gc/mark/assist:cpu-seconds"},
		{Name: "/cpu/classes/gc/mark/dedicated:cpu-seconds"}, {Name: "/cpu/classes/gc/pause:cpu-seconds"}}
	metrics.Read(s)
	var c gcCounters
	if s[0].Value.Kind() == metrics.KindUint64 {
		c.cycles = uint32(s[0].Value.Uint64())
	}
	// Not the idle mark workers: they only use CPU nothing else wanted.
	for _, v := range s[1:] {
		if v.Value.Kind() == metrics.KindFloat64 {
			c.cpu += v.Value.Float64()
		}
	}
	return c
}

// heapBytes is the heap's objects, live or not yet collected.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// writeHeapProfile writes the heap profile after a collection, so that its
// allocation samples (alloc_space, alloc_objects) cover the whole rebuild.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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

// peakSampler follows a figure (probe) every period, for its peak.
type peakSampler struct {
	probe func() float64
	mu    sync.Mutex
	peak  float64
	stop  chan struct{}
	done  chan struct{}
}

func startPeak(probe func() float64, period time.Duration) *peakSampler {
	s := &peakSampler{probe: probe, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(period)
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

// startRSS samples the process's VmRSS in MiB while the server is under
// load: the server runs in this process, so this is the server's RSS plus
// the load generator's (small, preallocated) buffers.
func startRSS() *peakSampler {
	return startPeak(func() float64 { return procStatusMB("VmRSS") }, 50*time.Millisecond)
}

// startHeapSampler follows the heap's size in bytes every 20 ms.
func startHeapSampler() *peakSampler {
	return startPeak(func() float64 { return float64(heapBytes()) }, 20*time.Millisecond)
}

func (s *peakSampler) sample() {
	v := s.probe()
	s.mu.Lock()
	s.peak = max(s.peak, v)
	s.mu.Unlock()
}

// end stops sampling and returns the peak.
func (s *peakSampler) end() float64 {
	close(s.stop)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}
