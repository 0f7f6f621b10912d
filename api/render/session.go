package render

import (
	"sort"
	"time"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/query"
)

// The v2 session API (zitadel.session.v2): the requests as ZITADEL's JSON
// reads them, the commands and searches they become, and the renderings.
// REST decodes its body into these; RPC decodes its request rendered as
// protojson (gateway.DecodeBody), so both read a request alike.

// SessionChecks is zitadel.session.v2.Checks: the user, password and
// idpIntent checks (the others are not read).
type SessionChecks struct {
	User *struct {
		UserID    string `json:"userId"`
		LoginName string `json:"loginName"`
	} `json:"user"`
	Password *struct {
		Password string `json:"password"`
	} `json:"password"`
	IDPIntent *struct {
		IDPIntentID    string `json:"idpIntentId"`
		IDPIntentToken string `json:"idpIntentToken"`
	} `json:"idpIntent"`
}

// Checks is c as the command's checks; a nil c is none.
func (c *SessionChecks) Checks() command.SessionChecks {
	var out command.SessionChecks
	if c == nil {
		return out
	}
	if u := c.User; u != nil {
		out.User = &command.UserCheck{UserID: u.UserID, LoginName: u.LoginName}
	}
	if p := c.Password; p != nil {
		out.Password = &command.PasswordCheck{Password: p.Password}
	}
	if i := c.IDPIntent; i != nil {
		out.Intent = &command.IntentCheck{ID: i.IDPIntentID, Token: i.IDPIntentToken}
	}
	return out
}

// headerValues is zitadel.session.v2.UserAgent.HeaderValues.
type headerValues struct {
	Values []string `json:"values,omitempty"`
}

// UserAgent is zitadel.session.v2.UserAgent.
type UserAgent struct {
	FingerprintID *string                 `json:"fingerprintId,omitempty"`
	IP            *string                 `json:"ip,omitempty"`
	Description   *string                 `json:"description,omitempty"`
	Header        map[string]headerValues `json:"header,omitempty"`
}

// CreateSessionRequest is zitadel.session.v2.CreateSessionRequest.
type CreateSessionRequest struct {
	Checks    *SessionChecks    `json:"checks"`
	Metadata  map[string][]byte `json:"metadata"`
	UserAgent *UserAgent        `json:"userAgent"`
	Lifetime  *gateway.Duration `json:"lifetime"`
}

