package audit_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idledger/idledger/audit"
	"github.com/idledger/idledger/events"
)

var update = flag.Bool("update", false, "rewrite docs/events.md from events.Catalog()")

// TestEventsDoc keeps docs/events.md equal to what the catalog generates, so
// the reference cannot drift from the code. Regenerate with go generate ./audit.
func TestEventsDoc(t *testing.T) {
	path := filepath.Join("..", filepath.FromSlash(audit.EventsDocPath))
	want := audit.EventsDoc()
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go generate ./audit)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with events.Catalog(); run: go generate ./audit", audit.EventsDocPath)
	}
	// Every registered event type has its own section.
	for _, info := range events.Catalog() {
		if !strings.Contains(string(got), "### `"+info.Type+"`\n\n") {
			t.Errorf("%s does not document %s", audit.EventsDocPath, info.Type)
		}
	}
}
