package openapi

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed openapi.yaml
var document []byte

// Document returns the raw YAML document. The slice is a copy.
func Document() []byte { return slices.Clone(document) }

// Handler serves the document for GET /openapi.yaml. It is public (no
// token), like /healthz: the document describes the API, not the data.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(document)
	})
}

// load parses and validates the embedded document once; the result is
// shared and must not be modified.
var load = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(document)
	if err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate openapi.yaml: %w", err)
	}
	return doc, nil
})

// Load returns the parsed, validated document. Callers must not modify it.
// Errors: the document does not parse or is not valid OpenAPI 3 (a build
// defect, caught by this package's tests).
func Load() (*openapi3.T, error) { return load() }

// Route is one method and path template of the document, in chi's syntax
// ("/v2/idps/{id}"), which is also OpenAPI's.
type Route struct {
	Method string
	Path   string
}

func (r Route) String() string { return r.Method + " " + r.Path }

// Routes lists every operation of the document, sorted by path then method.
// Errors: as Load.
func Routes() ([]Route, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	var out []Route
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, Route{Method: strings.ToUpper(method), Path: path})
		}
	}
	slices.SortFunc(out, func(a, b Route) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	return out, nil
}
