package archtest

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/idledger/idledger/command"
)

const module = "github.com/idledger/idledger"

// pkg is one package of the module as `go list` reports it.
type pkg struct {
	ImportPath string
	Dir        string
	Name       string
	Imports    []string
	GoFiles    []string
}

// rel is the path of a package of the module relative to its root
// ("api/gateway"), or "" for any other package.
func rel(path string) string {
	if path == module {
		return "."
	}
	r, ok := strings.CutPrefix(path, module+"/")
	if !ok {
		return ""
	}
	return r
}

func packages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var ps []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if len(p.GoFiles) > 0 {
			ps = append(ps, p)
		}
	}
	if len(ps) < 10 {
		t.Fatalf("go list found only %d packages", len(ps))
	}
	return ps
}

// Transports decode, call a command or query and encode; they never touch
// the store or SQL (DESIGN.md §4).
var transportRoots = []string{"api", "rpc", "oidc", "ui"}

// The domain never sees a request, a header or a protobuf message.
var domain = []string{"command", "query", "authz", "errs", "idp", "events", "eventstore", "projection", "secretbox", "audit"}

func under(r string, roots []string) bool {
	for _, root := range roots {
		if r == root || strings.HasPrefix(r, root+"/") {
			return true
		}
	}
	return false
}

// forbidden says why package p may not import imp, or "".
func forbidden(p, imp string) string {
	r, ri := rel(p), rel(imp)
	switch {
	case under(r, transportRoots):
		if slices.Contains([]string{"eventstore", "projection", "migrations"}, ri) || strings.HasPrefix(imp, "github.com/jackc/pgx") {
			return "a transport touches the store or SQL"
		}
	case slices.Contains(domain, r):
		if imp == "net/http" || strings.HasPrefix(imp, "net/http/") {
			return "the domain sees HTTP"
		}
		if ri != "" && under(ri, transportRoots) {
			return "the domain imports a transport"
		}
		for _, p := range []string{"google.golang.org/protobuf", "google.golang.org/grpc", "connectrpc.com/"} {
			if strings.HasPrefix(imp, p) {
				return "the domain sees protobuf or RPC"
			}
		}
	}
	// idp is a leaf: the standard library, errs, and pbjson (itself a leaf
	// of the standard library and errs) for its one Duration.
	if r == "idp" && strings.Contains(imp, ".") && ri == "" {
		return "idp imports only the standard library, errs and internal/pbjson"
	}
	if r == "idp" && ri != "" && ri != "errs" && ri != "internal/pbjson" {
		return "idp imports only the standard library, errs and internal/pbjson"
	}
	if r == "internal/pbjson" && (ri != "" && ri != "errs" || ri == "" && strings.Contains(imp, ".")) {
		return "pbjson is a leaf: the standard library and errs"
	}
	return ""
}

// TestImportRules fails on an import that crosses the seam.
func TestImportRules(t *testing.T) {
	for _, p := range packages(t) {
		for _, imp := range p.Imports {
			if why := forbidden(p.ImportPath, imp); why != "" {
				t.Errorf("%s imports %s: %s", rel(p.ImportPath), imp, why)
			}
		}
	}
}

// TestForbiddenCatchesBreaches: the rules are not vacuous.
func TestForbiddenCatchesBreaches(t *testing.T) {
	for _, c := range [][2]string{
		{module + "/api", module + "/eventstore"},
		{module + "/api/gateway", "github.com/jackc/pgx/v5/pgconn"},
		{module + "/rpc", module + "/projection"},
		{module + "/command", "net/http"},
		{module + "/audit", module + "/api/gateway"},
		{module + "/query", "google.golang.org/protobuf/proto"},
		{module + "/idp", module + "/internal/jsontext"},
		{module + "/idp", "golang.org/x/oauth2"},
		{module + "/idp", module + "/command"},
		{module + "/internal/pbjson", module + "/idp"},
	} {
		if forbidden(c[0], c[1]) == "" {
			t.Errorf("%s → %s is allowed", c[0], c[1])
		}
	}
	for _, c := range [][2]string{
		{module + "/api", module + "/command"},
		{module + "/command", module + "/eventstore"},
		{module + "/idp", module + "/errs"},
		{module + "/idp", "encoding/json"},
	} {
		if why := forbidden(c[0], c[1]); why != "" {
			t.Errorf("%s → %s refused: %s", c[0], c[1], why)
		}
	}
}

