package pgembed

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ensureDatabase creates the cluster's database when it is missing.
func (c *Cluster) ensureDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.urlFor("postgres"))
	if err != nil {
		return fmt.Errorf("connect to embedded postgres: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", c.db).Scan(&exists); err != nil {
		return fmt.Errorf("check database: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.db}.Sanitize()); err != nil {
		// Another process may have created it at the same moment.
		if err2 := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", c.db).Scan(&exists); err2 == nil && exists {
			return nil
		}
		return fmt.Errorf("create database %s: %w", c.db, err)
	}
	return nil
}
