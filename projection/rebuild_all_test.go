package projection

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/idp"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The exact-rebuild checks over the real projections (projection.All()),
// fed with catalog events of every area: all IdP kinds, policies, links,
// PATs, members and removals.

const inst = "inst1"

func agg(typ, id, owner string, evs ...eventstore.PendingEvent) eventstore.AggregateAppend {
	return eventstore.AggregateAppend{Aggregate: eventstore.AggregateRef{InstanceID: inst, Type: typ, ID: id}, ResourceOwner: owner, Events: evs}
}

func pe(typ string, payload any) eventstore.PendingEvent {
	return eventstore.PendingEvent{Type: typ, Payload: payload}
}

func catalogSetup(t testing.TB, s eventstore.Store) {
	t.Helper()
	_, err := s.Append(context.Background(), eventstore.Append{Aggregates: []eventstore.AggregateAppend{
		agg(events.AggInstance, inst, inst,
			pe(events.InstanceAdded, events.InstanceAddedPayload{Name: "first"}),
			pe(events.InstanceDomainAdded, events.DomainPayload{Domain: "localhost"}),
			pe(events.InstanceMemberAdded, events.MemberPayload{UserID: "admin", Roles: []string{"IAM_OWNER"}}),
			pe(events.InstanceMemberAdded, events.MemberPayload{UserID: "gone", Roles: []string{"IAM_OWNER"}}),
			pe(events.InstanceMemberRemoved, events.MemberPayload{UserID: "gone"}),
		),
		agg(events.AggLoginPolicy, inst, inst, pe(events.LoginPolicyAdded, events.LoginPolicyAddedPayload{IsDefault: true, Settings: []byte(`{"allowUsernamePassword":true}`)})),
	}})
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
}

