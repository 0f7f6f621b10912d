// Package gateway is the HTTP layer every API handler shares: the router and
// its middleware (request ID, access log, panic recovery, body limit), the
// ZITADEL error body and the one table that maps errs.Kind to HTTP status,
// request decoding (Decode, and its field-by-field form ParseObject; snake_case
// or lowerCamelCase keys, 1 MiB limit), the client-IP rule (ClientIP), and
// the names of the protobuf-JSON value types (Int64, Uint64, Timestamp,
// Duration, enums, details), which live in internal/pbjson.
//
// Imports: errs, gen/zitadel/v1, internal/pbjson, and the standard library and third-party modules only.
//
// Start with router.go (NewRouter), then errors.go (WriteError) and
// decode.go (Decode).
//
// Imports: errs, gen/zitadel/v1, internal/pbjson, and the standard library and third-party modules only.
package gateway
