package gateway_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/errs"
)

func TestDetailsShapes(t *testing.T) {
	d := gateway.ObjectDetails{
		Sequence:      2,
		Created:       time.Date(2024, 11, 5, 10, 0, 0, 0, time.UTC),
		Changed:       time.Date(2024, 11, 5, 10, 32, 11, 412346000, time.UTC),
		ResourceOwner: "69629023906488334",
		ID:            "286432164857315331",
	}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"v1 add", gateway.V1Add(d),
			`{"sequence":"2","creationDate":"2024-11-05T10:32:11.412346Z","resourceOwner":"69629023906488334"}`},
		{"v1 change", gateway.V1Change(d),
			`{"sequence":"2","changeDate":"2024-11-05T10:32:11.412346Z","resourceOwner":"69629023906488334"}`},
		{"v1 read", gateway.V1Read(d),
			`{"sequence":"2","creationDate":"2024-11-05T10:00:00Z","changeDate":"2024-11-05T10:32:11.412346Z","resourceOwner":"69629023906488334"}`},
		{"v2", gateway.V2(d),
			`{"sequence":"2","changeDate":"2024-11-05T10:32:11.412346Z","resourceOwner":"69629023906488334","creationDate":"2024-11-05T10:00:00Z"}`},
		{"v2 without creation date", gateway.V2(gateway.ObjectDetails{Sequence: 1, Changed: d.Changed, ResourceOwner: "o"}),
			`{"sequence":"1","changeDate":"2024-11-05T10:32:11.412346Z","resourceOwner":"o"}`},
		{"resource", gateway.Resource(d, gateway.OwnerTypeOrg),
			`{"id":"286432164857315331","created":"2024-11-05T10:00:00Z","changed":"2024-11-05T10:32:11.412346Z","owner":{"type":"OWNER_TYPE_ORG","id":"69629023906488334"}}`},
		{"empty", gateway.DetailsV1{}, `{}`},
		{"list v1", gateway.ListDetailsV1{TotalResult: 1, ViewTimestamp: gateway.Timestamp(d.Changed)},
			`{"totalResult":"1","viewTimestamp":"2024-11-05T10:32:11.412346Z"}`},
		{"list v2", gateway.ListDetailsV2{TotalResult: 3, ProcessedSequence: 9, Timestamp: gateway.Timestamp(d.Changed)},
			`{"totalResult":"3","processedSequence":"9","timestamp":"2024-11-05T10:32:11.412346Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.v)
			if err != nil || string(got) != tt.want {
				t.Errorf("got %s %v\nwant %s", got, err, tt.want)
			}
		})
	}
}

func TestListQueryPage(t *testing.T) {
	tests := []struct {
		name   string
		q      gateway.ListQuery
		offset uint64
		limit  uint32
		ok     bool
	}{
		{"defaults", gateway.ListQuery{}, 0, gateway.DefaultListLimit, true},
		{"given", gateway.ListQuery{Offset: 5, Limit: 20}, 5, 20, true},
		{"max", gateway.ListQuery{Limit: gateway.MaxListLimit}, 0, gateway.MaxListLimit, true},
		{"over max", gateway.ListQuery{Limit: gateway.MaxListLimit + 1}, 0, 0, false},
		{"huge offset", gateway.ListQuery{Offset: 1 << 63}, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offset, limit, err := tt.q.Page()
			if tt.ok && (err != nil || offset != tt.offset || limit != tt.limit) {
				t.Errorf("got %d %d %v", offset, limit, err)
			}
			if !tt.ok && errs.KindOf(err) != errs.KindInvalidArgument {
				t.Errorf("error = %v", err)
			}
		})
	}
}
