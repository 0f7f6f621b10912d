package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/query"
)

// projectRoutes mounts the projects and apps of the management API, in the
// context org. The writes check their permission before the body is
// decoded (withPermission), where ZITADEL's interceptors check.
func (a *API) projectRoutes(r chi.Router) {
	const p = "/management/v1/projects"
	project, app := a.projectPermission("project.write"), a.projectPermission("project.app.write")
	r.Post(p, decodeCall(http.StatusOK, a.addProject, project))
	r.Post(p+"/_search", decodeCall(http.StatusOK, a.searchProjects))
	r.Get(p+"/{projectId}", decodeCall(http.StatusOK, a.getProject))
	r.Put(p+"/{projectId}", decodeCall(http.StatusOK, a.updateProject, project))
	r.Delete(p+"/{projectId}", decodeCall(http.StatusOK, a.removeProject))
	r.Post(p+"/{projectId}/apps/oidc", decodeCall(http.StatusOK, a.addOIDCApp, app))
	r.Post(p+"/{projectId}/apps/api", decodeCall(http.StatusOK, a.addAPIApp, app))
	r.Post(p+"/{projectId}/apps/_search", decodeCall(http.StatusOK, a.searchApps))
	r.Get(p+"/{projectId}/apps/{appId}", decodeCall(http.StatusOK, a.getApp))
	r.Delete(p+"/{projectId}/apps/{appId}", decodeCall(http.StatusOK, a.removeApp))
	r.Put(p+"/{projectId}/apps/{appId}/oidc_config", decodeCall(http.StatusOK, a.updateOIDCConfig, app))
	r.Post(p+"/{projectId}/apps/{appId}/oidc_config/_generate_client_secret", decodeCall(http.StatusOK, a.regenerateSecret))
}

// contextOrg is the org of a management request (x-zitadel-orgid, or the
// caller's own).
func contextOrg(r *http.Request) string {
	if c := authz.CallerFrom(r.Context()); c != nil {
		return c.OrgID
	}
	return ""
}

// projectPermission checks perm on the context org.
func (a *API) projectPermission(perm string) callOption {
	return withPermission(func(r *http.Request) error {
		return a.cmds.CanManageProjects(r.Context(), contextOrg(r), perm)
	})
}

// ids returns the path parameters names, each checked as protoc-gen-validate
// checks IDs (1 to 200 runes) under msg's field of the same name.
func ids(r *http.Request, msg string, names ...string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = chi.URLParam(r, n)
		field := map[string]string{"projectId": "ProjectId", "appId": "AppId", "id": "Id"}[n]
		if err := gateway.CheckID(out[i], msg+"."+field); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (a *API) addProject(r *http.Request, body *rawBody) (any, error) {
	p, err := render.ProjectInput(*body)
	if err != nil {
		return nil, err
	}
	d, err := a.cmds.AddProject(r.Context(), contextOrg(r), p)
	if err != nil {
		return nil, err
	}
	return struct {
		ID      string            `json:"id"`
		Details gateway.DetailsV1 `json:"details"`
	}{d.ID, gateway.V1Add(objectDetails(d))}, nil
}

func (a *API) updateProject(r *http.Request, body *rawBody) (any, error) {
	p, err := render.ProjectInput(*body)
	if err != nil {
		return nil, err
	}
	return answer(changedV1[command.Details])(a.cmds.UpdateProject(r.Context(), contextOrg(r), chi.URLParam(r, "projectId"), p))
}

func (a *API) removeProject(r *http.Request, _ *noBody) (any, error) {
	id, err := ids(r, "RemoveProjectRequest", "projectId")
	if err != nil {
		return nil, err
	}
	return answer(changedV1[command.Details])(a.cmds.RemoveProject(r.Context(), contextOrg(r), id[0]))
}

func (a *API) getProject(r *http.Request, _ *noBody) (any, error) {
	id, err := ids(r, "GetProjectByIDRequest", "projectId")
	if err != nil {
		return nil, err
	}
	return answer(func(p *query.Project) any {
		return struct {
			Project render.ProjectV1 `json:"project"`
		}{render.ProjectV1Of(p)}
	})(a.q.ProjectByID(r.Context(), contextOrg(r), id[0]))
}

func (a *API) searchProjects(r *http.Request, body *rawBody) (any, error) {
	s, err := render.ListInput(*body, "ListProjectsRequest", "Project")
	if err != nil {
		return nil, err
	}
	return answer(render.ProjectListV1Of)(a.q.SearchProjects(r.Context(), contextOrg(r), s))
}

func (a *API) addOIDCApp(r *http.Request, body *rawBody) (any, error) {
	app, err := render.OIDCAppInput(*body)
	if err != nil {
		return nil, err
	}
	return answer(render.AppAddedV1Of)(a.cmds.AddOIDCApp(r.Context(), contextOrg(r), chi.URLParam(r, "projectId"), app))
}

func (a *API) addAPIApp(r *http.Request, body *rawBody) (any, error) {
	name, method, err := render.APIAppInput(*body)
	if err != nil {
		return nil, err
	}
	return answer(render.AppAddedV1Of)(a.cmds.AddAPIApp(r.Context(), contextOrg(r), chi.URLParam(r, "projectId"), name, method))
}

func (a *API) updateOIDCConfig(r *http.Request, body *rawBody) (any, error) {
	app, err := render.OIDCAppInput(*body)
	if err != nil {
		return nil, err
	}
	return answer(func(res command.AddedApp) any { return changedV1(res.Details) })(
		a.cmds.UpdateOIDCAppConfig(r.Context(), contextOrg(r), chi.URLParam(r, "projectId"), chi.URLParam(r, "appId"), app.Config))
}

func (a *API) regenerateSecret(r *http.Request, _ *noBody) (any, error) {
	id, err := ids(r, "RegenerateOIDCClientSecretRequest", "projectId", "appId")
	if err != nil {
		return nil, err
	}
	secret, d, err := a.cmds.RegenerateOIDCClientSecret(r.Context(), contextOrg(r), id[0], id[1])
	if err != nil {
		return nil, err
	}
	return render.SecretV1{ClientSecret: secret, Details: gateway.V1Change(objectDetails(d))}, nil
}

func (a *API) removeApp(r *http.Request, _ *noBody) (any, error) {
	id, err := ids(r, "RemoveAppRequest", "projectId", "appId")
	if err != nil {
		return nil, err
	}
	return answer(changedV1[command.Details])(a.cmds.RemoveApp(r.Context(), contextOrg(r), id[0], id[1]))
}

func (a *API) getApp(r *http.Request, _ *noBody) (any, error) {
	id, err := ids(r, "GetAppByIDRequest", "projectId", "appId")
	if err != nil {
		return nil, err
	}
	return answer(func(app *query.App) any {
		return struct {
			App render.AppV1 `json:"app"`
		}{render.AppV1Of(app)}
	})(a.q.AppByID(r.Context(), contextOrg(r), id[0], id[1]))
}

// searchApps checks the path before it reads the body.
func (a *API) searchApps(r *http.Request, _ *noBody) (any, error) {
	id, err := ids(r, "ListAppsRequest", "projectId")
	if err != nil {
		return nil, err
	}
	body, err := gateway.ReadBody(r)
	if err != nil {
		return nil, err
	}
	s, err := render.ListInput(body, "ListAppsRequest", "App")
	if err != nil {
		return nil, err
	}
	return answer(render.AppListV1Of)(a.q.SearchApps(r.Context(), contextOrg(r), id[0], s))
}
