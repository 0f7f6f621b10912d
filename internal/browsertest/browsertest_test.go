package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestCollectorCatches: the collector is not blind. A page with a known
// console.error, an uncaught exception, an image its CSP blocks and a
// script that is not found shows each in Errors; ErrorsExcept drops
// only the expected failed load; a clean page shows nothing.
func TestCollectorCatches(t *testing.T) {
	b := New(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/noisy":
			w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; img-src data:")
			fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>noisy</title><link rel="icon" href="data:,">`+
				`<script src="/missing.js"></script></head><body><main><h1>noisy</h1>`+
				`<img src="/blocked.png" alt="x"><script>console.error("selftest-boom-42")</script>`+
				`<script>throw new Error("selftest-thrown-7")</script><p id="done">done</p></main></body></html>`)
		case "/clean":
			w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src data:")
			fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>clean</title><link rel="icon" href="data:,"></head>`+
				`<body><main><h1 id="done">clean</h1></main></body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)

	b.Do(chromedp.Navigate(srv.URL+"/clean"), chromedp.WaitVisible(chromedp.ID("done")))
	// The clean page's entries, if any, would arrive with the noisy one's.
	b.Do(chromedp.Navigate(srv.URL+"/noisy"), chromedp.WaitVisible(chromedp.ID("done")))
	want := map[string]func(string) bool{
		"console.error": func(e string) bool {
			return strings.HasPrefix(e, "console.error: ") && strings.Contains(e, "selftest-boom-42")
		},
		"exception": func(e string) bool { return strings.HasPrefix(e, "exception: ") },
		"CSP violation": func(e string) bool {
			return strings.Contains(e, "Content Security Policy") && strings.Contains(e, "blocked.png")
		},
		"404": func(e string) bool {
			st, u, ok := FailedLoad(e)
			return ok && st == 404 && u == srv.URL+"/missing.js"
		},
	}
	// The log events come asynchronously: wait (bounded) for all four.
	found := map[string]bool{}
	for deadline := time.Now().Add(10 * time.Second); len(found) < len(want) && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, e := range b.Errors() {
			for name, match := range want {
				if match(e) {
					found[name] = true
				}
			}
		}
	}
	for name := range want {
		if !found[name] {
			t.Errorf("the collector missed the %s; it saw %q", name, b.Errors())
		}
	}
	for _, e := range b.Errors() {
		if strings.Contains(e, "/clean") {
			t.Errorf("an entry for the clean page: %s", e)
		}
	}
	// ErrorsExcept drops only the expected failed load.
	rest := b.ErrorsExcept(map[string]int{srv.URL + "/missing.js": 404})
	if len(rest) != len(b.Errors())-1 {
		t.Fatalf("ErrorsExcept kept %d of %d: %q", len(rest), len(b.Errors()), rest)
	}
	if len(b.ErrorsExcept(map[string]int{srv.URL + "/missing.js": 403})) != len(b.Errors()) {
		t.Fatal("ErrorsExcept dropped a load of another status")
	}
}
