// Package eventstore is idledger's append-only event log: atomic multi-aggregate
// appends with optimistic concurrency, unique constraints, inline projection
// hooks, gap-free ordered reading, subscriptions and per-aggregate hash chains.
//
// It knows nothing about identities: aggregates are (type, id) pairs and
// payloads are opaque JSON. It imports only pgx and the standard library.
// Start with event.go (the types and the Store interface), then postgres.go.
// memory.go is an in-memory Store for fast command tests; conformance_test.go
// runs the same suite against both.
//
// Imports: errs, and the standard library and third-party modules only.
package eventstore
