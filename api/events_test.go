package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idledger/idledger/api"
	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/query"
)

// eventsEnv is an application whose API serves the event routes, backed by
// the app's own store, so the tests do not depend on how the app is wired.
func eventsEnv(t *testing.T) *apptest.Env {
	t.Helper()
	env := apptest.New(t)
	a := api.New(api.Deps{Commands: env.App.Commands(), Queries: env.App.Queries(), Log: zerolog.Nop()}).
		WithEvents(query.NewEventLog(env.App.Store()))
	r := gateway.NewRouter(zerolog.Nop())
	a.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close) // waits for every handler, streams included
	e := *env
	e.URL = srv.URL
	return &e
}

type apiEvent struct {
	Editor struct {
		UserID string `json:"userId"`
	} `json:"editor"`
	Aggregate struct {
		ID   string `json:"id"`
		Type struct {
			Type string `json:"type"`
		} `json:"type"`
		ResourceOwner string `json:"resourceOwner"`
	} `json:"aggregate"`
	Sequence     string          `json:"sequence"`
	CreationDate string          `json:"creationDate"`
	Payload      json.RawMessage `json:"payload"`
	Type         struct {
		Type      string `json:"type"`
		Localized struct {
			Key string `json:"key"`
		} `json:"localized"`
	} `json:"type"`
	Position  string `json:"position"`
	ClientIP  string `json:"clientIp"`
	UserAgent string `json:"userAgent"`
	Heartbeat string `json:"heartbeat"`
}

func search(t *testing.T, e *apptest.Env, body any) []apiEvent {
	t.Helper()
	status, raw := e.Do(t, "POST", "/admin/v1/events/_search", body)
	if status != http.StatusOK {
		t.Fatalf("search %v: %d %s", body, status, raw)
	}
	var resp struct {
		Events []apiEvent `json:"events"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"SECRET-ev-1", "SECRET-ev-2", `"v1:`} {
		if strings.Contains(string(raw), s) {
			t.Errorf("search response holds %q", s)
		}
	}
	return resp.Events
}

func positionsOf(evs []apiEvent) []int64 {
	var out []int64
	for _, e := range evs {
		p, _ := strconv.ParseInt(e.Position, 10, 64)
		out = append(out, p)
	}
	return out
}

// storePositions is the store's own answer for the admin's instance.
func storePositions(t *testing.T, e *apptest.Env, keep func(ev eventstore.Event) bool) []int64 {
	t.Helper()
	e.App.Store().Barrier(context.Background(), 5*time.Second) //nolint:errcheck // a one-shot read follows
	all, err := e.App.Store().Read(context.Background(), eventstore.Filter{InstanceID: e.InstanceID})
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, ev := range all {
		if keep(ev) {
			out = append(out, ev.Position)
		}
	}
	return out
}

