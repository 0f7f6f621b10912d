// Package browsertest starts Debian's Chromium headless for tests and
// drives it with chromedp: New gives a browser tab that ends with the
// test, collects console errors, exceptions and CSP violations, and writes
// screenshots. Without Chromium on PATH the test is skipped with a message
// that says what to install.
//
// Imports: the standard library and third-party modules only.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ScreenshotsEnv names the directory the screenshots go to; unset, they
// go to a temporary directory of the test.
const ScreenshotsEnv = "IDLEDGER_SCREENSHOTS"

// timeout bounds one test's use of the browser.
const timeout = 60 * time.Second

// Browser is one headless Chromium tab.
type Browser struct {
	t   testing.TB
	Ctx context.Context
	dir string

	mu     sync.Mutex
	errors []string
}

// ChromiumPath is Chromium's executable on PATH, or "".
func ChromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New starts Chromium headless (without its sandbox when running as root,
// which it refuses otherwise) and opens a tab. Chromium and the tab are
// closed when t ends. Without Chromium, t is skipped.
func New(t testing.TB) *Browser {
	t.Helper()
	path := ChromiumPath()
	if path == "" {
		t.Skip("browsertest: Chromium is not installed (apt-get install chromium); skipping the real-browser test")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.Headless,
		chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(900, 700),
		chromedp.Flag("lang", "en-US"))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	b := &Browser{t: t, Ctx: ctx, dir: os.Getenv(ScreenshotsEnv)}
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	if b.dir == "" {
		b.dir = t.TempDir()
	} else if err := os.MkdirAll(b.dir, 0o755); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value))
				}
				b.note("console." + string(ev.Type) + ": " + strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			b.note("exception: " + ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				b.note(fmt.Sprintf("log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		}
	})
	if err != nil {
		t.Fatalf("browsertest: start Chromium (%s): %v", path, err)
	}
	// A headless page has no window focus: emulate it, so that :focus and
	// keyboard checks behave as in a real window.
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatalf("browsertest: focus emulation: %v", err)
	}
	return b
}

func (b *Browser) note(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errors = append(b.errors, s)
}

// Errors are the console errors, exceptions and error or warning log
// entries (CSP violations among them) seen so far.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// reFailedLoad is Chromium's log entry for a resource answered with an
// error status: "… with a status of 404 (Not Found) <URL>".
var reFailedLoad = regexp.MustCompile(`^log error \(network\): Failed to load resource: the server responded with a status of (\d{3}) \([^)]*\) (\S+)$`)

// FailedLoad is the status and URL of a failed-load entry of Errors, or
// false for any other entry.
func FailedLoad(entry string) (int, string, bool) {
	m := reFailedLoad.FindStringSubmatch(entry)
	if m == nil {
		return 0, "", false
	}
	status, _ := strconv.Atoi(m[1])
	return status, m[2], true
}

// ErrorsExcept are Errors without the failed loads that the test expects:
// expected maps a URL to the status it is meant to answer (a refusal page
// is a 4xx document, which Chromium logs like any failed load). Every
// other entry stays, a 404 of any other URL among them.
func (b *Browser) ErrorsExcept(expected map[string]int) []string {
	var out []string
	for _, e := range b.Errors() {
		if status, u, ok := FailedLoad(e); ok && expected[u] == status {
			continue
		}
		out = append(out, e)
	}
	return out
}

// Do runs actions in the tab and fails the test on an error.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		b.t.Fatalf("browsertest: %v", err)
	}
}

// Run runs one action that answers a value, and fails the test on an error.
func Run[T any](b *Browser, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, a)
	if err != nil {
		b.t.Fatalf("browsertest: %v", err)
	}
	return v
}

// Screenshot writes a full-page PNG of the tab as <dir>/<name>.png and
// returns its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	png := Run(b, chromedp.FullScreenshot(100))
	p := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatalf("browsertest: %v", err)
	}
	return p
}

// Dir is where the screenshots go.
func (b *Browser) Dir() string { return b.dir }
