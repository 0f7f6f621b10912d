package rpc

import (
	"context"

	"connectrpc.com/connect"

	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
	objectv3alpha "github.com/idledger/idledger/gen/zitadel/object/v3alpha"
	resourcesuserv3alpha "github.com/idledger/idledger/gen/zitadel/resources/user/v3alpha"
	userv3alpha "github.com/idledger/idledger/gen/zitadel/user/v3alpha"
)

// The IdP authenticators of users: the link command in the v3alpha
// dialects (render.LinkV3, render.LinkResource), as REST's
// /v3alpha/users/{userId}/idps and /resources/v3alpha/users/{id}/idps.

// idpAuthenticator is v2's IDPLink and v3alpha's and resources v3alpha's
// IDPAuthenticator.
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

// addLink links user (of org; "" is any org) to a's account and answers
// Res in dialect l: every dialect's add.
func addLink[Res any, P message[Res]](ctx context.Context, s *Server, user, org string, a idpAuthenticator, l render.LinkDialect) (*connect.Response[Res], error) {
	d, err := s.cmds.AddIDPLink(ctx, user, org, linkOf(a), l.Names)
	if err != nil {
		return nil, err
	}
	return respond[Res, P](l.Details(d))
}

// removeLinks removes every link of user (of org; "" is any org) to the
// IdP idpID and answers Res in dialect l.
func removeLinks[Res any, P message[Res]](ctx context.Context, s *Server, user, org, idpID string, l render.LinkDialect) (*connect.Response[Res], error) {
	d, err := s.cmds.RemoveIDPLinks(ctx, user, org, idpID)
	if err != nil {
		return nil, err
	}
	return respond[Res, P](l.Details(d))
}

// AddIDPAuthenticator is POST /v3alpha/users/{userId}/idps.
func (v *userV3Service) AddIDPAuthenticator(ctx context.Context, req *connect.Request[userv3alpha.AddIDPAuthenticatorRequest]) (*connect.Response[userv3alpha.AddIDPAuthenticatorResponse], error) {
	return addLink[userv3alpha.AddIDPAuthenticatorResponse](ctx, v.s, req.Msg.GetUserId(), "", req.Msg.GetIdpAuthenticator(), render.LinkV3)
}

// RemoveIDPAuthenticator is DELETE /v3alpha/users/{userId}/idps/{idpId}:
// every link of the user to the IdP.
func (v *userV3Service) RemoveIDPAuthenticator(ctx context.Context, req *connect.Request[userv3alpha.RemoveIDPAuthenticatorRequest]) (*connect.Response[userv3alpha.RemoveIDPAuthenticatorResponse], error) {
	return removeLinks[userv3alpha.RemoveIDPAuthenticatorResponse](ctx, v.s, req.Msg.GetUserId(), "", req.Msg.GetIdpId(), render.LinkV3)
}

// AddIDPAuthenticator is POST /resources/v3alpha/users/{id}/idps.
func (v *resourceUserService) AddIDPAuthenticator(ctx context.Context, req *connect.Request[resourcesuserv3alpha.AddIDPAuthenticatorRequest]) (*connect.Response[resourcesuserv3alpha.AddIDPAuthenticatorResponse], error) {
	org, err := resourceOrg(req.Msg.GetOrganization())
	if err != nil {
		return nil, err
	}
	return addLink[resourcesuserv3alpha.AddIDPAuthenticatorResponse](ctx, v.s, req.Msg.GetId(), org, req.Msg.GetAuthenticator(), render.LinkResource)
}

// RemoveIDPAuthenticator is DELETE /resources/v3alpha/users/{id}/idps/{idpId}.
func (v *resourceUserService) RemoveIDPAuthenticator(ctx context.Context, req *connect.Request[resourcesuserv3alpha.RemoveIDPAuthenticatorRequest]) (*connect.Response[resourcesuserv3alpha.RemoveIDPAuthenticatorResponse], error) {
	org, err := resourceOrg(req.Msg.GetOrganization())
	if err != nil {
		return nil, err
	}
	return removeLinks[resourcesuserv3alpha.RemoveIDPAuthenticatorResponse](ctx, v.s, req.Msg.GetId(), org, req.Msg.GetIdpId(), render.LinkResource)
}
