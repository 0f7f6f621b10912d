package rpc

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	adminv1 "github.com/idledger/idledger/gen/zitadel/admin/v1"
	"github.com/idledger/idledger/query"
)

// The event API (REST: api/events.go): the same caller check, request rules
// and rendering, from api/gateway.

// timestamp is t as the REST request's value: unset is the zero time.
func timestamp(t *timestamppb.Timestamp) gateway.Timestamp {
	if t == nil {
		return gateway.Timestamp{}
	}
	return gateway.Timestamp(t.AsTime())
}

// listEventsRequest maps the message onto the REST request, so that
// render.ParseListEvents applies one set of rules to both. A set range,
// even an empty one, is a range, as an empty JSON object is.
func listEventsRequest(m *adminv1.ListEventsRequest) render.ListEventsRequest {
	req := render.ListEventsRequest{
		Sequence: gateway.Uint64(m.GetSequence()), Limit: m.GetLimit(), Asc: m.GetAsc(),
		EditorUserID: m.GetEditorUserId(), EventTypes: m.GetEventTypes(), AggregateID: m.GetAggregateId(),
		AggregateTypes: m.GetAggregateTypes(), ResourceOwner: m.GetResourceOwner(),
		CreationDate: timestamp(m.GetCreationDate()), From: timestamp(m.GetFrom()),
	}
	if r := m.GetRange(); r != nil {
		req.Range = &struct {
			Since gateway.Timestamp `json:"since"`
			Until gateway.Timestamp `json:"until"`
		}{timestamp(r.GetSince()), timestamp(r.GetUntil())}
	}
	return req
}

// ListEvents is POST /admin/v1/events/_search. Payloads are
// google.protobuf.Struct; REST's extensions (position, clientIp,
// userAgent, afterPosition) have no field in ZITADEL's messages.
func (v *adminService) ListEvents(ctx context.Context, req *connect.Request[adminv1.ListEventsRequest]) (*connect.Response[adminv1.ListEventsResponse], error) {
	c, err := render.EventsCaller(ctx, v.s.events)
	if err != nil {
		return nil, err
	}
	s, err := render.ParseListEvents(c.InstanceID, listEventsRequest(req.Msg))
	if err != nil {
		return nil, err
	}
	docs := render.EventDocs()
	var out struct {
		Events []render.EventJSON `json:"events,omitempty"`
	}
	err = v.s.events.Search(ctx, s, func(e *query.Event) error {
		out.Events = append(out.Events, render.Event(e, docs))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return respond[adminv1.ListEventsResponse](out)
}

// ListEventTypes is POST /admin/v1/events/types/_search.
func (v *adminService) ListEventTypes(ctx context.Context, _ *connect.Request[adminv1.ListEventTypesRequest]) (*connect.Response[adminv1.ListEventTypesResponse], error) {
	if _, err := render.EventsCaller(ctx, v.s.events); err != nil {
		return nil, err
	}
	return respond[adminv1.ListEventTypesResponse](render.EventTypes())
}

// ListAggregateTypes is POST /admin/v1/aggregates/types/_search.
func (v *adminService) ListAggregateTypes(ctx context.Context, _ *connect.Request[adminv1.ListAggregateTypesRequest]) (*connect.Response[adminv1.ListAggregateTypesResponse], error) {
	if _, err := render.EventsCaller(ctx, v.s.events); err != nil {
		return nil, err
	}
	return respond[adminv1.ListAggregateTypesResponse](render.AggregateTypes())
}
