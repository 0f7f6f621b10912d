package openapi

import (
	"bytes"
	"io"
	"mime"
	"net/http"
)

// Transport returns an http.RoundTripper that sends requests through next
// (http.DefaultTransport when nil) and validates every response with v,
// reporting mismatches with t.Errorf. End-to-end tests use it as their
// client's transport, so every response they receive is checked:
//
//	client := &http.Client{Transport: v.Transport(t, nil)}
//
// The body is read in full and handed back unchanged. NDJSON streams are
// left unread (they may never end); their status and content type are
// still checked.
func (v *Validator) Transport(t TB, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err != nil {
			return resp, err
		}
		var body []byte
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/x-ndjson" {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return nil, err
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
		}
		if err := v.ValidateResponse(req, resp.StatusCode, resp.Header, body); err != nil {
			t.Errorf("openapi: %v", err)
		}
		return resp, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
