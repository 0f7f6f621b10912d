package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"

	"connectrpc.com/connect"

	"github.com/idledger/idledger/internal/pgembed"
)

// run is the whole benchmark: start, seed, measure, report. It returns the
// report; its error is for a harness failure (a request that fails during
// measurement is counted in the report instead).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (*Report, error) {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return nil, err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }
	if cfg.Smoke {
		logf("smoke mode: tiny data and durations; the figures only show that the harness works")
	}

	url := cfg.DatabaseURL
	if url == "" {
		cluster, dir, err := startEmbedded(ctx, logf)
		if err != nil {
			return nil, err
		}
		defer func() {
			if err := cluster.Stop(); err != nil {
				logf("stop embedded PostgreSQL: %v", err)
			}
			_ = os.RemoveAll(dir)
		}()
		url = cluster.URL()
	}

	tracer := &sqlTracer{}
	appPool, err := newPool(ctx, url, cfg.Pool, tracer)
	if err != nil {
		return nil, err
	}
	defer appPool.Close()
	basePool, err := newPool(ctx, url, cfg.Pool, nil)
	if err != nil {
		return nil, err
	}
	defer basePool.Close()
	if cfg.RebuildOnly {
		return rebuildOnly(ctx, cfg, appPool, stdout)
	}

	srv, err := startServer(ctx, appPool, logf)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	c := newClient(srv.url, srv.host, srv.token, cfg.maxConc())

	rep := &Report{
		StartedAt: time.Now().UTC(), GoMaxProcs: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
		Smoke: cfg.Smoke, DurationS: cfg.Duration.Seconds(), Concurrency: cfg.Concurrency, PoolSize: cfg.Pool,
	}
	seedStart := time.Now()
	fx, err := seed(ctx, c, seedSizes{
		IDPs: cfg.SeedIDPs, Users: cfg.SeedUsers, Links: cfg.SeedLinks,
		Orgs: max(cfg.maxConc(), 8), PolicySlots: cfg.maxConc(), PolicyInstance: cfg.PolicyInstance,
	}, stderr)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(cfg.Scenarios, isLoginScenario) {
		m := cfg.maxConc()
		if fx.login, err = seedLogin(ctx, c, fx, (cfg.SeedLogins+m-1)/m*m, stderr); err != nil {
			return nil, err
		}
		defer fx.login.up.close()
	}
	if slices.ContainsFunc(cfg.Scenarios, isOAuthScenario) {
		if fx.oauth, err = seedOAuth(ctx, c, cfg.maxConc(), stderr); err != nil {
			return nil, err
		}
		defer fx.oauth.example.close()
	}
	if slices.Contains(cfg.Scenarios, "code_flow_hosted") {
		if fx.hosted, err = seedHosted(ctx, c, fx.login, stderr); err != nil {
			return nil, err
		}
		defer fx.hosted.close()
	}
	rep.SeedWarnings = fx.warnings
	rep.Seed = SeedInfo{IDPs: len(fx.idps), Users: len(fx.users), Links: cfg.SeedLinks, Orgs: len(fx.orgs), Seconds: time.Since(seedStart).Seconds()}
	if rep.Seed.Events, err = countEvents(ctx, appPool); err != nil {
		return nil, err
	}
	logf("store holds %d events after seeding", rep.Seed.Events)

	if err := createBaselineTable(ctx, basePool); err != nil {
		return nil, fmt.Errorf("create baseline table: %w", err)
	}
	defer dropBaselineTable(context.WithoutCancel(ctx), basePool)

	b := &bench{c: c, rpc: newRPCClient(srv.url, srv.host, srv.token), app: appPool, base: basePool, tracer: tracer, fx: fx,
		tag: strconv.FormatInt(time.Now().UnixNano(), 36), cfg: cfg}
	rep.LoadGen.NoopNsPerIter = noopRate(ctx)
	fmt.Fprintf(stdout, "BENCH name=loadgen noop_ns_per_iter=%.0f\n", rep.LoadGen.NoopNsPerIter)
	if fx.login != nil {
		if rep.Login, err = measureLogin(ctx, b, stdout); err != nil {
			return nil, err
		}
	}

	stopProfile, err := startCPUProfile(cfg.CPUProfile)
	if err != nil {
		return nil, err
	}
	all := scenarios()
	for _, name := range cfg.Scenarios {
		if sc := all[name]; sc.probe != nil {
			if err := sc.probe(ctx, b); connect.CodeOf(err) == connect.CodeUnimplemented {
				fmt.Fprintf(stdout, "SKIPPED name=%s: the server answers unimplemented: %v\n", name, err)
				rep.Skipped = append(rep.Skipped, Skip{Name: name, Reason: err.Error()})
				continue
			}
		}
		results, err := runScenario(ctx, b, all[name], cfg.Concurrency, stdout, logf)
		if err != nil {
			stopProfile()
			return nil, err
		}
		rep.Scenarios = append(rep.Scenarios, results...)
	}
	rep.Transports, err = compareTransports(ctx, b, rep, all, stdout)
	stopProfile()
	if err != nil {
		return nil, err
	}
	if lf := fx.login; lf != nil {
		rep.Login.OPDiscovery, rep.Login.OPKeys = lf.up.discovery.Load(), lf.up.keys.Load()
		fmt.Fprintf(stdout, "BENCH name=login_upstream discovery_requests=%d keys_requests=%d\n", rep.Login.OPDiscovery, rep.Login.OPKeys)
	}
	rep.finishLoad()
	fmt.Fprintf(stdout, "BENCH name=server_rss peak_rss_mb=%.1f loadgen_max_overhead_pct=%.2f\n",
		rep.ServerRSSPeakMB, rep.LoadGen.MaxOverheadPct)

	if cfg.History {
		h, err := runHistory(ctx, b, srv, stdout, logf)
		if err != nil {
			return nil, err
		}
		rep.History = h
	}
	if cfg.Scale {
		s, err := runScale(ctx, b, srv, rep, stdout, logf)
		if err != nil {
			return nil, err
		}
		rep.Scale = s
	}
	if cfg.Rebuild {
		r, err := rebuildInChild(ctx, cfg, url, stdout, stderr)
		if err != nil {
			return nil, err
		}
		rep.Rebuild = r
	}
	rep.totalErrors()
	if rep.TotalErrors > 0 {
		fmt.Fprintf(stdout, "BENCH-FAILED errors=%d: some requests failed; see the ERRORS lines above\n", rep.TotalErrors)
	}
	if cfg.Out != "" {
		if err := writeJSON(cfg.Out, rep); err != nil {
			return nil, err
		}
		logf("wrote %s", cfg.Out)
	}
	return rep, nil
}

