package rpc

import (
	"context"
	"slices"
	"time"

	"connectrpc.com/connect"

	"github.com/idledger/idledger/errs"
	healthv1 "github.com/idledger/idledger/gen/grpc/health/v1"
)

// watchEvery is how often Watch looks at the database again.
const watchEvery = 2 * time.Second

// health is grpc.health.v1.Health: the server as a whole ("") and every
// served service are SERVING while the database answers, NOT_SERVING
// otherwise. It needs no credential.
type health struct {
	s     *Server
	names []string
}

// status is the status of service; ok is false for a service the server
// does not serve.
func (h *health) status(ctx context.Context, service string) (healthv1.HealthCheckResponse_ServingStatus, bool) {
	if service != "" && !slices.Contains(h.names, service) {
		return healthv1.HealthCheckResponse_SERVICE_UNKNOWN, false
	}
	if h.s.ready != nil && h.s.ready(ctx) != nil {
		return healthv1.HealthCheckResponse_NOT_SERVING, true
	}
	return healthv1.HealthCheckResponse_SERVING, true
}

// Check answers the status now; an unknown service is NOT_FOUND, as gRPC's
// own health server answers.
func (h *health) Check(ctx context.Context, req *connect.Request[healthv1.HealthCheckRequest]) (*connect.Response[healthv1.HealthCheckResponse], error) {
	st, ok := h.status(ctx, req.Msg.GetService())
	if !ok {
		return nil, connect.NewError(connect.CodeNotFound, errs.NotFound("", "unknown service "+req.Msg.GetService()))
	}
	return connect.NewResponse(&healthv1.HealthCheckResponse{Status: st}), nil
}

// Watch sends the status, then every change of it, until the caller goes
// away or the server shuts down. An unknown service is SERVICE_UNKNOWN,
// which the stream keeps answering, as gRPC's health protocol says.
func (h *health) Watch(ctx context.Context, req *connect.Request[healthv1.HealthCheckRequest], stream *connect.ServerStream[healthv1.HealthCheckResponse]) error {
	last := healthv1.HealthCheckResponse_ServingStatus(-1)
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	for {
		if st, _ := h.status(ctx, req.Msg.GetService()); st != last {
			if err := stream.Send(&healthv1.HealthCheckResponse{Status: st}); err != nil {
				return err
			}
			last = st
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
