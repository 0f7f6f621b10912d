package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Report is everything one run measured; --out writes it as JSON.
type Report struct {
	StartedAt   time.Time `json:"started_at"`
	GoMaxProcs  int       `json:"gomaxprocs"`
	NumCPU      int       `json:"num_cpu"`
	Smoke       bool      `json:"smoke"`
	DurationS   float64   `json:"duration_s"`
	Concurrency []int     `json:"concurrency"`
	PoolSize    int       `json:"pool_size"`
	Seed        SeedInfo  `json:"seed"`
	// SeedWarnings are seed steps that failed; each counts as an error.
	SeedWarnings []string `json:"seed_warnings,omitempty"`
	LoadGen      struct {
		NoopNsPerIter  float64 `json:"noop_ns_per_iter"`
		MaxOverheadPct float64 `json:"max_overhead_pct"`
	} `json:"loadgen"`
	Scenarios []ScenarioResult `json:"scenarios"`
	// Skipped are scenarios whose method the server does not serve.
	Skipped []Skip `json:"skipped,omitempty"`
	// Transports compare each gRPC scenario with its REST twin.
	Transports      []TransportRatio `json:"grpc_vs_rest,omitempty"`
	ServerRSSPeakMB float64          `json:"server_rss_peak_mb"`
	History         *HistoryResult   `json:"history,omitempty"`
	Scale           []ScaleResult    `json:"scale,omitempty"`
	Rebuild         *RebuildResult   `json:"rebuild,omitempty"`
	Login           *LoginInfo       `json:"login,omitempty"`
	TotalErrors     int              `json:"total_errors"`
}

// Skip is a scenario that did not run, and why.
type Skip struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// TransportRatio is a gRPC scenario's rps over its REST twin's at the same
// concurrency, measured in alternating rounds (compareTransports).
type TransportRatio struct {
	Name    string  `json:"name"`
	REST    string  `json:"rest"`
	Conc    int     `json:"conc"`
	RPS     float64 `json:"rps"`
	RESTRPS float64 `json:"rest_rps"`
	Ratio   float64 `json:"ratio"`
	Rounds  int     `json:"rounds"`
	Errors  int     `json:"errors"`
}

// SeedInfo describes the seeded store.
type SeedInfo struct {
	IDPs    int     `json:"idps"`
	Users   int     `json:"users"`
	Links   int     `json:"links"`
	Orgs    int     `json:"orgs"`
	Events  int64   `json:"events"`
	Seconds float64 `json:"seconds"`
}

// ScenarioResult is one scenario at one concurrency, server and baseline.
type ScenarioResult struct {
	Name        string     `json:"name"`
	Conc        int        `json:"conc"`
	RPS         float64    `json:"rps"`
	P50ms       float64    `json:"p50_ms"`
	P99ms       float64    `json:"p99_ms"`
	BaselineRPS float64    `json:"baseline_rps"`
	Ratio       float64    `json:"ratio"`
	App         LoadResult `json:"server"`
	Baseline    LoadResult `json:"baseline"`
	SQL         sqlCost    `json:"server_sql"`
	BaselineSQL []string   `json:"baseline_sql,omitempty"`
	RSSPeakMB   float64    `json:"rss_peak_mb"`
	// LoadAvg is the machine's 1-minute load average when the server side
	// ended (/proc/loadavg; 0 where there is none): on a shared machine it
	// belongs with each figure.
	LoadAvg float64 `json:"loadavg_1m"`
	// SQLProfile is where the server's database time went (--sql-profile).
	SQLProfile []sqlProfileEntry `json:"sql_profile,omitempty"`
}