// startEmbedded starts a durable (fsync on) throw-away cluster under /tmp.
// The directory is 0711 so that the postgres system user can reach its
// cluster when running as root.
func startEmbedded(ctx context.Context, logf func(string, ...any)) (*pgembed.Cluster, string, error) {
	dir, err := os.MkdirTemp("/tmp", "idledger-bench-")
	if err != nil {
		return nil, "", err
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", err
	}
	start := time.Now()
	cluster, err := pgembed.Start(ctx, pgembed.Options{DataDir: dir, Database: "idledger_bench", Log: logf})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", fmt.Errorf("embedded PostgreSQL (no --database-url given): %w", err)
	}
	logf("embedded PostgreSQL up in %s (%s)", time.Since(start).Round(time.Millisecond), filepath.Join(dir, "postgres"))
	return cluster, dir, nil
}

// runScenario measures one scenario at every concurrency: a short warm-up,
// then the server for the duration, then the baseline for the same
// duration with the same concurrency and pool size.
func runScenario(ctx context.Context, b *bench, sc scenario, concs []int, stdout io.Writer, logf func(string, ...any)) ([]ScenarioResult, error) {
	baseOp, baseSQL, baseErr := sc.baseline(ctx, b)
	if baseErr != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		fmt.Fprintf(stdout, "ERRORS name=%s baseline could not be prepared: %v\n", sc.name, baseErr)
	}
	var out []ScenarioResult
	for _, conc := range concs {
		r := ScenarioResult{Name: sc.name, Conc: conc, BaselineSQL: baseSQL}
		warm := min(b.cfg.Duration/10, 500*time.Millisecond)
		appOp := sc.app(b)
		runLoad(ctx, conc, warm, sc.expectRPS, appOp)
		c0 := b.tracer.snapshot()
		rss := startRSS()
		if b.cfg.SQLProfile {
			b.tracer.startTiming()
		}
		r.App = runLoad(ctx, conc, b.cfg.Duration, sc.expectRPS, appOp)
		if b.cfg.SQLProfile {
			r.SQLProfile = b.tracer.stopTiming()
		}
		r.RSSPeakMB = rss.end()
		r.LoadAvg = loadAvg()
		r.SQL = costSince(b.tracer, c0, r.App.Requests)
		switch {
		case b.cfg.NoBaseline:
		case baseOp != nil:
			runLoad(ctx, conc, warm, sc.expectRPS, baseOp)
			r.Baseline = runLoad(ctx, conc, b.cfg.Duration, sc.expectRPS, baseOp)
		default:
			r.Baseline.Errors = 1
			r.Baseline.ErrorSample = []string{baseErr.Error()}
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r.fill()
		r.print(stdout)
		out = append(out, r)
	}
	return out, nil
}

