package query

import (
	"github.com/jackc/pgx/v5/pgxpool"
)

// Queries is the read side.
type Queries struct {
	pool *pgxpool.Pool
	// cache holds token and host lookups (auth.go); events invalidate it.
	cache *authCache
}

// New returns the read side on pool.
func New(pool *pgxpool.Pool) *Queries { return &Queries{pool: pool, cache: newAuthCache()} }
