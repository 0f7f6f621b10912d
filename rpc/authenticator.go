package rpc

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
	objectv3alpha "github.com/idledger/idledger/gen/zitadel/object/v3alpha"
	resourcesuserv3alpha "github.com/idledger/idledger/gen/zitadel/resources/user/v3alpha"
	userv3alpha "github.com/idledger/idledger/gen/zitadel/user/v3alpha"
)

// The IdP authenticators of users: the link command in the v3alpha
// dialects (render.LinkV3, render.LinkResource), as REST's
// /v3alpha/users/{userId}/idps and /resources/v3alpha/users/{id}/idps.

// idpAuthenticator is v3alpha's and resources v3alpha's IDPAuthenticator.
type idpAuthenticator interface {
	GetIdpId() string
	GetUserId() string
	GetUserName() string
}

func linkOf(a idpAuthenticator) command.IDPLink {
	return command.IDPLink{IDPID: a.GetIdpId(), ExternalUserID: a.GetUserId(), DisplayName: a.GetUserName()}
}

// resourceOrg is the org restriction of a resources request: its
// organization, as REST's ?organization.orgId=. The instance is the
// caller's, as on REST: its instance field is not read.
func resourceOrg(o *objectv3alpha.Organization) (string, error) {
	return render.ResourceOrg(o.GetOrgId(), o.GetOrgDomain())
}

// linkResponse is the response T holding d's details in dialect l.
func linkResponse[T any, M interface {
	*T
	proto.Message
}](l render.LinkDialect, d command.Details) (*connect.Response[T], error) {
	res := M(new(T))
	if err := fromJSON(l.Details(d), res); err != nil {
		return nil, err
	}
	return connect.NewResponse((*T)(res)), nil
}

// AddIDPAuthenticator is POST /v3alpha/users/{userId}/idps.
func (v *userV3Service) AddIDPAuthenticator(ctx context.Context, req *connect.Request[userv3alpha.AddIDPAuthenticatorRequest]) (*connect.Response[userv3alpha.AddIDPAuthenticatorResponse], error) {
	d, err := v.s.cmds.AddIDPLink(ctx, req.Msg.GetUserId(), "", linkOf(req.Msg.GetIdpAuthenticator()), render.LinkV3.Names)
	if err != nil {
		return nil, err
	}
	return linkResponse[userv3alpha.AddIDPAuthenticatorResponse](render.LinkV3, d)
}

// RemoveIDPAuthenticator is DELETE /v3alpha/users/{userId}/idps/{idpId}:
// every link of the user to the IdP.
func (v *userV3Service) RemoveIDPAuthenticator(ctx context.Context, req *connect.Request[userv3alpha.RemoveIDPAuthenticatorRequest]) (*connect.Response[userv3alpha.RemoveIDPAuthenticatorResponse], error) {
	d, err := v.s.cmds.RemoveIDPLinks(ctx, req.Msg.GetUserId(), "", req.Msg.GetIdpId())
	if err != nil {
		return nil, err
	}
	return linkResponse[userv3alpha.RemoveIDPAuthenticatorResponse](render.LinkV3, d)
}

// AddIDPAuthenticator is POST /resources/v3alpha/users/{id}/idps.
func (v *resourceUserService) AddIDPAuthenticator(ctx context.Context, req *connect.Request[resourcesuserv3alpha.AddIDPAuthenticatorRequest]) (*connect.Response[resourcesuserv3alpha.AddIDPAuthenticatorResponse], error) {
	org, err := resourceOrg(req.Msg.GetOrganization())
	if err != nil {
		return nil, err
	}
	d, err := v.s.cmds.AddIDPLink(ctx, req.Msg.GetId(), org, linkOf(req.Msg.GetAuthenticator()), render.LinkResource.Names)
	if err != nil {
		return nil, err
	}
	return linkResponse[resourcesuserv3alpha.AddIDPAuthenticatorResponse](render.LinkResource, d)
}

// RemoveIDPAuthenticator is DELETE /resources/v3alpha/users/{id}/idps/{idpId}.
func (v *resourceUserService) RemoveIDPAuthenticator(ctx context.Context, req *connect.Request[resourcesuserv3alpha.RemoveIDPAuthenticatorRequest]) (*connect.Response[resourcesuserv3alpha.RemoveIDPAuthenticatorResponse], error) {
	org, err := resourceOrg(req.Msg.GetOrganization())
	if err != nil {
		return nil, err
	}
	d, err := v.s.cmds.RemoveIDPLinks(ctx, req.Msg.GetId(), org, req.Msg.GetIdpId())
	if err != nil {
		return nil, err
	}
	return linkResponse[resourcesuserv3alpha.RemoveIDPAuthenticatorResponse](render.LinkResource, d)
}
