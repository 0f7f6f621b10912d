package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/audit"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/query"
)

// WithEvents gives the event API its log and returns a, for wiring in one
// expression. Without it the event routes answer 500.
func (a *API) WithEvents(l *query.EventLog) *API {
	a.events = l
	return a
}

// Stream timing. heartbeatEvery keeps idle connections (and the proxies in
// between) alive and tells the client the stream is healthy; streamPoll is
// the safety net behind LISTEN/NOTIFY.
var (
	heartbeatEvery = 15 * time.Second
	streamPoll     = time.Second
)

// eventRoutes mounts the event API (admin ListEvents, ListEventTypes,
// ListAggregateTypes, and the NDJSON export stream). Every route needs
// events.read on the instance, and every read is scoped to the caller's
// instance: no filter can reach another.
func (a *API) eventRoutes(r chi.Router) {
	r.Post("/admin/v1/events/_search", a.searchEvents)
	r.Get("/admin/v1/events/types", a.eventTypes)
	r.Post("/admin/v1/events/types/_search", a.eventTypes)
	r.Get("/admin/v1/aggregates/types", a.aggregateTypes)
	r.Post("/admin/v1/aggregates/types/_search", a.aggregateTypes)
	r.Get("/admin/v1/events/_stream", a.streamEvents)
}

// eventsCaller returns the caller when it may read events.
func (a *API) eventsCaller(r *http.Request) (*authz.Caller, error) {
	c := authz.CallerFrom(r.Context())
	if c == nil {
		return nil, errs.Unauthenticated("AUTH-7fs1e", "auth header missing")
	}
	if err := c.CheckV1("events.read", ""); err != nil {
		return nil, err
	}
	if a.events == nil {
		return nil, errs.Internal("EVENT-Store1", errors.New("api: event store not wired (WithEvents)"))
	}
	return c, nil
}

