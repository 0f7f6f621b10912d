package audit

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
)

// Checkpointer takes and recomputes log checkpoints; *eventstore.Postgres
// implements it.
type Checkpointer interface {
	Checkpoint(ctx context.Context) (eventstore.Checkpoint, error)
	CheckpointAt(ctx context.Context, c eventstore.Cursor) (eventstore.Checkpoint, error)
}

var _ Checkpointer = (*eventstore.Postgres)(nil)

// WriteCheckpoint takes a checkpoint of the log and writes its one-line text
// form to w (`idledger events checkpoint`). Errors: errs.Internal when the
// store fails, or w's error.
func WriteCheckpoint(ctx context.Context, store Checkpointer, w io.Writer) error {
	cp, err := store.Checkpoint(ctx)
	if err != nil {
		return errs.Internal("AUDIT-Cpt01", err)
	}
	_, err = fmt.Fprintln(w, cp.String())
	return err
}

// CheckpointMismatchError reports that the log at or below a recorded
// checkpoint's cursor is no longer what it was.
type CheckpointMismatchError struct {
	Recorded, Now eventstore.Checkpoint
}

func (e *CheckpointMismatchError) Error() string {
	return fmt.Sprintf("the events at or below position %d no longer match the checkpoint: %d events in %d aggregates (recorded: %d in %d), digest %s (recorded: %s); events were deleted or changed",
		e.Recorded.Cursor.Position, e.Now.Events, e.Now.Aggregates, e.Recorded.Events, e.Recorded.Aggregates,
		e.Now.Digest[:12], e.Recorded.Digest[:12])
}

// ReadCheckpoint reads a checkpoint line from path ("-": from stdin).
// Errors: errs.InvalidArgument when it cannot be read or parsed.
func ReadCheckpoint(path string, stdin io.Reader) (eventstore.Checkpoint, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = io.ReadAll(io.LimitReader(stdin, 4096))
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return eventstore.Checkpoint{}, errs.InvalidArgument("AUDIT-Cpt02", fmt.Sprintf("--checkpoint: %v", err))
	}
	cp, err := eventstore.ParseCheckpoint(strings.TrimSpace(string(raw)))
	if err != nil {
		return eventstore.Checkpoint{}, errs.InvalidArgument("AUDIT-Cpt03", fmt.Sprintf("--checkpoint %s: %v", path, err))
	}
	return cp, nil
}

// VerifyCheckpoint recomputes recorded at its cursor and writes the verdict
// to w. It returns a *CheckpointMismatchError when the log differs,
// errs.Internal when the store fails, or w's error.
func VerifyCheckpoint(ctx context.Context, store Checkpointer, recorded eventstore.Checkpoint, w io.Writer) error {
	now, err := store.CheckpointAt(ctx, recorded.Cursor)
	if err != nil {
		return errs.Internal("AUDIT-Cpt04", err)
	}
	if now != recorded {
		mismatch := &CheckpointMismatchError{Recorded: recorded, Now: now}
		if _, err := fmt.Fprintf(w, "checkpoint at position %d: FAILED: %v\n", recorded.Cursor.Position, mismatch); err != nil {
			return err
		}
		return mismatch
	}
	_, err = fmt.Fprintf(w, "checkpoint at position %d: OK: the %d events in %d aggregates at or below it are unchanged\n",
		recorded.Cursor.Position, now.Events, now.Aggregates)
	return err
}
