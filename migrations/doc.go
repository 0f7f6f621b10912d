// Package migrations holds idledger's schema as plain SQL files, embedded in
// the binary, and Apply, which runs the ones not yet applied.
//
// Files are named NNNN_name.sql and applied in order, each in its own
// transaction, under a session advisory lock so that several processes may
// migrate one database at once. Applied versions are recorded in
// schema_migrations.
// Imports: no package of the module.
package migrations
