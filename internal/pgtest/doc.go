// Package pgtest gives each test a fresh, migrated PostgreSQL database.
//
// One server per test process: IDLEDGER_TEST_DATABASE_URL when set, otherwise
// an embedded cluster started through internal/pgembed (the same code as
// `idledger serve`) in a temporary directory. Each test's database is cloned
// from a migrated template, which is fast. Call Main from TestMain so the
// server and its directory are removed when the tests end; the server also
// stops by itself if the test process dies (parent-death signal).
//
// Imports: internal/pgembed, migrations, and the standard library and third-party modules only.
package pgtest
