package command_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/query"
)

// givenProject is project id of org with one OIDC app (app1, client
// cid1, auth method basic) and one API app (app2, client cid2).
func givenProject(id, org string) eventstore.Append {
	return eventstore.Append{
		Aggregates: []eventstore.AggregateAppend{agg(events.AggProject, id, org,
			eventstore.PendingEvent{Type: events.ProjectAdded, Payload: events.ProjectPayload{Name: "P " + id}},
			eventstore.PendingEvent{Type: events.AppAdded, Payload: events.AppPayload{AppID: "app1", Name: "web"}},
			eventstore.PendingEvent{Type: events.OIDCConfigAdded, Payload: events.OIDCConfigAddedPayload{AppID: "app1",
				ClientID: "cid1", HashedSecret: "$argon2id$x", OIDCConfig: webConfig()}},
			eventstore.PendingEvent{Type: events.AppAdded, Payload: events.AppPayload{AppID: "app2", Name: "api"}},
			eventstore.PendingEvent{Type: events.APIConfigAdded, Payload: events.APIConfigAddedPayload{AppID: "app2", ClientID: "cid2"}},
		)},
		Constraints: []eventstore.UniqueConstraint{{InstanceID: scInst, Type: "project.name", Value: org + ":P " + id}},
	}
}

func webConfig() events.OIDCConfig {
	return events.OIDCConfig{RedirectURIs: []string{"https://app.example/cb"}, ResponseTypes: []int{0}, GrantTypes: []int{0}}
}

func scUserManager(org string) *authz.Caller {
	return scCaller("um-"+org, org, authz.Membership{OrgID: org, Roles: []string{authz.OrgUserManager}})
}

