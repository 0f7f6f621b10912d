package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idledger/idledger/audit"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/config"
	"github.com/idledger/idledger/migrations"
)

// withPool opens the database (the embedded default when no URL is given),
// makes sure the schema is current, runs fn, and closes everything again.
func withPool(ctx context.Context, e *env, cfg config.Config, fn func(*pgxpool.Pool) error) error {
	pool, cleanup, err := openDatabase(ctx, cfg, e.log)
	if err != nil {
		return err
	}
	defer cleanup()
	if _, err := migrations.Apply(ctx, pool); err != nil {
		return err
	}
	return fn(pool)
}

// withStore runs fn with an event store that has no inline projections:
// these commands only read.
func withStore(ctx context.Context, e *env, cfg config.Config, fn func(*eventstore.Postgres) error) error {
	return withPool(ctx, e, cfg, func(pool *pgxpool.Pool) error {
		return fn(eventstore.NewPostgres(pool, nil))
	})
}

func setupEventsList(fs *flag.FlagSet) runFunc {
	opts := audit.BindListFlags(fs)
	return func(ctx context.Context, e *env, cfg config.Config, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("unexpected arguments %q", args)
		}
		return withStore(ctx, e, cfg, func(s *eventstore.Postgres) error {
			return audit.List(ctx, s, *opts, e.stdout)
		})
	}
}

func setupEventsReplay(fs *flag.FlagSet) runFunc {
	opts := audit.BindReplayFlags(fs)
	return func(ctx context.Context, e *env, cfg config.Config, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("unexpected arguments %q", args)
		}
		ref, at, err := opts.Parse()
		if err != nil {
			return err
		}
		return withStore(ctx, e, cfg, func(s *eventstore.Postgres) error {
			return audit.Replay(ctx, s, ref, at, e.stdout)
		})
	}
}

func setupEventsVerify(fs *flag.FlagSet) runFunc {
	from := audit.BindVerifyFlags(fs)
	checkpoint := fs.String("checkpoint", "", "also check the log against a checkpoint `FILE` that `events checkpoint` wrote (- for stdin)")
	return func(ctx context.Context, e *env, cfg config.Config, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("unexpected arguments %q", args)
		}
		var recorded eventstore.Checkpoint
		if *checkpoint != "" {
			var err error
			if recorded, err = audit.ReadCheckpoint(*checkpoint, e.stdin); err != nil {
				return err
			}
		}
		return withStore(ctx, e, cfg, func(s *eventstore.Postgres) error {
			err := audit.Verify(ctx, s, *from, e.stdout)
			if err == nil && *checkpoint != "" {
				err = audit.VerifyCheckpoint(ctx, s, recorded, e.stdout)
			}
			var broken *audit.BrokenError
			var mismatch *audit.CheckpointMismatchError
			if errors.As(err, &broken) || errors.As(err, &mismatch) {
				fmt.Fprintf(e.stderr, "events verify: FAILED: %v\n", err)
			}
			return err
		})
	}
}

// runEventsCheckpoint prints a checkpoint of the log, for `events verify
// --checkpoint` to check later.
func runEventsCheckpoint(ctx context.Context, e *env, cfg config.Config, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	return withStore(ctx, e, cfg, func(s *eventstore.Postgres) error {
		return audit.WriteCheckpoint(ctx, s, e.stdout)
	})
}
