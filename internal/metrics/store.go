package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
)

const (
	resultOK         = "ok"
	resultConflict   = "conflict"
	resultConstraint = "constraint"
	resultError      = "error"
)

func appendResult(err error) string {
	var ce *eventstore.ConstraintError
	switch {
	case err == nil:
		return resultOK
	case eventstore.IsConcurrency(err):
		return resultConflict
	case errors.As(err, &ce):
		return resultConstraint
	}
	return resultError
}

// instrumentedStore times Append and counts conflicts; reads pass through.
type instrumentedStore struct {
	eventstore.Store
	m *Metrics
}

var _ eventstore.Store = (*instrumentedStore)(nil)

// InstrumentStore wraps s so that every Append is timed
// (idledger_eventstore_append_duration_seconds) and every *ConcurrencyError
// is counted as a retry (idledger_eventstore_concurrency_retries_total).
// Give the wrapped store to the command layer; eventstore.Execute re-runs a
// command after each conflict, so conflicts are retries, except the last
// one of a command that ends Aborted (see ObserveCommand). Errors are s's,
// unchanged.
func (m *Metrics) InstrumentStore(s eventstore.Store) eventstore.Store {
	return &instrumentedStore{Store: s, m: m}
}

func (s *instrumentedStore) Append(ctx context.Context, a eventstore.Append) ([]eventstore.Event, error) {
	start := time.Now()
	events, err := s.Store.Append(ctx, a)
	s.m.ObserveAppend(time.Since(start), err)
	return events, err
}

// ObserveCommand counts err when it is an Aborted error, the answer a
// command gives when concurrency conflicts outlast its retries
// (eventstore.Execute's "EVENT-Abrt1"). Call it with every command's
// result; other errors and nil are ignored.
func (m *Metrics) ObserveCommand(err error) {
	var e *errs.Error
	if errors.As(err, &e) && e.Kind == errs.KindAborted {
		m.aborted.Inc()
	}
}