// TestProjectScenarios: the changes of projects and apps, in ZITADEL's
// check order: permission, request rules, existence in the context org.
func TestProjectScenarios(t *testing.T) {
	given := []eventstore.Append{givenProject("p1", scOrg), givenProject("pB", scOrgB)}
	update := func(id string, p command.Project) func(context.Context, *command.Commands) error {
		return func(ctx context.Context, c *command.Commands) error {
			_, err := c.UpdateProject(ctx, scOrg, id, p)
			return err
		}
	}
	remove := func(id string) func(context.Context, *command.Commands) error {
		return func(ctx context.Context, c *command.Commands) error {
			_, err := c.RemoveProject(ctx, scOrg, id)
			return err
		}
	}
	updateApp := func(project, app string, cfg events.OIDCConfig) func(context.Context, *command.Commands) error {
		return func(ctx context.Context, c *command.Commands) error {
			_, err := c.UpdateOIDCAppConfig(ctx, scOrg, project, app, cfg)
			return err
		}
	}
	removeApp := func(project, app string) func(context.Context, *command.Commands) error {
		return func(ctx context.Context, c *command.Commands) error {
			_, err := c.RemoveApp(ctx, scOrg, project, app)
			return err
		}
	}
	regen := func(project, app string) func(context.Context, *command.Commands) error {
		return func(ctx context.Context, c *command.Commands) error {
			_, _, err := c.RegenerateOIDCClientSecret(ctx, scOrg, project, app)
			return err
		}
	}
	native := webConfig()
	native.ApplicationType, native.AuthMethodType, native.RedirectURIs = 2, 2, []string{"myapp://cb"}
	for _, sc := range []scenario{
		{name: "update: unauthenticated", given: given, when: update("p1", command.Project{Name: "x"}),
			err: wantErrOf(errs.KindUnauthenticated, "AUTH-7fs1e")},
		{name: "update: no membership", given: given, as: scCaller("nobody", scOrg), when: update("p1", command.Project{Name: "x"}),
			err: wantErrOf(errs.KindNotFound, "AUTHZ-cdgFk")},
		{name: "update: user manager", given: given, as: scUserManager(scOrg), when: update("p1", command.Project{Name: "x"}),
			err: wantErrOf(errs.KindPermissionDenied, "AUTH-5mWD2")},
		{name: "update: owner of another org", given: given, as: scOrgOwner(scOrgB), when: update("p1", command.Project{Name: "x"}),
			err: wantErrOf(errs.KindPermissionDenied, "AUTH-5mWD2")},
		{name: "update: empty name", given: given, as: scOrgOwner(scOrg), when: update("p1", command.Project{Name: " "}),
			err: wantMessage("invalid UpdateProjectRequest.Name: value length must be between 1 and 200 runes, inclusive")},
		{name: "update: project of another org", given: given, as: scOrgOwner(scOrg), when: update("pB", command.Project{Name: "x"}),
			err: wantErrOf(errs.KindNotFound, "COMMAND-3M9sd")},
		{name: "update: unknown project", given: given, as: scOrgOwner(scOrg), when: update("nope", command.Project{Name: "x"}),
			err: wantErrOf(errs.KindNotFound, "COMMAND-3M9sd")},
		{name: "update: no change", given: given, as: scOrgOwner(scOrg), when: update("p1", command.Project{Name: "P p1"}),
			err: wantErrOf(errs.KindFailedPrecondition, "COMMAND-2M0fs")},
		{name: "update: rename", given: given, as: scOrgOwner(scOrg), when: update("p1", command.Project{Name: "New", HasProjectCheck: true}),
			then: []thenEvent{{"p1", events.ProjectChanged, events.ProjectPayload{Name: "New", HasProjectCheck: true}}}},
		{name: "remove: of another org", given: given, as: scOrgOwner(scOrg), when: remove("pB"),
			err: wantErrOf(errs.KindNotFound, "COMMAND-3M9sd")},
		{name: "remove", given: given, as: scIAMOwner(), when: remove("p1"), then: []thenEvent{{"p1", events.ProjectRemoved, struct{}{}}}},
		{name: "update app: permission", given: given, as: scUserManager(scOrg), when: updateApp("p1", "app1", native),
			err: wantErrOf(errs.KindPermissionDenied, "AUTH-5mWD2")},
		{name: "update app: clock skew", given: given, as: scOrgOwner(scOrg),
			when: updateApp("p1", "app1", events.OIDCConfig{ClockSkew: 6 * time.Second}),
			err:  wantMessage("invalid UpdateOIDCAppConfigRequest.ClockSkew: value must be inside range [0s, 5s]")},
		{name: "update app: implicit response without its grant", given: given, as: scOrgOwner(scOrg),
			when: updateApp("p1", "app1", events.OIDCConfig{ResponseTypes: []int{1}, GrantTypes: []int{0}}),
			err:  wantErrOf(errs.KindInvalidArgument, "COMMAND-5m9fs")},
		{name: "update app: origin that is not one", given: given, as: scOrgOwner(scOrg),
			when: updateApp("p1", "app1", events.OIDCConfig{AdditionalOrigins: []string{"https://a.example/path"}}),
			err:  wantErrOf(errs.KindInvalidArgument, "COMMAND-5m9fs")},
		{name: "update app: unknown app", given: given, as: scOrgOwner(scOrg), when: updateApp("p1", "nope", native),
			err: wantErrOf(errs.KindNotFound, "COMMAND-2n8uU")},
		{name: "update app: of another org's project", given: given, as: scOrgOwner(scOrg), when: updateApp("pB", "app1", native),
			err: wantErrOf(errs.KindNotFound, "COMMAND-2n8uU")},
		{name: "update app: an API app", given: given, as: scOrgOwner(scOrg), when: updateApp("p1", "app2", native),
			err: wantErrOf(errs.KindInvalidArgument, "COMMAND-GBr34")},
		{name: "update app: no change", given: given, as: scOrgOwner(scOrg), when: updateApp("p1", "app1", webConfig()),
			err: wantErrOf(errs.KindFailedPrecondition, "COMMAND-1m88i")},
		{name: "update app", given: given, as: scOrgOwner(scOrg), when: updateApp("p1", "app1", native),
			then: []thenEvent{{"p1", events.OIDCConfigChanged, events.OIDCConfigChangedPayload{AppID: "app1", OIDCConfig: native}}}},
		{name: "regenerate: API app", given: given, as: scOrgOwner(scOrg), when: regen("p1", "app2"),
			err: wantErrOf(errs.KindInvalidArgument, "COMMAND-Ghrh3")},
		{name: "regenerate: unknown", given: given, as: scOrgOwner(scOrg), when: regen("p1", "x"),
			err: wantErrOf(errs.KindNotFound, "COMMAND-2g66f")},
		{name: "remove app: unknown", given: given, as: scOrgOwner(scOrg), when: removeApp("p1", "x"),
			err: wantErrOf(errs.KindNotFound, "COMMAND-0po9s")},
		{name: "remove app: other org", given: given, as: scOrgOwner(scOrg), when: removeApp("pB", "app1"),
			err: wantErrOf(errs.KindNotFound, "COMMAND-0po9s")},
		{name: "remove app", given: given, as: scOrgOwner(scOrg), when: removeApp("p1", "app2"),
			then: []thenEvent{{"p1", events.AppRemoved, events.AppPayload{AppID: "app2", Name: "api"}}}},
	} {
		sc.run(t)
	}
}

