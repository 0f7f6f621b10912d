// Package query is idledger's read side: typed queries over the read tables
// that the inline projections keep current. Each method checks the caller's
// permission (with ZITADEL's order: existence first where ZITADEL does so)
// and returns domain types; never HTTP shapes.
//
// Imports: authz, errs, events, eventstore, internal/idpstate, internal/viewcache, and the standard library and third-party modules only.
// Start with query.go; events.go
// is the one search of the event log (the event API's and `events list`'s).
package query
