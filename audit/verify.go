package audit

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
)

// BindVerifyFlags defines the `events verify` flag --from-position on fs and
// returns the value it fills when fs is parsed (0: verify everything).
func BindVerifyFlags(fs *flag.FlagSet) *int64 {
	return fs.Int64("from-position", 0, "verify only the aggregates that have events after this global position (incremental)")
}

// Verifier is what Verify checks; *eventstore.Postgres implements it.
type Verifier interface {
	Verify(ctx context.Context, fromPosition int64) (eventstore.VerifyReport, error)
}

var _ Verifier = (*eventstore.Postgres)(nil)

// BrokenError reports the first event that failed verification. The CLI
// exits non-zero with its message, which names the event and the reason.
type BrokenError struct {
	Broken eventstore.Broken
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("event %s/%s/%s sequence %d (position %d) does not verify: %s",
		e.Broken.Aggregate.InstanceID, e.Broken.Aggregate.Type, e.Broken.Aggregate.ID,
		e.Broken.Sequence, e.Broken.Position, e.Broken.Reason)
}

// Verify walks every aggregate's hash chain and sequence continuity (only the
// aggregates with events after fromPosition when it is > 0) and prints a
// summary to w: aggregates and events checked, the time taken, and the
// verdict. It returns a *BrokenError naming the first event that does not
// verify; errs.InvalidArgument for a negative fromPosition; errs.Internal
// when the store fails; or w's error.
func Verify(ctx context.Context, store Verifier, fromPosition int64, w io.Writer) error {
	if fromPosition < 0 {
		return errs.InvalidArgument("AUDIT-Pos01", "--from-position must not be negative")
	}
	r, err := store.Verify(ctx, fromPosition)
	if err != nil {
		return errs.Internal("AUDIT-Vfy01", err)
	}
	scope := "all events"
	if fromPosition > 0 {
		scope = fmt.Sprintf("aggregates changed after position %d", fromPosition)
	}
	verdict := "OK: every hash chain and sequence is intact"
	if r.First != nil {
		verdict = "FAILED: " + (&BrokenError{Broken: *r.First}).Error()
	}
	if _, err := fmt.Fprintf(w, "verified %s: %d aggregates, %d events in %s\n%s\n",
		scope, r.Aggregates, r.Events, r.Took.Round(time.Millisecond), verdict); err != nil {
		return err
	}
	if r.First != nil {
		return &BrokenError{Broken: *r.First}
	}
	return nil
}