func TestEventSearch(t *testing.T) {
	e := eventsEnv(t)
	org := e.CreateOrg(t, "acme")
	user := e.CreateHuman(t, org, "alice")
	idpResp := e.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/google", `{"name":"G","clientId":"c","clientSecret":"SECRET-ev-1"}`)
	idpID := idpResp["id"].(string)
	time.Sleep(5 * time.Millisecond)
	mid := time.Now()
	e.MustDo(t, http.StatusOK, "PUT", "/admin/v1/idps/google/"+idpID, `{"name":"G2","clientId":"c2","clientSecret":"SECRET-ev-2"}`)
	// Another instance's events must never show up.
	other := e.AddInstance(t, "other.test")
	e.MustDoAs(t, other.AdminPAT, http.StatusOK, "POST", "/admin/v1/idps/google", `{"name":"O","clientId":"o","clientSecret":"SECRET-ev-1"}`, "Host", "other.test")

	all := func(ev eventstore.Event) bool { return true }
	rev := func(p []int64) []int64 { q := slices.Clone(p); slices.Reverse(q); return q }
	idpAdded := storePositions(t, e, func(ev eventstore.Event) bool { return ev.Type == events.IDPAdded })
	cases := []struct {
		name string
		body map[string]any
		want []int64
	}{
		{"everything ascending", map[string]any{"asc": true}, storePositions(t, e, all)},
		{"everything descending (the default)", map[string]any{}, rev(storePositions(t, e, all))},
		{"limit", map[string]any{"asc": true, "limit": 2}, storePositions(t, e, all)[:2]},
		{"event types exact", map[string]any{"asc": true, "event_types": []string{"idp.added"}}, idpAdded},
		{"event types prefix", map[string]any{"asc": true, "eventTypes": []string{"idp."}},
			storePositions(t, e, func(ev eventstore.Event) bool { return strings.HasPrefix(ev.Type, "idp.") })},
		{"exact type is not a prefix", map[string]any{"asc": true, "eventTypes": []string{"idp"}}, nil},
		{"aggregate id", map[string]any{"asc": true, "aggregateId": user},
			storePositions(t, e, func(ev eventstore.Event) bool { return ev.AggregateID == user })},
		{"aggregate types", map[string]any{"asc": true, "aggregateTypes": []string{"org", "idp"}},
			storePositions(t, e, func(ev eventstore.Event) bool { return ev.AggregateType == "org" || ev.AggregateType == "idp" })},
		{"editor", map[string]any{"asc": true, "editorUserId": e.AdminUserID},
			storePositions(t, e, func(ev eventstore.Event) bool { return ev.Creator == e.AdminUserID })},
		{"resource owner", map[string]any{"asc": true, "resourceOwner": org},
			storePositions(t, e, func(ev eventstore.Event) bool { return ev.ResourceOwner == org })},
		{"from ascending", map[string]any{"asc": true, "from": mid.UTC().Format(time.RFC3339Nano)},
			storePositions(t, e, func(ev eventstore.Event) bool { return !ev.CreatedAt.Before(mid) })},
		{"creation date descending", map[string]any{"creation_date": mid.UTC().Format(time.RFC3339Nano)},
			rev(storePositions(t, e, func(ev eventstore.Event) bool { return ev.CreatedAt.Before(mid) }))},
		{"range", map[string]any{"asc": true, "range": map[string]any{"until": mid.UTC().Format(time.RFC3339Nano)}},
			storePositions(t, e, func(ev eventstore.Event) bool { return ev.CreatedAt.Before(mid) })},
		{"sequence ascending", map[string]any{"asc": true, "sequence": "1"},
			storePositions(t, e, func(ev eventstore.Event) bool { return ev.Sequence > 1 })},
		{"sequence descending", map[string]any{"sequence": 2},
			rev(storePositions(t, e, func(ev eventstore.Event) bool { return ev.Sequence < 2 }))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := positionsOf(search(t, e, tc.body))
			if !slices.Equal(got, tc.want) {
				t.Errorf("positions = %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("shape", func(t *testing.T) {
		evs := search(t, e, map[string]any{"asc": true, "aggregateId": idpID})
		if len(evs) != 2 {
			t.Fatalf("got %d events", len(evs))
		}
		ev := evs[1]
		if ev.Editor.UserID != e.AdminUserID || ev.Aggregate.ID != idpID || ev.Aggregate.Type.Type != "idp" ||
			ev.Aggregate.ResourceOwner != e.InstanceID || ev.Sequence != "2" || ev.Type.Type != "idp.changed" ||
			ev.Type.Localized.Key != "EventTypes.idp.changed" || ev.ClientIP != "127.0.0.1" || ev.UserAgent == "" ||
			!strings.HasSuffix(ev.CreationDate, "Z") || ev.Position == "" {
			t.Errorf("event = %+v", ev)
		}
		if !strings.Contains(string(ev.Payload), `"clientSecret":"[encrypted]"`) {
			t.Errorf("payload = %s", ev.Payload)
		}
	})

	t.Run("paging with afterPosition", func(t *testing.T) {
		want := storePositions(t, e, all)
		var got []int64
		after := int64(0)
		for range want {
			page := positionsOf(search(t, e, map[string]any{"asc": true, "limit": 3, "afterPosition": strconv.FormatInt(after, 10)}))
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1]
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages = %v, want %v", got, want)
		}
		// Descending pages continue below the cursor.
		desc := positionsOf(search(t, e, map[string]any{"limit": 2, "afterPosition": want[len(want)-1]}))
		if !slices.Equal(desc, rev(want)[1:3]) {
			t.Errorf("descending page = %v, want %v", desc, rev(want)[1:3])
		}
	})
}

func TestEventSearchErrors(t *testing.T) {
	e := eventsEnv(t)
	org := e.CreateOrg(t, "acme")
	_, noRoles := e.CreateMachineWithPAT(t, org)
	_, orgOwner := e.CreateOrgOwner(t, org)
	viewer, viewerPAT := e.CreateMachineWithPAT(t, e.DefaultOrgID)
	e.Grant(t, viewer, "", "IAM_OWNER_VIEWER")
	for _, tc := range []struct {
		name, pat, method, path string
		body                    any
		status                  int
		id                      string
	}{
		{"limit too large", e.AdminPAT, "POST", "/admin/v1/events/_search", `{"limit":1001}`, 400, "EVENT-Lim01"},
		{"two date filters", e.AdminPAT, "POST", "/admin/v1/events/_search", `{"from":"2024-01-01T00:00:00Z","range":{}}`, 400, "EVENT-Date1"},
		{"bad range", e.AdminPAT, "POST", "/admin/v1/events/_search", `{"range":{"since":"2024-02-01T00:00:00Z","until":"2024-01-01T00:00:00Z"}}`, 400, "EVENT-Date2"},
		{"unknown position", e.AdminPAT, "POST", "/admin/v1/events/_search", `{"afterPosition":"999999"}`, 400, "AUDIT-Pos02"},
		{"negative position", e.AdminPAT, "POST", "/admin/v1/events/_search", `{"afterPosition":-1}`, 400, "EVENT-Pos01"},
		{"bad json", e.AdminPAT, "POST", "/admin/v1/events/_search", `{"limit":"x"}`, 400, ""},
		{"bad timestamp", e.AdminPAT, "POST", "/admin/v1/events/_search", `{"from":"yesterday"}`, 400, ""},
		{"no token", "", "POST", "/admin/v1/events/_search", `{}`, 401, ""},
		{"no membership", noRoles, "POST", "/admin/v1/events/_search", `{}`, 404, "AUTHZ-cdgFk"},
		{"org owner", orgOwner, "POST", "/admin/v1/events/_search", `{}`, 403, "AUTH-5mWD2"},
		{"org owner types", orgOwner, "GET", "/admin/v1/events/types", nil, 403, "AUTH-5mWD2"},
		{"org owner stream", orgOwner, "GET", "/admin/v1/events/_stream", nil, 403, "AUTH-5mWD2"},
		{"stream bad position", e.AdminPAT, "GET", "/admin/v1/events/_stream?afterPosition=x", nil, 400, "AUDIT-Pos01"},
		{"stream unknown position", e.AdminPAT, "GET", "/admin/v1/events/_stream?afterPosition=99999", nil, 400, "AUDIT-Pos02"},
		{"viewer may read", viewerPAT, "POST", "/admin/v1/events/_search", `{}`, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.DoAs(t, tc.pat, tc.method, tc.path, tc.body)
			if status != tc.status || (tc.id != "" && apptest.ErrorID(body) != tc.id) {
				t.Errorf("%d %s, want %d %s", status, body, tc.status, tc.id)
			}
		})
	}
}

