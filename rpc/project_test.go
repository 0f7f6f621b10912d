package rpc_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	appv1 "github.com/idledger/idledger/gen/zitadel/app/v1"
	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
	projectv1 "github.com/idledger/idledger/gen/zitadel/project/v1"
	zitadelv1 "github.com/idledger/idledger/gen/zitadel/v1"
	"github.com/idledger/idledger/internal/app/apptest"
)

// same is one request sent over REST and RPC alike (both): a failure, or
// a success whose volatile fields are not compared.
type same[Req any] struct {
	name         string
	method, path string
	body         any
	req          *Req
	volatile     []string
	headers      []string
}

// sameRows runs each row as a subtest over p against procedure.
func sameRows[Req, Res any](t *testing.T, env *apptest.Env, p protocol, procedure string, rows []same[Req]) {
	t.Helper()
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			both[Req, Res](t, env, p, procedure, r.method, r.path, r.body, r.req, r.volatile, r.headers...)
		})
	}
}

// projectEnv is an identityEnv whose second org's owner (outsid) works
// on its own org's projects: ORG_OWNER holds project.*.
type projectEnv struct {
	identityEnv
	owner []string // the second org's owner, in its org
}

func newProjectEnv(t *testing.T) projectEnv {
	e := newIdentityEnv(t)
	return projectEnv{identityEnv: e, owner: as(e.outsid)}
}

var nameSeq int

func uniq(prefix string) string {
	nameSeq++
	return fmt.Sprintf("%s-%d-%d", prefix, nameSeq, time.Now().UnixNano())
}

// project adds a project over REST as the second org's owner.
func (e projectEnv) project(t *testing.T) string {
	t.Helper()
	return e.MustDo(t, http.StatusOK, "POST", "/management/v1/projects", map[string]any{"name": uniq("p")}, e.owner...)["id"].(string)
}

// oidcBody is an AddOIDCApp body (REST) of a web app with basic auth, and
// the same request for RPC.
func oidcBody(project, name string) (map[string]any, *managementv1.AddOIDCAppRequest) {
	return map[string]any{"name": name, "redirectUris": []string{"https://app.example/cb"}, "responseTypes": []string{"OIDC_RESPONSE_TYPE_CODE"},
			"grantTypes": []string{"OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"}, "appType": "OIDC_APP_TYPE_WEB",
			"authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC", "postLogoutRedirectUris": []string{"https://app.example/out"},
			"clockSkew": "1s", "additionalOrigins": []string{"https://other.example"}, "loginVersion": map[string]any{"loginV2": map[string]any{}}},
		&managementv1.AddOIDCAppRequest{ProjectId: project, Name: name, RedirectUris: []string{"https://app.example/cb"},
			ResponseTypes: []appv1.OIDCResponseType{appv1.OIDCResponseType_OIDC_RESPONSE_TYPE_CODE},
			GrantTypes:    []appv1.OIDCGrantType{appv1.OIDCGrantType_OIDC_GRANT_TYPE_AUTHORIZATION_CODE, appv1.OIDCGrantType_OIDC_GRANT_TYPE_REFRESH_TOKEN},
			AppType:       appv1.OIDCAppType_OIDC_APP_TYPE_WEB, AuthMethodType: appv1.OIDCAuthMethodType_OIDC_AUTH_METHOD_TYPE_BASIC,
			PostLogoutRedirectUris: []string{"https://app.example/out"}, ClockSkew: durationpb.New(time.Second),
			AdditionalOrigins: []string{"https://other.example"},
			LoginVersion:      &appv1.LoginVersion{Version: &appv1.LoginVersion_LoginV2{LoginV2: &appv1.LoginV2{}}}}
}

// app adds an OIDC app (or, with api, an API app) to project over REST.
func (e projectEnv) app(t *testing.T, project string, api bool) string {
	t.Helper()
	if api {
		return e.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+project+"/apps/api",
			map[string]any{"name": uniq("api")}, e.owner...)["appId"].(string)
	}
	body, _ := oidcBody(project, uniq("oidc"))
	return e.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+project+"/apps/oidc", body, e.owner...)["appId"].(string)
}

