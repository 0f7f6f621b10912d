package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/internal/config"
	"github.com/idledger/idledger/internal/pgembed"
)

// openDatabase connects to cfg.DatabaseURL, or, when it is empty, to the
// embedded default cluster under cfg.DataDir (started, and initialised on the
// first run, if it is not running yet). cleanup closes the pool and then
// stops the embedded cluster if this process started it; it is safe to call
// more than once. On error nothing is left running.
func openDatabase(ctx context.Context, cfg config.Config, log zerolog.Logger) (pool *pgxpool.Pool, cleanup func(), err error) {
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
