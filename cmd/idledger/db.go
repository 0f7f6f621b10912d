package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/config"
	"github.com/idledger/idledger/internal/pgembed"
)

// openOption adjusts openDatabase.
type openOption func(*openOptions)

type openOptions struct {
	initCluster bool
	tune        []func(*pgxpool.Config)
}

// mayInitCluster lets openDatabase initialise the embedded cluster when the
// data dir has none. Only serve and migrate pass it: any other command
// pointed at a data dir without a cluster (a typo, a wrong working
// directory) fails instead of creating an empty store behind the user's back.
func mayInitCluster(o *openOptions) { o.initCluster = true }

// openDatabase connects to cfg.DatabaseURL, or, when it is empty, to the
// embedded default cluster under cfg.DataDir: it reuses the cluster if it is
// running, or starts it (after waiting for one that is starting or stopping).
// Without mayInitCluster a data dir with no cluster is an error that says to
// run serve or migrate first. cleanup closes the pool and then stops the
// embedded cluster if this process started it, logging what it did; it is
// safe to call more than once. On error nothing is left running.
//
// servePool(cfg) adjusts the pool configuration further (serve's statement
// timeout).
func openDatabase(ctx context.Context, cfg config.Config, log zerolog.Logger, opts ...openOption) (pool *pgxpool.Pool, cleanup func(), err error) {
	var o openOptions
	for _, f := range opts {
		f(&o)
	}
	url := cfg.DatabaseURL
	var cluster *pgembed.Cluster
	if url == "" {
		cluster, err = pgembed.Start(ctx, pgembed.Options{
			DataDir:   cfg.DataDir,
			MustExist: !o.initCluster,
			Log:       func(format string, args ...any) { log.Info().Msgf(format, args...) },
		})
		if errors.Is(err, pgembed.ErrNoCluster) {
			dir, _ := filepath.Abs(cfg.DataDir)
			return nil, nil, fmt.Errorf("%w in the data dir %s (nothing initialised in %s): "+
				"run `idledger serve` or `idledger migrate` with this --data-dir first to create one, "+
				"or pass --database-url", pgembed.ErrNoCluster, dir, filepath.Join(dir, "postgres"))
		}
		if err != nil {
			return nil, nil, fmt.Errorf("embedded PostgreSQL (no --database-url given): %w", err)
		}
		url = cluster.URL()
		log.Info().Str("dir", cluster.Dir()).Int("port", cluster.Port()).Bool("reused", !cluster.Started()).
			Msg("embedded PostgreSQL is up")
	}
	stopCluster := func() {
		if cluster == nil {
			return
		}
		r, err := cluster.Shutdown()
		if err != nil {
			log.Error().Err(err).Msg("stop embedded PostgreSQL")
			return
		}
		log.Info().Int("pid", r.PID).Bool("stopped", r.Stopped).Int("running", r.Running).Msg(r.String())
	}
	defer func() {
		if err != nil {
			stopCluster()
		}
	}()

	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, nil, fmt.Errorf("database URL: %w", err)
	}
	pcfg.ConnConfig.RuntimeParams["application_name"] = "idledger"
	configurePool(pcfg, cfg)
	for _, f := range o.tune {
		f(pcfg)
	}
	pool, err = pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, nil, fmt.Errorf("database pool: %w", err)
	}
	// Fail at start, with the address, rather than at the first request.
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err = pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("connect to PostgreSQL at %s: %w", config.RedactDatabaseURL(url), err)
	}
	return pool, sync.OnceFunc(func() {
		pool.Close()
		stopCluster()
	}), nil
}

// [faults] Pool limits (docs/security.md, "Faults and abuse limits").
const (
	// connectTimeout bounds one connection attempt, unless the URL sets
	// connect_timeout: during an outage a request fails in seconds instead
	// of waiting for the kernel's TCP timeout.
	connectTimeout = 5 * time.Second
	// minStatementTimeout is the least server-side statement timeout of
	// serve's pool; migrations run on that pool at start.
	minStatementTimeout = 30 * time.Second
)

// configurePool bounds the pool: at most cfg.MaxConns() connections (which
// the admission semaphore of serve matches, so a saturated pool answers 503
// fast), and a connect timeout.
func configurePool(pcfg *pgxpool.Config, cfg config.Config) {
	pcfg.MaxConns = int32(cfg.MaxConns())
	if pcfg.MinConns > pcfg.MaxConns {
		pcfg.MinConns = pcfg.MaxConns
	}
	if pcfg.ConnConfig.ConnectTimeout <= 0 {
		pcfg.ConnConfig.ConnectTimeout = connectTimeout
	}
}

// servePool gives serve's connections a server-side statement_timeout (three
// request timeouts, at least minStatementTimeout, unless the URL sets one):
// the request timeout cancels the client's wait, and this ends a statement
// whose client is gone (a killed replica, a dropped connection). Operator
// commands (migrate, events verify, rebuilds) have no such limit.
func servePool(cfg config.Config) openOption {
	return func(o *openOptions) {
		o.tune = append(o.tune, func(pcfg *pgxpool.Config) {
			if _, set := pcfg.ConnConfig.RuntimeParams["statement_timeout"]; set || cfg.RequestTimeout <= 0 {
				return
			}
			d := max(3*cfg.RequestTimeout, minStatementTimeout)
			pcfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(d.Milliseconds(), 10)
		})
	}
}

// serveLimits are serve's abuse limits from its flags. Admission slots match
// the pool size; a zero config (in-process tests) leaves them all off.
func serveLimits(cfg config.Config, pool *pgxpool.Pool) app.Limits {
	l := app.Limits{RequestTimeout: cfg.RequestTimeout, AuthFailures: cfg.AuthRateLimit}
	if pool != nil && (cfg.RequestTimeout > 0 || cfg.AuthRateLimit > 0 || cfg.DBMaxConns > 0) {
		l.MaxInFlight = int(pool.Config().MaxConns)
	}
	return l
}