func TestEventAndAggregateTypes(t *testing.T) {
	e := eventsEnv(t)
	for _, path := range []string{"/admin/v1/events/types", "/admin/v1/events/types/_search"} {
		method := "GET"
		if strings.HasSuffix(path, "_search") {
			method = "POST"
		}
		m := e.MustDo(t, http.StatusOK, method, path, nil)
		list := m["eventTypes"].([]any)
		if len(list) != len(events.Catalog()) {
			t.Errorf("%s: %d types, want %d", path, len(list), len(events.Catalog()))
		}
		first := list[0].(map[string]any)
		loc := first["localized"].(map[string]any)
		if first["type"] != events.InstanceAdded || loc["key"] != "EventTypes.instance.added" || loc["localizedMessage"] == "" {
			t.Errorf("%s: first = %v", path, first)
		}
	}
	for _, c := range [][2]string{{"POST", "/admin/v1/aggregates/types/_search"}, {"GET", "/admin/v1/aggregates/types"}} {
		m := e.MustDo(t, http.StatusOK, c[0], c[1], map[string]any{})
		var got []string
		for _, a := range m["aggregateTypes"].([]any) {
			got = append(got, a.(map[string]any)["type"].(string))
		}
		if !slices.Equal(got, []string{"instance", "org", "user", "idp", "login_policy", "idpintent", "session", "project", "key_pair",
			"auth_request", "oidc_session"}) {
			t.Errorf("%s %s: aggregate types = %v", c[0], c[1], got)
		}
	}
}