// catalogRound appends one org's worth of history in one append.
func catalogRound(ctx context.Context, s eventstore.Store, p string, removeOrg bool) error {
	org := p + "org"
	u := func(i int) string { return fmt.Sprintf("%su%d", p, i) }
	var a eventstore.Append
	orgEvs := []eventstore.PendingEvent{
		pe(events.OrgAdded, events.OrgAddedPayload{Name: "Org " + p}),
		pe(events.OrgMemberAdded, events.MemberPayload{UserID: u(1), Roles: []string{"ORG_OWNER"}}),
	}
	if removeOrg {
		orgEvs = append(orgEvs, pe(events.OrgRemoved, nil))
	}
	policy := []eventstore.PendingEvent{pe(events.LoginPolicyAdded, events.LoginPolicyAddedPayload{Settings: []byte(`{"allowExternalIdp":true}`)})}
	links := map[int][]eventstore.PendingEvent{}
	for i, k := range idp.Kinds() {
		id := fmt.Sprintf("%sidp%d", p, i)
		owner, ownerType := org, events.OwnerOrg
		if i%2 == 0 {
			owner, ownerType = inst, events.OwnerSystem
		}
		cfg := []byte(fmt.Sprintf(`{"clientId":"client-%s","clientSecret":"v1:k1:sealed","issuer":"https://%s.example.com","scopes":["openid"]}`, id, id))
		evs := []eventstore.PendingEvent{pe(events.IDPAdded, events.IDPAddedPayload{Kind: k.Path, OwnerType: ownerType, Name: "IdP " + id,
			Options: []byte(`{"isLinkingAllowed":true,"isCreationAllowed":true}`), Config: cfg})}
		if i%3 == 0 {
			evs = append(evs, pe(events.IDPChanged, events.IDPChangedPayload{Kind: k.Path, Name: "Renamed " + id, Config: cfg}))
		}
		policy = append(policy, pe(events.LoginPolicyIDPAdded, events.LoginPolicyIDPPayload{IDPID: id, OwnerType: ownerType}))
		user := 1 + i%3
		links[user] = append(links[user], pe(events.UserIDPLinkAdded, events.IDPLinkPayload{IDPID: id, ExternalUserID: "ext-" + id, DisplayName: "x@" + id}))
		if i%4 == 1 {
			evs = append(evs, pe(events.IDPRemoved, nil))
			policy = append(policy, pe(events.LoginPolicyIDPCascadeRemoved, events.LoginPolicyIDPPayload{IDPID: id}))
			links[user] = append(links[user], pe(events.UserIDPLinkCascadeRemoved, events.IDPLinkPayload{IDPID: id, ExternalUserID: "ext-" + id}))
		} else if i%4 == 2 {
			policy = append(policy, pe(events.LoginPolicyIDPRemoved, events.LoginPolicyIDPPayload{IDPID: id}))
			links[user] = append(links[user], pe(events.UserIDPLinkRemoved, events.IDPLinkPayload{IDPID: id, ExternalUserID: "ext-" + id}))
		}
		a.Aggregates = append(a.Aggregates, agg(events.AggIDP, id, owner, evs...))
	}
	a.Aggregates = append(a.Aggregates, agg(events.AggOrg, org, org, orgEvs...), agg(events.AggLoginPolicy, org, org, policy...))
	for i := 1; i <= 3; i++ {
		evs := []eventstore.PendingEvent{pe(events.UserHumanAdded, events.HumanAddedPayload{Username: u(i), GivenName: "G", FamilyName: "F", Email: u(i) + "@example.com"})}
		evs = append(evs, links[i]...)
		if i == 3 {
			evs = append(evs, pe(events.UserRemoved, nil))
		}
		a.Aggregates = append(a.Aggregates, agg(events.AggUser, u(i), org, evs...))
	}
	a.Aggregates = append(a.Aggregates, agg(events.AggUser, p+"m", org,
		pe(events.UserMachineAdded, events.MachineAddedPayload{Username: p + "m", Name: "bot"}),
		pe(events.UserPATAdded, events.PATAddedPayload{TokenID: p + "t1", TokenHash: p + "h1"}),
		pe(events.UserPATAdded, events.PATAddedPayload{TokenID: p + "t2", TokenHash: p + "h2"}),
		pe(events.UserPATRemoved, events.PATRemovedPayload{TokenID: p + "t1"}),
	))
	cfg := events.OIDCConfig{RedirectURIs: []string{"https://" + p + ".example/cb"}, GrantTypes: []int{0, 2}}
	changed := cfg
	changed.DevMode, changed.ClockSkew = true, 2e9
	project := []eventstore.PendingEvent{
		pe(events.ProjectAdded, events.ProjectPayload{Name: "Project " + p, ProjectRoleCheck: true}),
		pe(events.AppAdded, events.AppPayload{AppID: p + "app1", Name: "web"}),
		pe(events.OIDCConfigAdded, events.OIDCConfigAddedPayload{AppID: p + "app1", ClientID: p + "c1", HashedSecret: "$argon2id$" + p, OIDCConfig: cfg}),
		pe(events.OIDCConfigChanged, events.OIDCConfigChangedPayload{AppID: p + "app1", OIDCConfig: changed}),
		pe(events.OIDCConfigSecretChanged, events.SecretChangedPayload{AppID: p + "app1", HashedSecret: "$argon2id$new" + p}),
		pe(events.AppAdded, events.AppPayload{AppID: p + "app2", Name: "api"}),
		pe(events.APIConfigAdded, events.APIConfigAddedPayload{AppID: p + "app2", ClientID: p + "c2", AuthMethodType: 1}),
		pe(events.AppAdded, events.AppPayload{AppID: p + "app3", Name: "gone"}),
		pe(events.APIConfigAdded, events.APIConfigAddedPayload{AppID: p + "app3", ClientID: p + "c3"}),
		pe(events.AppRemoved, events.AppPayload{AppID: p + "app3"}),
		pe(events.ProjectChanged, events.ProjectPayload{Name: "Renamed " + p, HasProjectCheck: true}),
	}
	// Sessions: every kind of session event, one session terminated.
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for i, end := range []bool{false, true} {
		evs := []eventstore.PendingEvent{
			pe(events.SessionAdded, events.SessionAddedPayload{UserAgent: &events.UserAgent{Description: "bench " + p}}),
			pe(events.SessionUserChecked, events.SessionUserCheckedPayload{UserID: u(1), UserResourceOwner: org, CheckedAt: at}),
			pe(events.SessionPasswordChecked, events.SessionCheckedPayload{CheckedAt: at.Add(time.Second)}),
			pe(events.SessionIntentChecked, events.SessionCheckedPayload{CheckedAt: at.Add(2 * time.Second)}),
			pe(events.SessionTokenSet, events.SessionTokenSetPayload{TokenID: p + "tok", TokenHash: "hash-" + p}),
			pe(events.SessionLifetimeSet, events.SessionLifetimeSetPayload{Lifetime: time.Hour}),
			pe(events.SessionMetadataSet, events.SessionMetadataSetPayload{Metadata: map[string][]byte{"k": []byte(p)}}),
			pe(events.SessionTokenSet, events.SessionTokenSetPayload{TokenID: p + "tok2", TokenHash: "hash2-" + p}),
		}
		if end {
			evs = append(evs, pe(events.SessionTerminated, nil))
		}
		a.Aggregates = append(a.Aggregates, agg(events.AggSession, fmt.Sprintf("%ssession%d", p, i), inst, evs...))
	}
	a.Aggregates = append(a.Aggregates, agg(events.AggProject, p+"project", org, project...),
		agg(events.AggProject, p+"removed", org, pe(events.ProjectAdded, events.ProjectPayload{Name: "x"}),
			pe(events.AppAdded, events.AppPayload{AppID: p + "app4", Name: "web"}), pe(events.ProjectRemoved, nil)))
	_, err := s.Append(ctx, a)
	return err
}

func allTables(ps []*Projection) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Tables...)
	}
	return out
}

