package audit_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/internal/pgtest"
	"github.com/idledger/idledger/secretbox"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Plaintext secrets of the fixture: no output may contain them, nor any
// sealed text.
const (
	secretV1 = "plain-secret-one-0xC0FFEE"
	secretV2 = "plain-secret-two-0xBEEF"
)

// history is a known event history written through the event store.
type history struct {
	store  *eventstore.Postgres
	all    []eventstore.Event // in append order
	byName map[string]eventstore.Event
	sealed []string // sealed texts written
}

func (h *history) add(t *testing.T, name string, meta eventstore.Metadata, a eventstore.AggregateAppend) eventstore.Event {
	t.Helper()
	evs, err := h.store.Append(context.Background(), eventstore.Append{Aggregates: []eventstore.AggregateAppend{a}, Meta: meta})
	if err != nil {
		t.Fatalf("append %s: %v", name, err)
	}
	h.all = append(h.all, evs...)
	h.byName[name] = evs[0]
	// Distinct creation times, so --at cuts between events.
	time.Sleep(2 * time.Millisecond)
	return evs[0]
}

func sealedConfig(t *testing.T, keys *secretbox.Keyring, instanceID, idpID, body string, h *history) json.RawMessage {
	t.Helper()
	kind, _ := idp.ByPath("google")
	cfg := kind.New()
	if err := json.Unmarshal([]byte(body), cfg); err != nil {
		t.Fatal(err)
	}
	for _, s := range idp.Secrets(cfg) {
		sealed, err := keys.Seal(*s.Value, secretbox.AAD{InstanceID: instanceID, IDPID: idpID, Field: s.Field})
		if err != nil {
			t.Fatal(err)
		}
		*s.Value = sealed.Text()
		h.sealed = append(h.sealed, sealed.Text())
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func agg(inst, typ, id string, expected uint64, owner string, evs ...eventstore.PendingEvent) eventstore.AggregateAppend {
	return eventstore.AggregateAppend{
		Aggregate:     eventstore.AggregateRef{InstanceID: inst, Type: typ, ID: id},
		ResourceOwner: owner, Expected: expected, Events: evs,
	}
}

func ev(typ string, payload any) eventstore.PendingEvent {
	return eventstore.PendingEvent{Type: typ, Payload: payload}
}

var (
	sys   = eventstore.Metadata{Creator: "system", RequestID: "boot"}
	admin = eventstore.Metadata{Creator: "admin-1", RequestID: "req-2", ClientIP: "203.0.113.7", UserAgent: "curl/8.5"}
	other = eventstore.Metadata{Creator: "admin-2", RequestID: "req-9", ClientIP: "198.51.100.2", UserAgent: "terraform"}
)

// newHistory writes the fixture into a fresh database:
//
//	instance i1 (+ domain), org o1, human user u1, IdP p1 (google, sealed
//	secret), default login policy with p1, p1 changed (new secret, new name),
//	u1 linked to p1, a PAT for u1, and in a second instance i2 an instance
//	and an IdP p2 that must never leak into i1's results.
func newHistory(t *testing.T) *history {
	t.Helper()
	keys, err := secretbox.NewKeyring([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	h := &history{store: eventstore.NewPostgres(pgtest.Pool(t), nil), byName: map[string]eventstore.Event{}}
	opts, _ := json.Marshal(idp.Options{IsLinkingAllowed: true, AutoLinking: 2})

	h.add(t, "i1", sys, agg("i1", events.AggInstance, "i1", 0, "i1", ev(events.InstanceAdded, events.InstanceAddedPayload{Name: "ZITADEL"})))
	h.add(t, "i1.domain", sys, agg("i1", events.AggInstance, "i1", 1, "i1", ev(events.InstanceDomainAdded, events.DomainPayload{Domain: "localhost"})))
	h.add(t, "o1", admin, agg("i1", events.AggOrg, "o1", 0, "o1", ev(events.OrgAdded, events.OrgAddedPayload{Name: "Default"})))
	h.add(t, "u1", admin, agg("i1", events.AggUser, "u1", 0, "o1", ev(events.UserHumanAdded, events.HumanAddedPayload{
		Username: "alice", GivenName: "Alice", FamilyName: "Liddell", Email: "alice@example.com"})))
	h.add(t, "p1", admin, agg("i1", events.AggIDP, "p1", 0, "i1", ev(events.IDPAdded, events.IDPAddedPayload{
		Kind: "google", OwnerType: events.OwnerSystem, Name: "Google", Options: opts,
		Config: sealedConfig(t, keys, "i1", "p1", `{"clientId":"cid-1","clientSecret":"`+secretV1+`","scopes":["openid"]}`, h)})))
	h.add(t, "lp", admin, agg("i1", events.AggLoginPolicy, "i1", 0, "i1", ev(events.LoginPolicyAdded, events.LoginPolicyAddedPayload{IsDefault: true})))
	h.add(t, "lp.idp", admin, agg("i1", events.AggLoginPolicy, "i1", 1, "i1", ev(events.LoginPolicyIDPAdded, events.LoginPolicyIDPPayload{IDPID: "p1", OwnerType: events.OwnerSystem})))
	h.add(t, "p1.changed", other, agg("i1", events.AggIDP, "p1", 1, "i1", ev(events.IDPChanged, events.IDPChangedPayload{
		Kind: "google", Name: "Google Workspace", Options: opts,
		Config: sealedConfig(t, keys, "i1", "p1", `{"clientId":"cid-2","clientSecret":"`+secretV2+`","scopes":["openid","email"]}`, h)})))
	h.add(t, "u1.link", other, agg("i1", events.AggUser, "u1", 1, "o1", ev(events.UserIDPLinkAdded, events.IDPLinkPayload{IDPID: "p1", ExternalUserID: "ext-1", DisplayName: "alice@gmail"})))
	h.add(t, "u1.pat", admin, agg("i1", events.AggUser, "u1", 2, "o1", ev(events.UserPATAdded, events.PATAddedPayload{TokenID: "t1", TokenHash: "abcd"})))
	h.add(t, "i2", sys, agg("i2", events.AggInstance, "i2", 0, "i2", ev(events.InstanceAdded, events.InstanceAddedPayload{Name: "Other"})))
	h.add(t, "p2", other, agg("i2", events.AggIDP, "p2", 0, "i2", ev(events.IDPAdded, events.IDPAddedPayload{
		Kind: "google", OwnerType: events.OwnerSystem, Name: "Other Google",
		Config: sealedConfig(t, keys, "i2", "p2", `{"clientId":"cid-x","clientSecret":"`+secretV1+`"}`, h)})))
	return h
}

// assertNoSecrets fails when out holds a plaintext secret or sealed text.
func (h *history) assertNoSecrets(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range append([]string{secretV1, secretV2}, h.sealed...) {
		if strings.Contains(out, s) {
			t.Errorf("%s leaks secret %q:\n%s", what, s, out)
		}
	}
	if strings.Contains(out, `"v1:`) {
		t.Errorf("%s holds sealed text:\n%s", what, out)
	}
}

// positions returns the positions of the named events (or of all events
// matching keep), in the store's gap-free order.
func (h *history) positions(t *testing.T, keep func(e eventstore.Event) bool) []int64 {
	t.Helper()
	h.store.Barrier(context.Background(), 5*time.Second) //nolint:errcheck // a one-shot read follows
	all, err := h.store.Read(context.Background(), eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, e := range all {
		if keep(e) {
			out = append(out, e.Position)
		}
	}
	return out
}
