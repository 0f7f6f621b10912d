package rpc

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/idledger/idledger/errs"
	userv2beta "github.com/idledger/idledger/gen/zitadel/user/v2beta"
)

// zitadel.user.v2beta.UserService, which @zitadel/node's createUserClient
// calls, is served by the v2 adapters. For the methods served here, every
// v2beta request and response message has the v2 message's name, field
// numbers, types and meaning (zitadel.object.v2beta's Details, ListQuery and
// Organization are numbered as zitadel.object.v2's), so a message crosses
// between the two as its binary encoding: a v2beta request is read as the
// v2 one, and the v2 answer as the v2beta one. The one v2 field without a
// v2beta counterpart, HumanUser.mfa_init_skipped, is dropped, never passed
// on as an unknown field. Validation messages name the same message names
// ("invalid AddIDPLinkRequest.UserId: ..."), as ZITADEL's v2beta does.
// ZITADEL's v2beta has no ListIDPLinks or RemoveIDPLink.

func (v *userBetaService) v2() *userService { return &userService{s: v.s} }

func (v *userBetaService) AddHumanUser(ctx context.Context, req *connect.Request[userv2beta.AddHumanUserRequest]) (*connect.Response[userv2beta.AddHumanUserResponse], error) {
	return viaV2[userv2beta.AddHumanUserResponse](ctx, req, v.v2().AddHumanUser)
}

func (v *userBetaService) GetUserByID(ctx context.Context, req *connect.Request[userv2beta.GetUserByIDRequest]) (*connect.Response[userv2beta.GetUserByIDResponse], error) {
	return viaV2[userv2beta.GetUserByIDResponse](ctx, req, v.v2().GetUserByID)
}

func (v *userBetaService) DeleteUser(ctx context.Context, req *connect.Request[userv2beta.DeleteUserRequest]) (*connect.Response[userv2beta.DeleteUserResponse], error) {
	return viaV2[userv2beta.DeleteUserResponse](ctx, req, v.v2().DeleteUser)
}

func (v *userBetaService) AddIDPLink(ctx context.Context, req *connect.Request[userv2beta.AddIDPLinkRequest]) (*connect.Response[userv2beta.AddIDPLinkResponse], error) {
	return viaV2[userv2beta.AddIDPLinkResponse](ctx, req, v.v2().AddIDPLink)
}

func (v *userBetaService) ListUsers(ctx context.Context, req *connect.Request[userv2beta.ListUsersRequest]) (*connect.Response[userv2beta.ListUsersResponse], error) {
	return viaV2[userv2beta.ListUsersResponse](ctx, req, v.v2().ListUsers)
}

func (v *userBetaService) SetPassword(ctx context.Context, req *connect.Request[userv2beta.SetPasswordRequest]) (*connect.Response[userv2beta.SetPasswordResponse], error) {
	return viaV2[userv2beta.SetPasswordResponse](ctx, req, v.v2().SetPassword)
}

// viaV2 answers a v2beta call with the v2 adapter v2: the request re-read
// as the v2 message, the v2 response re-read as the v2beta one (BRes).
func viaV2[BRes, BReq, Req, Res any, PBRes message[BRes], PBReq message[BReq], PReq message[Req], PRes message[Res]](
	ctx context.Context, req *connect.Request[BReq], v2 func(context.Context, *connect.Request[Req]) (*connect.Response[Res], error),
) (*connect.Response[BRes], error) {
	in := PReq(new(Req))
	if err := convert(PBReq(req.Msg), in); err != nil {
		return nil, err
	}
	res, err := v2(ctx, connect.NewRequest((*Req)(in)))
	if err != nil {
		return nil, err
	}
	out := PBRes(new(BRes))
	if err := convert(PRes(res.Msg), out); err != nil {
		return nil, err
	}
	return connect.NewResponse((*BRes)(out)), nil
}

// convert re-reads from's binary encoding as to. Fields to does not have
// are dropped.
func convert(from, to proto.Message) error {
	b, err := proto.Marshal(from)
	if err != nil {
		return errs.Internal("RPC-Beta1", err)
	}
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, to); err != nil {
		return errs.Internal("RPC-Beta2", err)
	}
	return nil
}
