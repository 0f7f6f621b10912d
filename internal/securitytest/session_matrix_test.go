package securitytest

import "testing"

// sessionRows are the rows of SetPassword, the user and org lists and the
// session API. Sessions live on the instance: session.write (create, set),
// session.read, session.delete; IAM_OWNER_VIEWER reads. The lists filter
// what the caller may read instead of refusing.
func sessionRows(m map[string]row) {
	instanceOnly := [7]string{ok, v2Deny, v2Deny, v2Deny, v2Deny, v2Deny, v2Deny}
	instanceRead := [7]string{ok, ok, v2Deny, v2Deny, v2Deny, v2Deny, v2Deny}
	session := func(t *testing.T, w *world) string {
		return field(t, w.admin(t, "POST", "/v2/sessions", map[string]any{}, ""), "sessionId")
	}
	m["POST /v2/users"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/v2/users", js(map[string]any{}))
	}, public, nil}
	m["POST /v2/organizations/_search"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/v2/organizations/_search", js(map[string]any{}))
	}, public, nil}
	// Without the current password, user.write (and power over the user)
	// even for oneself; the plain user is a machine: no password to set.
	m["POST /v2/users/{userId}/password"] = row{func(t *testing.T, w *world, c *caller) request {
		u := c.self
		if u == "" {
			u = w.human(t, c.org)
		}
		return req("POST", "/v2/users/"+u+"/password", js(map[string]any{"newPassword": map[string]any{"password": "Secr3t!pass"}}))
	}, [7]string{ok, v2Deny, ok, v2Deny, ok, "400 COMMAND-G8dh3", v2Deny}, nil}
	m["POST /v2/sessions"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/v2/sessions", js(map[string]any{}))
	}, [7]string{created, v2Deny, v2Deny, v2Deny, v2Deny, v2Deny, v2Deny}, nil}
	m["GET /v2/sessions/{sessionId}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("GET", "/v2/sessions/"+session(t, w), nil)
	}, instanceRead, nil}
	m["PATCH /v2/sessions/{sessionId}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("PATCH", "/v2/sessions/"+session(t, w), js(map[string]any{"lifetime": "60s"}))
	}, instanceOnly, nil}
	m["DELETE /v2/sessions/{sessionId}"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("DELETE", "/v2/sessions/"+session(t, w), nil)
	}, instanceOnly, nil}
	m["POST /v2/sessions/search"] = row{func(t *testing.T, w *world, c *caller) request {
		return req("POST", "/v2/sessions/search", js(map[string]any{}))
	}, public, nil}
}
