package api

import (
	"net/http"

	"github.com/idledger/idledger/api/gateway"
)

// decodeCall is the shape of a JSON handler: the body read, the options'
// checks (withPermission), the body decoded into a Req, call (the command
// or query and the rendering of its answer), the answer written with
// status. Every error, the body's, a check's or the call's, is written as
// the error body.
//
// Two Req types change the body's steps: rawBody takes the body as read,
// for the decoders of their own (render's XInput functions); noBody does
// not read it at all (GET and DELETE routes, and handlers that read it
// themselves after their path checks).
func decodeCall[Req any](status int, call func(r *http.Request, req *Req) (any, error), opts ...callOption) http.HandlerFunc {
	var checks callChecks
	for _, o := range opts {
		o(&checks)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		res, err := decodeThenCall(r, checks, call)
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		gateway.WriteJSON(w, status, res)
	}
}

func decodeThenCall[Req any](r *http.Request, checks callChecks, call func(r *http.Request, req *Req) (any, error)) (any, error) {
	var req Req
	if _, skip := any(&req).(*noBody); !skip {
		body, err := gateway.ReadBody(r)
		if err != nil {
			return nil, err
		}
		if checks.permission != nil {
			if err := checks.permission(r); err != nil {
				return nil, err
			}
		}
		if raw, ok := any(&req).(*rawBody); ok {
			*raw = body
		} else if err := gateway.DecodeBody(body, &req); err != nil {
			return nil, err
		}
	} else if checks.permission != nil {
		if err := checks.permission(r); err != nil {
			return nil, err
		}
	}
	return call(r, &req)
}

// rawBody is a decodeCall request that is the body as read.
type rawBody []byte

// noBody is a decodeCall request that leaves the body unread.
type noBody struct{}

// callOption adds a check to decodeCall.
type callOption func(*callChecks)

type callChecks struct {
	permission func(r *http.Request) error
}

// withPermission checks the caller's permission after the body is read and
// before it is decoded, where ZITADEL's interceptors check: a forbidden
// caller learns nothing about its request's validity.
func withPermission(check func(r *http.Request) error) callOption {
	return func(c *callChecks) { c.permission = check }
}

// answer renders a command's or query's result with f, unless it failed:
// answer(render.X)(a.cmds.Y(ctx, in)).
func answer[T, R any](f func(T) R) func(T, error) (any, error) {
	return func(v T, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return f(v), nil
	}
}
