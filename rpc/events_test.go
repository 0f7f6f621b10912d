package rpc_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/idledger/idledger/gen/zitadel/admin/v1"
)

// withoutExtensions removes what REST's events carry beyond ZITADEL's
// zitadel.event.v1.Event (position, clientIp, userAgent).
func withoutExtensions(t *testing.T, status int, body []byte) []byte {
	t.Helper()
	if status != http.StatusOK {
		return body
	}
	var res struct {
		Events []map[string]any `json:"events,omitempty"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("REST events %s: %v", body, err)
	}
	for _, e := range res.Events {
		delete(e, "position")
		delete(e, "clientIp")
		delete(e, "userAgent")
	}
	out, _ := json.Marshal(res)
	return out
}

func TestListEvents(t *testing.T) {
	e := newIdentityEnv(t)
	viewer, viewerPAT := e.CreateMachineWithPAT(t, e.DefaultOrgID)
	e.Grant(t, viewer, "", "IAM_OWNER_VIEWER")
	e.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/generic_oidc", map[string]any{"name": "OIDC",
		"issuer": "https://issuer.example", "clientId": "c", "clientSecret": "secret"})
	ts := func(s string) *timestamppb.Timestamp {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return timestamppb.New(v)
	}
	past, future := "2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z"
	for _, p := range protocols {
		for _, tc := range []struct {
			name    string
			body    map[string]any
			req     *adminv1.ListEventsRequest
			headers []string
		}{
			{"everything", map[string]any{}, &adminv1.ListEventsRequest{}, nil},
			{"page ascending", map[string]any{"limit": 3, "asc": true, "sequence": 1},
				&adminv1.ListEventsRequest{Limit: 3, Asc: true, Sequence: 1}, nil},
			{"filters", map[string]any{"aggregateTypes": []string{"org", "user"}, "eventTypes": []string{"org.added", "user.machine.added"},
				"resourceOwner": e.other, "editorUserId": e.AdminUserID},
				&adminv1.ListEventsRequest{AggregateTypes: []string{"org", "user"}, EventTypes: []string{"org.added", "user.machine.added"},
					ResourceOwner: e.other, EditorUserId: e.AdminUserID}, nil},
			{"aggregate and prefix", map[string]any{"aggregateId": e.other, "eventTypes": []string{"org.*"}},
				&adminv1.ListEventsRequest{AggregateId: e.other, EventTypes: []string{"org.*"}}, nil},
			{"secrets redacted", map[string]any{"aggregateTypes": []string{"idp"}}, &adminv1.ListEventsRequest{AggregateTypes: []string{"idp"}}, nil},
			{"from, ascending", map[string]any{"from": past, "asc": true}, &adminv1.ListEventsRequest{Asc: true,
				CreationDateFilter: &adminv1.ListEventsRequest_From{From: ts(past)}}, nil},
			{"creation date, descending", map[string]any{"creationDate": future}, &adminv1.ListEventsRequest{CreationDate: ts(future)}, nil},
			{"range", map[string]any{"range": map[string]any{"since": past, "until": future}}, &adminv1.ListEventsRequest{
				CreationDateFilter: &adminv1.ListEventsRequest_Range{Range: &adminv1.ListEventsRequestCreationDateRange{Since: ts(past), Until: ts(future)}}}, nil},
			{"empty range", map[string]any{"range": map[string]any{}}, &adminv1.ListEventsRequest{
				CreationDateFilter: &adminv1.ListEventsRequest_Range{Range: &adminv1.ListEventsRequestCreationDateRange{}}}, nil},
			{"IAM owner viewer", map[string]any{"limit": 2}, &adminv1.ListEventsRequest{Limit: 2}, as(viewerPAT)},
			{"limit over 1000", map[string]any{"limit": 1001}, &adminv1.ListEventsRequest{Limit: 1001}, nil},
			{"two dates", map[string]any{"creationDate": past, "from": past}, &adminv1.ListEventsRequest{CreationDate: ts(past),
				CreationDateFilter: &adminv1.ListEventsRequest_From{From: ts(past)}}, nil},
			{"reversed range", map[string]any{"range": map[string]any{"since": future, "until": past}}, &adminv1.ListEventsRequest{
				CreationDateFilter: &adminv1.ListEventsRequest_Range{Range: &adminv1.ListEventsRequestCreationDateRange{Since: ts(future), Until: ts(past)}}}, nil},
			{"no role", map[string]any{}, &adminv1.ListEventsRequest{}, as(e.nobody)},
			{"org owner", map[string]any{}, &adminv1.ListEventsRequest{}, as(e.outsid)},
			{"unauthenticated", map[string]any{}, &adminv1.ListEventsRequest{}, []string{"Authorization", ""}},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				status, body := e.Do(t, "POST", "/admin/v1/events/_search", tc.body, tc.headers...)
				got, err := call[adminv1.ListEventsRequest, adminv1.ListEventsResponse](t, e.Env, p, adminSvc+"ListEvents", tc.req, tc.headers...)
				msg := got
				if msg == nil {
					msg = &adminv1.ListEventsResponse{}
				}
				sameAsREST(t, p, status, withoutExtensions(t, status, body), msg, err)
				if tc.name == "everything" && len(msg.GetEvents()) < 5 {
					t.Fatalf("only %d events", len(msg.GetEvents()))
				}
				if tc.name == "secrets redacted" {
					for _, ev := range msg.GetEvents() {
						if b, _ := json.Marshal(ev.GetPayload().AsMap()); strings.Contains(string(b), `"secret"`) {
							t.Fatalf("a secret in %s", b)
						}
					}
				}
			})
		}
	}
}

// TestEventAndAggregateTypes: ZITADEL's routes are POST …/_search; REST
// also serves GET, and both answer what RPC answers.
func TestEventAndAggregateTypes(t *testing.T) {
	e := newIdentityEnv(t)
	for _, p := range protocols {
		for _, tc := range e.instanceCallers() {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				for _, method := range []string{"POST", "GET"} {
					path := "/admin/v1/events/types"
					var body any
					if method == "POST" {
						path, body = path+"/_search", map[string]any{}
					}
					res, _ := both[adminv1.ListEventTypesRequest, adminv1.ListEventTypesResponse](t, e.Env, p, adminSvc+"ListEventTypes",
						method, path, body, &adminv1.ListEventTypesRequest{}, nil, tc.headers...)
					if tc.headers == nil && len(res.GetEventTypes()) < 10 {
						t.Fatalf("event types: %v", res)
					}
					path = "/admin/v1/aggregates/types"
					if method == "POST" {
						path += "/_search"
					}
					agg, _ := both[adminv1.ListAggregateTypesRequest, adminv1.ListAggregateTypesResponse](t, e.Env, p, adminSvc+"ListAggregateTypes",
						method, path, body, &adminv1.ListAggregateTypesRequest{}, nil, tc.headers...)
					if tc.headers == nil && len(agg.GetAggregateTypes()) < 5 {
						t.Fatalf("aggregate types: %v", agg)
					}
				}
			})
		}
	}
}
