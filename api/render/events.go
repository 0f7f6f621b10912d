package render

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/idledger/idledger/api/gateway"

	"github.com/idledger/idledger/audit"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/query"
)

// The event API's pieces that every transport shares: who may call it, the
// request's rules (ParseListEvents) and the one rendering of events and
// their types.

// EventsCaller returns the caller when it may read events (events.read on
// the instance) and l, the event log, is wired.
//
// Errors: Unauthenticated AUTH-7fs1e without a caller; the permission
// check's; Internal EVENT-Store1 when l is nil.
func EventsCaller(ctx context.Context, l *query.EventLog) (*authz.Caller, error) {
	c := authz.CallerFrom(ctx)
	if c == nil {
		return nil, errs.Unauthenticated("AUTH-7fs1e", "auth header missing")
	}
	if err := c.CheckV1("events.read", ""); err != nil {
		return nil, err
	}
	if l == nil {
		return nil, errs.Internal("EVENT-Store1", errors.New("event store not wired (api WithEvents, rpc Deps.Events)"))
	}
	return c, nil
}

// ListEventsRequest is zitadel.admin.v1.ListEventsRequest, plus
// afterPosition, a cursor in the gap-free global order (REST only).
type ListEventsRequest struct {
	Sequence       gateway.Uint64    `json:"sequence"`
	Limit          uint32            `json:"limit"`
	Asc            bool              `json:"asc"`
	EditorUserID   string            `json:"editorUserId"`
	EventTypes     []string          `json:"eventTypes"`
	AggregateID    string            `json:"aggregateId"`
	AggregateTypes []string          `json:"aggregateTypes"`
	ResourceOwner  string            `json:"resourceOwner"`
	CreationDate   gateway.Timestamp `json:"creationDate"` // deprecated: from
	Range          *struct {
		Since gateway.Timestamp `json:"since"`
		Until gateway.Timestamp `json:"until"`
	} `json:"range"`
	From          gateway.Timestamp `json:"from"`
	AfterPosition gateway.Int64     `json:"afterPosition"`
}

// ParseListEvents validates the request, as ZITADEL's handler does, into a
// query on the caller's instance. Errors: InvalidArgument.
func ParseListEvents(instanceID string, req ListEventsRequest) (query.EventSearch, error) {
	if req.Limit > gateway.MaxListLimit {
		return query.EventSearch{}, errs.InvalidArgument("EVENT-Lim01", "invalid ListEventsRequest.Limit: value must be less than or equal to 1000")
	}
	dates := 0
	for _, set := range []bool{!req.CreationDate.IsZero(), req.Range != nil, !req.From.IsZero()} {
		if set {
			dates++
		}
	}
	if dates > 1 {
		return query.EventSearch{}, errs.InvalidArgument("EVENT-Date1", "invalid ListEventsRequest: set only one of creationDate, range and from")
	}
	s := query.EventSearch{
		InstanceID:     instanceID, // never from the request: tenancy
		AggregateTypes: nonEmpty(req.AggregateTypes),
		Creator:        strings.TrimSpace(req.EditorUserID),
		ResourceOwner:  strings.TrimSpace(req.ResourceOwner),
		AfterSequence:  uint64(req.Sequence),
		Descending:     !req.Asc,
		Limit:          int(req.Limit),
	}
	if s.Limit == 0 {
		s.Limit = gateway.MaxListLimit
	}
	if id := strings.TrimSpace(req.AggregateID); id != "" {
		s.AggregateIDs = []string{id}
	}
	// ZITADEL matches event types exactly; a type ending in "." or "*" is
	// our prefix extension, and "*" alone is every type.
	for _, t := range nonEmpty(req.EventTypes) {
		if p := strings.TrimSuffix(t, "*"); p != t || strings.HasSuffix(t, ".") {
			if p == "" {
				s.ExactTypes, s.TypePrefixes = nil, nil
				break
			}
			s.TypePrefixes = append(s.TypePrefixes, p)
		} else {
			s.ExactTypes = append(s.ExactTypes, t)
		}
	}
	from := req.From
	if from.IsZero() {
		from = req.CreationDate
	}
	switch {
	case !from.IsZero() && req.Asc:
		s.Since = from.Time()
	case !from.IsZero():
		s.Until = from.Time()
	case req.Range != nil:
		s.Since, s.Until = req.Range.Since.Time(), req.Range.Until.Time()
		if !s.Since.IsZero() && !s.Until.IsZero() && !s.Since.Before(s.Until) {
			return query.EventSearch{}, errs.InvalidArgument("EVENT-Date2", "invalid ListEventsRequest.Range: since must be before until")
		}
	}
	if req.AfterPosition < 0 {
		return query.EventSearch{}, errs.InvalidArgument("EVENT-Pos01", "invalid ListEventsRequest.AfterPosition: value must not be negative")
	}
	s.AfterPosition = int64(req.AfterPosition)
	return s, nil
}