// TestOIDCCompliance: each of ZITADEL's compliance problems, and the
// compliant configs.
func TestOIDCCompliance(t *testing.T) {
	const (
		code, idToken                 = 0, 1
		authCode, implicit, refresh   = 0, 1, 2
		deviceCode                    = 3
		web, userAgent, nativeApp     = 0, 1, 2
		basic, none                   = 0, 2
		notCompliant                  = "Application.OIDC.V1.NotCompliant"
		allCombinations               = "Application.OIDC.V1.NotAllCombinationsAreAllowed"
		httpsCB, httpCB, customCB, lo = "https://a.example/cb", "http://a.example/cb", "myapp://cb", "http://127.0.0.1:9/cb"
	)
	cfg := func(appType, auth int, grants []int, uris ...string) events.OIDCConfig {
		return events.OIDCConfig{ApplicationType: appType, AuthMethodType: auth, GrantTypes: grants, ResponseTypes: []int{code}, RedirectURIs: uris}
	}
	for _, tc := range []struct {
		name string
		cfg  events.OIDCConfig
		want []string // nil: compliant with no notes
		ok   bool     // compliant (with notes)
	}{
		{"web code https", cfg(web, basic, []int{authCode, refresh}, httpsCB), nil, true},
		{"web code http is fine", cfg(web, basic, []int{authCode}, httpCB), nil, true},
		{"no redirect URIs", cfg(web, basic, []int{authCode}), []string{notCompliant, "Application.OIDC.V1.NoRedirectUris"}, false},
		{"device code needs none", cfg(web, none, []int{deviceCode}), nil, true},
		{"refresh without code", cfg(web, basic, []int{refresh, implicit}, httpsCB),
			[]string{notCompliant, "Application.OIDC.V1.GrantType.Refresh.NoAuthCode"}, false},
		{"user agent http", cfg(userAgent, none, []int{authCode}, httpCB),
			[]string{notCompliant, "Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb"}, false},
		{"user agent basic", cfg(userAgent, basic, []int{authCode}, httpsCB),
			[]string{notCompliant, "Application.OIDC.V1.UserAgent.AuthMethodType.NotNone"}, false},
		{"native basic", cfg(nativeApp, basic, []int{authCode}, customCB),
			[]string{notCompliant, "Application.OIDC.V1.Native.AuthMethodType.NotNone"}, false},
		{"native custom and loopback", cfg(nativeApp, none, []int{authCode}, customCB, lo, "http://localhost/cb"), nil, true},
		{"native http not loopback", cfg(nativeApp, none, []int{authCode}, httpCB),
			[]string{notCompliant, "Application.OIDC.V1.Native.RedirectUris.MustBeHttpLocalhost"}, false},
		{"web custom scheme", cfg(web, basic, []int{authCode}, customCB),
			[]string{notCompliant, "Application.OIDC.V1.Code.RedirectUris.CustomOnlyForNative"}, false},
		{"implicit custom scheme", cfg(userAgent, none, []int{implicit}, customCB),
			[]string{notCompliant, "Application.OIDC.V1.Implicit.RedirectUris.CustomNotAllowed"}, false},
		{"implicit http", cfg(userAgent, none, []int{implicit}, httpCB),
			[]string{notCompliant, "Application.OIDC.V1.Implicit.RedirectUris.HttpNotAllowed"}, false},
		{"implicit and code, http web", cfg(web, basic, []int{authCode, implicit}, httpCB), []string{allCombinations}, true},
		{"implicit and code, https", cfg(web, basic, []int{authCode, implicit}, httpsCB), nil, true},
		{"unsupported version", events.OIDCConfig{Version: 1}, []string{"Application.OIDC.UnsupportedVersion"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cfg.ResponseTypes != nil && slices.Contains(tc.cfg.GrantTypes, implicit) && !slices.Contains(tc.cfg.GrantTypes, authCode) {
				tc.cfg.ResponseTypes = []int{idToken}
			}
			got := command.OIDCCompliance(tc.cfg)
			if got.NoneCompliant == tc.ok || !slices.Equal(got.Problems, tc.want) {
				t.Fatalf("compliance = %+v, want noneCompliant %v problems %v", got, !tc.ok, tc.want)
			}
			for _, p := range got.Problems {
				if command.ComplianceText(p) == p {
					t.Errorf("%s has no text", p)
				}
			}
		})
	}
}

