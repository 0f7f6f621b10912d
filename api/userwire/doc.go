// Package userwire holds the zitadel.user.v2 wire shapes that both
// transports give: the users, IdP links and details that REST writes as JSON
// and the RPC transport takes as protojson (so both answer the same by
// construction), and the names under which the v2 link dialect's requests
// report a bad field. It is apart from api/gateway because it renders
// command and query results, and gateway stays below the domain (idp's
// tests import it).
//
// Imports: api/gateway, command, errs, query, and the standard library and third-party modules only.
//
// Start with user.go (UserV2Of), then link.go.
package userwire
