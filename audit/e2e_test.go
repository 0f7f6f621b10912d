package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/audit"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/app/apptest"
)

// TestReplayEqualsGetIDP: for IdPs written through the HTTP API, the replay
// at a moment equals what GET /v2/idps/{id} answered at that moment.
func TestReplayEqualsGetIDP(t *testing.T) {
	env := apptest.New(t)
	store := env.App.Store()
	ctx := context.Background()
	for _, tc := range []struct {
		kind, add, update, secret string
	}{
		{"google", `{"name":"Google","clientId":"g-1","clientSecret":"SECRET-g-1","scopes":["openid"],"providerOptions":{"isLinkingAllowed":true,"autoLinking":"AUTO_LINKING_OPTION_EMAIL"}}`,
			`{"name":"Google 2","clientId":"g-2","scopes":["openid","email"],"providerOptions":{"isCreationAllowed":true}}`, "SECRET-g-1"},
		{"oauth", `{"name":"OAuth","clientId":"o-1","clientSecret":"SECRET-o-1","authorizationEndpoint":"https://a.example/auth","tokenEndpoint":"https://a.example/token","userEndpoint":"https://a.example/user","idAttribute":"sub","usePkce":true}`,
			`{"name":"OAuth 2","clientId":"o-2","clientSecret":"SECRET-o-2","authorizationEndpoint":"https://b.example/auth","tokenEndpoint":"https://b.example/token","userEndpoint":"https://b.example/user","idAttribute":"id"}`, "SECRET-o-2"},
		{"ldap", `{"name":"LDAP","servers":["ldaps://ldap.example"],"baseDn":"dc=example","bindDn":"cn=admin","bindPassword":"SECRET-l-1","userBase":"uid","userObjectClasses":["person"],"userFilters":["uid"],"timeout":"10s","attributes":{"idAttribute":"uid"}}`,
			`{"name":"LDAP 2","servers":["ldaps://ldap2.example"],"baseDn":"dc=example","bindDn":"cn=admin","userBase":"uid","userObjectClasses":["person"],"userFilters":["uid"],"attributes":{"idAttribute":"uid"}}`, "SECRET-l-1"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			created := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/"+tc.kind, tc.add)
			id := created["id"].(string)
			get := func() (any, time.Time) {
				_, body := env.Do(t, "GET", "/v2/idps/"+id, nil)
				var resp struct {
					IDP json.RawMessage `json:"idp"`
				}
				if err := json.Unmarshal(body, &resp); err != nil || resp.IDP == nil {
					t.Fatalf("GET /v2/idps/%s: %s", id, body)
				}
				var v any
				_ = json.Unmarshal(resp.IDP, &v)
				return v, time.Now()
			}
			first, t1 := get()
			// A one-shot read: wait out transactions still open elsewhere.
			if err := store.Barrier(ctx, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			evs, err := store.Read(ctx, eventstore.Filter{InstanceID: env.InstanceID, AggregateIDs: []string{id}})
			if err != nil || len(evs) != 1 {
				t.Fatalf("events of %s: %v %v", id, evs, err)
			}
			p1 := evs[0].Position
			time.Sleep(5 * time.Millisecond)
			env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/idps/"+tc.kind+"/"+id, tc.update)
			second, _ := get()
			if reflect.DeepEqual(first, second) {
				t.Fatal("the update changed nothing visible")
			}

			ref := eventstore.AggregateRef{Type: "idp", ID: id}
			check := func(name string, at audit.Point, want any) {
				t.Helper()
				var out bytes.Buffer
				if err := audit.Replay(ctx, store, ref, at, &out); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for _, s := range []string{tc.secret, `"v1:`, "clientSecret", "bindPassword"} {
					if strings.Contains(out.String(), s) {
						t.Errorf("%s: replay output holds %q:\n%s", name, s, out.String())
					}
				}
				var got any
				if err := json.NewDecoder(&out).Decode(&got); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					g, _ := json.Marshal(got)
					w, _ := json.Marshal(want)
					t.Errorf("%s: replayed state\n%s\nGET answered\n%s", name, g, w)
				}
			}
			check("at T1", audit.Point{Time: t1}, first)
			check("at position", audit.Point{Position: p1}, first)
			check("now", audit.Point{}, second)
			ref.InstanceID = env.InstanceID
			check("with instance", audit.Point{Time: t1}, first)
		})
	}
}

// TestListThroughAPI: events written through the HTTP API carry the
// request metadata, and no secret shows in either list format.
func TestListThroughAPI(t *testing.T) {
	env := apptest.New(t)
	status, body := env.Do(t, "POST", "/admin/v1/idps/google",
		`{"name":"Google","clientId":"g-1","clientSecret":"SECRET-api-1"}`, "User-Agent", "audit-test/1.0", "X-Request-Id", "req-audit-1")
	if status != http.StatusOK {
		t.Fatalf("add IdP: %d %s", status, body)
	}
	for _, format := range []string{"jsonl", "table"} {
		var out bytes.Buffer
		o := listArgs(t, "--instance", env.InstanceID, "--type", "idp.", "--format", format)
		if err := audit.List(context.Background(), env.App.Store(), o, &out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "SECRET-api-1") || strings.Contains(out.String(), `v1:`) {
			t.Errorf("%s output leaks the secret:\n%s", format, out.String())
		}
		if format == "table" {
			if !strings.Contains(out.String(), "clientSecret=[encrypted]") {
				t.Errorf("table:\n%s", out.String())
			}
			continue
		}
		recs := parseJSONL(t, out.String())
		if len(recs) != 1 {
			t.Fatalf("got %d records", len(recs))
		}
		r := recs[0]
		if r.Creator != env.AdminUserID || r.RequestID != "req-audit-1" || r.UserAgent != "audit-test/1.0" ||
			r.ClientIP != "127.0.0.1" || r.InstanceID != env.InstanceID || r.Type != "idp.added" {
			t.Errorf("record = %+v", r)
		}
		if !strings.Contains(string(r.Payload), `"clientSecret":"[encrypted]"`) {
			t.Errorf("payload = %s", r.Payload)
		}
	}
}
