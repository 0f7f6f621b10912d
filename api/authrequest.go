package api

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
)

// Callbacks build the URL a login UI sends the browser to after
// CreateCallback: the OP's code or error response (package oidc).
type Callbacks interface {
	CallbackURL(ctx context.Context, instanceID string, ar *command.AuthRequest, reason, description string) (string, error)
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
		if err := req.Validate(); err != nil {
			return nil, err
		}
		ctx, id := r.Context(), chi.URLParam(r, "authRequestId")
		var ar *command.AuthRequest
		var err error
		reason, desc := "", ""
		if s := req.Session; s != nil {
			ar, err = a.cmds.LinkSessionToAuthRequest(ctx, id, s.SessionID, s.SessionToken)
		} else {
			reason = render.OAuthError(req.Error.Error)
			if req.Error.ErrorDescription != nil {
				desc = *req.Error.ErrorDescription
			}
			ar, err = a.cmds.FailAuthRequest(ctx, id, reason, desc)
		}
		if err != nil {
			return nil, err
		}
		url, err := a.callbacks.CallbackURL(ctx, authz.CallerFrom(ctx).InstanceID, ar, reason, desc)
		if err != nil {
			return nil, err
		}
		return render.CallbackOf(ar.Details, url), nil
	}))
}
