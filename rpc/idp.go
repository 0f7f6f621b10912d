package rpc

import (
	"context"

	"connectrpc.com/connect"

	"github.com/idledger/idledger/api/gateway"
	idpv2 "github.com/idledger/idledger/gen/zitadel/idp/v2"
	"github.com/idledger/idledger/gen/zitadel/idp/v2/idpv2connect"
	"github.com/idledger/idledger/internal/idpstate"
)

// idpService is zitadel.idp.v2.IdentityProviderService.
type idpService struct {
	idpv2connect.UnimplementedIdentityProviderServiceHandler
	s *Server
}

// GetIDPByID is GET /v2/idps/{id}.
func (v *idpService) GetIDPByID(ctx context.Context, req *connect.Request[idpv2.GetIDPByIDRequest]) (*connect.Response[idpv2.GetIDPByIDResponse], error) {
	if err := gateway.CheckID(req.Msg.GetId(), "GetIDPByIDRequest.Id"); err != nil {
		return nil, err
	}
	i, err := v.s.q.IDPByID(ctx, req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	res := &idpv2.GetIDPByIDResponse{}
	err = fromJSON(struct {
		IDP idpstate.V2 `json:"idp"`
	}{idpstate.RowV2(i.Row())}, res)
	return connect.NewResponse(res), err
}
