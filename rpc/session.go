package rpc

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/errs"
	sessionv2 "github.com/idledger/idledger/gen/zitadel/session/v2"
)

// The session methods read their request as REST reads its body: the
// message rendered as protojson, decoded into the request type of
// api/render (asREST), so both transports build the same command input.

// asREST decodes m, rendered as protojson, into dst, as REST decodes a
// body (gateway.DecodeBody).
func asREST(m proto.Message, dst any) error {
	b, err := protojson.Marshal(m)
	if err != nil {
		return errs.Internal("RPC-AsRst", err)
	}
	return gateway.DecodeBody(b, dst)
}

// CreateSession is POST /v2/sessions (201 there, OK here).
func (v *sessionService) CreateSession(ctx context.Context, req *connect.Request[sessionv2.CreateSessionRequest]) (*connect.Response[sessionv2.CreateSessionResponse], error) {
	var in render.CreateSessionRequest
	if err := asREST(req.Msg, &in); err != nil {
		return nil, err
	}
	s, err := v.s.cmds.CreateSession(ctx, in.Input())
	if err != nil {
		return nil, err
	}
	return respond[sessionv2.CreateSessionResponse](render.SessionCreatedOf(s))
}

// SetSession is PATCH /v2/sessions/{sessionId}.
func (v *sessionService) SetSession(ctx context.Context, req *connect.Request[sessionv2.SetSessionRequest]) (*connect.Response[sessionv2.SetSessionResponse], error) {
	var in render.SetSessionRequest
	if err := asREST(req.Msg, &in); err != nil {
		return nil, err
	}
	s, err := v.s.cmds.SetSession(ctx, in.Input(req.Msg.GetSessionId()))
	if err != nil {
		return nil, err
	}
	return respond[sessionv2.SetSessionResponse](render.SessionSetOf(s))
}

// GetSession is GET /v2/sessions/{sessionId}?sessionToken=.
func (v *sessionService) GetSession(ctx context.Context, req *connect.Request[sessionv2.GetSessionRequest]) (*connect.Response[sessionv2.GetSessionResponse], error) {
	s, err := v.s.q.SessionByID(ctx, req.Msg.GetSessionId(), req.Msg.GetSessionToken())
	if err != nil {
		return nil, err
	}
	return respond[sessionv2.GetSessionResponse](render.SessionBody{Session: render.SessionOf(s)})
}

// DeleteSession is DELETE /v2/sessions/{sessionId}.
func (v *sessionService) DeleteSession(ctx context.Context, req *connect.Request[sessionv2.DeleteSessionRequest]) (*connect.Response[sessionv2.DeleteSessionResponse], error) {
	d, err := v.s.cmds.DeleteSession(ctx, req.Msg.GetSessionId(), req.Msg.GetSessionToken())
	if err != nil {
		return nil, err
	}
	return respond[sessionv2.DeleteSessionResponse](render.ChangedV2Of(d))
}

// ListSessions is POST /v2/sessions/search.
func (v *sessionService) ListSessions(ctx context.Context, req *connect.Request[sessionv2.ListSessionsRequest]) (*connect.Response[sessionv2.ListSessionsResponse], error) {
	var in render.ListSessionsRequest
	if err := asREST(req.Msg, &in); err != nil {
		return nil, err
	}
	s, err := in.Search()
	if err != nil {
		return nil, err
	}
	list, err := v.s.q.ListSessions(ctx, s)
	if err != nil {
		return nil, err
	}
	return respond[sessionv2.ListSessionsResponse](render.SessionListOf(list))
}
