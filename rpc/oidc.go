package rpc

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	oidcv2 "github.com/idledger/idledger/gen/zitadel/oidc/v2"
)

// Callbacks finish an auth request and build the URL the login UI sends
// the browser to: the OpenID Provider's FinishAuthRequest (package oidc),
// the one function REST CreateCallback and the hosted login call too.
type Callbacks interface {
	FinishAuthRequest(ctx context.Context, instanceID, id string, in command.AuthRequestFinish) (*command.AuthRequest, string, error)
}

// GetAuthRequest is GET /v2/oidc/auth_requests/{authRequestId}.
func (v *oidcService) GetAuthRequest(ctx context.Context, req *connect.Request[oidcv2.GetAuthRequestRequest]) (*connect.Response[oidcv2.GetAuthRequestResponse], error) {
	ar, err := v.s.cmds.GetAuthRequest(ctx, req.Msg.GetAuthRequestId())
	if err != nil {
		return nil, err
	}
	return respond[oidcv2.GetAuthRequestResponse](render.AuthRequestOf(ar))
}

// CreateCallback is POST /v2/oidc/auth_requests/{authRequestId}: the
// request read as REST reads its body (asREST), then the same
// FinishAuthRequest.
func (v *oidcService) CreateCallback(ctx context.Context, req *connect.Request[oidcv2.CreateCallbackRequest]) (*connect.Response[oidcv2.CreateCallbackResponse], error) {
	var body render.CreateCallbackRequest
	if err := asREST(req.Msg, &body); err != nil {
		return nil, err
	}
	in, err := body.Input()
	if err != nil {
		return nil, err
	}
	if v.s.callbacks == nil {
		return nil, errs.Internal("RPC-NoOP", errors.New("no OpenID Provider (rpc.Deps.Callbacks)"))
	}
	ar, url, err := v.s.callbacks.FinishAuthRequest(ctx, authz.CallerFrom(ctx).InstanceID, req.Msg.GetAuthRequestId(), in)
	if err != nil {
		return nil, err
	}
	return respond[oidcv2.CreateCallbackResponse](render.CallbackOf(ar.Details, url))
}
