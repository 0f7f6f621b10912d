package app

import (
	"context"

	"github.com/idledger/idledger/internal/metrics"
	"github.com/idledger/idledger/projection"
)

// readinessBody is /readyz's answer. A halted projection does not make the
// replica unready (the API's read tables are inline and current), but it is
// reported, so operators and probes can see it.
type readinessBody struct {
	Status string         `json:"status"`
	Halted []haltedDetail `json:"haltedProjections,omitempty"`
}

type haltedDetail struct {
	Name           string `json:"name"`
	Error          string `json:"error"`
	FailedPosition int64  `json:"failedPosition,omitempty"`
}

func (a *App) readiness(ctx context.Context) readinessBody {
	halted, err := projection.HaltedProjections(ctx, a.pool)
	if err != nil {
		a.log.Warn().Err(err).Msg("readyz: projection state")
		return readinessBody{Status: "ok"}
	}
	if len(halted) == 0 {
		return readinessBody{Status: "ok"}
	}
	body := readinessBody{Status: "degraded"}
	for _, h := range halted {
		body.Halted = append(body.Halted, haltedDetail{Name: h.Name, Error: h.Error, FailedPosition: h.FailedPosition})
	}
	return body
}

// projectionStats feeds the projection gauges of /metrics.
func (a *App) projectionStats(ctx context.Context) ([]metrics.ProjectionStat, error) {
	sts, err := projection.Statuses(ctx, a.pool, a.registry)
	if err != nil {
		return nil, err
	}
	out := make([]metrics.ProjectionStat, len(sts))
	for i, s := range sts {
		out[i] = metrics.ProjectionStat{Name: s.Name, Position: s.Position, Lag: s.LagEvents, Halted: s.State == projection.StateHalted}
	}
	return out, nil
}

// runProjections drives the async projections of this replica until ctx
// ends; replicas coordinate through the database (see projection.Runner).
func (a *App) runProjections(ctx context.Context) {
	r := projection.NewRunner(a.pool, a.store, a.registry)
	r.OnHalt = func(name string, pos int64, err error) {
		a.log.Error().Str("projection", name).Int64("position", pos).Err(err).Msg("projection halted")
	}
	if err := r.Run(ctx); err != nil && ctx.Err() == nil {
		a.log.Error().Err(err).Msg("projection runner stopped")
	}
}
