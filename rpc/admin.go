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
	det, err := v1Details(*d, true)
	return connect.NewResponse(&adminv1.AddIAMMemberResponse{Details: det}), err
}
