// Package errs holds idledger's domain error type: a Kind that mirrors a gRPC
// code, a stable error ID (ZITADEL style, e.g. "QUERY-SAFrt"), a message, and
// an optional cause.
//
// It is a leaf package: it imports only the standard library. command/ and
// query/ create errors with it; api/ maps Kind to HTTP status in one table.
// Text gives the English text of an error key (text.go). Start with errs.go.
//
// Imports: no package of the module.
package errs
