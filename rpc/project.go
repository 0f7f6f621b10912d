package rpc

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
	"github.com/idledger/idledger/query"
)

// The context org's projects and their OIDC and API apps (REST:
// api/project.go). The commands and queries check the permission first
// (ORG_OWNER holds project.*), then the request; the path IDs REST checks
// before the call are checked here the same way (gateway.CheckID, REST's
// field names). Client secrets are in the add and regenerate answers only,
// once; nothing here logs them, and the access log records no message.

// asJSON is req as protojson: the request body REST decodes, for the
// inputs REST's decoder maps (render.OIDCAppInput, render.ListInput), so
// that both transports map them one way.
func asJSON(req proto.Message) ([]byte, error) {
	b, err := protojson.Marshal(req)
	if err != nil {
		return nil, errs.Internal("RPC-PrjJ1", err)
	}
	return b, nil
}

// checkIDs checks each of pairs (value, "Message.Field") as REST checks
// its path IDs.
func checkIDs(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := gateway.CheckID(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func projectOf(name string, assertion, check, hasCheck bool, labeling int32) command.Project {
	return command.Project{Name: name, ProjectRoleAssertion: assertion, ProjectRoleCheck: check,
		HasProjectCheck: hasCheck, PrivateLabelingSetting: int(labeling)}
}

// AddProject is POST /management/v1/projects.
func (v *managementService) AddProject(ctx context.Context, req *connect.Request[managementv1.AddProjectRequest]) (*connect.Response[managementv1.AddProjectResponse], error) {
	m := req.Msg
	d, err := v.s.cmds.AddProject(ctx, contextOrg(ctx), projectOf(m.GetName(), m.GetProjectRoleAssertion(),
		m.GetProjectRoleCheck(), m.GetHasProjectCheck(), int32(m.GetPrivateLabelingSetting())))
	if err != nil {
		return nil, err
	}
	det, err := v1Details(d, true)
	return connect.NewResponse(&managementv1.AddProjectResponse{Id: d.ID, Details: det}), err
}

// UpdateProject is PUT /management/v1/projects/{projectId}.
func (v *managementService) UpdateProject(ctx context.Context, req *connect.Request[managementv1.UpdateProjectRequest]) (*connect.Response[managementv1.UpdateProjectResponse], error) {
	m := req.Msg
	return v1Changed[managementv1.UpdateProjectResponse](v.s.cmds.UpdateProject(ctx, contextOrg(ctx), m.GetId(),
		projectOf(m.GetName(), m.GetProjectRoleAssertion(), m.GetProjectRoleCheck(), m.GetHasProjectCheck(),
			int32(m.GetPrivateLabelingSetting()))))
}

// RemoveProject is DELETE /management/v1/projects/{projectId}.
func (v *managementService) RemoveProject(ctx context.Context, req *connect.Request[managementv1.RemoveProjectRequest]) (*connect.Response[managementv1.RemoveProjectResponse], error) {
	if err := checkIDs(req.Msg.GetId(), "RemoveProjectRequest.ProjectId"); err != nil {
		return nil, err
	}
	return v1Changed[managementv1.RemoveProjectResponse](v.s.cmds.RemoveProject(ctx, contextOrg(ctx), req.Msg.GetId()))
}

// GetProjectByID is GET /management/v1/projects/{projectId}.
func (v *managementService) GetProjectByID(ctx context.Context, req *connect.Request[managementv1.GetProjectByIDRequest]) (*connect.Response[managementv1.GetProjectByIDResponse], error) {
	if err := checkIDs(req.Msg.GetId(), "GetProjectByIDRequest.ProjectId"); err != nil {
		return nil, err
	}
	p, err := v.s.q.ProjectByID(ctx, contextOrg(ctx), req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	return respond[managementv1.GetProjectByIDResponse](struct {
		Project render.ProjectV1 `json:"project"`
	}{render.ProjectV1Of(p)})
}

// listSearch is the paging and name queries of a ListProjectsRequest or
// ListAppsRequest, as REST reads them.
func listSearch(req proto.Message, msg, kind string) (query.ListSearch, error) {
	b, err := asJSON(req)
	if err != nil {
		return query.ListSearch{}, err
	}
	return render.ListInput(b, msg, kind)
}

// ListProjects is POST /management/v1/projects/_search.
func (v *managementService) ListProjects(ctx context.Context, req *connect.Request[managementv1.ListProjectsRequest]) (*connect.Response[managementv1.ListProjectsResponse], error) {
	s, err := listSearch(req.Msg, "ListProjectsRequest", "Project")
	if err != nil {
		return nil, err
	}
	list, err := v.s.q.SearchProjects(ctx, contextOrg(ctx), s)
	if err != nil {
		return nil, err
	}
	return respond[managementv1.ListProjectsResponse](render.ProjectListV1Of(list))
}

// oidcApp is the app of an AddOIDCAppRequest or the config of an
// UpdateOIDCAppConfigRequest, as REST reads it: after the check of
// project.app.write on org, as REST checks before it decodes.
func (s *Server) oidcApp(ctx context.Context, org string, req proto.Message) (command.OIDCApp, error) {
	if err := s.cmds.CanManageProjects(ctx, org, "project.app.write"); err != nil {
		return command.OIDCApp{}, err
	}
	b, err := asJSON(req)
	if err != nil {
		return command.OIDCApp{}, err
	}
	return render.OIDCAppInput(b)
}

// AddOIDCApp is POST /management/v1/projects/{projectId}/apps/oidc.
func (v *managementService) AddOIDCApp(ctx context.Context, req *connect.Request[managementv1.AddOIDCAppRequest]) (*connect.Response[managementv1.AddOIDCAppResponse], error) {
	org := contextOrg(ctx)
	app, err := v.s.oidcApp(ctx, org, req.Msg)
	if err != nil {
		return nil, err
	}
	added, err := v.s.cmds.AddOIDCApp(ctx, org, req.Msg.GetProjectId(), app)
	if err != nil {
		return nil, err
	}
	return respond[managementv1.AddOIDCAppResponse](render.AppAddedV1Of(added))
}

// AddAPIApp is POST /management/v1/projects/{projectId}/apps/api.
func (v *managementService) AddAPIApp(ctx context.Context, req *connect.Request[managementv1.AddAPIAppRequest]) (*connect.Response[managementv1.AddAPIAppResponse], error) {
	m := req.Msg
	added, err := v.s.cmds.AddAPIApp(ctx, contextOrg(ctx), m.GetProjectId(), m.GetName(), int(m.GetAuthMethodType()))
	if err != nil {
		return nil, err
	}
	return respond[managementv1.AddAPIAppResponse](render.AppAddedV1Of(added))
}

// UpdateOIDCAppConfig is PUT
// /management/v1/projects/{projectId}/apps/{appId}/oidc_config.
func (v *managementService) UpdateOIDCAppConfig(ctx context.Context, req *connect.Request[managementv1.UpdateOIDCAppConfigRequest]) (*connect.Response[managementv1.UpdateOIDCAppConfigResponse], error) {
	org := contextOrg(ctx)
	app, err := v.s.oidcApp(ctx, org, req.Msg)
	if err != nil {
		return nil, err
	}
	res, err := v.s.cmds.UpdateOIDCAppConfig(ctx, org, req.Msg.GetProjectId(), req.Msg.GetAppId(), app.Config)
	return v1Changed[managementv1.UpdateOIDCAppConfigResponse](res.Details, err)
}

// RegenerateOIDCClientSecret is POST
// /management/v1/projects/{projectId}/apps/{appId}/oidc_config/_generate_client_secret.
func (v *managementService) RegenerateOIDCClientSecret(ctx context.Context, req *connect.Request[managementv1.RegenerateOIDCClientSecretRequest]) (*connect.Response[managementv1.RegenerateOIDCClientSecretResponse], error) {
	m := req.Msg
	if err := checkIDs(m.GetProjectId(), "RegenerateOIDCClientSecretRequest.ProjectId", m.GetAppId(), "RegenerateOIDCClientSecretRequest.AppId"); err != nil {
		return nil, err
	}
	secret, d, err := v.s.cmds.RegenerateOIDCClientSecret(ctx, contextOrg(ctx), m.GetProjectId(), m.GetAppId())
	if err != nil {
		return nil, err
	}
	return respond[managementv1.RegenerateOIDCClientSecretResponse](render.SecretV1{ClientSecret: secret, Details: v1Write(d, false).Details})
}

// RemoveApp is DELETE /management/v1/projects/{projectId}/apps/{appId}.
func (v *managementService) RemoveApp(ctx context.Context, req *connect.Request[managementv1.RemoveAppRequest]) (*connect.Response[managementv1.RemoveAppResponse], error) {
	m := req.Msg
	if err := checkIDs(m.GetProjectId(), "RemoveAppRequest.ProjectId", m.GetAppId(), "RemoveAppRequest.AppId"); err != nil {
		return nil, err
	}
	return v1Changed[managementv1.RemoveAppResponse](v.s.cmds.RemoveApp(ctx, contextOrg(ctx), m.GetProjectId(), m.GetAppId()))
}

// GetAppByID is GET /management/v1/projects/{projectId}/apps/{appId}.
func (v *managementService) GetAppByID(ctx context.Context, req *connect.Request[managementv1.GetAppByIDRequest]) (*connect.Response[managementv1.GetAppByIDResponse], error) {
	m := req.Msg
	if err := checkIDs(m.GetProjectId(), "GetAppByIDRequest.ProjectId", m.GetAppId(), "GetAppByIDRequest.AppId"); err != nil {
		return nil, err
	}
	app, err := v.s.q.AppByID(ctx, contextOrg(ctx), m.GetProjectId(), m.GetAppId())
	if err != nil {
		return nil, err
	}
	return respond[managementv1.GetAppByIDResponse](struct {
		App render.AppV1 `json:"app"`
	}{render.AppV1Of(app)})
}

// ListApps is POST /management/v1/projects/{projectId}/apps/_search.
func (v *managementService) ListApps(ctx context.Context, req *connect.Request[managementv1.ListAppsRequest]) (*connect.Response[managementv1.ListAppsResponse], error) {
	if err := checkIDs(req.Msg.GetProjectId(), "ListAppsRequest.ProjectId"); err != nil {
		return nil, err
	}
	s, err := listSearch(req.Msg, "ListAppsRequest", "App")
	if err != nil {
		return nil, err
	}
	list, err := v.s.q.SearchApps(ctx, contextOrg(ctx), req.Msg.GetProjectId(), s)
	if err != nil {
		return nil, err
	}
	return respond[managementv1.ListAppsResponse](render.AppListV1Of(list))
}