var long = strings.Repeat("x", 201)

// clientSecret runs the OP's client secret check, waiting briefly for the
// read tables to list a new app.
func (e projectEnv) clientSecret(clientID, secret string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := e.App.Commands().CheckClientSecret(context.Background(), e.InstanceID, clientID, secret)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestProjects(t *testing.T) {
	e := newProjectEnv(t)
	const path = "/management/v1/projects"
	for _, p := range protocols {
		t.Run(p.name+"/AddProject", func(t *testing.T) {
			taken := uniq("taken")
			e.MustDo(t, http.StatusOK, "POST", path, map[string]any{"name": taken}, e.owner...)
			rest, rpc := uniq("rest"), uniq("rpc")
			got, _ := both[managementv1.AddProjectRequest, managementv1.AddProjectResponse](t, e.Env, p, mgmtSvc+"AddProject", "POST", path,
				map[string]any{"name": rest, "projectRoleAssertion": true, "privateLabelingSetting": "PRIVATE_LABELING_SETTING_ENFORCE_PROJECT_RESOURCE_OWNER_POLICY"},
				&managementv1.AddProjectRequest{Name: rpc, ProjectRoleAssertion: true, PrivateLabelingSetting: projectv1.PrivateLabelingSetting_PRIVATE_LABELING_SETTING_ENFORCE_PROJECT_RESOURCE_OWNER_POLICY},
				append([]string{"id"}, writeVolatile...), e.owner...)
			m := e.MustDo(t, http.StatusOK, "GET", path+"/"+got.GetId(), nil, e.owner...)["project"].(map[string]any)
			if m["name"] != rpc || m["projectRoleAssertion"] != true || got.GetDetails().GetResourceOwner() != e.other {
				t.Fatalf("the project added over RPC (%v) reads %v", got, m)
			}
			add := func(name string) (map[string]any, *managementv1.AddProjectRequest) {
				return map[string]any{"name": name}, &managementv1.AddProjectRequest{Name: name}
			}
			row := func(n, name string, headers []string) same[managementv1.AddProjectRequest] {
				b, r := add(name)
				return same[managementv1.AddProjectRequest]{name: n, method: "POST", path: path, body: b, req: r, headers: headers}
			}
			sameRows[managementv1.AddProjectRequest, managementv1.AddProjectResponse](t, e.Env, p, mgmtSvc+"AddProject", []same[managementv1.AddProjectRequest]{
				row("empty name", "  ", e.owner),
				row("name over 200", long, e.owner),
				row("name taken", taken, e.owner),
				row("no role", uniq("x"), as(e.nobody)),
				row("other org's owner", uniq("x"), as(e.outsid, "x-zitadel-orgid", e.DefaultOrgID)),
				row("unauthenticated", uniq("x"), []string{"Authorization", ""}),
			})
			// An enum number out of range reaches the command over RPC
			// (REST's JSON decoder refuses it first), which ZITADEL's
			// validation answers.
			got, err := call[managementv1.AddProjectRequest, managementv1.AddProjectResponse](t, e.Env, p, mgmtSvc+"AddProject",
				&managementv1.AddProjectRequest{Name: "x", PrivateLabelingSetting: 7}, e.owner...)
			status, body := restError("invalid AddProjectRequest.PrivateLabelingSetting: value must be one of the defined enum values")
			sameAsREST(t, p, status, body, answer(got), err)
		})

		t.Run(p.name+"/GetProjectByID", func(t *testing.T) {
			id := e.project(t)
			type R = managementv1.GetProjectByIDRequest
			sameRows[R, managementv1.GetProjectByIDResponse](t, e.Env, p, mgmtSvc+"GetProjectByID", []same[R]{
				{name: "found", method: "GET", path: path + "/" + id, req: &R{Id: id}, headers: e.owner},
				{name: "not found", method: "GET", path: path + "/nope", req: &R{Id: "nope"}, headers: e.owner},
				{name: "of another org", method: "GET", path: path + "/" + id, req: &R{Id: id}, headers: as(e.outsid, "x-zitadel-orgid", e.DefaultOrgID)},
				{name: "no role", method: "GET", path: path + "/" + id, req: &R{Id: id}, headers: as(e.nobody)},
				{name: "id over 200", method: "GET", path: path + "/" + long, req: &R{Id: long}, headers: e.owner},
			})
		})

		t.Run(p.name+"/ListProjects", func(t *testing.T) {
			e.project(t)
			type R = managementv1.ListProjectsRequest
			name := func(n string, m zitadelv1.TextQueryMethod) *projectv1.ProjectQuery {
				return &projectv1.ProjectQuery{Query: &projectv1.ProjectQuery_NameQuery{NameQuery: &projectv1.ProjectNameQuery{Name: n, Method: m}}}
			}
			sameRows[R, managementv1.ListProjectsResponse](t, e.Env, p, mgmtSvc+"ListProjects", []same[R]{
				{name: "all", method: "POST", path: path + "/_search", body: map[string]any{}, req: &R{}, volatile: listVolatile, headers: e.owner},
				{name: "paged", method: "POST", path: path + "/_search", body: map[string]any{"query": map[string]any{"offset": "1", "limit": 1, "asc": true}},
					req: &R{Query: &zitadelv1.ListQuery{Offset: 1, Limit: 1, Asc: true}}, volatile: listVolatile, headers: e.owner},
				{name: "by name", method: "POST", path: path + "/_search",
					body: map[string]any{"queries": []any{map[string]any{"nameQuery": map[string]any{"name": "p-", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}}},
					req:  &R{Queries: []*projectv1.ProjectQuery{name("p-", zitadelv1.TextQueryMethod_TEXT_QUERY_METHOD_STARTS_WITH)}}, volatile: listVolatile, headers: e.owner},
				{name: "name queries disagree", method: "POST", path: path + "/_search",
					body: map[string]any{"queries": []any{map[string]any{"nameQuery": map[string]any{"name": "a"}}, map[string]any{"nameQuery": map[string]any{"name": "b"}}}},
					req:  &R{Queries: []*projectv1.ProjectQuery{name("a", 0), name("b", 0)}}, headers: e.owner},
				{name: "resource owner query", method: "POST", path: path + "/_search",
					body: map[string]any{"queries": []any{map[string]any{"projectResourceOwnerQuery": map[string]any{"resourceOwner": "x"}}}},
					req: &R{Queries: []*projectv1.ProjectQuery{{Query: &projectv1.ProjectQuery_ProjectResourceOwnerQuery{
						ProjectResourceOwnerQuery: &projectv1.ProjectResourceOwnerQuery{ResourceOwner: "x"}}}}}, headers: e.owner},
				{name: "limit over max", method: "POST", path: path + "/_search", body: map[string]any{"query": map[string]any{"limit": 100000}},
					req: &R{Query: &zitadelv1.ListQuery{Limit: 100000}}, headers: e.owner},
				{name: "no role", method: "POST", path: path + "/_search", body: map[string]any{}, req: &R{}, headers: as(e.nobody)},
			})
		})

		t.Run(p.name+"/UpdateProject", func(t *testing.T) {
			rest, rpc := e.project(t), e.project(t)
			type R = managementv1.UpdateProjectRequest
			both[R, managementv1.UpdateProjectResponse](t, e.Env, p, mgmtSvc+"UpdateProject", "PUT", path+"/"+rest,
				map[string]any{"name": rest + "-new", "hasProjectCheck": true}, &R{Id: rpc, Name: rpc + "-new", HasProjectCheck: true}, writeVolatile, e.owner...)
			m := e.MustDo(t, http.StatusOK, "GET", path+"/"+rpc, nil, e.owner...)["project"].(map[string]any)
			if m["name"] != rpc+"-new" || m["hasProjectCheck"] != true {
				t.Fatalf("the project updated over RPC reads %v", m)
			}
			sameRows[R, managementv1.UpdateProjectResponse](t, e.Env, p, mgmtSvc+"UpdateProject", []same[R]{
				{name: "nothing changes", method: "PUT", path: path + "/" + rpc, body: map[string]any{"name": rpc + "-new", "hasProjectCheck": true},
					req: &R{Id: rpc, Name: rpc + "-new", HasProjectCheck: true}, headers: e.owner},
				{name: "not found", method: "PUT", path: path + "/nope", body: map[string]any{"name": "n"}, req: &R{Id: "nope", Name: "n"}, headers: e.owner},
				{name: "empty name", method: "PUT", path: path + "/" + rpc, body: map[string]any{"name": ""}, req: &R{Id: rpc}, headers: e.owner},
				{name: "no role", method: "PUT", path: path + "/" + rpc, body: map[string]any{"name": "n"}, req: &R{Id: rpc, Name: "n"}, headers: as(e.nobody)},
			})
		})

		t.Run(p.name+"/RemoveProject", func(t *testing.T) {
			rest, rpc := e.project(t), e.project(t)
			type R = managementv1.RemoveProjectRequest
			both[R, managementv1.RemoveProjectResponse](t, e.Env, p, mgmtSvc+"RemoveProject", "DELETE", path+"/"+rest, nil, &R{Id: rpc}, writeVolatile, e.owner...)
			e.MustDo(t, http.StatusNotFound, "GET", path+"/"+rpc, nil, e.owner...)
			sameRows[R, managementv1.RemoveProjectResponse](t, e.Env, p, mgmtSvc+"RemoveProject", []same[R]{
				{name: "removed already", method: "DELETE", path: path + "/" + rpc, req: &R{Id: rpc}, headers: e.owner},
				{name: "not found", method: "DELETE", path: path + "/nope", req: &R{Id: "nope"}, headers: e.owner},
				{name: "id over 200", method: "DELETE", path: path + "/" + long, req: &R{Id: long}, headers: e.owner},
				{name: "no role", method: "DELETE", path: path + "/nope", req: &R{Id: "nope"}, headers: as(e.nobody)},
			})
		})
	}
}

// appVolatile are the fields in which two equal app adds differ.
var appVolatile = append([]string{"app_id", "client_id", "client_secret"}, writeVolatile...)

func TestApps(t *testing.T) {
	e := newProjectEnv(t)
	for _, p := range protocols {
		t.Run(p.name+"/AddOIDCApp", func(t *testing.T) {
			project := e.project(t)
			apps := "/management/v1/projects/" + project + "/apps"
			body, req := oidcBody(project, uniq("rpc"))
			got, _ := both[managementv1.AddOIDCAppRequest, managementv1.AddOIDCAppResponse](t, e.Env, p, mgmtSvc+"AddOIDCApp",
				"POST", apps+"/oidc", body, req, appVolatile, e.owner...)
			if len(got.GetClientSecret()) != 64 || got.GetClientId() == "" {
				t.Fatalf("no client secret: %v", got)
			}
			if err := e.clientSecret(got.GetClientId(), got.GetClientSecret()); err != nil {
				t.Fatalf("the secret of the app added over RPC: %v", err)
			}
			m := e.MustDo(t, http.StatusOK, "GET", apps+"/"+got.GetAppId(), nil, e.owner...)["app"].(map[string]any)
			if m["name"] != req.Name || strings.Contains(fmt.Sprint(m), got.GetClientSecret()) {
				t.Fatalf("the app added over RPC reads %v", m)
			}
			// Defaults (no response or grant types: code), a public
			// native app in dev mode with compliance problems.
			native := func(name string) (map[string]any, *managementv1.AddOIDCAppRequest) {
				return map[string]any{"name": name, "redirectUris": []string{"http://localhost:3000/cb", "com.example:/cb"}, "appType": "OIDC_APP_TYPE_NATIVE",
						"authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE", "devMode": true},
					&managementv1.AddOIDCAppRequest{ProjectId: project, Name: name, RedirectUris: []string{"http://localhost:3000/cb", "com.example:/cb"},
						AppType: appv1.OIDCAppType_OIDC_APP_TYPE_NATIVE, AuthMethodType: appv1.OIDCAuthMethodType_OIDC_AUTH_METHOD_TYPE_NONE, DevMode: true}
			}
			nb, nr := native(uniq("native"))
			both[managementv1.AddOIDCAppRequest, managementv1.AddOIDCAppResponse](t, e.Env, p, mgmtSvc+"AddOIDCApp", "POST", apps+"/oidc", nb, nr, appVolatile, e.owner...)
			type R = managementv1.AddOIDCAppRequest
			bad := func(n string, edit func(map[string]any, *R), path string, headers []string) same[R] {
				b, r := oidcBody(project, uniq("bad"))
				edit(b, r)
				return same[R]{name: n, method: "POST", path: path, body: b, req: r, headers: headers}
			}
			sameRows[R, managementv1.AddOIDCAppResponse](t, e.Env, p, mgmtSvc+"AddOIDCApp", []same[R]{
				bad("no such project", func(_ map[string]any, r *R) { r.ProjectId = "nope" }, "/management/v1/projects/nope/apps/oidc", e.owner),
				bad("empty name", func(b map[string]any, r *R) { b["name"], r.Name = "", "" }, apps+"/oidc", e.owner),
				bad("not an origin", func(b map[string]any, r *R) {
					b["additionalOrigins"], r.AdditionalOrigins = []string{"https://x.example/path"}, []string{"https://x.example/path"}
				}, apps+"/oidc", e.owner),
				bad("implicit without its grant", func(b map[string]any, r *R) {
					b["responseTypes"], r.ResponseTypes = []string{"OIDC_RESPONSE_TYPE_ID_TOKEN"}, []appv1.OIDCResponseType{appv1.OIDCResponseType_OIDC_RESPONSE_TYPE_ID_TOKEN}
				}, apps+"/oidc", e.owner),
				bad("clock skew over 5s", func(b map[string]any, r *R) { b["clockSkew"], r.ClockSkew = "6s", durationpb.New(6*time.Second) }, apps+"/oidc", e.owner),
				bad("no role", func(map[string]any, *R) {}, apps+"/oidc", as(e.nobody)),
				bad("other org's owner", func(map[string]any, *R) {}, apps+"/oidc", as(e.outsid, "x-zitadel-orgid", e.DefaultOrgID)),
			})
		})

		t.Run(p.name+"/AddAPIApp", func(t *testing.T) {
			project := e.project(t)
			apps := "/management/v1/projects/" + project + "/apps"
			type R = managementv1.AddAPIAppRequest
			got, _ := both[R, managementv1.AddAPIAppResponse](t, e.Env, p, mgmtSvc+"AddAPIApp", "POST", apps+"/api",
				map[string]any{"name": uniq("rest")}, &R{ProjectId: project, Name: uniq("rpc")}, appVolatile, e.owner...)
			if len(got.GetClientSecret()) != 64 {
				t.Fatalf("no client secret: %v", got)
			}
			got, _ = both[R, managementv1.AddAPIAppResponse](t, e.Env, p, mgmtSvc+"AddAPIApp", "POST", apps+"/api",
				map[string]any{"name": uniq("rest"), "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"},
				&R{ProjectId: project, Name: uniq("rpc"), AuthMethodType: appv1.APIAuthMethodType_API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT},
				[]string{"app_id", "client_id", "sequence", "creation_date", "change_date"}, e.owner...)
			if got.GetClientSecret() != "" {
				t.Fatalf("a private_key_jwt API app got a secret: %v", got)
			}
			sameRows[R, managementv1.AddAPIAppResponse](t, e.Env, p, mgmtSvc+"AddAPIApp", []same[R]{
				{name: "no such project", method: "POST", path: "/management/v1/projects/nope/apps/api", body: map[string]any{"name": "a"},
					req: &R{ProjectId: "nope", Name: "a"}, headers: e.owner},
				{name: "empty name", method: "POST", path: apps + "/api", body: map[string]any{}, req: &R{ProjectId: project}, headers: e.owner},
				{name: "no role", method: "POST", path: apps + "/api", body: map[string]any{"name": "a"}, req: &R{ProjectId: project, Name: "a"}, headers: as(e.nobody)},
			})
		})

		t.Run(p.name+"/GetAppByID+ListApps", func(t *testing.T) {
			project := e.project(t)
			apps := "/management/v1/projects/" + project + "/apps"
			oidc, api := e.app(t, project, false), e.app(t, project, true)
			type G = managementv1.GetAppByIDRequest
			sameRows[G, managementv1.GetAppByIDResponse](t, e.Env, p, mgmtSvc+"GetAppByID", []same[G]{
				{name: "oidc", method: "GET", path: apps + "/" + oidc, req: &G{ProjectId: project, AppId: oidc}, headers: e.owner},
				{name: "api", method: "GET", path: apps + "/" + api, req: &G{ProjectId: project, AppId: api}, headers: e.owner},
				{name: "not found", method: "GET", path: apps + "/nope", req: &G{ProjectId: project, AppId: "nope"}, headers: e.owner},
				{name: "app id over 200", method: "GET", path: apps + "/" + long, req: &G{ProjectId: project, AppId: long}, headers: e.owner},
				{name: "no role", method: "GET", path: apps + "/" + oidc, req: &G{ProjectId: project, AppId: oidc}, headers: as(e.nobody)},
			})
			type L = managementv1.ListAppsRequest
			sameRows[L, managementv1.ListAppsResponse](t, e.Env, p, mgmtSvc+"ListApps", []same[L]{
				{name: "all", method: "POST", path: apps + "/_search", body: map[string]any{}, req: &L{ProjectId: project}, volatile: listVolatile, headers: e.owner},
				{name: "by name", method: "POST", path: apps + "/_search",
					body: map[string]any{"queries": []any{map[string]any{"nameQuery": map[string]any{"name": "api", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}}},
					req: &L{ProjectId: project, Queries: []*appv1.AppQuery{{Query: &appv1.AppQuery_NameQuery{NameQuery: &appv1.AppNameQuery{Name: "api",
						Method: zitadelv1.TextQueryMethod_TEXT_QUERY_METHOD_STARTS_WITH}}}}}, volatile: listVolatile, headers: e.owner},
				{name: "name over 200", method: "POST", path: apps + "/_search",
					body: map[string]any{"queries": []any{map[string]any{"nameQuery": map[string]any{"name": long}}}},
					req:  &L{ProjectId: project, Queries: []*appv1.AppQuery{{Query: &appv1.AppQuery_NameQuery{NameQuery: &appv1.AppNameQuery{Name: long}}}}}, headers: e.owner},
				{name: "project id over 200", method: "POST", path: "/management/v1/projects/" + long + "/apps/_search", body: map[string]any{},
					req: &L{ProjectId: long}, headers: e.owner},
				{name: "no role", method: "POST", path: apps + "/_search", body: map[string]any{}, req: &L{ProjectId: project}, headers: as(e.nobody)},
			})
		})

		t.Run(p.name+"/UpdateOIDCAppConfig", func(t *testing.T) {
			project := e.project(t)
			apps := "/management/v1/projects/" + project + "/apps"
			rest, rpc, api := e.app(t, project, false), e.app(t, project, false), e.app(t, project, true)
			type R = managementv1.UpdateOIDCAppConfigRequest
			cfg := func(app string) (map[string]any, *R) {
				return map[string]any{"redirectUris": []string{"https://new.example/cb"}, "accessTokenType": "OIDC_TOKEN_TYPE_JWT", "devMode": true},
					&R{ProjectId: project, AppId: app, RedirectUris: []string{"https://new.example/cb"}, AccessTokenType: appv1.OIDCTokenType_OIDC_TOKEN_TYPE_JWT, DevMode: true}
			}
			b, _ := cfg(rest)
			_, r := cfg(rpc)
			both[R, managementv1.UpdateOIDCAppConfigResponse](t, e.Env, p, mgmtSvc+"UpdateOIDCAppConfig", "PUT", apps+"/"+rest+"/oidc_config", b, r, writeVolatile, e.owner...)
			m := e.MustDo(t, http.StatusOK, "GET", apps+"/"+rpc, nil, e.owner...)["app"].(map[string]any)["oidcConfig"].(map[string]any)
			if m["accessTokenType"] != "OIDC_TOKEN_TYPE_JWT" || fmt.Sprint(m["redirectUris"]) != "[https://new.example/cb]" {
				t.Fatalf("the config updated over RPC reads %v", m)
			}
			row := func(n, app string, edit func(map[string]any, *R)) same[R] {
				b, r := cfg(app)
				edit(b, r)
				return same[R]{name: n, method: "PUT", path: apps + "/" + app + "/oidc_config", body: b, req: r, headers: e.owner}
			}
			none := func(map[string]any, *R) {}
			rows := []same[R]{
				row("nothing changes", rpc, none),
				row("not found", "nope", none),
				row("an API app", api, none),
				row("not an origin", rpc, func(b map[string]any, r *R) {
					b["additionalOrigins"], r.AdditionalOrigins = []string{"nope"}, []string{"nope"}
				}),
				row("no role", rpc, none),
			}
			rows[len(rows)-1].headers = as(e.nobody)
			sameRows[R, managementv1.UpdateOIDCAppConfigResponse](t, e.Env, p, mgmtSvc+"UpdateOIDCAppConfig", rows)
		})

		t.Run(p.name+"/RegenerateOIDCClientSecret+RemoveApp", func(t *testing.T) {
			project := e.project(t)
			apps := "/management/v1/projects/" + project + "/apps"
			rest, rpc, api := e.app(t, project, false), e.app(t, project, false), e.app(t, project, true)
			type S = managementv1.RegenerateOIDCClientSecretRequest
			gen := "/oidc_config/_generate_client_secret"
			got, _ := both[S, managementv1.RegenerateOIDCClientSecretResponse](t, e.Env, p, mgmtSvc+"RegenerateOIDCClientSecret", "POST", apps+"/"+rest+gen,
				map[string]any{}, &S{ProjectId: project, AppId: rpc}, append([]string{"client_secret"}, writeVolatile...), e.owner...)
			if len(got.GetClientSecret()) != 64 {
				t.Fatalf("no new secret: %v", got)
			}
			clientID := e.MustDo(t, http.StatusOK, "GET", apps+"/"+rpc, nil, e.owner...)["app"].(map[string]any)["oidcConfig"].(map[string]any)["clientId"].(string)
			if err := e.clientSecret(clientID, got.GetClientSecret()); err != nil {
				t.Fatalf("the secret regenerated over RPC: %v", err)
			}
			sameRows[S, managementv1.RegenerateOIDCClientSecretResponse](t, e.Env, p, mgmtSvc+"RegenerateOIDCClientSecret", []same[S]{
				{name: "not found", method: "POST", path: apps + "/nope" + gen, body: map[string]any{}, req: &S{ProjectId: project, AppId: "nope"}, headers: e.owner},
				{name: "an API app", method: "POST", path: apps + "/" + api + gen, body: map[string]any{}, req: &S{ProjectId: project, AppId: api}, headers: e.owner},
				{name: "no role", method: "POST", path: apps + "/" + rpc + gen, body: map[string]any{}, req: &S{ProjectId: project, AppId: rpc}, headers: as(e.nobody)},
			})
			type D = managementv1.RemoveAppRequest
			both[D, managementv1.RemoveAppResponse](t, e.Env, p, mgmtSvc+"RemoveApp", "DELETE", apps+"/"+rest, nil, &D{ProjectId: project, AppId: rpc}, writeVolatile, e.owner...)
			e.MustDo(t, http.StatusNotFound, "GET", apps+"/"+rpc, nil, e.owner...)
			sameRows[D, managementv1.RemoveAppResponse](t, e.Env, p, mgmtSvc+"RemoveApp", []same[D]{
				{name: "removed already", method: "DELETE", path: apps + "/" + rpc, req: &D{ProjectId: project, AppId: rpc}, headers: e.owner},
				{name: "app id over 200", method: "DELETE", path: apps + "/" + long, req: &D{ProjectId: project, AppId: long}, headers: e.owner},
				{name: "no role", method: "DELETE", path: apps + "/" + api, req: &D{ProjectId: project, AppId: api}, headers: as(e.nobody)},
			})
		})
	}
}
