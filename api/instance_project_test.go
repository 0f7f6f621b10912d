package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/app/apptest"
)

// instanceProjectApps returns the instance's project ID (query), checks it
// is listed in org orgID as "ZITADEL", and returns its apps' JSON.
func instanceProjectApps(t *testing.T, env *apptest.Env, instanceID, orgID, host string) string {
	t.Helper()
	id, err := env.App.Queries().InstanceProjectID(context.Background(), instanceID)
	if err != nil || id == "" {
		t.Fatalf("InstanceProjectID %q %v", id, err)
	}
	if host != "" {
		return id
	}
	list := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/_search", `{}`, "x-zitadel-orgid", orgID)
	found := false
	for _, p := range list["result"].([]any) {
		p := p.(map[string]any)
		found = found || p["id"] == id && p["name"] == "ZITADEL"
	}
	if !found {
		t.Errorf("project %s not in the org's list %v", id, list)
	}
	apps := env.MustDo(t, http.StatusOK, "POST", "/management/v1/projects/"+id+"/apps/_search", `{}`, "x-zitadel-orgid", orgID)
	raw, _ := json.Marshal(apps)
	return string(raw)
}

// TestInstanceProject: a new instance has its own project "ZITADEL" with
// the API apps and the Console app; an instance written without it gets
// it from the startup step exactly once, even from two concurrent runs.
func TestInstanceProject(t *testing.T) {
	env := apptest.New(t)
	apps := instanceProjectApps(t, env, env.InstanceID, env.DefaultOrgID, "")
	for _, want := range []string{`"Management-API"`, `"Admin-API"`, `"Auth-API"`, `"Console"`, "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT",
		"OIDC_AUTH_METHOD_TYPE_NONE", "OIDC_APP_TYPE_USER_AGENT", "http://localhost/ui/console/auth/callback"} {
		if !strings.Contains(apps, want) {
			t.Errorf("apps lack %s: %s", want, apps)
		}
	}
	// The startup step leaves it alone.
	if n, err := env.App.Commands().EnsureInstanceProjects(context.Background(), false); err != nil || n != 0 {
		t.Errorf("ensure on a new instance: %d %v", n, err)
	}

	// An older instance: its events, without the project.
	ctx := context.Background()
	const oldID, oldOrg = "old-instance-1", "old-org-1"
	_, err := env.App.Store().Append(ctx, eventstore.Append{Aggregates: []eventstore.AggregateAppend{
		{Aggregate: eventstore.AggregateRef{InstanceID: oldID, Type: events.AggInstance, ID: oldID}, ResourceOwner: oldID,
			Events: []eventstore.PendingEvent{{Type: events.InstanceAdded, Payload: events.InstanceAddedPayload{Name: "old"}},
				{Type: events.InstanceDomainAdded, Payload: events.DomainPayload{Domain: "old.example.com"}}}},
		{Aggregate: eventstore.AggregateRef{InstanceID: oldID, Type: events.AggOrg, ID: oldOrg}, ResourceOwner: oldOrg,
			Events: []eventstore.PendingEvent{{Type: events.OrgAdded, Payload: events.OrgAddedPayload{Name: "Default"}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := env.App.Queries().InstanceProjectID(ctx, oldID); id != "" {
		t.Fatalf("old instance has a project already: %s", id)
	}
	var wg sync.WaitGroup
	total := make([]int, 2)
	for i := range total {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := env.App.Commands().EnsureInstanceProjects(ctx, false)
			if err != nil {
				t.Errorf("ensure %d: %v", i, err)
			}
			total[i] = n
		}()
	}
	wg.Wait()
	if total[0]+total[1] != 1 {
		t.Errorf("instances given a project: %v, want 1 in all", total)
	}
	instanceProjectApps(t, env, oldID, oldOrg, "old")
	sets, err := env.App.Store().Read(ctx, eventstore.Filter{InstanceID: oldID, EventTypes: []string{events.InstanceIAMProjectSet}})
	projects, err2 := env.App.Store().Read(ctx, eventstore.Filter{InstanceID: oldID, EventTypes: []string{events.ProjectAdded}})
	if err != nil || err2 != nil || len(sets) != 1 || len(projects) != 1 {
		t.Errorf("old instance: %d project.set, %d projects (%v %v), want 1 each", len(sets), len(projects), err, err2)
	}
	if n, err := env.App.Commands().EnsureInstanceProjects(ctx, false); err != nil || n != 0 {
		t.Errorf("ensure again: %d %v", n, err)
	}
}
