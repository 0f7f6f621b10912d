// Package events is the catalog of idledger's domain events: aggregate
// types, event type names and payload structs, shared by the write side
// (command), the read side (projection, query) and the audit tools.
// docs/events.md is checked against Catalog() by a test.
//
// It is a leaf: it imports only the standard library. Start with catalog.go.
//
// Imports: no package of the module.
package events
