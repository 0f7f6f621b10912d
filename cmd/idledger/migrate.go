package main

import (
	"context"
	"fmt"

	"github.com/idledger/idledger/internal/config"
	"github.com/idledger/idledger/migrations"
)

// runMigrate applies the migrations that are not applied yet and reports
// them. Several migrate (and serve) processes may run at once: migrations
// serialises them with an advisory lock.
func runMigrate(ctx context.Context, e *env, cfg config.Config, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	e.log.Debug().Str("config", cfg.Redacted()).Msg("migrate")
	pool, cleanup, err := openDatabase(ctx, cfg, e.log, mayInitCluster)
	if err != nil {
		return err
	}
	defer cleanup()
	all, err := migrations.All()
	if err != nil {
		return err
	}
	applied, err := migrations.Apply(ctx, pool)
	names := map[int]string{}
	for _, m := range all {
		names[m.Version] = m.Name
	}
	for _, v := range applied {
		fmt.Fprintf(e.stdout, "applied %s\n", names[v])
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 && len(all) > 0 {
		fmt.Fprintf(e.stdout, "schema is up to date (version %d)\n", all[len(all)-1].Version)
	}
	return nil
}
