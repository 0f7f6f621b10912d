package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/errs"
)

// writeError runs WriteError with a logger writing to logs.
func writeError(t *testing.T, err error, logs *bytes.Buffer) *httptest.ResponseRecorder {
	t.Helper()
	log := zerolog.New(logs).With().Str("request_id", "req-1").Logger()
	r := httptest.NewRequestWithContext(log.WithContext(context.Background()), http.MethodGet, "/x", nil)
	w := httptest.NewRecorder()
	gateway.WriteError(w, r, err)
	return w
}

func TestWriteErrorBody(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{
			name:   "with ID",
			err:    errs.NotFound("QUERY-SAFrt", "Identity Provider Configuration doesn't exist"),
			status: 404,
			body: `{"code":5,"message":"Identity Provider Configuration doesn't exist (QUERY-SAFrt)",` +
				`"details":[{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"QUERY-SAFrt",` +
				`"message":"Identity Provider Configuration doesn't exist"}]}`,
		},
		{
			name:   "without ID",
			err:    errs.InvalidArgument("", "invalid AddIDPToLoginPolicyRequest.IdpId: value length must be between 1 and 200 runes, inclusive"),
			status: 400,
			body:   `{"code":3,"message":"invalid AddIDPToLoginPolicyRequest.IdpId: value length must be between 1 and 200 runes, inclusive"}`,
		},
		{
			name:   "wrapped",
			err:    fmt.Errorf("add idp: %w", errs.AlreadyExists("COMMAND-1", "exists")),
			status: 409,
			body: `{"code":6,"message":"exists (COMMAND-1)","details":[{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail",` +
				`"id":"COMMAND-1","message":"exists"}]}`,
		},
		{
			name:   "html is not escaped",
			err:    errs.InvalidArgument("", "a<b & c>d"),
			status: 400,
			body:   `{"code":3,"message":"a<b & c>d"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			w := writeError(t, tt.err, &logs)
			if w.Code != tt.status || w.Body.String() != tt.body {
				t.Errorf("got %d %s\nwant %d %s", w.Code, w.Body, tt.status, tt.body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if logs.Len() != 0 {
				t.Errorf("client error was logged: %s", &logs)
			}
		})
	}
}

func TestWriteErrorStatusTable(t *testing.T) {
	tests := []struct {
		kind   errs.Kind
		status int
	}{
		{errs.KindInvalidArgument, 400},
		{errs.KindFailedPrecondition, 400},
		{errs.KindUnauthenticated, 401},
		{errs.KindPermissionDenied, 403},
		{errs.KindNotFound, 404},
		{errs.KindAlreadyExists, 409},
		{errs.KindAborted, 409},
		{errs.KindResourceExhausted, 429},
		{errs.KindUnimplemented, 501},
		{errs.KindInternal, 500},
		{errs.KindUnavailable, 503},
		{errs.KindDeadlineExceeded, 504},
		{errs.KindUnknown, 500},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			w := writeError(t, errs.New(tt.kind, "ID-1", "msg"), &bytes.Buffer{})
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			var body struct{ Code int }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Code != int(tt.kind) {
				t.Errorf("code = %d (%v), want %d", body.Code, err, tt.kind)
			}
		})
	}
}

func TestWriteErrorHidesInternalCause(t *testing.T) {
	secret := "pq: password authentication failed for user s3cr3t"
	tests := []struct {
		name string
		err  error
		body string
	}{
		{"plain error", errors.New(secret), `{"code":13,"message":"Internal error"}`},
		{"errs.Internal", errs.Internal("COMMAND-9x", errors.New(secret)),
			`{"code":13,"message":"Internal error (COMMAND-9x)","details":[{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"COMMAND-9x","message":"Internal error"}]}`},
		{"internal kind with a detailed message", errs.New(errs.KindInternal, "", secret), `{"code":13,"message":"Internal error"}`},
		{"unknown kind", errs.New(errs.KindUnknown, "", secret), `{"code":2,"message":"Internal error"}`},
		{"kind outside the table", errs.New(errs.Kind(99), "", secret), `{"code":13,"message":"Internal error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			w := writeError(t, tt.err, &logs)
			if w.Code != 500 || w.Body.String() != tt.body {
				t.Errorf("got %d %s, want 500 %s", w.Code, w.Body, tt.body)
			}
			if got := strings.Count(logs.String(), "s3cr3t"); got != 1 {
				t.Errorf("cause logged %d times, want once: %s", got, &logs)
			}
			if !strings.Contains(logs.String(), `"request_id":"req-1"`) {
				t.Errorf("log line lacks the request ID: %s", &logs)
			}
		})
	}
}

func TestWriteErrorSpecialCauses(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		err    error
		status int
		body   string
	}{
		{"deadline", context.Background(), fmt.Errorf("query: %w", context.DeadlineExceeded),
			503, `{"code":14,"message":"service unavailable"}`},
		{"body too large", context.Background(), fmt.Errorf("x: %w", gateway.ErrBodyTooLarge),
			413, `{"code":8,"message":"request body too large"}`},
		{"max bytes error", context.Background(), &http.MaxBytesError{Limit: 10},
			413, `{"code":8,"message":"request body too large"}`},
		{"client gone", canceled, context.Canceled, 499, `{"code":1,"message":"request canceled"}`},
		{"canceled while the client waits", context.Background(), context.Canceled,
			500, `{"code":13,"message":"Internal error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequestWithContext(tt.ctx, http.MethodGet, "/x", nil)
			w := httptest.NewRecorder()
			gateway.WriteError(w, r, tt.err)
			if w.Code != tt.status || w.Body.String() != tt.body {
				t.Errorf("got %d %s, want %d %s", w.Code, w.Body, tt.status, tt.body)
			}
		})
	}
}

func TestRoutingErrorHandlers(t *testing.T) {
	w := httptest.NewRecorder()
	gateway.NotFoundHandler(w, httptest.NewRequest(http.MethodGet, "/nope", nil))
	if w.Code != 404 || w.Body.String() != `{"code":5,"message":"Not Found"}` {
		t.Errorf("not found: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	gateway.MethodNotAllowedHandler(w, httptest.NewRequest(http.MethodGet, "/nope", nil))
	if w.Code != 405 || w.Body.String() != `{"code":12,"message":"Method Not Allowed"}` {
		t.Errorf("method not allowed: %d %s", w.Code, w.Body)
	}
}
