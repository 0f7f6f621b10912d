package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/query"
)

// followPoll is the safety-net poll of --follow; LISTEN/NOTIFY wakes it
// sooner.
const followPoll = 500 * time.Millisecond

// EventSource is what List reads from; *eventstore.Postgres implements it.
type EventSource = query.EventSource

// List prints the events selected by opts to w in the gap-free global order,
// as a table or as JSON lines, with every secret redacted. With opts.Follow
// it keeps printing newly committed events until ctx ends, and then returns
// nil: an interrupt is how a follow ends. The search is query.EventLog's,
// the one the event API uses.
//
// Errors: errs.InvalidArgument for bad options (see ListOptions.Search);
// errs.Internal when the store fails; the writer's error when w fails.
func List(ctx context.Context, store EventSource, opts ListOptions, w io.Writer) error {
	s, err := opts.Search()
	if err != nil {
		return err
	}
	p := newPrinter(w, opts.Format)
	if err := p.header(); err != nil {
		return err
	}
	log := query.NewEventLog(store)
	if opts.Follow {
		return storeErr(log.Follow(ctx, s, followPoll, p.event))
	}
	return storeErr(log.Search(ctx, s, p.event))
}

// storeErr keeps domain errors and the writer's errors, and marks anything
// else from the store as Internal.
func storeErr(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errs.As(err); ok {
		return err
	}
	var we *writeError
	if errors.As(err, &we) {
		return we.err
	}
	return errs.Internal("AUDIT-Read1", err)
}

// writeError marks an output failure, so it is not reported as the store's.
type writeError struct{ err error }

func (e *writeError) Error() string { return "write: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

type printer struct {
	w      io.Writer
	format string
}

func newPrinter(w io.Writer, format string) *printer {
	if format == "" {
		format = FormatTable
	}
	return &printer{w: w, format: format}
}

// Table columns have fixed widths rather than tabwriter's, so that a follow
// prints each row as it arrives and rows still line up.
const tableRow = "%-30s  %-32s  %5s  %-38s  %-20s  %s\n"

func (p *printer) header() error {
	if p.format != FormatTable {
		return nil
	}
	return p.write(fmt.Sprintf(tableRow, "TIME", "AGGREGATE", "SEQ", "TYPE", "CREATOR", "SUMMARY"))
}

func (p *printer) event(e *eventstore.Event) error {
	if p.format == FormatJSONL {
		b, err := json.Marshal(NewRecord(e))
		if err != nil {
			return fmt.Errorf("encode event at position %d: %w", e.Position, err)
		}
		return p.write(string(b) + "\n")
	}
	return p.write(fmt.Sprintf(tableRow, FormatTime(e.CreatedAt), e.AggregateType+"/"+e.AggregateID,
		strconv.FormatUint(e.Sequence, 10), e.Type, e.Creator, Summary(e.Payload)))
}

func (p *printer) write(s string) error {
	if _, err := io.WriteString(p.w, s); err != nil {
		return &writeError{err}
	}
	return nil
}
