// Package api serves idledger's ZITADEL-compatible HTTP JSON API. Handlers
// decode requests, call command or query, and encode responses with the
// conventions in api/gateway. api never touches SQL; rules live in command.
//
// Imports: api/gateway, api/render, audit, authz, command, errs, events, idp, internal/idpstate, internal/viewcache, query, upstream (its Callback type), and the standard library and third-party modules only.
// Start with api.go (construction and the route table), then auth.go.
package api
