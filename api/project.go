package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
)

// projectRoutes mounts the projects and apps of the management API, in the
// context org.
func (a *API) projectRoutes(r chi.Router) {
	const p = "/management/v1/projects"
	r.Post(p, a.addProject)
	r.Post(p+"/_search", a.searchProjects)
	r.Get(p+"/{projectId}", a.getProject)
	r.Put(p+"/{projectId}", a.updateProject)
	r.Delete(p+"/{projectId}", a.removeProject)
	r.Post(p+"/{projectId}/apps/oidc", a.addOIDCApp)
	r.Post(p+"/{projectId}/apps/api", a.addAPIApp)
	r.Post(p+"/{projectId}/apps/_search", a.searchApps)
	r.Get(p+"/{projectId}/apps/{appId}", a.getApp)
	r.Delete(p+"/{projectId}/apps/{appId}", a.removeApp)
	r.Put(p+"/{projectId}/apps/{appId}/oidc_config", a.updateOIDCConfig)
	r.Post(p+"/{projectId}/apps/{appId}/oidc_config/_generate_client_secret", a.regenerateSecret)
}

// contextOrg is the org of a management request (x-zitadel-orgid, or the
// caller's own).
func contextOrg(r *http.Request) string {
	if c := authz.CallerFrom(r.Context()); c != nil {
		return c.OrgID
	}
	return ""
}

// permittedBody reads the body and checks perm on the context org before
// the body is decoded, where ZITADEL's interceptors check.
func (a *API) permittedBody(r *http.Request, perm string) ([]byte, error) {
	body, err := gateway.ReadBody(r)
	if err != nil {
		return nil, err
	}
	return body, a.cmds.CanManageProjects(r.Context(), contextOrg(r), perm)
}

// pathParam returns path parameter name, checked as protoc-gen-validate
// checks IDs (1 to 200 runes); field names it in the error.
func pathParam(r *http.Request, name, field string) (string, error) {
	v := chi.URLParam(r, name)
	return v, gateway.CheckID(v, field)
}

func (a *API) addProject(w http.ResponseWriter, r *http.Request) {
	body, err := a.permittedBody(r, "project.write")
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	p, err := render.ProjectInput(body)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	d, err := a.cmds.AddProject(r.Context(), contextOrg(r), p)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, struct {
		ID      string            `json:"id"`
		Details gateway.DetailsV1 `json:"details"`
	}{d.ID, gateway.V1Add(objectDetails(d))})
}

func (a *API) updateProject(w http.ResponseWriter, r *http.Request) {
	body, err := a.permittedBody(r, "project.write")
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	p, err := render.ProjectInput(body)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	d, err := a.cmds.UpdateProject(r.Context(), contextOrg(r), chi.URLParam(r, "projectId"), p)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	writeDetailsV1(w, d)
}

func (a *API) removeProject(w http.ResponseWriter, r *http.Request) {
	id, err := pathParam(r, "projectId", "RemoveProjectRequest.Id")
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	d, err := a.cmds.RemoveProject(r.Context(), contextOrg(r), id)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	writeDetailsV1(w, d)
}

func (a *API) getProject(w http.ResponseWriter, r *http.Request) {
	id, err := pathParam(r, "projectId", "GetProjectByIDRequest.Id")
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	p, err := a.q.ProjectByID(r.Context(), contextOrg(r), id)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, struct {
		Project render.ProjectV1 `json:"project"`
	}{render.ProjectV1Of(p)})
}

func (a *API) searchProjects(w http.ResponseWriter, r *http.Request) {
	body, err := gateway.ReadBody(r)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	s, err := render.ListInput(body, "ListProjectsRequest", "ProjectQuery")
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	l, err := a.q.SearchProjects(r.Context(), contextOrg(r), s)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.ProjectListV1Of(l))
}

func (a *API) addOIDCApp(w http.ResponseWriter, r *http.Request) {
	body, err := a.permittedBody(r, "project.app.write")
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	app, err := render.OIDCAppInput(body)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	added, err := a.cmds.AddOIDCApp(r.Context(), contextOrg(r), chi.URLParam(r, "projectId"), app)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.AppAddedV1Of(added))
}

func (a *API) addAPIApp(w http.ResponseWriter, r *http.Request) {
	body, err := a.permittedBody(r, "project.app.write")
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	name, method, err := render.APIAppInput(body)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	added, err := a.cmds.AddAPIApp(r.Context(), contextOrg(r), chi.URLParam(r, "projectId"), name, method)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.AppAddedV1Of(added))
}

func (a *API) updateOIDCConfig(w http.ResponseWriter, r *http.Request) {
	body, err := a.permittedBody(r, "project.app.write")
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	app, err := render.OIDCAppInput(body)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	res, err := a.cmds.UpdateOIDCAppConfig(r.Context(), contextOrg(r), chi.URLParam(r, "projectId"), chi.URLParam(r, "appId"), app.Config)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	writeDetailsV1(w, res.Details)
}

func (a *API) regenerateSecret(w http.ResponseWriter, r *http.Request) {
	projectID, err := pathParam(r, "projectId", "RegenerateOIDCClientSecretRequest.ProjectId")
	if err == nil {
		_, err = pathParam(r, "appId", "RegenerateOIDCClientSecretRequest.AppId")
	}
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	secret, d, err := a.cmds.RegenerateOIDCClientSecret(r.Context(), contextOrg(r), projectID, chi.URLParam(r, "appId"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.SecretV1{ClientSecret: secret, Details: gateway.V1Change(objectDetails(d))})
}

func (a *API) removeApp(w http.ResponseWriter, r *http.Request) {
	projectID, err := pathParam(r, "projectId", "RemoveAppRequest.ProjectId")
	if err == nil {
		_, err = pathParam(r, "appId", "RemoveAppRequest.AppId")
	}
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	d, err := a.cmds.RemoveApp(r.Context(), contextOrg(r), projectID, chi.URLParam(r, "appId"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	writeDetailsV1(w, d)
}

func (a *API) getApp(w http.ResponseWriter, r *http.Request) {
	projectID, err := pathParam(r, "projectId", "GetAppByIDRequest.ProjectId")
	if err == nil {
		_, err = pathParam(r, "appId", "GetAppByIDRequest.AppId")
	}
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	app, err := a.q.AppByID(r.Context(), contextOrg(r), projectID, chi.URLParam(r, "appId"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, struct {
		App render.AppV1 `json:"app"`
	}{render.AppV1Of(app)})
}

func (a *API) searchApps(w http.ResponseWriter, r *http.Request) {
	projectID, err := pathParam(r, "projectId", "ListAppsRequest.ProjectId")
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	body, err := gateway.ReadBody(r)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	s, err := render.ListInput(body, "ListAppsRequest", "AppQuery")
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	l, err := a.q.SearchApps(r.Context(), contextOrg(r), projectID, s)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.AppListV1Of(l))
}
