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
// context org. Each handler is a chain of steps that stops at the first
// error; reply writes the error or the answer.
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

// reply writes err, or else the answer answer builds.
func reply(w http.ResponseWriter, r *http.Request, err error, answer func() any) {
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, answer())
}

func detailsV1(d command.Details) func() any {
	return func() any {
		return struct {
			Details gateway.DetailsV1 `json:"details"`
		}{gateway.V1Change(objectDetails(d))}
	}
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

func (a *API) addProject(w http.ResponseWriter, r *http.Request) {
	body, err := a.permittedBody(r, "project.write")
	var p command.Project
	if err == nil {
		p, err = render.ProjectInput(body)
	}
	var d command.Details
	if err == nil {
		d, err = a.cmds.AddProject(r.Context(), contextOrg(r), p)
	}
	reply(w, r, err, func() any {
		return struct {
			ID      string            `json:"id"`
			Details gateway.DetailsV1 `json:"details"`
		}{d.ID, gateway.V1Add(objectDetails(d))}
	})
}

func (a *API) updateProject(w http.ResponseWriter, r *http.Request) {
	body, err := a.permittedBody(r, "project.write")
	var p command.Project
	if err == nil {
		p, err = render.ProjectInput(body)
	}
	var d command.Details
	if err == nil {
		d, err = a.cmds.UpdateProject(r.Context(), contextOrg(r), chi.URLParam(r, "projectId"), p)
	}
	reply(w, r, err, detailsV1(d))
}

func (a *API) removeProject(w http.ResponseWriter, r *http.Request) {
	id, err := ids(r, "RemoveProjectRequest", "projectId")
	var d command.Details
	if err == nil {
		d, err = a.cmds.RemoveProject(r.Context(), contextOrg(r), id[0])
	}
	reply(w, r, err, detailsV1(d))
}

func (a *API) getProject(w http.ResponseWriter, r *http.Request) {
	id, err := ids(r, "GetProjectByIDRequest", "projectId")
	var p *query.Project
	if err == nil {
		p, err = a.q.ProjectByID(r.Context(), contextOrg(r), id[0])
	}
	reply(w, r, err, func() any {
		return struct {
			Project render.ProjectV1 `json:"project"`
		}{render.ProjectV1Of(p)}
	})
}

func (a *API) searchProjects(w http.ResponseWriter, r *http.Request) {
	body, err := gateway.ReadBody(r)
	var s query.ListSearch
	if err == nil {
		s, err = render.ListInput(body, "ListProjectsRequest", "Project")
	}
	var list *query.ProjectList
	if err == nil {
		list, err = a.q.SearchProjects(r.Context(), contextOrg(r), s)
	}
	reply(w, r, err, func() any { return render.ProjectListV1Of(list) })
}

func (a *API) addOIDCApp(w http.ResponseWriter, r *http.Request) {
	body, err := a.permittedBody(r, "project.app.write")
	var app command.OIDCApp
	if err == nil {
		app, err = render.OIDCAppInput(body)
	}
	var added command.AddedApp
	if err == nil {
		added, err = a.cmds.AddOIDCApp(r.Context(), contextOrg(r), chi.URLParam(r, "projectId"), app)
	}
	reply(w, r, err, func() any { return render.AppAddedV1Of(added) })
}

func (a *API) addAPIApp(w http.ResponseWriter, r *http.Request) {
	body, err := a.permittedBody(r, "project.app.write")
	var name string
	var method int
	if err == nil {
		name, method, err = render.APIAppInput(body)
	}
	var added command.AddedApp
	if err == nil {
		added, err = a.cmds.AddAPIApp(r.Context(), contextOrg(r), chi.URLParam(r, "projectId"), name, method)
	}
	reply(w, r, err, func() any { return render.AppAddedV1Of(added) })
}

func (a *API) updateOIDCConfig(w http.ResponseWriter, r *http.Request) {
	body, err := a.permittedBody(r, "project.app.write")
	var app command.OIDCApp
	if err == nil {
		app, err = render.OIDCAppInput(body)
	}
	var res command.AddedApp
	if err == nil {
		res, err = a.cmds.UpdateOIDCAppConfig(r.Context(), contextOrg(r), chi.URLParam(r, "projectId"), chi.URLParam(r, "appId"), app.Config)
	}
	reply(w, r, err, detailsV1(res.Details))
}

func (a *API) regenerateSecret(w http.ResponseWriter, r *http.Request) {
	id, err := ids(r, "RegenerateOIDCClientSecretRequest", "projectId", "appId")
	var secret string
	var d command.Details
	if err == nil {
		secret, d, err = a.cmds.RegenerateOIDCClientSecret(r.Context(), contextOrg(r), id[0], id[1])
	}
	reply(w, r, err, func() any { return render.SecretV1{ClientSecret: secret, Details: gateway.V1Change(objectDetails(d))} })
}

func (a *API) removeApp(w http.ResponseWriter, r *http.Request) {
	id, err := ids(r, "RemoveAppRequest", "projectId", "appId")
	var d command.Details
	if err == nil {
		d, err = a.cmds.RemoveApp(r.Context(), contextOrg(r), id[0], id[1])
	}
	reply(w, r, err, detailsV1(d))
}

func (a *API) getApp(w http.ResponseWriter, r *http.Request) {
	id, err := ids(r, "GetAppByIDRequest", "projectId", "appId")
	var app *query.App
	if err == nil {
		app, err = a.q.AppByID(r.Context(), contextOrg(r), id[0], id[1])
	}
	reply(w, r, err, func() any {
		return struct {
			App render.AppV1 `json:"app"`
		}{render.AppV1Of(app)}
	})
}

func (a *API) searchApps(w http.ResponseWriter, r *http.Request) {
	id, err := ids(r, "ListAppsRequest", "projectId")
	var body []byte
	if err == nil {
		body, err = gateway.ReadBody(r)
	}
	var s query.ListSearch
	if err == nil {
		s, err = render.ListInput(body, "ListAppsRequest", "App")
	}
	var list *query.AppList
	if err == nil {
		list, err = a.q.SearchApps(r.Context(), contextOrg(r), id[0], s)
	}
	reply(w, r, err, func() any { return render.AppListV1Of(list) })
}
