package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestOIDCSettings: the instance's token lifetimes are ZITADEL's defaults
// until set; add once (then AlreadyExists), update (only changes, then
// NoChangesFound), ZITADEL's validation IDs, iam.read / iam.write, and the
// OP's query reading what was set, per instance.
func TestOIDCSettings(t *testing.T) {
	env := apptest.New(t)
	get := func() map[string]any {
		t.Helper()
		return env.MustDo(t, http.StatusOK, "GET", "/admin/v1/settings/oidc", nil)["settings"].(map[string]any)
	}
	want := func(s map[string]any, at, id, idle, abs string) {
		t.Helper()
		if s["accessTokenLifetime"] != at || s["idTokenLifetime"] != id || s["refreshTokenIdleExpiration"] != idle || s["refreshTokenExpiration"] != abs {
			t.Errorf("settings %v, want %s %s %s %s", s, at, id, idle, abs)
		}
	}
	wantErr := func(what string, status int, body []byte, wantStatus int, id string) {
		t.Helper()
		if status != wantStatus || apptest.ErrorID(body) != id {
			t.Errorf("%s: %d %s, want %d %s", what, status, body, wantStatus, id)
		}
	}
	body := func(at, id, idle, abs string) map[string]string {
		return map[string]string{"accessTokenLifetime": at, "idTokenLifetime": id, "refreshTokenIdleExpiration": idle, "refreshTokenExpiration": abs}
	}
	ctx := context.Background()

	// Defaults: 12 h, 12 h, 720 h, 2160 h.
	s := get()
	want(s, "43200s", "43200s", "2592000s", "7776000s")
	if d := s["details"].(map[string]any); d["resourceOwner"] != env.InstanceID {
		t.Errorf("details %v", d)
	}
	q, err := env.App.Queries().OIDCSettings(ctx, env.InstanceID)
	if err != nil || q.Set || q.AccessTokenLifetime != 12*time.Hour || q.RefreshTokenExpiration != 2160*time.Hour {
		t.Fatalf("query defaults %+v %v", q, err)
	}

	// Update before any add: NotFound.
	st, b := env.Do(t, "PUT", "/admin/v1/settings/oidc", body("3600s", "3600s", "3600s", "3600s"))
	wantErr("update before add", st, b, 404, "INST-90s32oj")

	// Validation: every lifetime must be set and positive.
	for _, c := range []map[string]string{body("0s", "1s", "1s", "1s"), {"accessTokenLifetime": "1s", "refreshTokenIdleExpiration": "1s", "refreshTokenExpiration": "1s"}, {}, body("1s", "1s", "1s", "-5s")} {
		st, b := env.Do(t, "POST", "/admin/v1/settings/oidc", c)
		wantErr("add invalid", st, b, 400, "INST-10s82j")
	}
	st, b = env.Do(t, "POST", "/admin/v1/settings/oidc", `{"accessTokenLifetime":"soon"}`)
	if st != 400 {
		t.Errorf("add unparsable: %d %s", st, b)
	}

	// Permission: an org owner has no iam.read / iam.write.
	_, ownerPAT := env.CreateOrgOwner(t, env.DefaultOrgID)
	st, b = env.DoAs(t, ownerPAT, "GET", "/admin/v1/settings/oidc", nil)
	wantErr("get as org owner", st, b, 403, "AUTH-5mWD2")
	st, b = env.DoAs(t, ownerPAT, "POST", "/admin/v1/settings/oidc", body("1s", "1s", "1s", "1s"))
	wantErr("add as org owner", st, b, 403, "AUTH-5mWD2")

	// Add, then AlreadyExists.
	add := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/settings/oidc", body("3600s", "7200s", "86400s", "172800s"))
	if d := add["details"].(map[string]any); d["sequence"] == nil || d["creationDate"] == nil || d["resourceOwner"] != env.InstanceID {
		t.Errorf("add details %v", d)
	}
	want(get(), "3600s", "7200s", "86400s", "172800s")
	st, b = env.Do(t, "POST", "/admin/v1/settings/oidc", body("3600s", "7200s", "86400s", "172800s"))
	wantErr("add twice", st, b, 409, "INST-0aaj1o")

	// Update: validation, no change, one lifetime changed.
	st, b = env.Do(t, "PUT", "/admin/v1/settings/oidc", body("3600s", "0s", "86400s", "172800s"))
	wantErr("update invalid", st, b, 400, "INST-10sxks")
	st, b = env.Do(t, "PUT", "/admin/v1/settings/oidc", body("3600s", "7200s", "86400s", "172800s"))
	wantErr("update unchanged", st, b, 400, "COMMAND-0pk2nu")
	st, b = env.DoAs(t, ownerPAT, "PUT", "/admin/v1/settings/oidc", body("60s", "7200s", "86400s", "172800s"))
	wantErr("update as org owner", st, b, 403, "AUTH-5mWD2")
	upd := env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/settings/oidc", body("1.5s", "7200s", "86400s", "172800s"))
	if d := upd["details"].(map[string]any); d["changeDate"] == nil {
		t.Errorf("update details %v", d)
	}
	want(get(), "1.500s", "7200s", "86400s", "172800s")
	q, err = env.App.Queries().OIDCSettings(ctx, env.InstanceID)
	if err != nil || !q.Set || q.AccessTokenLifetime != 1500*time.Millisecond || q.IDTokenLifetime != 2*time.Hour {
		t.Fatalf("query after update %+v %v", q, err)
	}

	// The event carries only what changed.
	if evs := search(t, env, map[string]any{"eventTypes": []string{"instance.oidc.settings.changed"}}); len(evs) != 1 ||
		!strings.Contains(string(evs[0].Payload), "accessTokenLifetime") || strings.Contains(string(evs[0].Payload), "idTokenLifetime") {
		t.Errorf("changed events %+v", evs)
	}

	// Another instance keeps the defaults.
	other := env.AddInstance(t, "other.example.com")
	q, err = env.App.Queries().OIDCSettings(ctx, other.ID)
	if err != nil || q.Set || q.AccessTokenLifetime != 12*time.Hour {
		t.Errorf("other instance %+v %v", q, err)
	}
}