// TestAppsAndClientSecrets: adding projects and apps on a real database,
// the client found by ID in one read, and the secret shown once and
// checked by its hash.
func TestAppsAndClientSecrets(t *testing.T) {
	e := newPLEnv(t)
	ctx, other := e.owner(e.org), e.addOrg("other")
	p, err := e.cmds.AddProject(ctx, e.org, command.Project{Name: " Shop ", ProjectRoleCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.cmds.AddProject(ctx, e.org, command.Project{Name: "Shop"}); err == nil {
		t.Fatal("a second project named Shop was added")
	} else {
		plWant(t, err, errs.KindAlreadyExists, "PROJECT-nmTkn")
	}
	// The same name in another org is fine.
	if _, err := e.cmds.AddProject(e.iam(), other, command.Project{Name: "Shop"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.cmds.AddProject(ctx, e.org, command.Project{Name: strings.Repeat("x", 201)})
	plWant(t, err, errs.KindInvalidArgument, "")
	_, err = e.cmds.AddProject(e.owner(other), e.org, command.Project{Name: "y"})
	plWant(t, err, errs.KindPermissionDenied, "AUTH-5mWD2")

	web := command.OIDCApp{Name: "web", Config: events.OIDCConfig{RedirectURIs: []string{"https://shop.example/cb"},
		GrantTypes: []int{command.GrantAuthorizationCode, command.GrantRefreshToken}}}
	added, err := e.cmds.AddOIDCApp(ctx, e.org, p.ID, web)
	if err != nil {
		t.Fatal(err)
	}
	if added.AppID == "" || added.ClientID == "" || len(added.ClientSecret) != 64 || added.Compliance.NoneCompliant {
		t.Fatalf("added = %+v", added)
	}
	spa, err := e.cmds.AddOIDCApp(ctx, e.org, p.ID, command.OIDCApp{Name: "spa", Config: events.OIDCConfig{
		ApplicationType: command.AppTypeUserAgent, AuthMethodType: command.AuthMethodNone, RedirectURIs: []string{"http://spa.example/cb"}}})
	if err != nil {
		t.Fatal(err)
	}
	if spa.ClientSecret != "" || !spa.Compliance.NoneCompliant ||
		!slices.Contains(spa.Compliance.Problems, "Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb") {
		t.Fatalf("spa = %+v", spa)
	}
	api, err := e.cmds.AddAPIApp(ctx, e.org, p.ID, "api", command.APIAuthBasic)
	if err != nil || len(api.ClientSecret) != 64 {
		t.Fatalf("api = %+v, %v", api, err)
	}
	jwtAPI, err := e.cmds.AddAPIApp(ctx, e.org, p.ID, "api2", command.APIAuthPrivateKeyJWT)
	if err != nil || jwtAPI.ClientSecret != "" {
		t.Fatalf("jwt api = %+v, %v", jwtAPI, err)
	}

	// Errors of AddOIDCApp, in order.
	_, err = e.cmds.AddOIDCApp(ctx, other, p.ID, web)
	plWant(t, err, errs.KindPermissionDenied, "AUTH-5mWD2")
	_, err = e.cmds.AddOIDCApp(e.iam(), other, p.ID, web)
	plWant(t, err, errs.KindFailedPrecondition, "COMMA-VCnwD")
	_, err = e.cmds.AddOIDCApp(ctx, e.org, p.ID, command.OIDCApp{Name: "bad", Config: events.OIDCConfig{ResponseTypes: []int{1}}})
	plWant(t, err, errs.KindInvalidArgument, "PROJECT-1n8df")
	_, err = e.cmds.AddOIDCApp(ctx, e.org, p.ID, command.OIDCApp{Name: "", Config: web.Config})
	plWant(t, err, errs.KindInvalidArgument, "")

	// The OP's one read.
	cl, err := e.q.ClientByID(context.Background(), e.inst, added.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if cl.ID != added.AppID || cl.ProjectID != p.ID || cl.Kind != "oidc" || !cl.ProjectRoleCheck ||
		!strings.HasPrefix(cl.SecretHash, "$sha256$") || !slices.Equal(cl.OIDC.GrantTypes, []int{0, 2}) ||
		!slices.Equal(cl.OIDC.ResponseTypes, []int{0}) {
		t.Fatalf("client = %+v", cl)
	}
	aud, err := e.q.ProjectClientIDs(context.Background(), e.inst, p.ID)
	if err != nil || !slices.Equal(aud, []string{added.ClientID, spa.ClientID, api.ClientID, jwtAPI.ClientID}) {
		t.Fatalf("project client IDs = %v, %v", aud, err)
	}
	if _, err := e.q.ClientByID(context.Background(), "other-instance", added.ClientID); err == nil {
		t.Fatal("client found in another instance")
	}

	// The secret: the right one passes, anything else fails alike.
	check := func(clientID, secret string) error {
		return e.cmds.CheckClientSecret(context.Background(), e.inst, clientID, secret)
	}
	if err := check(added.ClientID, added.ClientSecret); err != nil {
		t.Fatalf("right secret: %v", err)
	}
	if err := check(api.ClientID, api.ClientSecret); err != nil {
		t.Fatalf("right API secret: %v", err)
	}
	for _, c := range [][2]string{{added.ClientID, added.ClientSecret + "x"}, {added.ClientID, ""}, {added.ClientID, api.ClientSecret},
		{spa.ClientID, ""}, {spa.ClientID, "x"}, {jwtAPI.ClientID, "x"}, {"unknown", "x"}} {
		plWant(t, check(c[0], c[1]), errs.KindUnauthenticated, "COMMAND-Csec1")
	}
	// Regenerating replaces it.
	secret, _, err := e.cmds.RegenerateOIDCClientSecret(ctx, e.org, p.ID, added.AppID)
	if err != nil || len(secret) != 64 || secret == added.ClientSecret {
		t.Fatalf("regenerated %q, %v", secret, err)
	}
	plWant(t, check(added.ClientID, added.ClientSecret), errs.KindUnauthenticated, "COMMAND-Csec1")
	if err := check(added.ClientID, secret); err != nil {
		t.Fatalf("new secret: %v", err)
	}

	// No event and no read table holds a secret.
	for _, s := range []string{added.ClientSecret, secret, api.ClientSecret} {
		if n := e.count(`SELECT count(*) FROM events WHERE payload::text LIKE '%' || $1 || '%'`, s); n != 0 {
			t.Fatalf("%d events hold a client secret", n)
		}
		if n := e.count(`SELECT count(*) FROM apps WHERE secret_hash = $1 OR config::text LIKE '%' || $1 || '%'`, s); n != 0 {
			t.Fatal("the apps table holds a client secret")
		}
	}

	// Lists and removal.
	list, err := e.q.SearchApps(ctx, e.org, p.ID, queryListAll())
	if err != nil || list.Total != 4 {
		t.Fatalf("apps = %+v, %v", list, err)
	}
	if _, err := e.cmds.RemoveApp(ctx, e.org, p.ID, api.AppID); err != nil {
		t.Fatal(err)
	}
	plWant(t, check(api.ClientID, api.ClientSecret), errs.KindUnauthenticated, "COMMAND-Csec1")
	if _, err := e.cmds.RemoveProject(ctx, e.org, p.ID); err != nil {
		t.Fatal(err)
	}
	plWant(t, check(added.ClientID, secret), errs.KindUnauthenticated, "COMMAND-Csec1")
	if n := e.count(`SELECT count(*) FROM apps WHERE project_id = $1`, p.ID); n != 0 {
		t.Fatalf("%d apps outlive their project", n)
	}
	// The name is free again.
	if _, err := e.cmds.AddProject(ctx, e.org, command.Project{Name: "Shop"}); err != nil {
		t.Fatal(err)
	}
}

func queryListAll() query.ListSearch { return query.ListSearch{Asc: true} }
