package gateway

import (
	"context"
	"net/http"
)

// Origin is the instance's origin as the client addressed it: http://<host>
// or, behind TLS (externalSecure, --external-secure) or over TLS,
// https://<host>. The host is the request's Host (HTTP/2's :authority).
// It is the base of the IdP callback URLs an intent starts with, over REST
// and RPC alike.
func Origin(r *http.Request, externalSecure bool) string {
	scheme := "http"
	if externalSecure || r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type originKey struct{}

// WithOrigin returns ctx carrying origin (see Origin), for a handler that
// sees no *http.Request (an RPC method).
func WithOrigin(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, originKey{}, origin)
}

// OriginFrom is the origin WithOrigin put on ctx, or "".
func OriginFrom(ctx context.Context) string {
	o, _ := ctx.Value(originKey{}).(string)
	return o
}
