package rpc

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
	orgv2 "github.com/idledger/idledger/gen/zitadel/org/v2"
	orgv2beta "github.com/idledger/idledger/gen/zitadel/org/v2beta"
)

// orgAdmin is org v2's and v2beta's request Admin.
type orgAdmin interface {
	GetUserId() string
	GetRoles() []string
}

// orgAdmins maps the admins of an org creation request as REST does
// (gateway.OrgAdmin); human tells whether an admin is a user to create.
func orgAdmins[A orgAdmin](admins []A, human func(A) bool) ([]command.OrgAdmin, error) {
	var out []command.OrgAdmin
	for _, ad := range admins {
		a, err := render.OrgAdmin(ad.GetUserId(), human(ad), ad.GetRoles())
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// AddOrganization is POST /v2/organizations. org_id chooses the org's ID,
// as REST's orgId (and organizationId, which this proto version lacks).
func (v *orgService) AddOrganization(ctx context.Context, req *connect.Request[orgv2.AddOrganizationRequest]) (*connect.Response[orgv2.AddOrganizationResponse], error) {
	admins, err := orgAdmins(req.Msg.GetAdmins(), func(a *orgv2.AddOrganizationRequest_Admin) bool { return a.GetHuman() != nil })
	if err != nil {
		return nil, err
	}
	d, err := v.s.cmds.AddOrg(ctx, command.AddOrg{Name: req.Msg.GetName(), ID: req.Msg.OrgId, Admins: admins})
	if err != nil {
		return nil, err
	}
	return respond[orgv2.AddOrganizationResponse](render.OrgAddedV2(*d))
}

// CreateOrganization is org v2beta's AddOrganization (no REST route): the
// same command, with v2beta's names in validation messages and its answer
// shape: the creation date (the date of the event written), the ID, and
// each admin as assigned (idledger creates no admin users with the org).
func (v *orgBetaService) CreateOrganization(ctx context.Context, req *connect.Request[orgv2beta.CreateOrganizationRequest]) (*connect.Response[orgv2beta.CreateOrganizationResponse], error) {
	admins, err := orgAdmins(req.Msg.GetAdmins(), func(a *orgv2beta.CreateOrganizationRequest_Admin) bool { return a.GetHuman() != nil })
	if err != nil {
		return nil, err
	}
	d, err := v.s.cmds.AddOrg(ctx, command.AddOrg{Name: req.Msg.GetName(), ID: req.Msg.Id, Admins: admins,
		Request: "CreateOrganizationRequest", IDField: "Id"})
	if err != nil {
		return nil, err
	}
	res := &orgv2beta.CreateOrganizationResponse{CreationDate: timestamppb.New(d.Changed), Id: d.ID}
	for _, a := range admins {
		res.OrganizationAdmins = append(res.OrganizationAdmins, &orgv2beta.OrganizationAdmin{
			OrganizationAdmin: &orgv2beta.OrganizationAdmin_AssignedAdmin{AssignedAdmin: &orgv2beta.AssignedAdmin{UserId: a.UserID}}})
	}
	return connect.NewResponse(res), nil
}

// ListOrganizations is POST /v2/organizations/_search.
func (v *orgService) ListOrganizations(ctx context.Context, req *connect.Request[orgv2.ListOrganizationsRequest]) (*connect.Response[orgv2.ListOrganizationsResponse], error) {
	var in render.ListOrgsRequest
	if err := asREST(req.Msg, &in); err != nil {
		return nil, err
	}
	s, err := in.Search()
	if err != nil {
		return nil, err
	}
	list, err := v.s.q.ListOrgs(ctx, s)
	if err != nil {
		return nil, err
	}
	return respond[orgv2.ListOrganizationsResponse](in.Result(list))
}