// compareRounds is how many times compareTransports alternates the two
// sides at each concurrency.
const compareRounds = 4

// compareTransports measures every gRPC scenario that ran against its REST
// twin, when that ran too, at each concurrency: the two alternate in
// compareRounds rounds of a quarter of --duration each, the order swapped
// every round, so that both see the same machine. (On a shared machine
// the load changes within seconds; two runs one after the other compare
// the load more than the transports.) The ratio is the gRPC side's rps over
// the REST side's.
func compareTransports(ctx context.Context, b *bench, rep *Report, all map[string]scenario, stdout io.Writer) ([]TransportRatio, error) {
	ran := map[string]bool{}
	for _, r := range rep.Scenarios {
		ran[r.Name] = true
	}
	var out []TransportRatio
	done := map[string]bool{}
	for _, name := range b.cfg.Scenarios {
		sc := all[name]
		if sc.rest == "" || !ran[name] || !ran[sc.rest] || done[name] {
			continue
		}
		done[name] = true
		rest := all[sc.rest]
		slice := max(b.cfg.Duration/compareRounds, 50*time.Millisecond)
		for _, conc := range b.cfg.Concurrency {
			sides := [2]op{rest.app(b), sc.app(b)}
			var sum [2]LoadResult
			for round := range compareRounds {
				for k := range 2 {
					side := (round + k) % 2
					l := runLoad(ctx, conc, slice, sc.expectRPS, sides[side])
					sum[side].Requests += l.Requests
					sum[side].Elapsed += l.Elapsed
					sum[side].Errors += l.Errors
					sum[side].ErrorSample = append(sum[side].ErrorSample, l.ErrorSample...)
				}
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			t := TransportRatio{Name: name, REST: sc.rest, Conc: conc, Rounds: compareRounds}
			for side, l := range sum {
				if l.Elapsed > 0 {
					rps := float64(l.Requests) / l.Elapsed.Seconds()
					if side == 0 {
						t.RESTRPS = rps
					} else {
						t.RPS = rps
					}
				}
			}
			if t.RESTRPS > 0 {
				t.Ratio = t.RPS / t.RESTRPS
			}
			t.Errors = sum[0].Errors + sum[1].Errors
			fmt.Fprintf(stdout, "BENCH name=grpc_vs_rest scenario=%s rest=%s conc=%d rps=%.0f rest_rps=%.0f ratio=%.3f rounds=%d\n",
				t.Name, t.REST, t.Conc, t.RPS, t.RESTRPS, t.Ratio, t.Rounds)
			printErrors(stdout, "grpc_vs_rest/"+sc.rest, conc, "server", sum[0])
			printErrors(stdout, "grpc_vs_rest/"+name, conc, "server", sum[1])
			out = append(out, t)
		}
	}
	return out, nil
}

// startCPUProfile profiles until the returned func is called ("" does
// nothing).
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func writeJSON(path string, rep *Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
