package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is the parsed command line.
type config struct {
	DatabaseURL    string
	Duration       time.Duration
	Concurrency    []int
	SeedIDPs       int
	SeedUsers      int
	SeedLinks      int
	SeedLogins     int
	Scenarios      []string
	Out            string
	Scale          bool
	ScaleEvents    int64
	History        bool
	HistoryEvents  int
	Smoke          bool
	Pool           int
	PolicyInstance bool
	Rebuild        bool
	RebuildOnly    bool
	RebuildCPU     string
	RebuildMem     string
	CPUProfile     string
	NoBaseline     bool
	SQLProfile     bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted; the embedded PostgreSQL and its directory are removed (%w)", err)
		}
		fmt.Fprintln(os.Stderr, "idledger-bench:", err)
		stop()
		os.Exit(1)
	}
	if rep.TotalErrors > 0 {
		fmt.Fprintf(os.Stderr, "idledger-bench: %d errors (failed requests or seed steps); the figures above are not valid\n", rep.TotalErrors)
		stop()
		os.Exit(2)
	}
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("idledger-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var conc, scen string
	fs.StringVar(&c.DatabaseURL, "database-url", os.Getenv("IDLEDGER_DATABASE_URL"),
		"PostgreSQL to benchmark on (its database is used as is); empty starts an embedded cluster in a temporary directory")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "measured time per scenario, concurrency and side (server or baseline)")
	fs.StringVar(&conc, "concurrency", "1,16,64", "comma-separated closed-loop concurrencies")
	fs.IntVar(&c.SeedIDPs, "seed-idps", 10000, "IdPs to seed (all kinds, both owners)")
	fs.IntVar(&c.SeedUsers, "seed-users", 10000, "users to seed")
	fs.IntVar(&c.SeedLinks, "seed-links", 10000, "user IdP links to seed")
	fs.IntVar(&c.SeedLogins, "seed-logins", 256,
		"users with a password, and succeeded intents, to seed for the login-path scenarios (rounded up to a multiple of the highest concurrency)")
	fs.StringVar(&scen, "scenarios", "default",
		"comma-separated scenarios, \"default\" (every one but "+strings.Join(notDefault, ", ")+") or \"all\": "+strings.Join(scenarioNames, ","))
	fs.StringVar(&c.Out, "out", "", "write the results as JSON to this file")
	fs.BoolVar(&c.Scale, "scale", false, "also repeat get_idp and add_idp_link with the store grown to --scale-events events")
	fs.Int64Var(&c.ScaleEvents, "scale-events", 1_000_000, "store size for --scale")
	fs.BoolVar(&c.History, "history", false, "also measure add_idp_link on a user with --history-events events against fresh users")
	fs.IntVar(&c.HistoryEvents, "history-events", 10_000, "history length for --history")
	fs.BoolVar(&c.Smoke, "smoke", false, "tiny data, about 0.3 s per scenario, concurrency 1 and 4 (a harness check, not a measurement)")
	fs.IntVar(&c.Pool, "pool", 4*runtime.GOMAXPROCS(0), "connections in the server's pool and in the baseline's")
	fs.BoolVar(&c.PolicyInstance, "policy-instance", false,
		"add_idp_to_policy on the instance default policy (all workers contend for one aggregate) instead of one org policy per worker")
	fs.BoolVar(&c.Rebuild, "rebuild", true, "measure a full projection rebuild at the end")
	fs.BoolVar(&c.RebuildOnly, "rebuild-only", false,
		"only rebuild the projections of the --database-url database as it is (no seeding, no scenarios): to rebuild one store again and again")
	fs.StringVar(&c.RebuildCPU, "rebuild-cpuprofile", "", "write a CPU profile of the rebuild (not of its baseline scan) to this file")
	fs.StringVar(&c.RebuildMem, "rebuild-memprofile", "", "write a heap profile of the rebuild to this file, taken when its heap was largest")
	fs.BoolVar(&c.NoBaseline, "no-baseline", false, "skip the raw-SQL baselines (for profiling the server alone; ratios are then 0)")
	fs.BoolVar(&c.SQLProfile, "sql-profile", false, "time every statement the server runs during each scenario and print where the time goes, per request")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the scenario phase (server and load generator: one process) to this file")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if c.Smoke {
		defaults := map[string]func(){
			"duration":       func() { c.Duration = 300 * time.Millisecond },
			"concurrency":    func() { conc = "1,4" },
			"seed-idps":      func() { c.SeedIDPs = 24 },
			"seed-users":     func() { c.SeedUsers = 24 },
			"seed-links":     func() { c.SeedLinks = 12 },
			"seed-logins":    func() { c.SeedLogins = 8 },
			"scenarios":      func() { scen = "all" },
			"scale-events":   func() { c.ScaleEvents = 3000 },
			"history-events": func() { c.HistoryEvents = 200 },
		}
		for name, apply := range defaults {
			if !set[name] {
				apply()
			}
		}
	}
	for _, s := range strings.Split(conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return c, fmt.Errorf("--concurrency: %q is not a positive integer", s)
		}
		c.Concurrency = append(c.Concurrency, n)
	}
	switch scen {
	case "all":
		c.Scenarios = slices.Clone(scenarioNames)
	case "default", "":
		for _, s := range scenarioNames {
			if !slices.Contains(notDefault, s) {
				c.Scenarios = append(c.Scenarios, s)
			}
		}
	default:
		for _, s := range strings.Split(scen, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(scenarioNames, s) {
				return c, fmt.Errorf("--scenarios: unknown scenario %q (known: %s)", s, strings.Join(scenarioNames, ", "))
			}
			c.Scenarios = append(c.Scenarios, s)
		}
	}
	if c.RebuildOnly && c.DatabaseURL == "" {
		return c, errors.New("--rebuild-only rebuilds an existing store: give its --database-url")
	}
	if c.Duration <= 0 || c.Pool < 1 || c.SeedIDPs < 1 || c.SeedUsers < 1 || c.SeedLinks < 0 || c.SeedLogins < 1 {
		return c, errors.New("--duration, --pool, --seed-idps, --seed-users and --seed-logins must be positive")
	}
	return c, nil
}

func (c config) maxConc() int { return slices.Max(c.Concurrency) }
