// Package pbjson holds the protobuf-JSON value types that every renderer of
// idledger's ZITADEL shapes shares: Int64 and Uint64 (strings on output),
// Timestamp and Duration (protojson's text forms and parsing rules), enums
// by name (Enum, EnumValue) and the object-details shapes (DetailsV1,
// DetailsV2, DetailsResource, ListDetails*). The REST transport, audit and
// the IdP kinds table use the same types, so a value is written and read
// one way everywhere.
//
// Each value type has InvalidValueReason, which decoders put in their
// "invalid value for field" messages.
//
// Imports: errs, and the standard library and third-party modules only.
// Start with time.go, then details.go.
package pbjson
