package command

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// Project is the settings of a project (AddProject, UpdateProject).
type Project struct {
	Name                   string
	ProjectRoleAssertion   bool
	ProjectRoleCheck       bool
	HasProjectCheck        bool
	PrivateLabelingSetting int // 0 to 2
}

// ClientIndex finds, in the read tables, the app of a client ID; the
// secret check confirms it against the project's own events.
type ClientIndex interface {
	AppOfClient(ctx context.Context, instanceID, clientID string) (projectID, appID string, ok bool, err error)
}

// projectNameType is the unique constraint of a project name within its
// org (ZITADEL's project_names).
const projectNameType = "project.name"

func projectName(instanceID, orgID, name string) eventstore.UniqueConstraint {
	return eventstore.UniqueConstraint{InstanceID: instanceID, Type: projectNameType, Value: orgID + ":" + name,
		ErrorID: "PROJECT-nmTkn", Message: "Errors.Project.AlreadyExists"}
}

// projectScope checks the caller's v1 permission perm on the context org
// orgID, first, as ZITADEL's interceptors do.
func projectScope(ctx context.Context, orgID, perm string) (*authz.Caller, error) {
	cl, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if orgID == "" {
		return nil, errs.InvalidArgument("COMMAND-fmq7bqQX1s", "Errors.ResourceOwnerMissing")
	}
	if err := cl.CheckV1(perm, orgID); err != nil {
		return nil, err
	}
	return cl, nil
}

func (p *Project) validate(msg string) error {
	p.Name = strings.TrimSpace(p.Name)
	if err := validLen(msg+".Name", p.Name, 1, 200); err != nil {
		return err
	}
	if p.PrivateLabelingSetting < 0 || p.PrivateLabelingSetting > 2 {
		return errs.InvalidArgument("", "invalid "+msg+".PrivateLabelingSetting: value must be one of the defined enum values")
	}
	return nil
}

func (p Project) payload() events.ProjectPayload {
	return events.ProjectPayload{Name: p.Name, ProjectRoleAssertion: p.ProjectRoleAssertion, ProjectRoleCheck: p.ProjectRoleCheck,
		HasProjectCheck: p.HasProjectCheck, PrivateLabelingSetting: p.PrivateLabelingSetting}
}

// AddProject creates a project in org orgID (the context org).
//
// Errors: Unauthenticated; NotFound (AUTHZ-cdgFk) or PermissionDenied
// (AUTH-5mWD2) without project.write; InvalidArgument for a name not of 1
// to 200 runes; AlreadyExists (PROJECT-nmTkn) for a name the org already
// has; Internal on store failure.
func (c *Commands) AddProject(ctx context.Context, orgID string, p Project) (Details, error) {
	cl, err := projectScope(ctx, orgID, "project.write")
	if err != nil {
		return Details{}, err
	}
	if err := p.validate("AddProjectRequest"); err != nil {
		return Details{}, err
	}
	id, err := c.ids.Next()
	if err != nil {
		return Details{}, errs.Internal("COMMAND-PrjI1", err)
	}
	ref := eventstore.AggregateRef{InstanceID: cl.InstanceID, Type: events.AggProject, ID: id}
	evs, err := c.execute(ctx, func(ctx context.Context) (eventstore.Append, error) {
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: ref, ResourceOwner: orgID,
			Events: []eventstore.PendingEvent{{Type: events.ProjectAdded, Payload: p.payload()}},
		}}, Constraints: []eventstore.UniqueConstraint{projectName(cl.InstanceID, orgID, p.Name)}}, nil
	})
	if err != nil {
		return Details{}, err
	}
	return aggregateDetails(evs, ref, evs[0].CreatedAt), nil
}

func projectNotFound(id string) func() error {
	return func() error { return errs.NotFound(id, "Errors.Project.NotFound") }
}

// UpdateProject replaces the settings of project id of orgID. An update
// that changes nothing fails as ZITADEL's v1 does.
//
// Errors: as AddProject; NotFound (COMMAND-3M9sd) for a project that is not
// in orgID; FailedPrecondition (COMMAND-2M0fs) when nothing changes.
func (c *Commands) UpdateProject(ctx context.Context, orgID, id string, p Project) (Details, error) {
	cl, err := projectScope(ctx, orgID, "project.write")
	if err != nil {
		return Details{}, err
	}
	if err := validLen("UpdateProjectRequest.Id", id, 1, 200); err != nil {
		return Details{}, err
	}
	if err := p.validate("UpdateProjectRequest"); err != nil {
		return Details{}, err
	}
	m, evs, err := executeOn(ctx, c, c.loadProject, cl.InstanceID, id, func(ctx context.Context, m *projectModel) (eventstore.Append, error) {
		if !m.exists || m.resourceOwner != orgID {
			return eventstore.Append{}, projectNotFound("COMMAND-3M9sd")()
		}
		if m.settings == p.payload() {
			return eventstore.Append{}, errs.FailedPrecondition("COMMAND-2M0fs", "Errors.NoChangesFound")
		}
		a := m.append(eventstore.PendingEvent{Type: events.ProjectChanged, Payload: p.payload()})
		if m.settings.Name != p.Name {
			old := projectName(cl.InstanceID, orgID, m.settings.Name)
			old.Remove = true
			a.Constraints = []eventstore.UniqueConstraint{old, projectName(cl.InstanceID, orgID, p.Name)}
		}
		return a, nil
	})
	if err != nil {
		return Details{}, err
	}
	return aggregateDetails(evs, m.ref, m.created), nil
}

// RemoveProject removes project id of orgID with its apps.
//
// Errors: Unauthenticated; the v1 permission errors without
// project.delete; NotFound (COMMAND-3M9sd).
func (c *Commands) RemoveProject(ctx context.Context, orgID, id string) (Details, error) {
	cl, err := projectScope(ctx, orgID, "project.delete")
	if err != nil {
		return Details{}, err
	}
	m, evs, err := executeOn(ctx, c, c.loadProject, cl.InstanceID, id, func(ctx context.Context, m *projectModel) (eventstore.Append, error) {
		if !m.exists || m.resourceOwner != orgID {
			return eventstore.Append{}, projectNotFound("COMMAND-3M9sd")()
		}
		a := m.append(eventstore.PendingEvent{Type: events.ProjectRemoved})
		name := projectName(cl.InstanceID, orgID, m.settings.Name)
		name.Remove = true
		a.Constraints = []eventstore.UniqueConstraint{name}
		return a, nil
	})
	if err != nil {
		return Details{}, err
	}
	return aggregateDetails(evs, m.ref, m.created), nil
}

// secretAlphabet is ZITADEL's ClientSecret generator: letters and digits.
const secretAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newClientSecret returns a new client secret (64 letters and digits, as
// ZITADEL's default generator) and its digest (hashSecret), the only form
// that is stored.
func newClientSecret() (plain, hash string, err error) {
	b := make([]byte, 64)
	max := big.NewInt(int64(len(secretAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", "", errs.Internal("COMMAND-Sec01", fmt.Errorf("client secret: %w", err))
		}
		b[i] = secretAlphabet[n.Int64()]
	}
	return string(b), hashSecret(string(b)), nil
}

// CanManageProjects checks that the caller holds perm (project.write,
// project.app.write, …) on the context org orgID, as every project command
// does first. A transport calls it before it decodes a request body, so
// that a caller without the permission learns nothing from the body's
// validation: ZITADEL's interceptors check first.
//
// Errors: as AddProject's permission errors.
func (c *Commands) CanManageProjects(ctx context.Context, orgID, perm string) error {
	_, err := projectScope(ctx, orgID, perm)
	return err
}
