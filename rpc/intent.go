package rpc

import (
	"context"

	"connectrpc.com/connect"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	userv2 "github.com/idledger/idledger/gen/zitadel/user/v2"
)

// The IdP login's linking decision (command.DecideIntentLogin) has no RPC
// method: ZITADEL's user service has none to be compatible with, so it is
// served as idledger's REST extension POST /v2/idp_intents/{id}/login only.

// StartIdentityProviderIntent is POST /v2/idp_intents. The callback's
// origin is the one the client addressed (the request's Host or
// :authority, gateway.Origin), put on the context by Mount.
func (v *userService) StartIdentityProviderIntent(ctx context.Context, req *connect.Request[userv2.StartIdentityProviderIntentRequest]) (*connect.Response[userv2.StartIdentityProviderIntentResponse], error) {
	var in render.StartIntentRequest
	if err := asREST(req.Msg, &in); err != nil {
		return nil, err
	}
	s, err := v.s.cmds.StartIntent(ctx, in.Input(gateway.OriginFrom(ctx)))
	if err != nil {
		return nil, err
	}
	return respond[userv2.StartIdentityProviderIntentResponse](render.StartIntentV2Of(s))
}

// RetrieveIdentityProviderIntent is POST /v2/idp_intents/{idpIntentId}.
func (v *userService) RetrieveIdentityProviderIntent(ctx context.Context, req *connect.Request[userv2.RetrieveIdentityProviderIntentRequest]) (*connect.Response[userv2.RetrieveIdentityProviderIntentResponse], error) {
	var in render.RetrieveIntentRequest
	if err := asREST(req.Msg, &in); err != nil {
		return nil, err
	}
	info, err := v.s.cmds.RetrieveIntent(ctx, req.Msg.GetIdpIntentId(), in.IDPIntentToken)
	if err != nil {
		return nil, err
	}
	return respond[userv2.RetrieveIdentityProviderIntentResponse](render.RetrieveIntentV2Of(info))
}
