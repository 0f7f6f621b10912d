package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/audit"
	"github.com/idledger/idledger/authz"
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
	return render.EventsCaller(r.Context(), a.events)
}

func (a *API) searchEvents(w http.ResponseWriter, r *http.Request) {
	c, err := a.eventsCaller(r)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	var req render.ListEventsRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	s, err := render.ParseListEvents(c.InstanceID, req)
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	docs := render.EventDocs()
	resp := struct {
		Events []render.EventRESTJSON `json:"events,omitempty"`
	}{}
	err = a.events.Search(r.Context(), s, func(e *query.Event) error {
		resp.Events = append(resp.Events, render.EventREST(e, docs))
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
	gateway.WriteJSON(w, http.StatusOK, render.EventTypes())
}

func (a *API) aggregateTypes(w http.ResponseWriter, r *http.Request) {
	if _, err := a.eventsCaller(r); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.AggregateTypes())
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
	docs := render.EventDocs()
	err = a.events.Follow(ctx, query.EventSearch{InstanceID: c.InstanceID, AfterPosition: pos}, streamPoll,
		func(e *query.Event) error { return out.line(render.EventREST(e, docs)) })
	if err != nil && ctx.Err() == nil {
		// The status is already sent: log the cause and end the stream; the
		// client resumes from the last position it saw.
		gateway.LogFrom(r.Context()).Error().Err(err).Msg("event stream failed")
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
