package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestGetIDPV2ReadsItsWrites: GET /v2/idps/{id} answers from its cache of
// rendered bodies only for the row version it has just read, so every
// acknowledged write shows in the next read, also while other readers keep
// the cache filled (some of them with the version before the write), and a
// cached body is the body rendered.
func TestGetIDPV2ReadsItsWrites(t *testing.T) {
	env := apptest.New(t)
	id := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/google",
		`{"name":"G0","clientId":"c","clientSecret":"SECRET-view-0"}`)["id"].(string)
	get := func() []byte {
		t.Helper()
		status, body := env.Do(t, "GET", "/v2/idps/"+id, nil)
		if status != http.StatusOK {
			t.Fatalf("GET: %d %s", status, body)
		}
		return body
	}
	first, again := get(), get()
	if !bytes.Equal(first, again) {
		t.Fatalf("cached body differs from the rendered one:\n%s\n%s", first, again)
	}

	stop := make(chan struct{})
	var readers sync.WaitGroup
	var reads atomic.Int64
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if status, body := env.Do(t, "GET", "/v2/idps/"+id, nil); status != http.StatusOK {
					t.Errorf("concurrent GET: %d %s", status, body)
					return
				}
				reads.Add(1)
			}
		}()
	}
	for i := 1; i <= 15; i++ {
		name := fmt.Sprintf("G%d", i)
		env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/idps/google/"+id,
			fmt.Sprintf(`{"name":%q,"clientId":"c%d","clientSecret":"SECRET-view-%d"}`, name, i, i))
		for range 2 {
			var got struct {
				IDP struct {
					Name   string `json:"name"`
					Config struct {
						Google struct {
							ClientID string `json:"clientId"`
						} `json:"google"`
					} `json:"config"`
				} `json:"idp"`
			}
			body := get()
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if got.IDP.Name != name || got.IDP.Config.Google.ClientID != fmt.Sprintf("c%d", i) {
				t.Fatalf("after write %d GET answered %s", i, body)
			}
			if bytes.Contains(body, []byte("SECRET-view")) {
				t.Fatalf("secret in the view: %s", body)
			}
		}
	}
	close(stop)
	readers.Wait()
	t.Logf("%d concurrent reads", reads.Load())

	env.MustDo(t, http.StatusOK, "DELETE", "/admin/v1/idps/templates/"+id, nil)
	if status, body := env.Do(t, "GET", "/v2/idps/"+id, nil); status != http.StatusNotFound {
		t.Fatalf("GET after remove: %d %s", status, body)
	}
}

// BenchmarkGetIDPV2 is one GET /v2/idps/{id} over loopback HTTP, client
// and server in this process (allocations per request are the stable
// figure on a shared machine; docs/performance.md).
func BenchmarkGetIDPV2(b *testing.B) {
	env := apptest.New(b)
	id := env.MustDo(b, http.StatusOK, "POST", "/admin/v1/idps/generic_oidc",
		map[string]any{"name": "OIDC", "issuer": "https://issuer.example", "clientId": "c", "clientSecret": "s", "scopes": []string{"openid"}})["id"].(string)
	b.ReportAllocs()
	for b.Loop() {
		if status, body := env.Do(b, "GET", "/v2/idps/"+id, nil); status != http.StatusOK {
			b.Fatalf("%d %s", status, body)
		}
	}
}
