package api

import (
	"net/http"

	"github.com/idledger/idledger/api/gateway"
)

// decodeCall is the shape of a JSON handler: the body decoded into a Req,
// call (the command or query and the rendering of its answer), the answer
// written with status. Every error, the body's or the call's, is written
// as the error body.
func decodeCall[Req any](status int, call func(r *http.Request, req *Req) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := gateway.Decode(r, &req); err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		res, err := call(r, &req)
		if err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		gateway.WriteJSON(w, status, res)
	}
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
