package query

import (
	"github.com/jackc/pgx/v5/pgxpool"
)

// Queries is the read side.
type Queries struct {
	pool *pgxpool.Pool
}

// New returns the read side on pool.
func New(pool *pgxpool.Pool) *Queries { return &Queries{pool: pool} }
