package rpc

import (
	"context"

	"connectrpc.com/connect"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
	userv2 "github.com/idledger/idledger/gen/zitadel/user/v2"
)

// AddHumanUser is POST /v2/users/human (201 there, OK here). As REST does,
// it takes organization.orgId, the profile, the email, idpLinks, password
// and hashedPassword; the other fields (organization.orgDomain, phone,
// metadata, totpSecret, the email's code options) are not read.
func (v *userService) AddHumanUser(ctx context.Context, req *connect.Request[userv2.AddHumanUserRequest]) (*connect.Response[userv2.AddHumanUserResponse], error) {
	m := req.Msg
	h := command.AddHuman{UserID: m.GetUserId(), Username: m.GetUsername(), OrgID: m.GetOrganization().GetOrgId(),
		ProfileMissing: m.GetProfile() == nil, EmailMissing: m.GetEmail() == nil}
	if p := m.GetProfile(); p != nil {
		h.GivenName, h.FamilyName, h.NickName = p.GetGivenName(), p.GetFamilyName(), p.GetNickName()
		h.DisplayName, h.PreferredLanguage, h.Gender = p.GetDisplayName(), p.GetPreferredLanguage(), int(p.GetGender())
	}
	if e := m.GetEmail(); e != nil {
		h.Email, h.EmailVerified = e.GetEmail(), e.GetIsVerified()
	}
	for _, l := range m.GetIdpLinks() {
		h.IDPLinks = append(h.IDPLinks, linkOf(l))
	}
	switch {
	case m.GetPassword() != nil:
		h.Password = &command.Password{Password: m.GetPassword().GetPassword(), ChangeRequired: m.GetPassword().GetChangeRequired()}
	case m.GetHashedPassword() != nil:
		h.Password = &command.Password{Hash: m.GetHashedPassword().GetHash(), ChangeRequired: m.GetHashedPassword().GetChangeRequired()}
	}
	d, err := v.s.cmds.AddHuman(ctx, h)
	if err != nil {
		return nil, err
	}
	return respond[userv2.AddHumanUserResponse](render.UserAddedV2Of(d))
}

// GetUserByID is GET /v2/users/{userId}.
func (v *userService) GetUserByID(ctx context.Context, req *connect.Request[userv2.GetUserByIDRequest]) (*connect.Response[userv2.GetUserByIDResponse], error) {
	if err := gateway.CheckID(req.Msg.GetUserId(), "GetUserByIDRequest.UserId"); err != nil {
		return nil, err
	}
	u, err := v.s.q.UserByID(ctx, req.Msg.GetUserId())
	if err != nil {
		return nil, err
	}
	return respond[userv2.GetUserByIDResponse](render.UserByIDV2Of(u))
}

// DeleteUser is DELETE /v2/users/{userId}.
func (v *userService) DeleteUser(ctx context.Context, req *connect.Request[userv2.DeleteUserRequest]) (*connect.Response[userv2.DeleteUserResponse], error) {
	userID := req.Msg.GetUserId()
	if err := gateway.CheckID(userID, "DeleteUserRequest.UserId"); err != nil {
		return nil, err
	}
	d, err := v.s.cmds.RemoveUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	v.s.invalidateUser(ctx, userID)
	return respond[userv2.DeleteUserResponse](render.DetailsV2Body{Details: gateway.V2(render.DetailsOf(*d))})
}

// ListUsers is POST /v2/users.
func (v *userService) ListUsers(ctx context.Context, req *connect.Request[userv2.ListUsersRequest]) (*connect.Response[userv2.ListUsersResponse], error) {
	var in render.ListUsersRequest
	if err := asREST(req.Msg, &in); err != nil {
		return nil, err
	}
	s, err := in.Search()
	if err != nil {
		return nil, err
	}
	list, err := v.s.q.ListUsers(ctx, s)
	if err != nil {
		return nil, err
	}
	return respond[userv2.ListUsersResponse](in.Result(list))
}

// SetPassword is POST /v2/users/{userId}/password.
func (v *userService) SetPassword(ctx context.Context, req *connect.Request[userv2.SetPasswordRequest]) (*connect.Response[userv2.SetPasswordResponse], error) {
	var in render.SetPasswordRequest
	if err := asREST(req.Msg, &in); err != nil {
		return nil, err
	}
	d, err := v.s.cmds.SetPassword(ctx, in.Input(req.Msg.GetUserId()))
	if err != nil {
		return nil, err
	}
	return respond[userv2.SetPasswordResponse](render.ChangedV2Of(d))
}
