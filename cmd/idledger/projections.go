package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

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
		// Checked before the database is opened (which may mean starting
		// the embedded cluster), so a typo fails at once.
		if err := knownProjections(names...); err != nil {
			return err
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

// runProjectionsRetry resumes a halted projection. A projection that is not
// halted has nothing to retry: that is an error (exit 1), like any command
// that could not do what it was asked, and the message says the state.
func runProjectionsRetry(ctx context.Context, e *env, cfg config.Config, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: idledger projections retry NAME")
	}
	name := args[0]
	if err := knownProjections(name); err != nil {
		return err
	}
	return withProjections(ctx, e, cfg, func(pool *pgxpool.Pool, _ *eventstore.Postgres, reg *projection.Registry) error {
		// projection.Retry answers NotFound for a projection that never
		// recorded state, which a healthy inline one need not have: the
		// state to report comes from the status instead.
		sts, err := projection.Statuses(ctx, pool, reg)
		if err != nil {
			return err
		}
		for _, st := range sts {
			if st.Name == name && st.State != projection.StateHalted {
				return fmt.Errorf("projection %q is %s, not halted: nothing to retry", name, st.State)
			}
		}
		if err := projection.Retry(ctx, pool, name); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "projection %s resumes\n", name)
		return nil
	})
}

// knownProjections returns an error naming every one of names that is not a
// projection of this binary, with the list of those that are.
func knownProjections(names ...string) error {
	reg := projection.NewRegistry(projection.All()...)
	var unknown, known []string
	for _, n := range names {
		if _, ok := reg.ByName(n); !ok {
			unknown = append(unknown, strconv.Quote(n))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	for _, p := range reg.Projections() {
		known = append(known, p.Name)
	}
	what := "projection " + unknown[0] + " does not exist"
	if len(unknown) > 1 {
		what = "projections " + strings.Join(unknown, ", ") + " do not exist"
	}
	return fmt.Errorf("%s (the projections are %s)", what, strings.Join(known, ", "))
}
