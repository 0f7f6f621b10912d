package command_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/secretbox"
)

// TestRetrieveIntentEncodedCaches: a retrieve's answer is encoded once per
// intent version and served again only to a request that read that very
// version and brings the token; a wrong token, another instance, a
// consumption and the intent's expiry are answered as without the cache.
func TestRetrieveIntentEncodedCaches(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	store := eventstore.NewMemory()
	store.Now = func() time.Time { return now }
	keys, err := secretbox.NewKeyring(bytes.Repeat([]byte{7}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	c := command.New(command.Deps{Store: store, IDs: &seqIDs{}, Keys: keys, Now: func() time.Time { return now }})
	login := authz.WithCaller(ctx, scCaller("login", scOrg, authz.Membership{Roles: []string{authz.IAMLoginClient}}))
	otherInstance := authz.WithCaller(ctx, &authz.Caller{InstanceID: "inst2", UserID: "login", UserOrgID: scOrg, OrgID: scOrg,
		Memberships: []authz.Membership{{Roles: []string{authz.IAMLoginClient}}}})

	// A succeeded intent as the callback leaves it: the user and the
	// upstream's access token sealed, the token stored as its hash.
	succeeded := func(id, token, userID string) {
		t.Helper()
		seal := func(field, text string) string {
			s, err := keys.Seal(text, secretbox.AAD{InstanceID: scInst, IDPID: id, Field: "idpintent." + field})
			if err != nil {
				t.Fatal(err)
			}
			return s.Text()
		}
		if _, err := store.Append(ctx, eventstore.Append{Aggregates: []eventstore.AggregateAppend{agg(events.AggIDPIntent, id, scInst,
			eventstore.PendingEvent{Type: events.IDPIntentStarted, Payload: events.IDPIntentStartedPayload{IDPID: "idp1", ExpiresAt: now.Add(10 * time.Minute)}},
			eventstore.PendingEvent{Type: events.IDPIntentSucceeded, Payload: events.IDPIntentSucceededPayload{
				IDPUser: seal("idpUser", `{}`), IDPUserID: "ext-" + id, UserID: userID,
				IDPAccessToken: seal("idpAccessToken", "upstream-access-"+id), ExpiresAt: now.Add(time.Hour), TokenHash: events.PATHash(token)}})}}); err != nil {
			t.Fatal(err)
		}
	}
	succeeded("int1", "tok1", "alice")
	succeeded("int2", "tok2", "")

	answers := command.NewIntentAnswers(1 << 20)
	encodes := 0
	encode := func(info command.IntentInfo) ([]byte, error) {
		encodes++
		return json.Marshal(info)
	}
	retrieve := func(ctx context.Context, id, token string) ([]byte, error) {
		return c.RetrieveIntentEncoded(ctx, id, token, answers, encode)
	}

	want, err := c.RetrieveIntent(login, "int1", "tok1")
	if err != nil {
		t.Fatal(err)
	}
	if want.AccessToken != "upstream-access-int1" {
		t.Fatalf("uncached retrieve: access token %q", want.AccessToken)
	}
	wantBody, _ := json.Marshal(want)
	for i := range 3 {
		got, err := retrieve(login, "int1", "tok1")
		if err != nil || !bytes.Equal(got, wantBody) {
			t.Fatalf("retrieve %d: %s, %v; want %s", i, got, err, wantBody)
		}
	}
	if encodes != 1 || answers.Len() != 1 {
		t.Fatalf("3 retrieves of one version encoded %d times, %d cached; want 1 and 1", encodes, answers.Len())
	}

	// With the answer cached: the same errors as without it.
	for _, tc := range []struct {
		name      string
		ctx       context.Context
		id, token string
		wantID    string
	}{
		{"wrong token", login, "int1", "tok2", "CRYPTO-CRYPTO"},
		{"empty token", login, "int1", "", "CRYPTO-Sfefs"},
		{"another instance", otherInstance, "int1", "tok1", "CRYPTO-CRYPTO"},
		{"unknown intent", login, "int9", "tok1", "CRYPTO-CRYPTO"},
	} {
		if b, err := retrieve(tc.ctx, tc.id, tc.token); errID(err) != tc.wantID || b != nil {
			t.Errorf("%s: %s, %v; want %s", tc.name, b, err, tc.wantID)
		}
	}

	// A consumption appends to the intent: the cached version is no
	// longer the one the database answers.
	if _, err := c.ConsumeIntent(ctx, scInst, "alice", "int1", "tok1"); err != nil {
		t.Fatal(err)
	}
	if b, err := retrieve(login, "int1", "tok1"); errID(err) != "IDP-nme4gszsvx" || b != nil {
		t.Fatalf("retrieve after consumption: %s, %v; want IDP-nme4gszsvx", b, err)
	}

	// Expiry: served until the intent ends, never after.
	if _, err := retrieve(login, "int2", "tok2"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour - time.Second)
	if _, err := retrieve(login, "int2", "tok2"); err != nil {
		t.Fatalf("a second before the expiry: %v", err)
	}
	n := encodes
	now = now.Add(time.Second)
	if b, err := retrieve(login, "int2", "tok2"); errID(err) != "IDP-SAf42" || b != nil {
		t.Fatalf("retrieve at the expiry: %s, %v; want IDP-SAf42", b, err)
	}
	if encodes != n {
		t.Fatalf("an expired intent was encoded")
	}
	if answers.Len() != 1 { // int1's consumed version stays until swept or replaced; int2's is gone
		t.Fatalf("%d answers cached after int2 expired, want 1", answers.Len())
	}
}

// TestIntentAnswersBudget: the cache holds its byte budget, dropping the
// least recently used intents, caches no answer over an eighth of it, and
// drops expired answers once a minute even if nobody asks for them.
func TestIntentAnswersBudget(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	store := eventstore.NewMemory()
	store.Now = func() time.Time { return now }
	c := command.New(command.Deps{Store: store, IDs: &seqIDs{}, Now: func() time.Time { return now }})
	login := authz.WithCaller(ctx, scCaller("login", scOrg, authz.Membership{Roles: []string{authz.IAMLoginClient}}))
	ids := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	for _, id := range ids {
		exp := 2 * time.Hour
		if id == "a" {
			exp = time.Hour
		}
		if _, err := store.Append(ctx, eventstore.Append{Aggregates: []eventstore.AggregateAppend{agg(events.AggIDPIntent, id, scInst,
			eventstore.PendingEvent{Type: events.IDPIntentStarted, Payload: events.IDPIntentStartedPayload{IDPID: "idp1", ExpiresAt: now.Add(time.Minute)}},
			eventstore.PendingEvent{Type: events.IDPIntentSucceeded, Payload: events.IDPIntentSucceededPayload{
				IDPUserID: "ext", ExpiresAt: now.Add(exp), TokenHash: events.PATHash("t")}})}}); err != nil {
			t.Fatal(err)
		}
	}
	encoded := map[string]int{}
	size := 100
	retrieve := func(answers *command.IntentAnswers, id string) {
		t.Helper()
		if _, err := c.RetrieveIntentEncoded(login, id, "t", answers, func(info command.IntentInfo) ([]byte, error) {
			encoded[info.Details.ID]++
			return make([]byte, size), nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	// Eight answers of 100 bytes (plus the fixed overhead of 256) fill it.
	answers := command.NewIntentAnswers(8 * 356)
	for _, id := range ids[:8] {
		retrieve(answers, id)
	}
	retrieve(answers, "b") // a hit: b is now the most recently used
	retrieve(answers, "i") // evicts a
	retrieve(answers, "j") // evicts c
	retrieve(answers, "b")
	retrieve(answers, "a")
	retrieve(answers, "c")
	if answers.Len() != 8 || encoded["b"] != 1 || encoded["a"] != 2 || encoded["c"] != 2 {
		t.Fatalf("%d cached, encodings %v; want 8, b once, a and c twice", answers.Len(), encoded)
	}
	size = 357             // over an eighth of the budget with the overhead
	retrieve(answers, "d") // d and e were evicted
	retrieve(answers, "d")
	if encoded["d"] != 3 || answers.Len() != 8 {
		t.Fatalf("an answer over an eighth of the budget was cached: %v, %d cached", encoded, answers.Len())
	}

	size = 100
	sweep := command.NewIntentAnswers(1 << 20)
	retrieve(sweep, "a")
	retrieve(sweep, "b")
	now = now.Add(time.Hour + 2*time.Minute) // a has expired
	retrieve(sweep, "c")
	if sweep.Len() != 2 {
		t.Fatalf("%d answers cached after the sweep, want 2 (b and c)", sweep.Len())
	}
}

func errID(err error) string {
	if e, ok := errs.As(err); ok {
		return e.ID
	}
	return fmt.Sprint(err)
}
