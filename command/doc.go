// Package command holds idledger's write side: one method of Commands per
// use case. Each loads a write model by reducing its aggregate's events,
// checks permissions and rules in ZITADEL's order, and appends through
// eventstore.Execute, which re-decides on fresh state after a conflict.
// Business rules live here and nowhere else.
//
// Imports: authz, errs, events, eventstore, idp, internal/idpstate, internal/pbjson, internal/viewcache, secretbox, upstream, and the standard library and third-party modules only.
// Never SQL.
// Start with command.go, then events.go (every event type and payload).
package command
