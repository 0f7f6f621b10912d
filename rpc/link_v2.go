package rpc

import (
	"context"

	"connectrpc.com/connect"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	userv2 "github.com/idledger/idledger/gen/zitadel/user/v2"
)

// The v2 dialect of users' IdP links: the command and the names REST uses
// (render.LinkNamesV2), the same rendered shapes.

// AddIDPLink is POST /v2/users/{userId}/links.
func (v *userService) AddIDPLink(ctx context.Context, req *connect.Request[userv2.AddIDPLinkRequest]) (*connect.Response[userv2.AddIDPLinkResponse], error) {
	return addLink[userv2.AddIDPLinkResponse](ctx, v.s, req.Msg.GetUserId(), "", req.Msg.GetIdpLink(), render.LinkV2)
}

// ListIDPLinks is POST /v2/users/{userId}/links/_search: the user ID's
// check, then the paging's, as REST orders them.
func (v *userService) ListIDPLinks(ctx context.Context, req *connect.Request[userv2.ListIDPLinksRequest]) (*connect.Response[userv2.ListIDPLinksResponse], error) {
	userID := req.Msg.GetUserId()
	if err := gateway.CheckID(userID, "ListIDPLinksRequest.UserId"); err != nil {
		return nil, err
	}
	offset, limit, err := listQuery(req.Msg.GetQuery()).Page()
	if err != nil {
		return nil, err
	}
	list, err := v.s.q.UserIDPLinks(ctx, userID, offset, limit)
	if err != nil {
		return nil, err
	}
	return respond[userv2.ListIDPLinksResponse](render.IDPLinksV2Of(list))
}

// RemoveIDPLink is DELETE /v2/users/{userId}/links/{idpId}/{linkedUserId}.
func (v *userService) RemoveIDPLink(ctx context.Context, req *connect.Request[userv2.RemoveIDPLinkRequest]) (*connect.Response[userv2.RemoveIDPLinkResponse], error) {
	m := req.Msg
	d, err := v.s.cmds.RemoveIDPLink(ctx, m.GetUserId(), m.GetIdpId(), m.GetLinkedUserId())
	if err != nil {
		return nil, err
	}
	return respond[userv2.RemoveIDPLinkResponse](render.LinkV2.Details(d))
}
