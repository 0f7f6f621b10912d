// Package securitytest holds the black-box security tests of idledger: a
// flood of malformed requests over every route, the permission matrix of
// every route and kind of caller, tenancy between instances and orgs, and
// the search for leaked secrets in a database dump, the server log and API
// output. It has no code of its own; docs/security.md says what each test
// proves.
//
// Imports: no package of the module.
package securitytest
