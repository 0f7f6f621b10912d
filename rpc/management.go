package rpc

import (
	"context"
	"time"

	"connectrpc.com/connect"

	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
)

// The context org, its machine users, their personal access tokens and the
// org's members (REST: the management parts of api/identity.go).

// GetMyOrg is GET /management/v1/orgs/me.
func (v *managementService) GetMyOrg(ctx context.Context, _ *connect.Request[managementv1.GetMyOrgRequest]) (*connect.Response[managementv1.GetMyOrgResponse], error) {
	o, err := v.s.q.MyOrg(ctx)
	if err != nil {
		return nil, err
	}
	return respond[managementv1.GetMyOrgResponse](struct {
		Org render.OrgV1JSON `json:"org"`
	}{render.OrgV1(o)})
}

// AddOrg is POST /management/v1/orgs.
func (v *managementService) AddOrg(ctx context.Context, req *connect.Request[managementv1.AddOrgRequest]) (*connect.Response[managementv1.AddOrgResponse], error) {
	d, err := v.s.cmds.AddOrg(ctx, command.AddOrg{Name: req.Msg.GetName(), V1: true})
	if err != nil {
		return nil, err
	}
	det, err := v1Details(*d, true)
	return connect.NewResponse(&managementv1.AddOrgResponse{Id: d.ID, Details: det}), err
}

// AddMachineUser is POST /management/v1/users/machine. user_id is
// optional (proto3 presence): set, it chooses the user's ID, as REST's
// userId does.
func (v *managementService) AddMachineUser(ctx context.Context, req *connect.Request[managementv1.AddMachineUserRequest]) (*connect.Response[managementv1.AddMachineUserResponse], error) {
	m := req.Msg
	d, err := v.s.cmds.AddMachine(ctx, command.AddMachine{OrgID: contextOrg(ctx), UserID: m.UserId,
		Username: m.GetUserName(), Name: m.GetName(), Description: m.GetDescription(), AccessTokenType: int(m.GetAccessTokenType())})
	if err != nil {
		return nil, err
	}
	det, err := v1Details(*d, true)
	return connect.NewResponse(&managementv1.AddMachineUserResponse{UserId: d.ID, Details: det}), err
}

// AddPersonalAccessToken is POST /management/v1/users/{userId}/pats. The
// token is in this response only (only its hash is stored); nothing here
// logs it, and the access log records no message.
func (v *managementService) AddPersonalAccessToken(ctx context.Context, req *connect.Request[managementv1.AddPersonalAccessTokenRequest]) (*connect.Response[managementv1.AddPersonalAccessTokenResponse], error) {
	var expiration time.Time
	if e := req.Msg.GetExpirationDate(); e != nil {
		expiration = e.AsTime()
	}
	pat, err := v.s.cmds.AddPAT(ctx, contextOrg(ctx), req.Msg.GetUserId(), expiration)
	if err != nil {
		return nil, err
	}
	det, err := v1Details(*pat.Details, true)
	return connect.NewResponse(&managementv1.AddPersonalAccessTokenResponse{TokenId: pat.TokenID, Token: pat.Token, Details: det}), err
}

// RemovePersonalAccessToken is DELETE
// /management/v1/users/{userId}/pats/{tokenId}.
func (v *managementService) RemovePersonalAccessToken(ctx context.Context, req *connect.Request[managementv1.RemovePersonalAccessTokenRequest]) (*connect.Response[managementv1.RemovePersonalAccessTokenResponse], error) {
	userID := req.Msg.GetUserId()
	d, err := v.s.cmds.RemovePAT(ctx, contextOrg(ctx), userID, req.Msg.GetTokenId())
	if err != nil {
		return nil, err
	}
	v.s.invalidateUser(ctx, userID)
	return respond[managementv1.RemovePersonalAccessTokenResponse](v1Write(*d, false))
}

// AddOrgMember is POST /management/v1/orgs/me/members.
func (v *managementService) AddOrgMember(ctx context.Context, req *connect.Request[managementv1.AddOrgMemberRequest]) (*connect.Response[managementv1.AddOrgMemberResponse], error) {
	d, err := v.s.cmds.AddOrgMember(ctx, contextOrg(ctx), req.Msg.GetUserId(), req.Msg.GetRoles())
	if err != nil {
		return nil, err
	}
	v.s.invalidateUser(ctx, req.Msg.GetUserId())
	return respond[managementv1.AddOrgMemberResponse](v1Write(*d, true))
}

// invalidateUser drops this replica's cached token lookups of a user at
// once, as REST does after a change of its roles or tokens; other replicas
// follow from their event subscription.
func (s *Server) invalidateUser(ctx context.Context, userID string) {
	if cl := authz.CallerFrom(ctx); cl != nil {
		s.q.InvalidateUser(cl.InstanceID, userID)
	}
}
