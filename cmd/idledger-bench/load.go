package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// op is one closed-loop iteration of a worker. It times each request it
// makes through w.timed (add_idp_to_policy makes two: an add and a remove,
// so it records two samples) and returns the first error.
type op func(ctx context.Context, w *worker) error

// worker is the state one load goroutine owns: its latency samples (a
// preallocated slice, merged and sorted after the run, so recording costs an
// append and nothing else), its error count and a cheap private PRNG.
type worker struct {
	id      int
	iter    int
	rnd     uint64
	samples []time.Duration
	errors  int
	errMsgs []string
	// outside is time spent in the loop but not inside a request: the load
	// generator's own overhead.
	outside time.Duration
	last    time.Time
}

// timed runs one request, records its latency and counts it as an error when
// it fails. The time between the previous request's end and this one's start
// is the generator's overhead.
func (w *worker) timed(f func() error) error {
	start := time.Now()
	if !w.last.IsZero() {
		w.outside += start.Sub(w.last)
	}
	err := f()
	end := time.Now()
	w.samples = append(w.samples, end.Sub(start))
	w.last = end
	if err != nil {
		w.errors++
		if m := err.Error(); len(w.errMsgs) < 3 && !slices.Contains(w.errMsgs, m) {
			w.errMsgs = append(w.errMsgs, m)
		}
	}
	return err
}

// intn returns a pseudo-random int in [0, n) from the worker's xorshift state.
func (w *worker) intn(n int) int {
	w.rnd ^= w.rnd << 13
	w.rnd ^= w.rnd >> 7
	w.rnd ^= w.rnd << 17
	return int(w.rnd % uint64(n))
}

// LoadResult is the outcome of one closed-loop run.
type LoadResult struct {
	Requests    int           `json:"requests"`
	Errors      int           `json:"errors"`
	ErrorSample []string      `json:"error_sample,omitempty"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	RPS         float64       `json:"rps"`
	P50         time.Duration `json:"p50_ns"`
	P90         time.Duration `json:"p90_ns"`
	P99         time.Duration `json:"p99_ns"`
	Max         time.Duration `json:"max_ns"`
	// OverheadPct is the share of worker time spent outside requests.
	OverheadPct float64 `json:"loadgen_overhead_pct"`
}

// runLoad runs conc workers, each calling o in a closed loop until dur has
// passed, and returns throughput and latency percentiles over every request.
// expectRPS sizes the sample slices so that recording does not allocate in
// the common case.
func runLoad(ctx context.Context, conc int, dur time.Duration, expectRPS int, o op) LoadResult {
	perWorker := int(dur.Seconds()*float64(expectRPS))/conc + 1024
	workers := make([]*worker, conc)
	for i := range workers {
		workers[i] = &worker{id: i, rnd: uint64(i)*0x9E3779B97F4A7C15 + 1, samples: make([]time.Duration, 0, perWorker)}
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(dur)
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() && ctx.Err() == nil {
				_ = o(ctx, w)
				w.iter++
				if !w.last.IsZero() && w.last.After(deadline) {
					return
				}
			}
		}()
	}
	timer := time.NewTimer(dur)
	select {
	case <-timer.C:
	case <-ctx.Done():
		timer.Stop()
	}
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start)

	var res LoadResult
	var all []time.Duration
	var outside time.Duration
	for _, w := range workers {
		all = append(all, w.samples...)
		res.Errors += w.errors
		outside += w.outside
		for _, m := range w.errMsgs {
			if len(res.ErrorSample) < 3 && !slices.Contains(res.ErrorSample, m) {
				res.ErrorSample = append(res.ErrorSample, m)
			}
		}
	}
	slices.Sort(all)
	res.Requests = len(all)
	res.Elapsed = elapsed
	if elapsed > 0 {
		res.RPS = float64(len(all)) / elapsed.Seconds()
		res.OverheadPct = 100 * outside.Seconds() / (elapsed.Seconds() * float64(conc))
	}
	res.P50 = percentile(all, 0.50)
	res.P90 = percentile(all, 0.90)
	res.P99 = percentile(all, 0.99)
	if len(all) > 0 {
		res.Max = all[len(all)-1]
	}
	return res
}

// percentile is the nearest-rank percentile of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// noopRate measures the load loop itself with a request that does nothing:
// the cost per iteration of timing and recording, the floor under every
// latency figure.
func noopRate(ctx context.Context) (nsPerIter float64) {
	res := runLoad(ctx, 1, 200*time.Millisecond, 5_000_000, func(_ context.Context, w *worker) error {
		return w.timed(func() error { return nil })
	})
	if res.Requests == 0 {
		return 0
	}
	return float64(res.Elapsed.Nanoseconds()) / float64(res.Requests)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d.Nanoseconds())/1e6) }
