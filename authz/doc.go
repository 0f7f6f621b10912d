// Package authz holds who is calling (Caller), the one table that maps roles
// to ZITADEL permission strings, and the permission checks with ZITADEL's
// error IDs. It is a leaf: it imports only errs. The api layer puts a Caller
// into the request context; command and query check it.
// Start with authz.go.
//
// Imports: errs, and the standard library and third-party modules only.
package authz
