package api

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/errs"
)

// FuzzSearchParsers feeds one body to every list and search parser of the
// API: the IdP search (ListProvidersRequest), the paging of the list
// requests (ListQuery) and the event search (ListEventsRequest). Each must
// give a result or InvalidArgument, never a panic or another error, and
// what they accept must be within bounds.
func FuzzSearchParsers(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `{"query":{"offset":"5","limit":20,"asc":true}}`, `{"query":{"limit":1001}}`, `{"query":{"limit":-1}}`,
		`{"query":{"offset":"18446744073709551615"}}`, `{"query":{"offset":"9223372036854775808"}}`, `{"query":{"limit":4294967296}}`,
		`{"queries":[{"idpIdQuery":{"id":"1"}},{"idpNameQuery":{"name":"g","method":"TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE"}}]}`,
		`{"queries":[{"idpNameQuery":{"name":"g","method":99}}]}`, `{"queries":[{"ownerTypeQuery":{"ownerType":0}}]}`,
		`{"queries":[{"ownerTypeQuery":{"ownerType":"IDP_OWNER_TYPE_ORG"}}]}`, `{"queries":[{}]}`, `{"queries":{}}`,
		`{"limit":10,"asc":true,"eventTypes":["idp.","user.*","*"],"aggregateTypes":["idp"],"afterPosition":"5"}`,
		`{"limit":1001}`, `{"sequence":"-1"}`, `{"afterPosition":"-3"}`, `{"afterPosition":"5000"}`, `{"afterPosition":"12"}`,
		`{"range":{"since":"2024-01-02T00:00:00Z","until":"2024-01-01T00:00:00Z"}}`, `{"from":"2024-01-01T00:00:00Z","range":{}}`,
		`{"creationDate":"2024-01-01T00:00:00.123456789Z","asc":false,"sequence":"7"}`, `{"resourceOwner":" ","aggregateId":" x "}`,
		`{"eventTypes":["","  "]}`, `{"range":{"since":"bogus"}}`, "{\"query\":{\"limit\":\"\xff\"}}", `{"query":{"offset":"\u0000"}}`,
	} {
		f.Add([]byte(seed))
	}
	ok := func(t *testing.T, what string, err error) bool {
		t.Helper()
		if err == nil {
			return true
		}
		if errs.KindOf(err) != errs.KindInvalidArgument && errs.KindOf(err) != errs.KindResourceExhausted {
			t.Fatalf("%s: error of kind %v: %v", what, errs.KindOf(err), err)
		}
		return false
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if s, err := render.ProviderSearch(body); ok(t, "providers", err) {
			if s.Limit == 0 || s.Limit > gateway.MaxListLimit || s.Offset > 1<<63-1 {
				t.Fatalf("provider search out of bounds: %+v", s)
			}
		}
		var lq struct {
			Query gateway.ListQuery `json:"query"`
		}
		if ok(t, "decode list", gateway.Decode(httptest.NewRequest("POST", "/", bytes.NewReader(body)), &lq)) {
			if _, limit, err := lq.Query.Page(); ok(t, "page", err) && (limit == 0 || limit > gateway.MaxListLimit) {
				t.Fatalf("limit %d accepted", limit)
			}
		}
		var le render.ListEventsRequest
		if ok(t, "decode events", gateway.Decode(httptest.NewRequest("POST", "/", bytes.NewReader(body)), &le)) {
			q, err := render.ParseListEvents("inst", le)
			if ok(t, "events", err) {
				if q.InstanceID != "inst" || q.Limit <= 0 || q.Limit > gateway.MaxListLimit || q.AfterPosition < 0 {
					t.Fatalf("event query out of bounds: %+v", q)
				}
				if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
					t.Fatalf("accepted an empty range: %+v", q)
				}
			}
		}
	})
}
