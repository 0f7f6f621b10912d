package rpc

import (
	"context"

	"connectrpc.com/connect"

	adminv1 "github.com/idledger/idledger/gen/zitadel/admin/v1"
)

// AddIAMMember is POST /admin/v1/members.
func (v *adminService) AddIAMMember(ctx context.Context, req *connect.Request[adminv1.AddIAMMemberRequest]) (*connect.Response[adminv1.AddIAMMemberResponse], error) {
	d, err := v.s.cmds.AddInstanceMember(ctx, req.Msg.GetUserId(), req.Msg.GetRoles())
	if err != nil {
		return nil, err
	}
	v.s.invalidateUser(ctx, req.Msg.GetUserId())
	return respond[adminv1.AddIAMMemberResponse](v1Write(*d, true))
}
