// Command idledger-bench measures idledger against raw PostgreSQL on the
// same machine, in the same run (DESIGN.md §5). It starts PostgreSQL
// (embedded and durable, unless --database-url is given) and an in-process
// server wired by internal/app, seeds data through the HTTP API, and runs
// each scenario closed-loop at several concurrencies with its raw-SQL
// baseline right beside it, then the growth runs and a projection rebuild.
//
// Imports: any package (a command wires everything together).
// Start reading at run in run.go; the
// scenarios and their baselines are in scenarios.go (the login path's, with
// the bench's own OP on loopback, in login.go), the load loop in load.go. How to run it and the latest figures: docs/performance.md.
package main
