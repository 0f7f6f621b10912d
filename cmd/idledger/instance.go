package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idledger/idledger/internal/config"
)

// setupInstanceAdd creates a further instance (its own default org, admin
// and PAT) for multi-tenant use. The PAT goes to --admin-pat-file, which
// must be given so the first instance's token file is not overwritten.
func setupInstanceAdd(fs *flag.FlagSet) runFunc {
	domain := fs.String("domain", "", "the new instance's domain (required)")
	return func(ctx context.Context, e *env, cfg config.Config, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("unexpected arguments %q", args)
		}
		if *domain == "" {
			return errors.New("--domain is required")
		}
		patSet := false
		fs.Visit(func(f *flag.Flag) { patSet = patSet || f.Name == "admin-pat-file" })
		if !patSet {
			return errors.New("--admin-pat-file is required: the default path holds the first instance's token")
		}
		return withPool(ctx, e, cfg, func(pool *pgxpool.Pool) error {
			key, err := masterKey(cfg, e.log)
			if err != nil {
				return err
			}
			a, err := buildApp(ctx, deps{Config: cfg, Log: e.log, Pool: pool, MasterKey: key})
			if err != nil {
				return err
			}
			inst, err := a.AddInstance(ctx, *domain, cfg.AdminPATFile)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "instance %s created for %s; admin token written to %s\n", inst.ID, *domain, cfg.AdminPATFile)
			return nil
		})
	}
}
