// Package metrics owns idledger's Prometheus registry and every metric
// family: HTTP requests (Middleware), event-store appends, conflicts and
// Aborted answers (InstrumentStore, IncAborted), projection state
// (RegisterProjections), the pgx pool (RegisterPool) and build info.
//
// It uses its own registry, never the global default, so tests and several
// servers in one process do not collide. It may import eventstore, errs and
// pgx; nothing but the wiring imports it. Start with metrics.go.
//
// Imports: errs, eventstore, and the standard library and third-party modules only.
package metrics
