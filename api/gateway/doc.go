// Package gateway is the HTTP layer every API handler shares: the router and
// its middleware (request ID, access log, panic recovery, body limit), the
// ZITADEL error body and the one table that maps errs.Kind to HTTP status,
// request decoding (snake_case or lowerCamelCase keys, 1 MiB limit) and the
// protobuf-JSON value types (Int64, Uint64, Timestamp, Duration, enums) and
// object-details shapes that responses are built from.
//
// It may import only errs, chi, zerolog, uuid and the standard library; it
// knows nothing about commands, queries or SQL.
//
// Start with router.go (NewRouter), then errors.go (WriteError) and
// decode.go (Decode).
//
// Imports: errs, internal/pbjson, and the standard library and third-party modules only.
package gateway
