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
	"github.com/idledger/idledger/eventstore"
)

// eventSource is what the event API reads; *eventstore.Postgres implements it.
type eventSource interface {
	Read(ctx context.Context, f eventstore.Filter) ([]eventstore.Event, error)
	CursorAt(ctx context.Context, position int64) (eventstore.Cursor, error)
	Subscribe(ctx context.Context, f eventstore.Filter, poll time.Duration, handle func(eventstore.Event) error) error
	Barrier(ctx context.Context, timeout time.Duration) error
}

var _ eventSource = (*eventstore.Postgres)(nil)

// WithEvents gives the event API its store and returns a, for wiring in one
// expression. Without it the event routes answer 500.
func (a *API) WithEvents(s *eventstore.Postgres) *API {
	a.events = s
	return a
}

// Stream timing. heartbeatEvery keeps idle connections (and the proxies in
// between) alive and tells the client the stream is healthy; streamPoll is
// the safety net behind LISTEN/NOTIFY.
var (
	heartbeatEvery = 15 * time.Second
	streamPoll     = time.Second
)

// eventPage is how many events one store read fetches while a search pages
// through the log.
const eventPage = 500

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

func toEventJSON(e *eventstore.Event, docs map[string]string) eventJSON {
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

// eventQuery is a validated search: the store filter plus the conditions
// the store cannot express (exact types, the aggregate-sequence bound).
type eventQuery struct {
	filter     eventstore.Filter
	limit      int
	exactTypes []string
	prefixes   []string
	seq        uint64
	asc        bool
}

func (q *eventQuery) matches(e *eventstore.Event) bool {
	// ZITADEL matches event types exactly; a type ending in "." or "*" is
	// our prefix extension. The store matched everything as a prefix.
	if len(q.exactTypes)+len(q.prefixes) > 0 && !slices.Contains(q.exactTypes, e.Type) &&
		!slices.ContainsFunc(q.prefixes, func(p string) bool { return strings.HasPrefix(e.Type, p) }) {
		return false
	}
	if q.seq > 0 && ((q.asc && e.Sequence <= q.seq) || (!q.asc && e.Sequence >= q.seq)) {
		return false
	}
	return true
}

// parseListEvents validates the request, as ZITADEL's handler does, into a
// query on the caller's instance. Errors: InvalidArgument.
func (a *API) parseListEvents(ctx context.Context, instanceID string, req listEventsRequest) (*eventQuery, error) {
	if req.Limit > gateway.MaxListLimit {
		return nil, errs.InvalidArgument("EVENT-Lim01", "invalid ListEventsRequest.Limit: value must be less than or equal to 1000")
	}
	dates := 0
	for _, set := range []bool{!req.CreationDate.IsZero(), req.Range != nil, !req.From.IsZero()} {
		if set {
			dates++
		}
	}
	if dates > 1 {
		return nil, errs.InvalidArgument("EVENT-Date1", "invalid ListEventsRequest: set only one of creationDate, range and from")
	}
	q := &eventQuery{limit: int(req.Limit), seq: uint64(req.Sequence), asc: req.Asc}
	if q.limit == 0 {
		q.limit = gateway.MaxListLimit
	}
	f := eventstore.Filter{
		InstanceID:     instanceID, // never from the request: tenancy
		AggregateTypes: nonEmpty(req.AggregateTypes),
		Creator:        strings.TrimSpace(req.EditorUserID),
		ResourceOwner:  strings.TrimSpace(req.ResourceOwner),
		Descending:     !req.Asc,
	}
	if id := strings.TrimSpace(req.AggregateID); id != "" {
		f.AggregateIDs = []string{id}
	}
	for _, t := range nonEmpty(req.EventTypes) {
		if p := strings.TrimSuffix(t, "*"); p != t || strings.HasSuffix(t, ".") {
			if p == "" { // "*": every type
				q.exactTypes, q.prefixes, f.EventTypes = nil, nil, nil
				break
			}
			q.prefixes = append(q.prefixes, p)
		} else {
			q.exactTypes = append(q.exactTypes, t)
		}
		f.EventTypes = append(f.EventTypes, strings.TrimSuffix(t, "*"))
	}
	from := req.From
	if from.IsZero() {
		from = req.CreationDate
	}
	switch {
	case !from.IsZero() && req.Asc:
		f.Since = from.Time()
	case !from.IsZero():
		f.Until = from.Time()
	case req.Range != nil:
		f.Since, f.Until = req.Range.Since.Time(), req.Range.Until.Time()
		if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
			return nil, errs.InvalidArgument("EVENT-Date2", "invalid ListEventsRequest.Range: since must be before until")
		}
	}
	if req.AfterPosition < 0 {
		return nil, errs.InvalidArgument("EVENT-Pos01", "invalid ListEventsRequest.AfterPosition: value must not be negative")
	}
	c, err := audit.ResolvePosition(ctx, a.events, int64(req.AfterPosition))
	if err != nil {
		return nil, err
	}
	if c != (eventstore.Cursor{}) {
		if req.Asc {
			f.After = c
		} else {
			// Descending pages continue below the cursor; (tx, pos-1) is
			// the exclusive form of the inclusive bound.
			f.AtOrBefore = eventstore.Cursor{TxID: c.TxID, Position: c.Position - 1}
		}
	}
	q.filter = f
	return q, nil
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

// run pages through the log until the limit is reached or the log ends;
// conditions the store cannot filter are applied to each page.
func (a *API) run(ctx context.Context, q *eventQuery) ([]eventstore.Event, error) {
	f := q.filter
	// A search shows everything committed before it started.
	if err := a.events.Barrier(ctx, 2*time.Second); err != nil {
		return nil, errs.Internal("EVENT-Read2", err)
	}
	var out []eventstore.Event
	for len(out) < q.limit {
		f.Limit = eventPage
		batch, err := a.events.Read(ctx, f)
		if err != nil {
			return nil, errs.Internal("EVENT-Read1", err)
		}
		for i := range batch {
			if q.matches(&batch[i]) {
				out = append(out, batch[i])
				if len(out) == q.limit {
					break
				}
			}
		}
		if len(batch) < f.Limit {
			break
		}
		last := batch[len(batch)-1].Cursor()
		if q.asc {
			f.After = last
		} else {
			f.AtOrBefore = eventstore.Cursor{TxID: last.TxID, Position: last.Position - 1}
		}
	}
	return out, nil
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
	q, err := a.parseListEvents(r.Context(), c.InstanceID, req)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	found, err := a.run(r.Context(), q)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	docs := eventDocs()
	resp := struct {
		Events []eventJSON `json:"events,omitempty"`
	}{}
	for i := range found {
		resp.Events = append(resp.Events, toEventJSON(&found[i], docs))
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
	after, err := audit.ResolvePosition(r.Context(), a.events, pos)
	if err != nil {
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
	err = a.events.Subscribe(ctx, eventstore.Filter{InstanceID: c.InstanceID, After: after}, streamPoll,
		func(e eventstore.Event) error { return out.line(toEventJSON(&e, docs)) })
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