func sessionLifetime(d *gateway.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.Std()
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Input is req as the command's input.
func (req *CreateSessionRequest) Input() command.CreateSession {
	in := command.CreateSession{Checks: req.Checks.Checks(), Metadata: req.Metadata, Lifetime: sessionLifetime(req.Lifetime)}
	if ua := req.UserAgent; ua != nil {
		in.UserAgent = &command.UserAgent{FingerprintID: str(ua.FingerprintID), IP: str(ua.IP), Description: str(ua.Description)}
		for k, v := range ua.Header {
			if in.UserAgent.Header == nil {
				in.UserAgent.Header = map[string][]string{}
			}
			in.UserAgent.Header[k] = v.Values
		}
	}
	return in
}

// SessionCreated is zitadel.session.v2.CreateSessionResponse.
type SessionCreated struct {
	Details      gateway.DetailsV2 `json:"details"`
	SessionID    string            `json:"sessionId,omitempty"`
	SessionToken string            `json:"sessionToken,omitempty"`
}

// SessionCreatedOf is the answer to a CreateSession that made s.
func SessionCreatedOf(s *command.SessionChanged) SessionCreated {
	return SessionCreated{gateway.V2(DetailsOf(s.Details)), s.ID, s.Token}
}

// SetSessionRequest is zitadel.session.v2.SetSessionRequest but for the
// session's ID (REST's path parameter).
type SetSessionRequest struct {
	SessionToken string            `json:"sessionToken"`
	Checks       *SessionChecks    `json:"checks"`
	Metadata     map[string][]byte `json:"metadata"`
	Lifetime     *gateway.Duration `json:"lifetime"`
}

// Input is req on session id as the command's input.
func (req *SetSessionRequest) Input(id string) command.SetSession {
	return command.SetSession{SessionID: id, SessionToken: req.SessionToken, Checks: req.Checks.Checks(),
		Metadata: req.Metadata, Lifetime: sessionLifetime(req.Lifetime)}
}

// SessionSet is zitadel.session.v2.SetSessionResponse.
type SessionSet struct {
	Details      gateway.DetailsV2 `json:"details"`
	SessionToken string            `json:"sessionToken,omitempty"`
}

// SessionSetOf is the answer to a SetSession that gave s.
func SessionSetOf(s *command.SessionChanged) SessionSet {
	return SessionSet{gateway.V2(DetailsOf(s.Details)), s.Token}
}

// DeleteSessionRequest is zitadel.session.v2.DeleteSessionRequest but for
// the session's ID.
type DeleteSessionRequest struct {
	SessionToken string `json:"sessionToken"`
}

// ChangedV2Of is the v2 answer to a change or removal that wrote d (its
// sequence, change date and resource owner): DeleteSession, SetPassword.
func ChangedV2Of(d *command.Details) DetailsV2Body {
	return DetailsV2Body{Details: gateway.V2(gateway.ObjectDetails{Sequence: d.Sequence, Changed: d.Changed, ResourceOwner: d.ResourceOwner})}
}

// Session is zitadel.session.v2.Session.
type Session struct {
	ID             string             `json:"id,omitempty"`
	CreationDate   gateway.Timestamp  `json:"creationDate,omitzero"`
	ChangeDate     gateway.Timestamp  `json:"changeDate,omitzero"`
	Sequence       gateway.Uint64     `json:"sequence,omitempty"`
	Factors        *sessionFactors    `json:"factors,omitempty"`
	Metadata       map[string][]byte  `json:"metadata,omitempty"`
	UserAgent      *UserAgent         `json:"userAgent,omitempty"`
	ExpirationDate *gateway.Timestamp `json:"expirationDate,omitempty"`
}

type sessionFactor struct {
	VerifiedAt gateway.Timestamp `json:"verifiedAt,omitzero"`
}

type userFactor struct {
	VerifiedAt     gateway.Timestamp `json:"verifiedAt,omitzero"`
	ID             string            `json:"id,omitempty"`
	LoginName      string            `json:"loginName,omitempty"`
	DisplayName    string            `json:"displayName,omitempty"`
	OrganizationID string            `json:"organizationId,omitempty"`
}

type sessionFactors struct {
	User     *userFactor    `json:"user,omitempty"`
	Password *sessionFactor `json:"password,omitempty"`
	Intent   *sessionFactor `json:"intent,omitempty"`
}

// SessionOf is the rendering of s.
func SessionOf(s *query.Session) Session {
	out := Session{ID: s.ID, CreationDate: gateway.Timestamp(s.Created), ChangeDate: gateway.Timestamp(s.Changed),
		Sequence: gateway.Uint64(s.Sequence), Metadata: s.Metadata}
	if !s.Expiration.IsZero() {
		t := gateway.Timestamp(s.Expiration)
		out.ExpirationDate = &t
	}
	f := &sessionFactors{}
	if s.UserID != "" {
		f.User = &userFactor{gateway.Timestamp(s.UserCheckedAt), s.UserID, s.LoginName, s.DisplayName, s.UserOrgID}
	}
	if !s.PasswordCheckedAt.IsZero() {
		f.Password = &sessionFactor{gateway.Timestamp(s.PasswordCheckedAt)}
	}
	if !s.IntentCheckedAt.IsZero() {
		f.Intent = &sessionFactor{gateway.Timestamp(s.IntentCheckedAt)}
	}
	if f.User != nil || f.Password != nil || f.Intent != nil {
		out.Factors = f
	}
	if ua := s.UserAgent; ua != nil {
		j := &UserAgent{}
		if ua.FingerprintID != "" {
			j.FingerprintID = &ua.FingerprintID
		}
		if ua.IP != "" {
			j.IP = &ua.IP
		}
		if ua.Description != "" {
			j.Description = &ua.Description
		}
		keys := make([]string, 0, len(ua.Header))
		for k := range ua.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if j.Header == nil {
				j.Header = map[string]headerValues{}
			}
			j.Header[k] = headerValues{ua.Header[k]}
		}
		out.UserAgent = j
	}
	return out
}

// SessionBody is zitadel.session.v2.GetSessionResponse.
type SessionBody struct {
	Session Session `json:"session"`
}

// ListSessionsRequest is zitadel.session.v2.ListSessionsRequest: the
// paging and the ids, userId and creator queries.
type ListSessionsRequest struct {
	Query   gateway.ListQuery `json:"query"`
	Queries []struct {
		IDsQuery *struct {
			IDs []string `json:"ids"`
		} `json:"idsQuery"`
		UserIDQuery *struct {
			ID string `json:"id"`
		} `json:"userIdQuery"`
		CreatorQuery *struct {
			ID *string `json:"id"`
		} `json:"creatorQuery"`
	} `json:"queries"`
}

// Search is req as the query's search, or the paging's error.
func (req *ListSessionsRequest) Search() (query.SessionSearch, error) {
	offset, limit, err := req.Query.Page()
	if err != nil {
		return query.SessionSearch{}, err
	}
	s := query.SessionSearch{Offset: offset, Limit: limit, Asc: req.Query.Asc}
	for _, q := range req.Queries {
		switch {
		case q.IDsQuery != nil:
			s.IDs = append(s.IDs, q.IDsQuery.IDs...)
			if len(q.IDsQuery.IDs) == 0 {
				s.IDs = append(s.IDs, "")
			}
		case q.UserIDQuery != nil:
			s.UserID = q.UserIDQuery.ID
		case q.CreatorQuery != nil && q.CreatorQuery.ID != nil:
			s.Creator = *q.CreatorQuery.ID
		}
	}
	return s, nil
}

// SessionList is zitadel.session.v2.ListSessionsResponse.
type SessionList struct {
	Details  gateway.ListDetailsV2 `json:"details"`
	Sessions []Session             `json:"sessions,omitempty"`
}

// SessionListOf is the rendering of list.
func SessionListOf(list *query.SessionList) SessionList {
	out := make([]Session, 0, len(list.Sessions))
	for _, se := range list.Sessions {
		out = append(out, SessionOf(se))
	}
	return SessionList{gateway.ListDetailsV2{TotalResult: gateway.Uint64(list.Total), Timestamp: gateway.Timestamp(list.Timestamp)}, out}
}
