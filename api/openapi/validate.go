package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Validator checks HTTP responses against the document. It is safe for
// concurrent use.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	errSch *openapi3.Schema
}

// NewValidator returns a Validator for the embedded document. Errors: the
// document does not load (see Load) or its paths do not compile to a router.
func NewValidator() (*Validator, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi router: %w", err)
	}
	ref := doc.Components.Schemas["Error"]
	if ref == nil || ref.Value == nil {
		return nil, errors.New("openapi: components.schemas.Error is missing")
	}
	return &Validator{doc: doc, router: router, errSch: ref.Value}, nil
}

// ValidateResponse checks one response to req: its status must be declared
// for the operation (or fall under `default`, whose body is the Error
// schema), its Content-Type must be declared, and a JSON body must match the
// schema; NDJSON bodies are checked line by line. A request whose path or
// method the document does not know must have been answered 404 or 405 with
// the Error body. The request body is not validated (handlers do that, with
// ZITADEL's messages). Errors describe every mismatch found.
func (v *Validator) ValidateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := v.router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		return v.validateUnrouted(req, http.StatusNotFound, status, header, body)
	case errors.Is(err, routers.ErrMethodNotAllowed):
		return v.validateUnrouted(req, http.StatusMethodNotAllowed, status, header, body)
	case err != nil:
		return fmt.Errorf("%s %s: find route: %w", req.Method, req.URL.Path, err)
	}
	op := fmt.Sprintf("%s %s (%s)", req.Method, req.URL.Path, route.Path)

	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
	ct := header.Get("Content-Type")
	mediaType, _, _ := mime.ParseMediaType(ct)
	isJSON := mediaType == "application/json"
	if !isJSON {
		// kin-openapi decodes only some media types; for the others check
		// that the type is declared, and NDJSON line by line below.
		opts.ExcludeResponseBody = true
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route, Options: opts,
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return fmt.Errorf("%s: status %d: %w", op, status, err)
	}
	if isJSON {
		return nil
	}
	resp := route.Operation.Responses.Status(status)
	if resp == nil {
		resp = route.Operation.Responses.Default()
	}
	if resp == nil || resp.Value == nil {
		return fmt.Errorf("%s: status %d is not declared", op, status)
	}
	if len(resp.Value.Content) == 0 {
		return nil // the operation declares no body for this status
	}
	media := resp.Value.Content.Get(mediaType)
	if media == nil {
		return fmt.Errorf("%s: status %d: content type %q is not declared", op, status, ct)
	}
	if mediaType == "application/x-ndjson" && media.Schema != nil && media.Schema.Value != nil {
		return validateNDJSON(op, media.Schema.Value, body)
	}
	return nil
}

// validateUnrouted checks the answer to a request outside the document: the
// router's 404 or 405 with the standard Error body.
func (v *Validator) validateUnrouted(req *http.Request, want, status int, header http.Header, body []byte) error {
	op := fmt.Sprintf("%s %s (not in the document)", req.Method, req.URL.Path)
	if status != want {
		return fmt.Errorf("%s: got status %d, want %d", op, status, want)
	}
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); mt != "application/json" {
		return fmt.Errorf("%s: content type %q, want application/json", op, header.Get("Content-Type"))
	}
	var val any
	if err := json.Unmarshal(body, &val); err != nil {
		return fmt.Errorf("%s: body is not JSON: %w", op, err)
	}
	if err := v.errSch.VisitJSON(val, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("%s: body is not an Error: %w", op, err)
	}
	return nil
}

// validateNDJSON checks every non-empty line of body against schema. An
// empty object is a heartbeat and always passes.
func validateNDJSON(op string, schema *openapi3.Schema, body []byte) error {
	var errs []error
	for i, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || bytes.Equal(line, []byte("{}")) {
			continue
		}
		var val any
		if err := json.Unmarshal(line, &val); err != nil {
			errs = append(errs, fmt.Errorf("line %d is not JSON: %w", i+1, err))
			continue
		}
		if err := schema.VisitJSON(val, openapi3.MultiErrors()); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", i+1, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}
