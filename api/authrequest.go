package api

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
)

// Callbacks finish an auth request (CreateCallback) and build the URL a
// login UI sends the browser to: the OP's code or error response (package
// oidc's OP.FinishAuthRequest, which the hosted login calls too).
type Callbacks interface {
	FinishAuthRequest(ctx context.Context, instanceID, id string, in command.AuthRequestFinish) (*command.AuthRequest, string, error)
}

// OPTokens authenticates access tokens that the OpenID Provider issued
// (package oidc), for the API beside PATs.
type OPTokens interface {
	APICaller(ctx context.Context, instanceID, token string) (*authz.Caller, error)
}

// authRequestRoutes mounts the v2 OIDC service's auth request routes.
func (a *API) authRequestRoutes(r chi.Router) {
	r.Get("/v2/oidc/auth_requests/{authRequestId}", decodeCall(http.StatusOK, func(r *http.Request, _ *noBody) (any, error) {
		ar, err := a.cmds.GetAuthRequest(r.Context(), chi.URLParam(r, "authRequestId"))
		if err != nil {
			return nil, err
		}
		return render.AuthRequestOf(ar), nil
	}))
	r.Post("/v2/oidc/auth_requests/{authRequestId}", decodeCall(http.StatusOK, func(r *http.Request, req *render.CreateCallbackRequest) (any, error) {
		in, err := req.Input()
		if err != nil {
			return nil, err
		}
		ctx, id := r.Context(), chi.URLParam(r, "authRequestId")
		ar, url, err := a.callbacks.FinishAuthRequest(ctx, authz.CallerFrom(ctx).InstanceID, id, in)
		if err != nil {
			return nil, err
		}
		return render.CallbackOf(ar.Details, url), nil
	}))
}
