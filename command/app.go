package command

import (
	"context"
	"errors"
	"reflect"
	"strings"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// OIDCApp is AddOIDCApp's input: the app's name and its config.
type OIDCApp struct {
	Name   string
	Config events.OIDCConfig
}

// AddedApp is the answer to adding an app. ClientSecret is the plaintext,
// shown this once (only for auth methods that use one); only its hash is
// stored. Compliance is set for OIDC apps.
type AddedApp struct {
	Details
	AppID        string
	ClientID     string
	ClientSecret string
	Compliance   Compliance
}

// AddOIDCApp adds an OIDC app to project projectID of orgID. The client ID
// is a new numeric ID (ZITADEL's current form). For the auth methods basic
// and post a client secret is generated; it is returned once and stored
// only as its argon2id hash. Compliance problems are reported, never
// refused.
//
// Errors: Unauthenticated; NotFound (AUTHZ-cdgFk) or PermissionDenied
// (AUTH-5mWD2) without project.app.write; InvalidArgument for a project
// ID or name not of 1 to 200 runes or a clock skew outside 0 to 5 s;
// FailedPrecondition (COMMA-VCnwD) when the project is not in orgID;
// InvalidArgument (PROJECT-1n8df) for a config ZITADEL calls invalid (an
// origin that is not one, a response type without its grant type).
func (c *Commands) AddOIDCApp(ctx context.Context, orgID, projectID string, a OIDCApp) (AddedApp, error) {
	cl, err := projectScope(ctx, orgID, "project.app.write")
	if err != nil {
		return AddedApp{}, err
	}
	if err := validApp("AddOIDCAppRequest", projectID, &a.Name); err != nil {
		return AddedApp{}, err
	}
	if err := validClockSkew("AddOIDCAppRequest", a.Config); err != nil {
		return AddedApp{}, err
	}
	cfg := a.Config
	oidcDefaults(&cfg)
	var plain, hash string
	if OIDCNeedsSecret(cfg.AuthMethodType) {
		if plain, hash, err = newClientSecret(); err != nil {
			return AddedApp{}, err
		}
	}
	out, err := c.addApp(ctx, cl.InstanceID, orgID, projectID, a.Name, func(appID, clientID string) (eventstore.PendingEvent, error) {
		if !oidcValid(cfg) {
			return eventstore.PendingEvent{}, errs.InvalidArgument("PROJECT-1n8df", "Errors.Project.App.Invalid")
		}
		return eventstore.PendingEvent{Type: events.OIDCConfigAdded, Payload: events.OIDCConfigAddedPayload{
			AppID: appID, ClientID: clientID, HashedSecret: hash, OIDCConfig: cfg}}, nil
	})
	if err != nil {
		return AddedApp{}, err
	}
	out.ClientSecret, out.Compliance = plain, OIDCCompliance(cfg)
	return out, nil
}

// AddAPIApp adds an API app (authMethod APIAuthBasic, with a secret shown
// once, or APIAuthPrivateKeyJWT) to project projectID of orgID.
//
// Errors: as AddOIDCApp's, for AddAPIAppRequest; InvalidArgument for an
// auth method that is not defined.
func (c *Commands) AddAPIApp(ctx context.Context, orgID, projectID, name string, authMethod int) (AddedApp, error) {
	cl, err := projectScope(ctx, orgID, "project.app.write")
	if err != nil {
		return AddedApp{}, err
	}
	if err := validApp("AddAPIAppRequest", projectID, &name); err != nil {
		return AddedApp{}, err
	}
	if authMethod != APIAuthBasic && authMethod != APIAuthPrivateKeyJWT {
		return AddedApp{}, errs.InvalidArgument("", "invalid AddAPIAppRequest.AuthMethodType: value must be one of the defined enum values")
	}
	var plain, hash string
	if authMethod == APIAuthBasic {
		if plain, hash, err = newClientSecret(); err != nil {
			return AddedApp{}, err
		}
	}
	out, err := c.addApp(ctx, cl.InstanceID, orgID, projectID, name, func(appID, clientID string) (eventstore.PendingEvent, error) {
		return eventstore.PendingEvent{Type: events.APIConfigAdded, Payload: events.APIConfigAddedPayload{
			AppID: appID, ClientID: clientID, HashedSecret: hash, AuthMethodType: authMethod}}, nil
	})
	if err != nil {
		return AddedApp{}, err
	}
	out.ClientSecret = plain
	return out, nil
}

func validApp(msg, projectID string, name *string) error {
	if err := validLen(msg+".ProjectId", projectID, 1, 200); err != nil {
		return err
	}
	*name = strings.TrimSpace(*name)
	return validLen(msg+".Name", *name, 1, 200)
}

// validClockSkew is the request's rule on clock_skew (0 to 5 s).
func validClockSkew(msg string, cfg events.OIDCConfig) error {
	if cfg.ClockSkew < 0 || cfg.ClockSkew > maxClockSkew {
		return errs.InvalidArgument("", "invalid "+msg+".ClockSkew: value must be inside range [0s, 5s]")
	}
	return nil
}

// addApp appends project.application.added and the config event that
// config builds for the new app and client IDs, on project projectID of
// orgID, which must exist (FailedPrecondition COMMA-VCnwD, as ZITADEL).
func (c *Commands) addApp(ctx context.Context, instanceID, orgID, projectID, name string,
	config func(appID, clientID string) (eventstore.PendingEvent, error)) (AddedApp, error) {
	appID, err := c.ids.Next()
	if err != nil {
		return AddedApp{}, errs.Internal("COMMAND-AppI1", err)
	}
	clientID, err := c.ids.Next()
	if err != nil {
		return AddedApp{}, errs.Internal("COMMAND-AppI2", err)
	}
	m, evs, err := executeOn(ctx, c, c.loadProject, instanceID, projectID, func(ctx context.Context, m *projectModel) (eventstore.Append, error) {
		if !m.exists || m.resourceOwner != orgID {
			return eventstore.Append{}, errs.FailedPrecondition("COMMA-VCnwD", "Errors.Project.NotFound")
		}
		cfg, err := config(appID, clientID)
		if err != nil {
			return eventstore.Append{}, err
		}
		return m.append(eventstore.PendingEvent{Type: events.AppAdded, Payload: events.AppPayload{AppID: appID, Name: name}}, cfg), nil
	})
	if err != nil {
		return AddedApp{}, err
	}
	d := aggregateDetails(evs, m.ref, m.created)
	d.ID = appID
	return AddedApp{Details: d, AppID: appID, ClientID: clientID}, nil
}

// existingApp returns app appID of the project, or NotFound notFoundID.
func (m *projectModel) existingApp(orgID, appID, notFoundID string) (*appModel, error) {
	if !m.exists || m.resourceOwner != orgID {
		return nil, errs.NotFound(notFoundID, "Errors.Project.App.NotExisting")
	}
	a := m.apps[appID]
	if a == nil {
		return nil, errs.NotFound(notFoundID, "Errors.Project.App.NotExisting")
	}
	return a, nil
}

// UpdateOIDCAppConfig replaces the config of OIDC app appID of project
// projectID of orgID. The client secret is kept.
//
// Errors: Unauthenticated; the v1 permission errors without
// project.app.write; InvalidArgument for IDs not of 1 to 200 runes or a
// clock skew out of range; InvalidArgument (COMMAND-5m9fs) for an invalid
// config; NotFound (COMMAND-2n8uU) for an app that is not there;
// InvalidArgument (COMMAND-GBr34) for an API app; FailedPrecondition
// (COMMAND-1m88i) when nothing changes.
func (c *Commands) UpdateOIDCAppConfig(ctx context.Context, orgID, projectID, appID string, cfg events.OIDCConfig) (AddedApp, error) {
	cl, err := projectScope(ctx, orgID, "project.app.write")
	if err != nil {
		return AddedApp{}, err
	}
	if err := validLen("UpdateOIDCAppConfigRequest.ProjectId", projectID, 1, 200); err != nil {
		return AddedApp{}, err
	}
	if err := validLen("UpdateOIDCAppConfigRequest.AppId", appID, 1, 200); err != nil {
		return AddedApp{}, err
	}
	if err := validClockSkew("UpdateOIDCAppConfigRequest", cfg); err != nil {
		return AddedApp{}, err
	}
	oidcDefaults(&cfg)
	if !oidcValid(cfg) {
		return AddedApp{}, errs.InvalidArgument("COMMAND-5m9fs", "Errors.Project.App.OIDCConfigInvalid")
	}
	m, evs, err := executeOn(ctx, c, c.loadProject, cl.InstanceID, projectID, func(ctx context.Context, m *projectModel) (eventstore.Append, error) {
		a, err := m.existingApp(orgID, appID, "COMMAND-2n8uU")
		if err != nil {
			return eventstore.Append{}, err
		}
		if a.kind != appKindOIDC {
			return eventstore.Append{}, errs.InvalidArgument("COMMAND-GBr34", "Errors.Project.App.IsNotOIDC")
		}
		// The version is not part of the update request: it stays.
		cfg.Version = a.oidc.Version
		if reflect.DeepEqual(normalList(a.oidc), normalList(cfg)) {
			return eventstore.Append{}, errs.FailedPrecondition("COMMAND-1m88i", "Errors.NoChangesFound")
		}
		return m.append(eventstore.PendingEvent{Type: events.OIDCConfigChanged,
			Payload: events.OIDCConfigChangedPayload{AppID: appID, OIDCConfig: cfg}}), nil
	})
	if err != nil {
		return AddedApp{}, err
	}
	d := aggregateDetails(evs, m.ref, m.created)
	return AddedApp{Details: d, AppID: appID, Compliance: OIDCCompliance(cfg)}, nil
}

// normalList makes empty and nil lists equal, as the stored JSON does.
func normalList(cfg events.OIDCConfig) events.OIDCConfig {
	for _, l := range []*[]string{&cfg.RedirectURIs, &cfg.PostLogoutRedirectURIs, &cfg.AdditionalOrigins} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return cfg
}

// RegenerateOIDCClientSecret gives OIDC app appID a new client secret,
// returned once; the old one stops working.
//
// Errors: Unauthenticated; the v1 permission errors without
// project.app.write; NotFound (COMMAND-2g66f); InvalidArgument
// (COMMAND-Ghrh3) for an API app.
func (c *Commands) RegenerateOIDCClientSecret(ctx context.Context, orgID, projectID, appID string) (string, Details, error) {
	cl, err := projectScope(ctx, orgID, "project.app.write")
	if err != nil {
		return "", Details{}, err
	}
	plain, hash, err := newClientSecret()
	if err != nil {
		return "", Details{}, err
	}
	m, evs, err := executeOn(ctx, c, c.loadProject, cl.InstanceID, projectID, func(ctx context.Context, m *projectModel) (eventstore.Append, error) {
		a, err := m.existingApp(orgID, appID, "COMMAND-2g66f")
		if err != nil {
			return eventstore.Append{}, err
		}
		if a.kind != appKindOIDC {
			return eventstore.Append{}, errs.InvalidArgument("COMMAND-Ghrh3", "Errors.Project.App.IsNotOIDC")
		}
		return m.append(eventstore.PendingEvent{Type: events.OIDCConfigSecretChanged,
			Payload: events.SecretChangedPayload{AppID: appID, HashedSecret: hash}}), nil
	})
	if err != nil {
		return "", Details{}, err
	}
	return plain, aggregateDetails(evs, m.ref, m.created), nil
}

// RemoveApp removes app appID of project projectID of orgID.
//
// Errors: Unauthenticated; the v1 permission errors without
// project.app.delete; NotFound (COMMAND-0po9s).
func (c *Commands) RemoveApp(ctx context.Context, orgID, projectID, appID string) (Details, error) {
	cl, err := projectScope(ctx, orgID, "project.app.delete")
	if err != nil {
		return Details{}, err
	}
	m, evs, err := executeOn(ctx, c, c.loadProject, cl.InstanceID, projectID, func(ctx context.Context, m *projectModel) (eventstore.Append, error) {
		a, err := m.existingApp(orgID, appID, "COMMAND-0po9s")
		if err != nil {
			return eventstore.Append{}, err
		}
		return m.append(eventstore.PendingEvent{Type: events.AppRemoved, Payload: events.AppPayload{AppID: appID, Name: a.name}}), nil
	})
	if err != nil {
		return Details{}, err
	}
	return aggregateDetails(evs, m.ref, m.created), nil
}

// ErrClientSecret is the error of a client secret that does not match (or
// of a client that has none): the OP answers it as invalid_client.
var ErrClientSecret = errs.Unauthenticated("COMMAND-Csec1", "Errors.Project.App.ClientSecretInvalid")

// CheckClientSecret checks secret against the stored hash of the client
// clientID of instanceID, for the OP's client authentication. The read
// tables name the app; its project's events are the authority. It checks no
// caller: the client is the caller.
//
// Errors: Unauthenticated ErrClientSecret for an unknown client, a removed
// app or project, a client without a secret or a wrong secret (one answer
// for all, so the check tells nothing about which); Internal on store
// failure.
func (c *Commands) CheckClientSecret(ctx context.Context, instanceID, clientID, secret string) error {
	if c.clients == nil {
		return errs.Internal("COMMAND-Csec0", errors.New("no client index configured (command.Deps.Clients)"))
	}
	projectID, appID, ok, err := c.clients.AppOfClient(ctx, instanceID, clientID)
	if err != nil {
		return errs.Internal("COMMAND-Csec2", err)
	}
	if !ok || secret == "" {
		return ErrClientSecret
	}
	m, err := c.loadProject(ctx, instanceID, projectID)
	if err != nil {
		return err
	}
	a := m.apps[appID]
	if !m.exists || a == nil || a.clientID != clientID || a.hashedSecret == "" || !verifySecret(a.hashedSecret, secret) {
		return ErrClientSecret
	}
	return nil
}
