package main

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
)

// floorPath is the http_floor scenario's route: the bench server answers
// it before idledger's handler, with no middleware, no authentication and
// no query, the bytes of a get_idp answer. It is the floor of what any
// HTTP read costs in this process (the load generator's client, net/http's
// server, the loopback socket), so its ratio to the raw select bounds the
// ratio any HTTP scenario can reach against a one-statement baseline.
const floorPath = "/_bench/http_floor"

// floorBody is what floorPath answers (set by httpFloor before it runs).
var floorBody atomic.Pointer[[]byte]

// withFloor serves floorPath itself and the rest with next.
func withFloor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != floorPath {
			next.ServeHTTP(w, r)
			return
		}
		body := floorBody.Load()
		if body == nil {
			http.Error(w, "http_floor: no body captured", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*body)
	})
}

// httpFloor GETs floorPath, after capturing a get_idp answer as its body.
func httpFloor(b *bench) op {
	body, captureErr := b.c.do(context.Background(), "GET", "/v2/idps/"+b.fx.idps[0], "", nil)
	if captureErr == nil {
		floorBody.Store(&body)
	}
	return func(ctx context.Context, w *worker) error {
		if captureErr != nil {
			return fmt.Errorf("http_floor: capture a get_idp answer: %w", captureErr)
		}
		return w.timed(func() error {
			out, err := b.c.do(ctx, "GET", floorPath, "", nil)
			if err == nil && len(out) != len(body) {
				err = fmt.Errorf("http_floor: %d bytes, want %d", len(out), len(body))
			}
			return err
		})
	}
}
