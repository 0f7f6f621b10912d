// Package openapi holds idledger's OpenAPI 3 document (openapi.yaml, next to
// the handlers it describes) and what keeps it honest: Handler serves it at
// GET /openapi.yaml, CheckRoutes compares it with the chi router, and
// Validator checks HTTP responses against it in the end-to-end tests.
//
// It imports chi and kin-openapi only; nothing in idledger imports it except
// the wiring (cmd, internal/app) and tests. Start with openapi.go.
//
// Imports: no package of the module.
package openapi
