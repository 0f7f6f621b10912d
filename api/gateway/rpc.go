package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/errs"
	zitadelv1 "github.com/idledger/idledger/gen/zitadel/v1"
)

// rpcErrors writes errors in the caller's RPC protocol: gRPC trailers,
// gRPC-Web trailers or a Connect error body.
var rpcErrors = connect.NewErrorWriter()

// IsRPC reports whether r calls an RPC method (/<package>.<Service>/<Method>)
// in one of the protocols connect serves: gRPC, gRPC-Web or Connect. Errors
// on such a request are written in its protocol, not as a REST body.
func IsRPC(r *http.Request) bool {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/zitadel.") && !strings.HasPrefix(p, "/grpc.") {
		return false
	}
	return r.Method == http.MethodPost && rpcErrors.IsSupported(r)
}

// RPCError turns err into the error an RPC answers with, as ZITADEL sends
// it: the gRPC code of the error's kind, the message "<text> (<ID>)", and a
// zitadel.v1.ErrorDetail {id, message} in the details. It classifies and
// logs err exactly as WriteError does, so both transports give the same code
// and text and never an internal cause.
func RPCError(ctx context.Context, err error) *connect.Error {
	if ce := new(connect.Error); errors.As(err, &ce) && !isErrs(err) {
		return ce // connect's own: a malformed message, a wrong codec
	}
	status, body, level := classify(ctx, err)
	logFailure(ctx, level, status, err)
	ce := connect.NewError(connect.Code(body.Code), errors.New(body.Message))
	for _, d := range body.Details {
		if det, derr := connect.NewErrorDetail(&zitadelv1.ErrorDetail{Id: d.ID, Message: d.Message}); derr == nil {
			ce.AddDetail(det)
		}
	}
	return ce
}

// isErrs reports whether err holds an *errs.Error, which wins over a
// connect error further down its chain.
func isErrs(err error) bool {
	_, ok := errs.As(err)
	return ok
}

// writeRPCError writes err to an RPC caller in its protocol.
func writeRPCError(w http.ResponseWriter, r *http.Request, err error) {
	_ = rpcErrors.Write(w, r, RPCError(r.Context(), err))
}

// logFailure logs a failed request's cause at level (NoLevel: not at all).
func logFailure(ctx context.Context, level zerolog.Level, status int, err error) {
	if level == zerolog.NoLevel {
		return
	}
	e := LogFrom(ctx).WithLevel(level).Int("status", status)
	if err != nil {
		e = e.Err(err)
	}
	e.Msg("request failed")
}
