package command

import (
	"context"
	"time"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// sessionModel is the write model of a v2 session.
type sessionModel struct {
	aggregate
	exists     bool
	terminated bool
	creator    string
	userID     string
	userOrg    string
	tokenHash  string // hex SHA-256 of the current token
	expiration time.Time
	metadata   map[string][]byte
	// when the factors were last checked (auth requests' auth_time, amr)
	passwordCheckedAt, intentCheckedAt time.Time
}

func (c *Commands) loadSession(ctx context.Context, instanceID, id string) (*sessionModel, error) {
	m := &sessionModel{aggregate: aggregate{ref: eventstore.AggregateRef{InstanceID: instanceID, Type: events.AggSession, ID: id}},
		metadata: map[string][]byte{}}
	if err := c.load(ctx, m, nil, loadErrs{}); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *sessionModel) reduce(e *eventstore.Event) error {
	switch e.Type {
	case events.SessionAdded:
		m.exists, m.creator = true, e.Creator
	case events.SessionUserChecked:
		var p events.SessionUserCheckedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.userID, m.userOrg = p.UserID, p.UserResourceOwner
	case events.SessionTokenSet:
		var p events.SessionTokenSetPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.tokenHash = p.TokenHash
	case events.SessionLifetimeSet:
		var p events.SessionLifetimeSetPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.expiration = e.CreatedAt.Add(p.Lifetime)
	case events.SessionMetadataSet:
		var p events.SessionMetadataSetPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		m.metadata = p.Metadata
		if m.metadata == nil {
			m.metadata = map[string][]byte{}
		}
	case events.SessionPasswordChecked, events.SessionIntentChecked:
		var p events.SessionCheckedPayload
		if err := e.Unmarshal(&p); err != nil {
			return err
		}
		if e.Type == events.SessionPasswordChecked {
			m.passwordCheckedAt = p.CheckedAt
		} else {
			m.intentCheckedAt = p.CheckedAt
		}
	case events.SessionTerminated:
		m.terminated = true
	}
	return nil
}