// TestCommandsTakeTypedInputs: no exported command takes a request body.
func TestCommandsTakeTypedInputs(t *testing.T) {
	raw := []reflect.Type{reflect.TypeOf([]byte(nil)), reflect.TypeOf(json.RawMessage(nil))}
	ct := reflect.TypeOf(&command.Commands{})
	if ct.NumMethod() < 10 {
		t.Fatalf("only %d methods on Commands", ct.NumMethod())
	}
	for i := range ct.NumMethod() {
		m := ct.Method(i)
		for j := 1; j < m.Type.NumIn(); j++ {
			in := m.Type.In(j)
			if slices.Contains(raw, in) {
				t.Errorf("Commands.%s takes %s as argument %d: a command takes a typed input", m.Name, in, j)
			}
		}
	}
}

var importsLine = regexp.MustCompile(`(?s)Imports:(.*?)(\.\s|\.$|\n//\s*\n|\n[^/])`)

// declaredImports reads the module packages that the "Imports:" sentence
// of a doc.go names; a name after "no" is a prohibition, not an import.
func declaredImports(src string, known map[string]bool) (map[string]bool, bool) {
	m := importsLine.FindStringSubmatch(src)
	if m == nil {
		return nil, false
	}
	text := strings.ReplaceAll(m[1], "//", " ")
	words := strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune(" \t\n,;()", r) })
	out := map[string]bool{}
	for i, w := range words {
		if w != genAll {
			w = strings.TrimSuffix(w, ".")
		}
		if (known[w] || w == genAll) && (i == 0 || words[i-1] != "no") {
			out[w] = true
		}
	}
	return out, true
}

// genAll in an Imports line names any of the generated packages.
const genAll = "gen/..."

// generated reports whether the package at r is code that scripts/protogen
// generates (gen/zitadel/...): gen/doc.go and one row of the table speak
// for all of them.
func generated(r string) bool { return strings.HasPrefix(r, "gen/") }

// packageDoc is the source of the file that holds p's package comment:
// doc.go, or else the file whose comment starts "// Package".
func packageDoc(p pkg) ([]byte, error) {
	if src, err := os.ReadFile(filepath.Join(p.Dir, "doc.go")); err == nil {
		return src, nil
	}
	for _, f := range p.GoFiles {
		src, err := os.ReadFile(filepath.Join(p.Dir, f))
		if err != nil {
			return nil, err
		}
		if strings.Contains(string(src), "// Package "+p.Name+" ") || strings.Contains(string(src), "// Command ") {
			return src, nil
		}
	}
	return nil, errors.New("no package comment (doc.go or a \"// Package\" comment)")
}

// TestDocImportsLines: every package's doc.go says in an "Imports:" line
// which packages of the module it imports, and says it truly.
func TestDocImportsLines(t *testing.T) {
	ps := packages(t)
	known := map[string]bool{}
	for _, p := range ps {
		known[rel(p.ImportPath)] = true
	}
	for _, p := range ps {
		r := rel(p.ImportPath)
		if generated(r) {
			continue
		}
		src, err := packageDoc(p)
		if err != nil {
			t.Errorf("%s: %v", r, err)
			continue
		}
		said, ok := declaredImports(string(src), known)
		if !ok {
			t.Errorf("%s/doc.go has no \"Imports:\" line", r)
			continue
		}
		if p.Name == "main" && strings.Contains(string(src), "Imports: any package") {
			continue // a command wires everything together
		}
		real := map[string]bool{}
		for _, imp := range p.Imports {
			if ri := rel(imp); ri != "" {
				real[ri] = true
			}
		}
		for ri := range real {
			if generated(ri) && said[genAll] {
				real[genAll] = true
				continue
			}
			if !said[ri] {
				t.Errorf("%s imports %s, which its doc.go Imports line does not name", r, ri)
			}
		}
		for ri := range said {
			if !real[ri] {
				t.Errorf("%s/doc.go names %s in its Imports line, but does not import it", r, ri)
			}
		}
	}
}

// TestArchitecturePackageTable: docs/architecture.md has a row for every
// package, and no row for a package that is gone.
func TestArchitecturePackageTable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	// A row's first cell names one or more packages, each in backquotes.
	name := regexp.MustCompile("`([a-z0-9_/.-]+)`")
	rows := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || strings.TrimSpace(cells[0]) != "" || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			rows[strings.TrimSuffix(m[1], "/")] = true
		}
	}
	known := map[string]bool{}
	for _, p := range packages(t) {
		r := rel(p.ImportPath)
		known[r] = true
		if !rows[r] && !generated(r) {
			t.Errorf("docs/architecture.md: the package table has no row for %s", r)
		}
	}
	for r := range rows {
		if strings.Contains(r, ".") {
			continue // a file, not a package
		}
		if !known[r] {
			t.Errorf("docs/architecture.md: the package table names %s, which is no package", r)
		}
	}
}
