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
// must be given on the command line so that the first instance's token file
// (the default, or IDLEDGER_ADMIN_PAT_FILE) is not overwritten; the commands
// table lists both flags as required, and run enforces that.
func setupInstanceAdd(fs *flag.FlagSet) runFunc {
	domain := fs.String("domain", "", "the new instance's domain")
	// The common flag's text speaks of the first start. It exists here only
	// in the flag set that -h prints (see commandFlags).
	if f := fs.Lookup("admin-pat-file"); f != nil {
		f.Usage = "where to write the new instance's admin token (0600); not the default path, which holds the first instance's token"
	}
	return func(ctx context.Context, e *env, cfg config.Config, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("unexpected arguments %q", args)
		}
		if *domain == "" {
			return errors.New("--domain must not be empty")
		}
		return withPool(ctx, e, cfg, func(pool *pgxpool.Pool) error {
			key, old, err := masterKeys(cfg, e.log)
			if err != nil {
				return err
			}
			a, err := buildApp(ctx, deps{Config: cfg, Log: e.log, Pool: pool, MasterKey: key, OldMasterKeys: old})
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
