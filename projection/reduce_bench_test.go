package projection

// Benchmarks of single reducers: go test ./projection -run XXX -bench Reduce

import (
	"testing"
	"time"

	"github.com/idledger/idledger/eventstore"
)

func BenchmarkReduceIDPChanged(b *testing.B) {
	e := eventstore.Event{Type: "idp.changed", InstanceID: "i", AggregateID: "a", Sequence: 3, CreatedAt: time.Now(),
		Payload: []byte(`{"kind": "google", "name": "bench-idp-002745", "config": {"scopes": ["openid", "profile", "email"], "clientId": "client-bench-idp-002745", "clientSecret": "v1:3d0cbfa5:yXStyJq0bTeeeS80:OrvokV9PUxhnz-lboxxxI3BLFkqgO0m5yJo8cTrmREHUSYQiEP0PrAJBcc3aWYNx9q07Q4lgsw8"}, "options": {}}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reduceIDP(&e, Live); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReduceLink(b *testing.B) {
	e := eventstore.Event{Type: "user.human.externalidp.added", InstanceID: "i", AggregateID: "a", Sequence: 3, CreatedAt: time.Now(),
		Payload: []byte(`{"idpId": "3456789012345678", "userId": "12345678901234567", "displayName": "someone@example.com"}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reduceUserIDPLink(&e, Live); err != nil {
			b.Fatal(err)
		}
	}
}