func msf(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func (r *ScenarioResult) fill() {
	r.RPS, r.P50ms, r.P99ms, r.BaselineRPS = r.App.RPS, msf(r.App.P50), msf(r.App.P99), r.Baseline.RPS
	if r.BaselineRPS > 0 {
		r.Ratio = r.RPS / r.BaselineRPS
	}
}

// print writes the BENCH line (the contract of DESIGN.md §5), a detail line,
// and, when anything failed, an ERRORS line that cannot be missed.
func (r *ScenarioResult) print(w io.Writer) {
	fmt.Fprintf(w, "BENCH name=%s conc=%d rps=%.0f p50_ms=%.3f p99_ms=%.3f baseline_rps=%.0f ratio=%.3f\n",
		r.Name, r.Conc, r.RPS, r.P50ms, r.P99ms, r.BaselineRPS, r.Ratio)
	fmt.Fprintf(w, "  detail name=%s conc=%d requests=%d p90_ms=%s max_ms=%s baseline_p50_ms=%s baseline_p99_ms=%s "+
		"sql_per_req=%.2f round_trips_per_req=%.2f background_sql_per_req=%.2f background_round_trips_per_req=%.2f "+
		"rss_mb=%.1f loadgen_overhead_pct=%.2f loadavg=%.2f\n",
		r.Name, r.Conc, r.App.Requests, ms(r.App.P90), ms(r.App.Max), ms(r.Baseline.P50), ms(r.Baseline.P99),
		r.SQL.StatementsPerReq, r.SQL.RoundTripsPerReq, r.SQL.BgStatementsPerReq, r.SQL.BgRoundTripsPerReq, r.RSSPeakMB, r.App.OverheadPct, r.LoadAvg)
	printSQL(w, r.Name, r.Conc, r.App.Requests, r.SQLProfile)
	printErrors(w, r.Name, r.Conc, "server", r.App)
	printErrors(w, r.Name, r.Conc, "baseline", r.Baseline)
}

// printSQL writes the statements that took the server's database time,
// most first, per request (--sql-profile).
func printSQL(w io.Writer, name string, conc, requests int, prof []sqlProfileEntry) {
	for i, e := range prof {
		if i == 8 || requests == 0 {
			break
		}
		sql := e.SQL
		if len(sql) > 200 {
			// the head names the statement, the tail holds its filter
			sql = sql[:60] + " … " + sql[len(sql)-140:]
		}
		fmt.Fprintf(w, "  sql name=%s conc=%d ms_per_req=%.3f calls_per_req=%.2f avg_ms=%.3f %s\n", name, conc,
			msf(e.Total)/float64(requests), float64(e.Calls)/float64(requests), msf(e.Total)/float64(e.Calls), sql)
	}
}

func printErrors(w io.Writer, name string, conc int, side string, l LoadResult) {
	if l.Errors == 0 {
		return
	}
	fmt.Fprintf(w, "ERRORS name=%s conc=%d side=%s failed=%d of %d requests: %s\n",
		name, conc, side, l.Errors, l.Requests, strings.Join(l.ErrorSample, " | "))
}

// finishLoad computes the run-wide figures of the load phase.
func (rep *Report) finishLoad() {
	for _, s := range rep.Scenarios {
		rep.ServerRSSPeakMB = max(rep.ServerRSSPeakMB, s.RSSPeakMB)
		rep.LoadGen.MaxOverheadPct = max(rep.LoadGen.MaxOverheadPct, s.App.OverheadPct)
	}
}

func (rep *Report) totalErrors() {
	n := len(rep.SeedWarnings)
	for _, s := range rep.Scenarios {
		n += s.App.Errors + s.Baseline.Errors
	}
	for _, s := range rep.Scale {
		n += s.Big.Errors
	}
	for _, t := range rep.Transports {
		n += t.Errors
	}
	if h := rep.History; h != nil {
		n += h.Fresh.Errors + h.Heavy.Errors
	}
	rep.TotalErrors = n
}

// HistoryResult compares add_idp_link on a user with a long history to
// fresh users, at concurrency 1.
type HistoryResult struct {
	UserEvents  uint64     `json:"user_events"`
	P50ms       float64    `json:"p50_ms"`
	FreshP50ms  float64    `json:"fresh_p50_ms"`
	Ratio       float64    `json:"ratio"`
	Heavy       LoadResult `json:"heavy"`
	Fresh       LoadResult `json:"fresh"`
	FillSeconds float64    `json:"fill_seconds"`
}

// ScaleResult compares a scenario in the grown store to the seeded one.
type ScaleResult struct {
	Name        string            `json:"name"`
	Conc        int               `json:"conc"`
	Events      int64             `json:"events"`
	P50ms       float64           `json:"p50_ms"`
	SmallEvents int64             `json:"small_events"`
	SmallP50ms  float64           `json:"small_p50_ms"`
	Ratio       float64           `json:"ratio"` // p50 grown / p50 seeded
	Big         LoadResult        `json:"server"`
	BaselineRPS float64           `json:"baseline_rps"`
	RPS         float64           `json:"rps"`
	SQLProfile  []sqlProfileEntry `json:"sql_profile,omitempty"`
}

// LoginInfo is what the login-path scenarios measured beside the load: the
// password hash's own cost, and how often the server went to the bench's
// OP (discovery and keys are cached with the provider).
type LoginInfo struct {
	Argon2VerifyMs float64 `json:"argon2id_verify_ms"`
	Argon2Params   string  `json:"argon2id_params"`
	OPDiscovery    int64   `json:"op_discovery_requests"`
	OPKeys         int64   `json:"op_keys_requests"`
}

// loadAvg is the 1-minute load average, 0 when /proc/loadavg is unreadable.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