// listEventsRequest is zitadel.admin.v1.ListEventsRequest, plus
// afterPosition, a cursor in the gap-free global order.
type listEventsRequest struct {
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

// eventJSON is zitadel.event.v1.Event plus position, clientIp and userAgent.
type eventJSON struct {
	Editor struct {
		UserID string `json:"userId,omitempty"`
	} `json:"editor"`
	Aggregate struct {
		ID            string        `json:"id,omitempty"`
		Type          localizedType `json:"type"`
		ResourceOwner string        `json:"resourceOwner,omitempty"`
	} `json:"aggregate"`
	Sequence     gateway.Uint64    `json:"sequence,omitempty"`
	CreationDate gateway.Timestamp `json:"creationDate,omitzero"`
	Payload      json.RawMessage   `json:"payload,omitempty"`
	Type         localizedType     `json:"type"`
	Position     gateway.Int64     `json:"position,omitempty"`
	ClientIP     string            `json:"clientIp,omitempty"`
	UserAgent    string            `json:"userAgent,omitempty"`
}

// localizedType is zitadel.event.v1.EventType / AggregateType.
type localizedType struct {
	Type      string `json:"type,omitempty"`
	Localized struct {
		Key              string `json:"key,omitempty"`
		LocalizedMessage string `json:"localizedMessage,omitempty"`
	} `json:"localized"`
}

func toEventJSON(e *query.Event, docs map[string]string) eventJSON {
	var j eventJSON
	j.Editor.UserID = e.Creator
	j.Aggregate.ID, j.Aggregate.ResourceOwner = e.AggregateID, e.ResourceOwner
	j.Aggregate.Type = aggregateType(e.AggregateType)
	j.Sequence = gateway.Uint64(e.Sequence)
	j.CreationDate = gateway.Timestamp(e.CreatedAt)
	j.Payload = audit.RedactPayload(e.Payload) // secrets never leave as text
	j.Type = eventType(e.Type, docs[e.Type])
	j.Position = gateway.Int64(e.Position)
	j.ClientIP, j.UserAgent = e.ClientIP, e.UserAgent
	return j
}

func eventType(typ, doc string) localizedType {
	var t localizedType
	t.Type = typ
	t.Localized.Key = "EventTypes." + typ
	if doc != "" {
		t.Localized.LocalizedMessage = strings.ToUpper(doc[:1]) + doc[1:]
	}
	return t
}

var aggregateNames = map[string]string{
	events.AggInstance: "Instance", events.AggOrg: "Organization", events.AggUser: "User",
	events.AggIDP: "Identity Provider", events.AggLoginPolicy: "Login Policy",
}

func aggregateType(typ string) localizedType {
	var t localizedType
	t.Type = typ
	t.Localized.Key = "AggregateTypes." + typ
	t.Localized.LocalizedMessage = aggregateNames[typ]
	return t
}

func eventDocs() map[string]string {
	m := map[string]string{}
	for _, info := range events.Catalog() {
		m[info.Type] = info.Doc
	}
	return m
}

// parseListEvents validates the request, as ZITADEL's handler does, into a
// query on the caller's instance. Errors: InvalidArgument.
func parseListEvents(instanceID string, req listEventsRequest) (query.EventSearch, error) {
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

func (a *API) searchEvents(w http.ResponseWriter, r *http.Request) {
	c, err := a.eventsCaller(r)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	var req listEventsRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	s, err := parseListEvents(c.InstanceID, req)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	docs := eventDocs()
	resp := struct {
		Events []eventJSON `json:"events,omitempty"`
	}{}
	err = a.events.Search(r.Context(), s, func(e *query.Event) error {
		resp.Events = append(resp.Events, toEventJSON(e, docs))
		return nil
	})
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, resp)
}

func (a *API) eventTypes(w http.ResponseWriter, r *http.Request) {
	if _, err := a.eventsCaller(r); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	var resp struct {
		EventTypes []localizedType `json:"eventTypes,omitempty"`
	}
	for _, info := range events.Catalog() {
		resp.EventTypes = append(resp.EventTypes, eventType(info.Type, info.Doc))
	}
	gateway.WriteJSON(w, http.StatusOK, resp)
}

func (a *API) aggregateTypes(w http.ResponseWriter, r *http.Request) {
	if _, err := a.eventsCaller(r); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	var resp struct {
		AggregateTypes []localizedType `json:"aggregateTypes,omitempty"`
	}
	for _, info := range events.Catalog() {
		if !slices.ContainsFunc(resp.AggregateTypes, func(t localizedType) bool { return t.Type == info.Aggregate }) {
			resp.AggregateTypes = append(resp.AggregateTypes, aggregateType(info.Aggregate))
		}
	}
	gateway.WriteJSON(w, http.StatusOK, resp)
}

// streamEvents serves GET /admin/v1/events/_stream?afterPosition=P: NDJSON,
// one event per line (the search's event shape), first every event of the
// instance after P in the gap-free order, then new ones as they commit, and
// {"heartbeat":"<time>"} lines while idle. It ends when the client goes
// away. Errors before the stream starts get the usual error body; after
// that, the connection is simply closed.
func (a *API) streamEvents(w http.ResponseWriter, r *http.Request) {
	c, err := a.eventsCaller(r)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	pos, err := audit.ParsePosition(r.URL.Query().Get("afterPosition"))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	if err := a.events.CheckPosition(r.Context(), pos); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	out := &lineWriter{w: w, rc: http.NewResponseController(w)}
	if err := out.flush(); err != nil {
		return
	}
	// The heartbeat must be gone before the handler returns: net/http
	// finishes the response then, and a late write would race with it.
	hbDone := make(chan struct{})
	defer func() { cancel(); <-hbDone }()
	go func() {
		defer close(hbDone)
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if out.line(map[string]string{"heartbeat": gateway.Timestamp(now).String()}) != nil {
					cancel()
					return
				}
			}
		}
	}()
	docs := eventDocs()
	err = a.events.Follow(ctx, query.EventSearch{InstanceID: c.InstanceID, AfterPosition: pos}, streamPoll,
		func(e *query.Event) error { return out.line(toEventJSON(e, docs)) })
	if err != nil && ctx.Err() == nil {
		// The status is already sent: log the cause and end the stream; the
		// client resumes from the last position it saw.
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("event stream failed")
	}
}

// lineWriter writes whole lines and flushes each, from the subscriber and
// the heartbeat alike.
type lineWriter struct {
	mu sync.Mutex
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (l *lineWriter) line(v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as the JSON responses: protojson does not escape
	if err := enc.Encode(v); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(buf.Bytes()); err != nil {
		return err
	}
	return l.rc.Flush()
}

func (l *lineWriter) flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rc.Flush()
}
