// Package pgembed runs the embedded-default PostgreSQL cluster: it finds the
// server binaries installed on the machine, initialises a cluster under
// <data-dir>/postgres on first use, starts it on a Unix socket plus a free
// loopback port (as the postgres system user when running as root), reuses a
// cluster that is already running (waiting for one that is starting or
// stopping), and stops the cluster it started.
//
// Imports: no package of the module.
// Start with Start in pgembed.go.
// Both `idledger serve` and the test harness (internal/pgtest) use it.
package pgembed
