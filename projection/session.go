package projection

import (
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// Sessions returns the projection of v2 sessions, inline: a session
// created by one request is read by the next (GetSession, the login UI).
func Sessions() []*Projection {
	return []*Projection{{
		Name:       "sessions",
		Tables:     []string{"sessions"},
		Updated:    []string{"sessions"},
		EventTypes: []string{events.AggSession + "."},
		Reduce:     reduceSession,
	}}
}

var (
	sessionInsert = Insert("sessions", "instance_id", "id", "creator", "user_agent", "sequence", "creation_date", "change_date")
	sessionDelete = Delete("sessions", "instance_id", "id")
	sessionTouch  = Update("sessions", []string{"sequence", "change_date"}, "instance_id", "id")
	sessionUser   = Update("sessions", []string{"user_id", "user_resource_owner", "user_checked_at", "sequence", "change_date"}, "instance_id", "id")
	sessionPW     = Update("sessions", []string{"password_checked_at", "sequence", "change_date"}, "instance_id", "id")
	sessionIntent = Update("sessions", []string{"intent_checked_at", "sequence", "change_date"}, "instance_id", "id")
	sessionToken  = Update("sessions", []string{"token_hash", "sequence", "change_date"}, "instance_id", "id")
	sessionExpiry = Update("sessions", []string{"expiration", "sequence", "change_date"}, "instance_id", "id")
	sessionMeta   = Update("sessions", []string{"metadata", "sequence", "change_date"}, "instance_id", "id")
)

func reduceSession(e *eventstore.Event, t Tables) ([]Statement, error) {
	seq, at, inst, id := int64(e.Sequence), e.CreatedAt, e.InstanceID, e.AggregateID
	switch e.Type {
	case events.SessionAdded:
		var p events.SessionAddedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		var ua any
		if p.UserAgent != nil {
			ua = jsonText(p.UserAgent)
		}
		return []Statement{sessionInsert.Stmt(t, inst, id, e.Creator, ua, seq, at, at)}, nil
	case events.SessionUserChecked:
		var p events.SessionUserCheckedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{sessionUser.Stmt(t, p.UserID, p.UserResourceOwner, p.CheckedAt, seq, at, inst, id)}, nil
	case events.SessionPasswordChecked, events.SessionIntentChecked:
		var p events.SessionCheckedPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		sh := sessionPW
		if e.Type == events.SessionIntentChecked {
			sh = sessionIntent
		}
		return []Statement{sh.Stmt(t, p.CheckedAt, seq, at, inst, id)}, nil
	case events.SessionTokenSet:
		var p events.SessionTokenSetPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{sessionToken.Stmt(t, p.TokenHash, seq, at, inst, id)}, nil
	case events.SessionLifetimeSet:
		var p events.SessionLifetimeSetPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		return []Statement{sessionExpiry.Stmt(t, at.Add(p.Lifetime), seq, at, inst, id)}, nil
	case events.SessionMetadataSet:
		var p events.SessionMetadataSetPayload
		if err := e.Unmarshal(&p); err != nil {
			return nil, err
		}
		md := p.Metadata
		if md == nil {
			md = map[string][]byte{}
		}
		return []Statement{sessionMeta.Stmt(t, jsonText(md), seq, at, inst, id)}, nil
	case events.SessionTerminated:
		return []Statement{sessionDelete.Stmt(t, inst, id)}, nil
	}
	return []Statement{sessionTouch.Stmt(t, seq, at, inst, id)}, nil
}
