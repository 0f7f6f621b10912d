package progress

import (
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestPlainLinesAreThrottled(t *testing.T) {
	var b strings.Builder
	c := &clock{t: time.Unix(1000, 0)}
	r := newReporter(&b, "rebuild", false, c.now)
	c.t = c.t.Add(time.Second)
	r.Update(100, 1000) // first update always prints
	r.Update(200, 1000) // throttled
	c.t = c.t.Add(3 * time.Second)
	r.Update(400, 1000)
	r.Finish()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %q", lines)
	}
	if want := "rebuild: 100/1000 (10%) 100/s ETA 9s"; lines[0] != want {
		t.Errorf("line 0 = %q, want %q", lines[0], want)
	}
	if !strings.HasPrefix(lines[1], "rebuild: 400/1000 (40%) 100/s ETA 6s") {
		t.Errorf("line 1 = %q", lines[1])
	}
}

func TestBarRedrawsInPlace(t *testing.T) {
	var b strings.Builder
	c := &clock{t: time.Unix(1000, 0)}
	r := newReporter(&b, "rebuild", true, c.now)
	c.t = c.t.Add(time.Second)
	r.Update(500, 1000)
	r.Finish()
	out := b.String()
	if strings.Count(out, "\r") != 2 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("bar output %q", out)
	}
	if !strings.Contains(out, "[===============               ] 500/1000 (50%)") {
		t.Errorf("bar output %q", out)
	}
}