// catalogEnv is a database with every registered projection, after rounds
// rounds of the catalog workload.
func catalogEnv(t *testing.T, rounds int) (*env, *Registry) {
	t.Helper()
	if len(All()) == 0 {
		t.Skip("no projections registered yet")
	}
	reg := NewRegistry(All()...)
	e := setup(t, reg, "")
	catalogSetup(t, e.store)
	for r := 0; r < rounds; r++ {
		if err := catalogRound(context.Background(), e.store, fmt.Sprintf("r%d", r), r%5 == 4); err != nil {
			t.Fatalf("round %d: %v", r, err)
		}
	}
	return e, reg
}

func TestRebuildAllProjectionsIsExact(t *testing.T) {
	ctx := context.Background()
	e, reg := catalogEnv(t, 40)
	tables := allTables(All())
	before := checksum(t, e.pool, tables...)
	// A live table's storage parameters survive a rebuild, a fillfactor of
	// its own too; the others keep none (the shadows of updated tables
	// have one of their own until the swap).
	if _, err := e.pool.Exec(ctx, "ALTER TABLE users SET (fillfactor = 90, autovacuum_enabled = false)"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, "ALTER TABLE user_idp_links SET (autovacuum_vacuum_scale_factor = 0.05)"); err != nil {
		t.Fatal(err)
	}
	idx, params := map[string]string{}, map[string]string{}
	for _, tbl := range tables {
		idx[tbl] = indexesOf(t, e.pool, tbl)
		params[tbl] = storageParamsOf(t, e.pool, tbl)
	}
	var rows, sessions int
	_ = e.pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM idps) + (SELECT count(*) FROM user_idp_links) + (SELECT count(*) FROM login_policy_idps)").Scan(&rows)
	_ = e.pool.QueryRow(ctx, "SELECT count(*) FROM sessions WHERE token_hash LIKE 'hash2-%' AND metadata <> '{}' AND expiration IS NOT NULL").Scan(&sessions)
	if rows == 0 || sessions == 0 {
		t.Fatalf("workload produced %d IdP, link and policy rows and %d full sessions", rows, sessions)
	}
	for i := 0; i < 2; i++ {
		if err := Rebuild(ctx, e.pool, e.store, reg, nil, nil); err != nil {
			t.Fatalf("rebuild --all: %v", err)
		}
		if got := checksum(t, e.pool, tables...); got != before {
			t.Fatalf("rebuild %d changed the tables\n got %s\nwant %s", i+1, got, before)
		}
	}
	for _, tbl := range tables {
		if got := indexesOf(t, e.pool, tbl); got != idx[tbl] {
			t.Errorf("indexes of %s changed\n got %s\nwant %s", tbl, got, idx[tbl])
		}
		if got := storageParamsOf(t, e.pool, tbl); got != params[tbl] {
			t.Errorf("storage parameters of %s changed: got %q, want %q", tbl, got, params[tbl])
		}
	}
	if params["users"] != "{fillfactor=90,autovacuum_enabled=false}" || params["sessions"] != "{}" {
		t.Errorf("storage parameters: users %q, sessions %q", params["users"], params["sessions"])
	}
}

func storageParamsOf(t testing.TB, pool *pgxpool.Pool, table string) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(), "SELECT coalesce(reloptions, '{}')::text FROM pg_class WHERE oid = $1::regclass", table).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRebuildAllProjectionsOnline(t *testing.T) {
	ctx := context.Background()
	e, reg := catalogEnv(t, 60)
	var acked []string
	stopWriter := writeUntilStopped(0, func(i int) error {
		p := fmt.Sprintf("w%d", i)
		if err := catalogRound(ctx, e.store, p, false); err != nil {
			return err
		}
		acked = append(acked, p)
		return nil
	})
	err := Rebuild(ctx, e.pool, e.store, reg, nil, nil)
	werr := stopWriter()
	if err != nil || werr != nil {
		t.Fatalf("rebuild: %v, writer: %v", err, werr)
	}
	t.Logf("%d rounds acknowledged during the rebuild", len(acked))
	for _, p := range acked {
		var n int
		_ = e.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM orgs WHERE id = $1) + (SELECT count(*) FROM users WHERE org_id = $1)
			+ (SELECT count(*) FROM login_policies WHERE id = $1)`, p+"org").Scan(&n)
		if n != 1+3+1 { // the org, u1, u2 and the machine user, its policy
			t.Fatalf("acknowledged round %s: %d rows, want 5", p, n)
		}
	}
	tables := allTables(All())
	online := checksum(t, e.pool, tables...)
	if err := Rebuild(ctx, e.pool, e.store, reg, nil, nil); err != nil {
		t.Fatal(err)
	}
	if quiet := checksum(t, e.pool, tables...); quiet != online {
		t.Fatalf("online rebuild differs from a quiet one\nonline %s\nquiet  %s", online, quiet)
	}
}
