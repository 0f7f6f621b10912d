// Package rpc serves idledger's API over gRPC, gRPC-Web and Connect (JSON
// and binary), wire-identical with ZITADEL's services, on the same listener
// and router as REST. Each method is an adapter: it maps the protobuf
// request onto the typed command or query that the REST handler calls, and
// the result onto the protobuf response. One connect handler per method
// speaks all three protocols.
//
// Authentication, instance selection by host, x-zitadel-orgid, rate and body
// limits, metrics and the access log come from the router's middleware, as
// for REST; errors are gateway.RPCError's: ZITADEL's code, "<text> (<ID>)"
// and a zitadel.v1.ErrorDetail.
//
// Start with rpc.go (Server, Mount, the service list), then one service
// file.
//
// Imports: api/gateway, api/render, authz, command, errs, events, gen/..., idp, internal/idpstate, internal/viewcache, query, and the standard library and third-party modules only.
package rpc
