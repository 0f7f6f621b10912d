package api

import (
	"net/http"
	"sort"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/query"
)

// sessionRoutes mounts the v2 session API.
func (a *API) sessionRoutes(r chi.Router) {
	r.Post("/v2/sessions", a.createSession)
	r.Patch("/v2/sessions/{sessionId}", a.setSession)
	r.Get("/v2/sessions/{sessionId}", a.getSession)
	r.Delete("/v2/sessions/{sessionId}", a.deleteSession)
	r.Post("/v2/sessions/search", a.listSessions)
}

type sessionChecksJSON struct {
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

func (c *sessionChecksJSON) checks() command.SessionChecks {
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

type userAgentJSON struct {
	FingerprintID *string `json:"fingerprintId,omitempty"`
	IP            *string `json:"ip,omitempty"`
	Description   *string `json:"description,omitempty"`
	Header        map[string]struct {
		Values []string `json:"values,omitempty"`
	} `json:"header,omitempty"`
}

type createSessionRequest struct {
	Checks    *sessionChecksJSON `json:"checks"`
	Metadata  map[string][]byte  `json:"metadata"`
	UserAgent *userAgentJSON     `json:"userAgent"`
	Lifetime  *gateway.Duration  `json:"lifetime"`
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

func (a *API) createSession(w http.ResponseWriter, r *http.Request) {
	var req createSessionRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	in := command.CreateSession{Checks: req.Checks.checks(), Metadata: req.Metadata, Lifetime: sessionLifetime(req.Lifetime)}
	if ua := req.UserAgent; ua != nil {
		in.UserAgent = &command.UserAgent{FingerprintID: str(ua.FingerprintID), IP: str(ua.IP), Description: str(ua.Description)}
		for k, v := range ua.Header {
			if in.UserAgent.Header == nil {
				in.UserAgent.Header = map[string][]string{}
			}
			in.UserAgent.Header[k] = v.Values
		}
	}
	s, err := a.cmds.CreateSession(r.Context(), in)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusCreated, struct {
		Details      gateway.DetailsV2 `json:"details"`
		SessionID    string            `json:"sessionId,omitempty"`
		SessionToken string            `json:"sessionToken,omitempty"`
	}{gateway.V2(identityDetails(&s.Details)), s.ID, s.Token})
}

func (a *API) setSession(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SessionToken string             `json:"sessionToken"`
		Checks       *sessionChecksJSON `json:"checks"`
		Metadata     map[string][]byte  `json:"metadata"`
		Lifetime     *gateway.Duration  `json:"lifetime"`
	}
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	s, err := a.cmds.SetSession(r.Context(), command.SetSession{SessionID: chi.URLParam(r, "sessionId"),
		SessionToken: req.SessionToken, Checks: req.Checks.checks(), Metadata: req.Metadata, Lifetime: sessionLifetime(req.Lifetime)})
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, struct {
		Details      gateway.DetailsV2 `json:"details"`
		SessionToken string            `json:"sessionToken,omitempty"`
	}{gateway.V2(identityDetails(&s.Details)), s.Token})
}

func (a *API) deleteSession(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SessionToken string `json:"sessionToken"`
	}
	if r.ContentLength != 0 {
		if err := gateway.Decode(r, &req); err != nil {
			gateway.WriteError(w, r, err)
			return
		}
	}
	d, err := a.cmds.DeleteSession(r.Context(), chi.URLParam(r, "sessionId"), req.SessionToken)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, struct {
		Details gateway.DetailsV2 `json:"details"`
	}{gateway.V2(gateway.ObjectDetails{Sequence: d.Sequence, Changed: d.Changed, ResourceOwner: d.ResourceOwner})})
}

// sessionJSON is zitadel.session.v2.Session.
type sessionJSON struct {
	ID             string             `json:"id,omitempty"`
	CreationDate   gateway.Timestamp  `json:"creationDate,omitzero"`
	ChangeDate     gateway.Timestamp  `json:"changeDate,omitzero"`
	Sequence       gateway.Uint64     `json:"sequence,omitempty"`
	Factors        *sessionFactors    `json:"factors,omitempty"`
	Metadata       map[string][]byte  `json:"metadata,omitempty"`
	UserAgent      *userAgentJSON     `json:"userAgent,omitempty"`
	ExpirationDate *gateway.Timestamp `json:"expirationDate,omitempty"`
}

type sessionFactor struct {
	VerifiedAt gateway.Timestamp `json:"verifiedAt,omitzero"`
}

type sessionFactors struct {
	User *struct {
		VerifiedAt     gateway.Timestamp `json:"verifiedAt,omitzero"`
		ID             string            `json:"id,omitempty"`
		LoginName      string            `json:"loginName,omitempty"`
		DisplayName    string            `json:"displayName,omitempty"`
		OrganizationID string            `json:"organizationId,omitempty"`
	} `json:"user,omitempty"`
	Password *sessionFactor `json:"password,omitempty"`
	Intent   *sessionFactor `json:"intent,omitempty"`
}

func sessionOf(s *query.Session) sessionJSON {
	out := sessionJSON{ID: s.ID, CreationDate: gateway.Timestamp(s.Created), ChangeDate: gateway.Timestamp(s.Changed),
		Sequence: gateway.Uint64(s.Sequence), Metadata: s.Metadata}
	if !s.Expiration.IsZero() {
		t := gateway.Timestamp(s.Expiration)
		out.ExpirationDate = &t
	}
	f := &sessionFactors{}
	if s.UserID != "" {
		f.User = &struct {
			VerifiedAt     gateway.Timestamp `json:"verifiedAt,omitzero"`
			ID             string            `json:"id,omitempty"`
			LoginName      string            `json:"loginName,omitempty"`
			DisplayName    string            `json:"displayName,omitempty"`
			OrganizationID string            `json:"organizationId,omitempty"`
		}{gateway.Timestamp(s.UserCheckedAt), s.UserID, s.LoginName, s.DisplayName, s.UserOrgID}
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
		j := &userAgentJSON{}
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
				j.Header = map[string]struct {
					Values []string `json:"values,omitempty"`
				}{}
			}
			j.Header[k] = struct {
				Values []string `json:"values,omitempty"`
			}{ua.Header[k]}
		}
		out.UserAgent = j
	}
	return out
}

func (a *API) getSession(w http.ResponseWriter, r *http.Request) {
	s, err := a.q.SessionByID(r.Context(), chi.URLParam(r, "sessionId"), r.URL.Query().Get("sessionToken"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, struct {
		Session sessionJSON `json:"session"`
	}{sessionOf(s)})
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request) {
	var req struct {
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
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	offset, limit, err := req.Query.Page()
	if err != nil {
		gateway.WriteError(w, r, err)
		return
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
	list, err := a.q.ListSessions(r.Context(), s)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	out := make([]sessionJSON, 0, len(list.Sessions))
	for _, se := range list.Sessions {
		out = append(out, sessionOf(se))
	}
	gateway.WriteJSON(w, http.StatusOK, struct {
		Details  gateway.ListDetailsV2 `json:"details"`
		Sessions []sessionJSON         `json:"sessions,omitempty"`
	}{gateway.ListDetailsV2{TotalResult: gateway.Uint64(list.Total), Timestamp: gateway.Timestamp(list.Timestamp)}, out})
}
