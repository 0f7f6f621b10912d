package securitytest

import "testing"

// projectRows are the rows of projects and apps (management API, the
// context org): project.read / project.app.read read, project.write,
// project.delete, project.app.write and project.app.delete write, which
// ORG_OWNER holds in its org and IAM_OWNER everywhere.
func projectRows(m map[string]row) {
	const p = "/management/v1/projects"
	project := func(t *testing.T, w *world, org string) string {
		return field(t, w.admin(t, "POST", p, map[string]any{"name": w.uniq("project")}, org), "id")
	}
	oidcApp := func(t *testing.T, w *world, org, project string) string {
		return field(t, w.admin(t, "POST", p+"/"+project+"/apps/oidc", map[string]any{"name": "web",
			"redirectUris": []string{"https://a.example/cb"}}, org), "appId")
	}
	m["POST "+p] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", p, js(map[string]any{"name": w.uniq("project")}))
	}, orgWrite, nil}
	m["POST "+p+"/_search"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", p+"/_search", js(map[string]any{}))
	}, orgRead, nil}
	m["GET "+p+"/{projectId}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("GET", p+"/"+project(t, w, c.org), nil)
	}, orgRead, nil}
	m["PUT "+p+"/{projectId}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("PUT", p+"/"+project(t, w, c.org), js(map[string]any{"name": w.uniq("renamed")}))
	}, orgWrite, nil}
	m["DELETE "+p+"/{projectId}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("DELETE", p+"/"+project(t, w, c.org), nil)
	}, orgWrite, nil}
	m["POST "+p+"/{projectId}/apps/oidc"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", p+"/"+project(t, w, c.org)+"/apps/oidc", js(map[string]any{"name": "web",
			"redirectUris": []string{"https://a.example/cb"}}))
	}, orgWrite, nil}
	m["POST "+p+"/{projectId}/apps/api"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", p+"/"+project(t, w, c.org)+"/apps/api", js(map[string]any{"name": "api"}))
	}, orgWrite, nil}
	m["POST "+p+"/{projectId}/apps/_search"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", p+"/"+project(t, w, c.org)+"/apps/_search", js(map[string]any{}))
	}, orgRead, nil}
	m["GET "+p+"/{projectId}/apps/{appId}"] = row{func(t *testing.T, w *world, c *caller) request {
		pr := project(t, w, c.org)
		return req("GET", p+"/"+pr+"/apps/"+oidcApp(t, w, c.org, pr), nil)
	}, orgRead, nil}
	m["DELETE "+p+"/{projectId}/apps/{appId}"] = row{func(t *testing.T, w *world, c *caller) request {
		pr := project(t, w, c.org)
		return req("DELETE", p+"/"+pr+"/apps/"+oidcApp(t, w, c.org, pr), nil)
	}, orgWrite, nil}
	m["PUT "+p+"/{projectId}/apps/{appId}/oidc_config"] = row{func(t *testing.T, w *world, c *caller) request {
		pr := project(t, w, c.org)
		return req("PUT", p+"/"+pr+"/apps/"+oidcApp(t, w, c.org, pr)+"/oidc_config",
			js(map[string]any{"redirectUris": []string{"https://b.example/cb"}}))
	}, orgWrite, nil}
	m["POST "+p+"/{projectId}/apps/{appId}/oidc_config/_generate_client_secret"] = row{func(t *testing.T, w *world, c *caller) request {
		pr := project(t, w, c.org)
		return req("POST", p+"/"+pr+"/apps/"+oidcApp(t, w, c.org, pr)+"/oidc_config/_generate_client_secret", js(map[string]any{}))
	}, orgWrite, nil}
	keyApp := func(t *testing.T, w *world, org, project string) string {
		return field(t, w.admin(t, "POST", p+"/"+project+"/apps/api", map[string]any{"name": "keys",
			"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}, org), "appId")
	}
	appKey := func(t *testing.T, w *world, org string) (string, string) {
		pr := project(t, w, org)
		keys := p + "/" + pr + "/apps/" + keyApp(t, w, org, pr) + "/keys"
		return keys, field(t, w.admin(t, "POST", keys, map[string]any{"type": "KEY_TYPE_JSON"}, org), "id")
	}
	m["POST "+p+"/{projectId}/apps/{appId}/keys"] = row{func(t *testing.T, w *world, c *caller) request {
		pr := project(t, w, c.org)
		return req("POST", p+"/"+pr+"/apps/"+keyApp(t, w, c.org, pr)+"/keys", js(map[string]any{"type": "KEY_TYPE_JSON"}))
	}, orgWrite, nil}
	m["POST "+p+"/{projectId}/apps/{appId}/keys/_search"] = row{func(t *testing.T, w *world, c *caller) request {
		keys, _ := appKey(t, w, c.org)
		return req("POST", keys+"/_search", js(map[string]any{}))
	}, orgRead, nil}
	m["GET "+p+"/{projectId}/apps/{appId}/keys/{keyId}"] = row{func(t *testing.T, w *world, c *caller) request {
		keys, id := appKey(t, w, c.org)
		return req("GET", keys+"/"+id, nil)
	}, orgRead, nil}
	m["DELETE "+p+"/{projectId}/apps/{appId}/keys/{keyId}"] = row{func(t *testing.T, w *world, c *caller) request {
		keys, id := appKey(t, w, c.org)
		return req("DELETE", keys+"/"+id, nil)
	}, orgWrite, nil}
}
