package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/config"
	"github.com/idledger/idledger/internal/pgembed"
)

// openDatabase connects to cfg.DatabaseURL, or, when it is empty, to the
// embedded default cluster under cfg.DataDir (started, and initialised on the
// first run, if it is not running yet). cleanup closes the pool and then
// stops the embedded cluster if this process started it; it is safe to call
// more than once. On error nothing is left running.
//
// tune, when given, adjusts the pool configuration further (serve adds its
// statement timeout with servePool).
func openDatabase(ctx context.Context, cfg config.Config, log zerolog.Logger, tune ...func(*pgxpool.Config)) (pool *pgxpool.Pool, cleanup func(), err error) {
	url := cfg.DatabaseURL
	var cluster *pgembed.Cluster
	if url == "" {
		cluster, err = pgembed.Start(ctx, pgembed.Options{
			DataDir: cfg.DataDir,
			Log:     func(format string, args ...any) { log.Info().Msgf(format, args...) },
		})
		if err != nil {
			return nil, nil, fmt.Errorf("embedded PostgreSQL (no --database-url given): %w", err)
		}
		url = cluster.URL()
		log.Info().Str("dir", cluster.Dir()).Int("port", cluster.Port()).Bool("reused", !cluster.Started()).
			Msg("embedded PostgreSQL is up")
	}
	stopCluster := func() {
		if cluster == nil || !cluster.Started() {
			return
		}
		if err := cluster.Stop(); err != nil {
			log.Error().Err(err).Msg("stop embedded PostgreSQL")
			return
		}
		log.Info().Msg("embedded PostgreSQL stopped")
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
	for _, f := range tune {
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
func servePool(cfg config.Config) func(*pgxpool.Config) {
	return func(pcfg *pgxpool.Config) {
		if _, set := pcfg.ConnConfig.RuntimeParams["statement_timeout"]; set || cfg.RequestTimeout <= 0 {
			return
		}
		d := max(3*cfg.RequestTimeout, minStatementTimeout)
		pcfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(d.Milliseconds(), 10)
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
