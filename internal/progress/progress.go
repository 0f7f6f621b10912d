// Package progress reports the progress of a long operation: a redrawn bar
// with rate and ETA on a terminal, plain periodic lines otherwise (logs, CI).
// It imports only the standard library and go-isatty; start at New.
//
// Imports: no package of the module.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
)

// Reporter shows the progress of one operation. Update is safe for
// concurrent use and cheap enough to call for every batch.
type Reporter struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	tty      bool
	now      func() time.Time
	start    time.Time
	last     time.Time
	every    time.Duration
	done     int64
	total    int64
	drawn    bool
	finished bool
}

// New returns a reporter writing to w, with a bar when w is a terminal.
func New(w io.Writer, label string) *Reporter {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
	}
	return newReporter(w, label, tty, time.Now)
}

func newReporter(w io.Writer, label string, tty bool, now func() time.Time) *Reporter {
	r := &Reporter{w: w, label: label, tty: tty, now: now, every: 2 * time.Second}
	if tty {
		r.every = 100 * time.Millisecond
	}
	r.start = now()
	return r
}

// Update records that done of total units are finished; it redraws at most
// every 100 ms on a terminal and prints a line at most every 2 s otherwise.
func (r *Reporter) Update(done, total int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done, r.total = done, total
	if t := r.now(); !r.drawn || t.Sub(r.last) >= r.every {
		r.last, r.drawn = t, true
		r.draw(t)
	}
}

// Finish prints the final state and ends the bar's line.
func (r *Reporter) Finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return
	}
	r.finished = true
	t := r.now()
	r.draw(t)
	if r.tty {
		fmt.Fprintln(r.w)
	}
}

func (r *Reporter) draw(t time.Time) {
	elapsed := t.Sub(r.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(r.done) / elapsed.Seconds()
	}
	eta := "?"
	if rate > 0 && r.total >= r.done {
		eta = time.Duration(float64(r.total-r.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	pct := 100.0
	if r.total > 0 {
		pct = 100 * float64(r.done) / float64(r.total)
	}
	stats := fmt.Sprintf("%d/%d (%.0f%%) %.0f/s ETA %s", r.done, r.total, pct, rate, eta)
	if !r.tty {
		fmt.Fprintf(r.w, "%s: %s\n", r.label, stats)
		return
	}
	const width = 30
	fill := int(pct / 100 * width)
	fill = max(0, min(width, fill))
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	// \r and clear-to-end-of-line: redraw in place without leftovers.
	fmt.Fprintf(r.w, "\r%s [%s] %s\x1b[K", r.label, bar, stats)
}