// openStream starts GET _stream and delivers its lines on a channel until
// ctx ends.
func openStream(t *testing.T, ctx context.Context, e *apptest.Env, after int64) <-chan apiEvent {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+"/admin/v1/events/_stream?afterPosition="+strconv.FormatInt(after, 10), nil)
	req.Host = e.Host
	req.Header.Set("Authorization", "Bearer "+e.AdminPAT)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan apiEvent, 1000)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "SECRET-") || strings.Contains(sc.Text(), `"v1:`) {
				t.Errorf("stream line holds a secret: %s", sc.Text())
			}
			var ev apiEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Errorf("bad line %q: %v", sc.Text(), err)
				return
			}
			ch <- ev
		}
	}()
	return ch
}

func TestEventStreamConcurrentWriters(t *testing.T) {
	defer api.SetStreamTiming(200*time.Millisecond, 100*time.Millisecond)()
	e := eventsEnv(t)
	start := storePositions(t, e, func(eventstore.Event) bool { return true })
	after := start[1] // the stream starts in the middle of the history
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines := openStream(t, ctx, e, after)

	// Several writers through the API at once, plus another instance.
	other := e.AddInstance(t, "other.test")
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				e.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/google",
					fmt.Sprintf(`{"name":"W%d-%d","clientId":"c","clientSecret":"SECRET-ev-1"}`, w, i))
			}
		}(w)
	}
	e.MustDoAs(t, other.AdminPAT, http.StatusOK, "POST", "/admin/v1/idps/google", `{"name":"O","clientId":"o","clientSecret":"x"}`, "Host", "other.test")
	wg.Wait()

	want := storePositions(t, e, func(ev eventstore.Event) bool { return ev.Position != start[0] && ev.Position != after })
	var got []int64
	heartbeats := 0
	deadline := time.After(15 * time.Second)
	for len(got) < len(want) || heartbeats == 0 {
		select {
		case ev, ok := <-lines:
			if !ok {
				t.Fatal("stream ended early")
			}
			if ev.Heartbeat != "" {
				heartbeats++
				continue
			}
			p, _ := strconv.ParseInt(ev.Position, 10, 64)
			got = append(got, p)
		case <-deadline:
			t.Fatalf("timed out: got %d of %d events, %d heartbeats", len(got), len(want), heartbeats)
		}
	}
	// Nothing more may arrive: no duplicate, no other instance.
	extra := time.After(300 * time.Millisecond)
	for done := false; !done; {
		select {
		case ev := <-lines:
			if ev.Heartbeat == "" {
				t.Errorf("unexpected extra event %+v", ev)
			}
		case <-extra:
			done = true
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("stream = %v\nwant     %v", got, want)
	}
	// The client goes away: the handler must end (srv.Close in cleanup
	// waits for it, and would hang otherwise).
	cancel()
	for range lines {
	}
}
