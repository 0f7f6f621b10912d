package command

import (
	"context"
	"errors"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// The instance's own API project, as ZITADEL's setupMinimalInterfaces
// creates it: the project "ZITADEL" in the instance's first org with the
// API apps of its APIs (private_key_jwt) and the OIDC app "Console".
const (
	InstanceProjectName = "ZITADEL"
	consoleCallbackPath = "/ui/console/auth/callback"
	consoleSignedOut    = "/ui/console/signedout"
	instanceProjectIDs  = 9 // project, then app and client ID of each of 4 apps
)

var instanceAPIApps = []string{"Management-API", "Admin-API", "Auth-API"}

// instanceProject returns the append of the project (ids from newIDs) in
// orgID, and the instance event that records it. origin is the instance's
// external origin (the console's redirect URIs); secure false puts the
// console in dev mode, as ZITADEL does for an insecure origin.
func instanceProject(instanceID, orgID, origin string, secure bool, newIDs []string) (eventstore.AggregateAppend, eventstore.PendingEvent) {
	projectID := newIDs[0]
	evs := []eventstore.PendingEvent{{Type: events.ProjectAdded, Payload: events.ProjectPayload{Name: InstanceProjectName}}}
	for i, name := range instanceAPIApps {
		appID, clientID := newIDs[1+2*i], newIDs[2+2*i]
		evs = append(evs, eventstore.PendingEvent{Type: events.AppAdded, Payload: events.AppPayload{AppID: appID, Name: name}},
			eventstore.PendingEvent{Type: events.APIConfigAdded, Payload: events.APIConfigAddedPayload{
				AppID: appID, ClientID: clientID, AuthMethodType: APIAuthPrivateKeyJWT}})
	}
	appID, clientID := newIDs[7], newIDs[8]
	evs = append(evs, eventstore.PendingEvent{Type: events.AppAdded, Payload: events.AppPayload{AppID: appID, Name: "Console"}},
		eventstore.PendingEvent{Type: events.OIDCConfigAdded, Payload: events.OIDCConfigAddedPayload{AppID: appID, ClientID: clientID,
			OIDCConfig: events.OIDCConfig{RedirectURIs: []string{origin + consoleCallbackPath}, ResponseTypes: []int{ResponseTypeCode},
				GrantTypes: []int{GrantAuthorizationCode}, ApplicationType: AppTypeUserAgent, AuthMethodType: AuthMethodNone,
				PostLogoutRedirectURIs: []string{origin + consoleSignedOut}, DevMode: !secure}}})
	return eventstore.AggregateAppend{
		Aggregate:     eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggProject, ID: projectID},
		ResourceOwner: orgID, Events: evs,
	}, eventstore.PendingEvent{Type: events.InstanceIAMProjectSet, Payload: events.IAMProjectSetPayload{IAMProjectID: projectID}}
}

func instanceOrigin(domain string, secure bool) string {
	if secure {
		return "https://" + domain
	}
	return "http://" + domain
}

func (c *Commands) nextIDs(n int, errID string) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		id, err := c.ids.Next()
		if err != nil {
			return nil, errs.Internal(errID, err)
		}
		out[i] = id
	}
	return out, nil
}

type instanceProjectModel struct {
	aggregate
	exists    bool
	projectID string
	domain    string // the first
}

func (c *Commands) loadInstanceProject(ctx context.Context, instanceID, _ string) (*instanceProjectModel, error) {
	m := &instanceProjectModel{aggregate: aggregate{ref: instanceRef(instanceID)}}
	err := c.load(ctx, m, []string{events.InstanceAdded, events.InstanceDomainAdded, events.InstanceIAMProjectSet},
		loadErrs{read: "COMMAND-IPr01", reduce: "COMMAND-IPr02"})
	return m, err
}

func (m *instanceProjectModel) reduce(e *eventstore.Event) error {
	switch e.Type {
	case events.InstanceAdded:
		m.exists = true
	case events.InstanceDomainAdded:
		var p events.DomainPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		if m.domain == "" {
			m.domain = p.Domain
		}
	case events.InstanceIAMProjectSet:
		var p events.IAMProjectSetPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.projectID = p.IAMProjectID
	}
	return nil
}

// EnsureInstanceProjects gives every instance that has no own API project
// (one set up before idledger created it) the project, as SetUpInstance
// does, in the instance's first org. It is the startup step of `serve`:
// idempotent, and race-safe, since each append expects the instance's
// head, so of two servers starting together one writes and the other, on
// its retry, finds the project set. It runs without a caller and returns
// the number of instances it gave a project.
//
// A first org that has a project "ZITADEL" of its own already keeps it:
// the instance's project is then added without claiming the name.
func (c *Commands) EnsureInstanceProjects(ctx context.Context, secure bool) (int, error) {
	added, err := c.store.Read(ctx, eventstore.Filter{EventTypes: []string{events.InstanceAdded}})
	if err != nil {
		return 0, errs.Internal("COMMAND-IPr03", err)
	}
	n := 0
	for _, inst := range added {
		ok, err := c.ensureInstanceProject(ctx, inst.AggregateID, secure, true)
		if errors.Is(err, &errs.Error{Kind: errs.KindAlreadyExists, ID: "PROJECT-nmTkn"}) {
			ok, err = c.ensureInstanceProject(ctx, inst.AggregateID, secure, false)
		}
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

func (c *Commands) ensureInstanceProject(ctx context.Context, instanceID string, secure, claimName bool) (bool, error) {
	newIDs, err := c.nextIDs(instanceProjectIDs, "COMMAND-IPr04")
	if err != nil {
		return false, err
	}
	wrote := false
	_, _, err = executeOn(ctx, c, c.loadInstanceProject, instanceID, "", func(ctx context.Context, m *instanceProjectModel) (eventstore.Append, error) {
		wrote = false
		if !m.exists || m.projectID != "" {
			return eventstore.Append{}, eventstore.ErrNothingToDo
		}
		orgs, err := c.store.Read(ctx, eventstore.Filter{InstanceID: instanceID, EventTypes: []string{events.OrgAdded}, Limit: 1})
		if err != nil {
			return eventstore.Append{}, errs.Internal("COMMAND-IPr05", err)
		}
		if len(orgs) == 0 {
			return eventstore.Append{}, eventstore.ErrNothingToDo
		}
		orgID := orgs[0].AggregateID
		proj, set := instanceProject(instanceID, orgID, instanceOrigin(m.domain, secure), secure, newIDs)
		a := eventstore.Append{Aggregates: []eventstore.AggregateAppend{
			{Aggregate: m.ref, ResourceOwner: instanceID, Expected: m.head, Events: []eventstore.PendingEvent{set}}, proj}}
		if claimName {
			a.Constraints = []eventstore.UniqueConstraint{projectName(instanceID, orgID, InstanceProjectName)}
		}
		wrote = true
		return a, nil
	})
	return wrote && err == nil, err
}
