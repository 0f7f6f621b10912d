package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// client talks to the in-process server like any HTTP client would: over
// loopback TCP, with keep-alive connections, authenticated with the admin PAT.
type client struct {
	base  string
	host  string // Host header: selects the instance
	token string
	http  *http.Client
}

// newClient returns a client whose transport keeps enough idle connections
// per host for the highest concurrency, so that no request pays for a new
// TCP connection in the measured loop.
func newClient(base, host, token string, maxConc int) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        maxConc * 2,
		MaxIdleConnsPerHost: maxConc * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &client{base: base, host: host, token: token, http: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// statusError is a non-2xx answer.
type statusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// do sends one request and reads the whole answer (so the connection is
// reused). orgID, when set, is sent as x-zitadel-orgid. A non-2xx status is
// a *statusError.
func (c *client) do(ctx context.Context, method, path, orgID string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Host = c.host
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if orgID != "" {
		req.Header.Set("x-zitadel-orgid", orgID)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if len(out) > 300 {
			out = out[:300]
		}
		return out, &statusError{Method: method, Path: path, Status: resp.StatusCode, Body: string(out)}
	}
	return out, nil
}

// doJSON sends v as JSON and decodes the answer into out (when non-nil).
func (c *client) doJSON(ctx context.Context, method, path, orgID string, v, out any) error {
	var body []byte
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		body = b
	}
	resp, err := c.do(ctx, method, path, orgID, body)
	if err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			return fmt.Errorf("%s %s: decode answer %q: %w", method, path, truncate(resp, 200), err)
		}
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
