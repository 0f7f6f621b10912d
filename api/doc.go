// Package api serves idledger's ZITADEL-compatible HTTP JSON API. Handlers
// decode requests, call command or query, and encode responses with the
// conventions in api/gateway. api never touches SQL; rules live in command.
//
// Imports: api/gateway, command, query, authz, errs, idp, audit, events,
// internal/idpstate (the IdP renderers), chi, zerolog.
// Start with api.go (construction and the route table), then auth.go.
package api
