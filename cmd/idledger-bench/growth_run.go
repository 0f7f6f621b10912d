package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// runHistory measures add_idp_link at concurrency 1 on fresh (seeded) users
// and then on one user whose aggregate already holds --history-events
// events, back to back, and prints the p50 ratio.
func runHistory(ctx context.Context, b *bench, srv *server, stdout io.Writer, logf func(string, ...any)) (*HistoryResult, error) {
	heavy, err := addHuman(ctx, b.c, b.fx.orgs[0], "bench-heavy-"+b.tag)
	if err != nil {
		return nil, fmt.Errorf("history: create user: %w", err)
	}
	start := time.Now()
	seq, err := growUser(ctx, b.app, srv.store, heavy, b.fx.instIDPs[0], b.tag, b.cfg.HistoryEvents)
	if err != nil {
		return nil, err
	}
	h := &HistoryResult{UserEvents: seq, FillSeconds: time.Since(start).Seconds()}
	logf("history: user %s has %d events (filled in %.1fs)", heavy, seq, h.FillSeconds)

	warm := min(b.cfg.Duration/10, 500*time.Millisecond)
	fresh := linkOn(b, func(i int) string { return b.fx.users[i%len(b.fx.users)] })
	long := linkOn(b, func(int) string { return heavy })
	runLoad(ctx, 1, warm, 2000, fresh)
	h.Fresh = runLoad(ctx, 1, b.cfg.Duration, 2000, fresh)
	runLoad(ctx, 1, warm, 2000, long)
	if b.cfg.SQLProfile {
		b.tracer.startTiming()
	}
	h.Heavy = runLoad(ctx, 1, b.cfg.Duration, 2000, long)
	if b.cfg.SQLProfile {
		for i, e := range b.tracer.stopTiming() {
			if i == 6 || h.Heavy.Requests == 0 {
				break
			}
			fmt.Fprintf(stdout, "  history sql %.3f ms/req calls/req=%.2f %s\n",
				float64(e.Total.Microseconds())/1000/float64(h.Heavy.Requests), float64(e.Calls)/float64(h.Heavy.Requests), e.SQL[:min(len(e.SQL), 140)])
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h.P50ms, h.FreshP50ms = msf(h.Heavy.P50), msf(h.Fresh.P50)
	if h.FreshP50ms > 0 {
		h.Ratio = h.P50ms / h.FreshP50ms
	}
	fmt.Fprintf(stdout, "BENCH name=history scenario=add_idp_link conc=1 user_events=%d p50_ms=%.3f fresh_p50_ms=%.3f ratio=%.3f\n",
		h.UserEvents, h.P50ms, h.FreshP50ms, h.Ratio)
	printErrors(stdout, "history_fresh", 1, "server", h.Fresh)
	printErrors(stdout, "history_heavy", 1, "server", h.Heavy)
	return h, nil
}

// runScale grows the store to --scale-events events and repeats get_idp and
// add_idp_link (server and baseline) at every concurrency, comparing p50 to
// the seeded store's run of the same scenario (measured now if the main run
// skipped it).
func runScale(ctx context.Context, b *bench, srv *server, rep *Report, stdout io.Writer, logf func(string, ...any)) ([]ScaleResult, error) {
	all := scenarios()
	names := []string{"get_idp", "add_idp_link"}
	small := map[string]ScenarioResult{}
	for _, s := range rep.Scenarios {
		small[fmt.Sprint(s.Name, s.Conc)] = s
	}
	for _, name := range names {
		for _, conc := range b.cfg.Concurrency {
			if _, ok := small[fmt.Sprint(name, conc)]; ok {
				continue
			}
			rs, err := runScenario(ctx, b, all[name], []int{conc}, stdout, logf)
			if err != nil {
				return nil, err
			}
			small[fmt.Sprint(name, conc)] = rs[0]
		}
	}
	smallEvents, err := countEvents(ctx, b.app)
	if err != nil {
		return nil, err
	}
	bigEvents, err := fillTo(ctx, b.app, srv.store, b.cfg.ScaleEvents, b.fx.instIDPs[0], b.tag, logf)
	if err != nil {
		return nil, err
	}
	logf("scale: store holds %d events (was %d)", bigEvents, smallEvents)
	var out []ScaleResult
	for _, name := range names {
		rs, err := runScenario(ctx, b, all[name], b.cfg.Concurrency, io.Discard, logf)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			s := small[fmt.Sprint(name, r.Conc)]
			res := ScaleResult{Name: name, Conc: r.Conc, Events: bigEvents, P50ms: r.P50ms, SmallEvents: smallEvents,
				SmallP50ms: s.P50ms, Big: r.App, RPS: r.RPS, BaselineRPS: r.BaselineRPS, SQLProfile: r.SQLProfile}
			if s.P50ms > 0 {
				res.Ratio = r.P50ms / s.P50ms
			}
			fmt.Fprintf(stdout, "BENCH name=scale scenario=%s conc=%d events=%d p50_ms=%.3f small_events=%d small_p50_ms=%.3f ratio=%.3f rps=%.0f baseline_rps=%.0f\n",
				name, r.Conc, bigEvents, res.P50ms, smallEvents, res.SmallP50ms, res.Ratio, r.RPS, r.BaselineRPS)
			printSQL(stdout, "scale_"+name, r.Conc, r.App.Requests, r.SQLProfile)
			printErrors(stdout, "scale_"+name, r.Conc, "server", r.App)
			out = append(out, res)
		}
	}
	return out, nil
}
