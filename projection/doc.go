// Package projection turns events into read tables. A Projection is a named
// reducer from one event to SQL statements on the tables it owns. The read
// tables the API serves are inline: Registry.ApplyInline runs their reducers
// inside the append transaction (read-your-writes on every replica). The same
// reducers, and only those, drive rebuilds into shadow tables.
//
// Imports: errs, events, eventstore, idp, and the standard library and third-party modules only.
// Start with projection.go; identity.go, idp.go,
// policy.go and link.go hold the reducers of each area.
package projection