func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// EventJSON is zitadel.event.v1.Event.
type EventJSON struct {
	Editor struct {
		UserID string `json:"userId,omitempty"`
	} `json:"editor"`
	Aggregate struct {
		ID            string        `json:"id,omitempty"`
		Type          LocalizedType `json:"type"`
		ResourceOwner string        `json:"resourceOwner,omitempty"`
	} `json:"aggregate"`
	Sequence     gateway.Uint64    `json:"sequence,omitempty"`
	CreationDate gateway.Timestamp `json:"creationDate,omitzero"`
	Payload      json.RawMessage   `json:"payload,omitempty"`
	Type         LocalizedType     `json:"type"`
}

// EventRESTJSON is the REST event: zitadel.event.v1.Event plus position,
// clientIp and userAgent, which ZITADEL's message does not have.
type EventRESTJSON struct {
	EventJSON
	Position  gateway.Int64 `json:"position,omitempty"`
	ClientIP  string        `json:"clientIp,omitempty"`
	UserAgent string        `json:"userAgent,omitempty"`
}

// LocalizedType is zitadel.event.v1.EventType / AggregateType.
type LocalizedType struct {
	Type      string `json:"type,omitempty"`
	Localized struct {
		Key              string `json:"key,omitempty"`
		LocalizedMessage string `json:"localizedMessage,omitempty"`
	} `json:"localized"`
}

// Event renders e as zitadel.event.v1.Event; docs are EventDocs.
func Event(e *query.Event, docs map[string]string) EventJSON {
	var j EventJSON
	j.Editor.UserID = e.Creator
	j.Aggregate.ID, j.Aggregate.ResourceOwner = e.AggregateID, e.ResourceOwner
	j.Aggregate.Type = aggregateType(e.AggregateType)
	j.Sequence = gateway.Uint64(e.Sequence)
	j.CreationDate = gateway.Timestamp(e.CreatedAt)
	j.Payload = audit.RedactPayload(e.Payload) // secrets never leave as text
	j.Type = eventType(e.Type, docs[e.Type])
	return j
}

// EventREST renders e as the REST event (Event plus its extensions).
func EventREST(e *query.Event, docs map[string]string) EventRESTJSON {
	return EventRESTJSON{EventJSON: Event(e, docs), Position: gateway.Int64(e.Position), ClientIP: e.ClientIP, UserAgent: e.UserAgent}
}

func eventType(typ, doc string) LocalizedType {
	var t LocalizedType
	t.Type = typ
	t.Localized.Key = "EventTypes." + typ
	if doc != "" {
		t.Localized.LocalizedMessage = strings.ToUpper(doc[:1]) + doc[1:]
	}
	return t
}

var aggregateNames = map[string]string{
	events.AggInstance: "Instance", events.AggOrg: "Organization", events.AggUser: "User",
	events.AggIDP: "Identity Provider", events.AggLoginPolicy: "Login Policy", events.AggProject: "Project",
}

func aggregateType(typ string) LocalizedType {
	var t LocalizedType
	t.Type = typ
	t.Localized.Key = "AggregateTypes." + typ
	t.Localized.LocalizedMessage = aggregateNames[typ]
	return t
}

// EventDocs maps each event type to its documentation, the localized
// message of its type.
func EventDocs() map[string]string {
	m := map[string]string{}
	for _, info := range events.Catalog() {
		m[info.Type] = info.Doc
	}
	return m
}

// EventTypesJSON is ListEventTypesResponse.
type EventTypesJSON struct {
	EventTypes []LocalizedType `json:"eventTypes,omitempty"`
}

// EventTypes lists every event type of the catalog.
func EventTypes() EventTypesJSON {
	var resp EventTypesJSON
	for _, info := range events.Catalog() {
		resp.EventTypes = append(resp.EventTypes, eventType(info.Type, info.Doc))
	}
	return resp
}

// AggregateTypesJSON is ListAggregateTypesResponse.
type AggregateTypesJSON struct {
	AggregateTypes []LocalizedType `json:"aggregateTypes,omitempty"`
}

// AggregateTypes lists every aggregate type of the catalog, once each.
func AggregateTypes() AggregateTypesJSON {
	var resp AggregateTypesJSON
	for _, info := range events.Catalog() {
		if !slices.ContainsFunc(resp.AggregateTypes, func(t LocalizedType) bool { return t.Type == info.Aggregate }) {
			resp.AggregateTypes = append(resp.AggregateTypes, aggregateType(info.Aggregate))
		}
	}
	return resp
}
