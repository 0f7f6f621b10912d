package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/config"
	"github.com/idledger/idledger/internal/progress"
	"github.com/idledger/idledger/projection"
)

// withProjections opens the database and runs fn with the registry of every
// projection this binary knows (the same reducers serve runs inline).
func withProjections(ctx context.Context, e *env, cfg config.Config,
	fn func(pool *pgxpool.Pool, store *eventstore.Postgres, reg *projection.Registry) error) error {
	return withPool(ctx, e, cfg, func(pool *pgxpool.Pool) error {
		reg := projection.NewRegistry(projection.All()...)
		return fn(pool, eventstore.NewPostgres(pool, reg), reg)
	})
}

func runProjectionsStatus(ctx context.Context, e *env, cfg config.Config, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	return withProjections(ctx, e, cfg, func(pool *pgxpool.Pool, _ *eventstore.Postgres, reg *projection.Registry) error {
		sts, err := projection.Statuses(ctx, pool, reg)
		if err != nil {
			return err
		}
		return projection.PrintStatus(e.stdout, sts)
	})
}

// setupProjectionsRebuild rebuilds the named projections (or all with
// --all) into shadow tables while serve keeps running, then swaps them in.
func setupProjectionsRebuild(fs *flag.FlagSet) runFunc {
	all := fs.Bool("all", false, "rebuild every projection")
	return func(ctx context.Context, e *env, cfg config.Config, args []string) error {
		if *all == (len(args) > 0) {
			return errors.New("name the projections to rebuild, or pass --all (not both)")
		}
		names := args
		if *all {
			names = nil
		}
		return withProjections(ctx, e, cfg, func(pool *pgxpool.Pool, store *eventstore.Postgres, reg *projection.Registry) error {
			bar := progress.New(e.stderr, "rebuild")
			defer projection.TuneGC()()
			err := projection.Rebuild(ctx, pool, store, reg, names, bar.Update)
			bar.Finish()
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "rebuild complete")
			return nil
		})
	}
}

func runProjectionsRetry(ctx context.Context, e *env, cfg config.Config, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: idledger projections retry NAME")
	}
	return withProjections(ctx, e, cfg, func(pool *pgxpool.Pool, _ *eventstore.Postgres, _ *projection.Registry) error {
		if err := projection.Retry(ctx, pool, args[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "projection %s resumes\n", args[0])
		return nil
	})
}
