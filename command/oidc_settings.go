package command

import (
	"context"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// OIDCSettings is an instance's token lifetimes (admin API
// AddOIDCSettings / UpdateOIDCSettings).
type OIDCSettings struct {
	AccessTokenLifetime        time.Duration
	IDTokenLifetime            time.Duration
	RefreshTokenIdleExpiration time.Duration
	RefreshTokenExpiration     time.Duration
}

func (s OIDCSettings) valid() bool {
	return s.AccessTokenLifetime > 0 && s.IDTokenLifetime > 0 && s.RefreshTokenIdleExpiration > 0 && s.RefreshTokenExpiration > 0
}

type oidcSettingsModel struct {
	aggregate
	exists   bool
	settings OIDCSettings
}

var oidcSettingsTypes = []string{events.InstanceOIDCSettingsAdded, events.InstanceOIDCSettingsChanged}

func (c *Commands) loadOIDCSettings(ctx context.Context, instanceID, _ string) (*oidcSettingsModel, error) {
	m := &oidcSettingsModel{aggregate: aggregate{ref: instanceRef(instanceID)}}
	if err := c.load(ctx, m, oidcSettingsTypes, loadErrs{read: "COMMAND-OIs01", reduce: "COMMAND-OIs02"}); err != nil {
		return nil, err
	}
	return m, nil
}

// lifetimes are the instance's token lifetimes in force: its own, or
// ZITADEL's defaults until it sets them.
func (m *oidcSettingsModel) lifetimes() OIDCSettings {
	if !m.exists {
		return OIDCSettings{AccessTokenLifetime: events.DefaultAccessTokenLifetime, IDTokenLifetime: events.DefaultIDTokenLifetime,
			RefreshTokenIdleExpiration: events.DefaultRefreshTokenIdleExpiration, RefreshTokenExpiration: events.DefaultRefreshTokenExpiration}
	}
	return m.settings
}

func (m *oidcSettingsModel) reduce(e *eventstore.Event) error {
	var p events.OIDCSettingsPayload
	if err := e.Unmarshal(&p); err != nil {
		return err
	}
	m.exists = true
	for _, f := range []struct {
		v   *time.Duration
		dst *time.Duration
	}{{p.AccessTokenLifetime, &m.settings.AccessTokenLifetime}, {p.IDTokenLifetime, &m.settings.IDTokenLifetime},
		{p.RefreshTokenIdleExpiration, &m.settings.RefreshTokenIdleExpiration}, {p.RefreshTokenExpiration, &m.settings.RefreshTokenExpiration}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	return nil
}

// AddOIDCSettings sets the caller's instance's token lifetimes the first
// time (iam.write).
//
// Errors: Unauthenticated; NotFound AUTHZ-cdgFk / PermissionDenied
// AUTH-5mWD2; InvalidArgument INST-10s82j when a lifetime is zero or
// negative; AlreadyExists INST-0aaj1o when the instance has its own
// settings already.
func (c *Commands) AddOIDCSettings(ctx context.Context, s OIDCSettings) (*Details, error) {
	return c.setOIDCSettings(ctx, s, true)
}

// UpdateOIDCSettings changes the caller's instance's token lifetimes
// (iam.write).
//
// Errors: as AddOIDCSettings, with InvalidArgument INST-10sxks, NotFound
// INST-90s32oj when none were added, FailedPrecondition COMMAND-0pk2nu
// when nothing changes.
func (c *Commands) UpdateOIDCSettings(ctx context.Context, s OIDCSettings) (*Details, error) {
	return c.setOIDCSettings(ctx, s, false)
}

func (c *Commands) setOIDCSettings(ctx context.Context, s OIDCSettings, add bool) (*Details, error) {
	cl, err := authorizeIdentity(ctx, true, "iam.write", "")
	if err != nil {
		return nil, err
	}
	if !s.valid() {
		id := "INST-10sxks"
		if add {
			id = "INST-10s82j"
		}
		return nil, errs.InvalidArgument(id, "Errors.Invalid.Argument")
	}
	m, evs, err := executeOn(ctx, c, c.loadOIDCSettings, cl.InstanceID, "", func(_ context.Context, m *oidcSettingsModel) (eventstore.Append, error) {
		var p events.OIDCSettingsPayload
		typ := events.InstanceOIDCSettingsAdded
		switch {
		case add && m.exists:
			return eventstore.Append{}, errs.AlreadyExists("INST-0aaj1o", "Errors.OIDCSettings.AlreadyExists")
		case add:
			p = events.OIDCSettingsPayload{AccessTokenLifetime: &s.AccessTokenLifetime, IDTokenLifetime: &s.IDTokenLifetime,
				RefreshTokenIdleExpiration: &s.RefreshTokenIdleExpiration, RefreshTokenExpiration: &s.RefreshTokenExpiration}
		case !m.exists:
			return eventstore.Append{}, errs.NotFound("INST-90s32oj", "Errors.OIDCSettings.NotFound")
		default:
			typ = events.InstanceOIDCSettingsChanged
			changed := func(old, v time.Duration) *time.Duration {
				if old == v {
					return nil
				}
				return &v
			}
			o := m.settings
			p = events.OIDCSettingsPayload{AccessTokenLifetime: changed(o.AccessTokenLifetime, s.AccessTokenLifetime),
				IDTokenLifetime:            changed(o.IDTokenLifetime, s.IDTokenLifetime),
				RefreshTokenIdleExpiration: changed(o.RefreshTokenIdleExpiration, s.RefreshTokenIdleExpiration),
				RefreshTokenExpiration:     changed(o.RefreshTokenExpiration, s.RefreshTokenExpiration)}
			if o == s {
				return eventstore.Append{}, errs.FailedPrecondition("COMMAND-0pk2nu", "Errors.NoChangesFound")
			}
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
			Aggregate: m.ref, ResourceOwner: cl.InstanceID, Expected: m.head,
			Events: []eventstore.PendingEvent{{Type: typ, Payload: p}},
		}}}, nil
	})
	if err != nil {
		return nil, err
	}
	return detailsFromEvents(evs, m.ref, m.created), nil
}
