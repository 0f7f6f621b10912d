// Command idledger is the one binary of idledger: `serve` runs the HTTP API,
// `migrate` applies the schema, and the operations subcommands (projections,
// events, instance, keys) work on the same database. DESIGN.md §1 is its
// contract.
//
// main.go parses the command line and dispatches to one function per
// subcommand; every subcommand takes the common configuration flags from
// internal/config. serve.go holds buildApp, the single place where the
// HTTP application is wired together, and the server's lifecycle. db.go opens
// the database: an existing server by URL, or the embedded default.
//
// cmd may import every idledger package; nothing imports cmd.
//
// Imports: any package (a command wires everything together).
package main
