package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docTable returns the rows of the first Markdown table after the line
// heading, each as its trimmed cells, without the header and separator rows.
func docTable(t *testing.T, file, heading string) [][]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("%s has no heading %q", file, heading)
	}
	var rows [][]string
	inTable := false
	for _, l := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(l, "|") {
			if inTable {
				break
			}
			if strings.HasPrefix(l, "#") {
				break
			}
			continue
		}
		inTable = true
		cells := strings.Split(strings.Trim(l, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	if len(rows) < 2 {
		t.Fatalf("%s: no table after %q", file, heading)
	}
	return rows[2:]
}

var flagCell = regexp.MustCompile("^`--([a-z0-9-]+)`$")

// documentedFlags returns the flag names of column col of rows, and fails
// on a cell that is not a single `--flag`.
func documentedFlags(t *testing.T, file string, rows [][]string, col int) []string {
	t.Helper()
	var out []string
	for _, r := range rows {
		m := flagCell.FindStringSubmatch(r[col])
		if m == nil {
			t.Errorf("%s: row %q: column %d is not a `--flag`", file, r, col+1)
			continue
		}
		out = append(out, m[1])
	}
	return out
}

func flagNames(fs *flag.FlagSet) []string {
	var out []string
	fs.VisitAll(func(f *flag.Flag) { out = append(out, f.Name) })
	return out
}

// diff reports the names of want missing from got, and those of got that
// want does not have.
func diff(t *testing.T, what string, got, want []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: --%s is not documented", what, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("%s: --%s is documented but no such flag exists", what, g)
		}
	}
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g] {
			t.Errorf("%s: --%s is documented twice", what, g)
		}
		seen[g] = true
	}
}

// TestDocsListEveryFlag: docs/operations.md documents every flag of every
// command, and nothing else. The configuration flags that every command
// takes are in the table under "## Configuration"; each command's own flags
// are in the table under "## Command flags", one row per command and flag.
// README.md's configuration table lists the configuration flags too.
func TestDocsListEveryFlag(t *testing.T) {
	const ops = "../../docs/operations.md"
	common := flagNames(commonFlags())
	diff(t, ops+" ## Configuration", documentedFlags(t, ops, docTable(t, ops, "## Configuration"), 0), common)
	diff(t, "README.md ## Configuration", documentedFlags(t, "README.md", docTable(t, "../../README.md", "## Configuration"), 0), common)

	rows := docTable(t, ops, "## Command flags")
	documented := map[string][]string{}
	for _, r := range rows {
		name := strings.TrimPrefix(strings.Trim(r[0], "`"), "idledger ")
		documented[name] = append(documented[name], documentedFlags(t, ops, [][]string{r}, 1)...)
	}
	for _, c := range commands {
		if c.run == nil && c.setup == nil {
			continue // version takes no flags
		}
		var own []string
		for _, name := range flagNames(commandFlags(c)) {
			if !slices.Contains(common, name) {
				own = append(own, name)
			}
		}
		diff(t, ops+" ## Command flags, "+c.name, documented[c.name], own)
		delete(documented, c.name)
	}
	for name := range documented {
		t.Errorf("%s ## Command flags: %q is not a command", ops, name)
	}
}

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)
)

// anchor is GitHub's anchor of a heading: lower case, punctuation dropped,
// spaces as dashes.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocsLinksResolve: every relative link of README.md, CHANGELOG.md and
// docs/*.md names a file inside the repository, and a #fragment names a
// heading of it.
func TestDocsLinksResolve(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	files = append(files, filepath.Join(root, "README.md"), filepath.Join(root, "CHANGELOG.md"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, file)
		for _, m := range mdLink.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, frag, _ := strings.Cut(target, "#")
			dest := file
			if path != "" {
				dest = filepath.Join(filepath.Dir(file), path)
			}
			if r, err := filepath.Rel(root, dest); err != nil || strings.HasPrefix(r, "..") {
				t.Errorf("%s links %s, outside the repository", rel, target)
				continue
			}
			content, err := os.ReadFile(dest)
			if err != nil {
				t.Errorf("%s links %s, which does not exist", rel, target)
				continue
			}
			if frag == "" {
				continue
			}
			found := false
			for _, h := range mdHeading.FindAllStringSubmatch(string(content), -1) {
				found = found || anchor(strings.TrimSpace(h[1])) == frag
			}
			if !found {
				t.Errorf("%s links %s, but %s has no such heading", rel, target, path)
			}
		}
	}
}
