package command_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/query"
)

// tripStore counts the calls a command makes to the store: on Postgres each
// is one round trip (Load runs all its reads as one batch, Append is one
// pipelined transaction).
type tripStore struct {
	eventstore.Store
	calls []string
}

func (s *tripStore) Append(ctx context.Context, a eventstore.Append) ([]eventstore.Event, error) {
	s.calls = append(s.calls, "Append")
	return s.Store.Append(ctx, a)
}

func (s *tripStore) Aggregate(ctx context.Context, ref eventstore.AggregateRef, after uint64) ([]eventstore.Event, error) {
	s.calls = append(s.calls, "Aggregate")
	return s.Store.Aggregate(ctx, ref, after)
}

func (s *tripStore) AggregateTypes(ctx context.Context, ref eventstore.AggregateRef, types []string) ([]eventstore.Event, uint64, error) {
	s.calls = append(s.calls, "AggregateTypes")
	return s.Store.AggregateTypes(ctx, ref, types)
}

func (s *tripStore) Ends(ctx context.Context, ref eventstore.AggregateRef) (eventstore.Event, eventstore.Event, bool, error) {
	s.calls = append(s.calls, "Ends")
	return s.Store.Ends(ctx, ref)
}

func (s *tripStore) Load(ctx context.Context, loads ...*eventstore.Load) error {
	s.calls = append(s.calls, "Load")
	return s.Store.Load(ctx, loads...)
}

// TestWritesInTwoRoundTrips: the benchmarked writes load what their
// decision needs in one round trip and append in one.
func TestWritesInTwoRoundTrips(t *testing.T) {
	env := newPLEnv(t)
	instIDP, orgIDP := env.addIDP(""), env.addIDP(env.org)
	alice := env.addHuman(env.org, "alice")
	if _, err := env.cmds.AddCustomLoginPolicy(env.owner(env.org), env.org, command.LoginPolicy{AllowUsernamePassword: true}); err != nil {
		t.Fatal(err)
	}
	trips := &tripStore{Store: env.store}
	c := command.New(command.Deps{Store: trips, Links: query.New(env.pool)})
	for _, w := range []struct {
		name string
		run  func() error
	}{
		{"AddIDPLink", func() error {
			_, err := c.AddIDPLink(env.iam(), alice, "", extLink(instIDP, "rt1"), v2Link)
			return err
		}},
		{"AddIDPToLoginPolicy", func() error {
			_, err := c.AddIDPToLoginPolicy(env.owner(env.org), env.org, orgIDP, command.IDPOwnerOrg)
			return err
		}},
		// No user is linked to the IdP: the policy and the link index load
		// together.
		{"RemoveIDPFromLoginPolicy", func() error {
			_, err := c.RemoveIDPFromLoginPolicy(env.owner(env.org), env.org, orgIDP)
			return err
		}},
	} {
		trips.calls = nil
		if err := w.run(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if len(trips.calls) != 2 || trips.calls[0] != "Load" || trips.calls[1] != "Append" {
			t.Errorf("%s: store calls %v, want [Load Append]", w.name, trips.calls)
		}
	}
}

// TestCascadeLoadsLinkedUsersAtOnce: removing an IdP from a policy loads
// the users linked to it in one round trip after the policy's, however many
// there are, and removes their links in the same append.
func TestCascadeLoadsLinkedUsersAtOnce(t *testing.T) {
	env := newPLEnv(t)
	orgIDP := env.addIDP(env.org)
	if _, err := env.cmds.AddCustomLoginPolicy(env.owner(env.org), env.org, command.LoginPolicy{AllowUsernamePassword: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.cmds.AddIDPToLoginPolicy(env.owner(env.org), env.org, orgIDP, command.IDPOwnerOrg); err != nil {
		t.Fatal(err)
	}
	users := []string{env.addHuman(env.org, "u1"), env.addHuman(env.org, "u2"), env.addHuman(env.org, "u3")}
	for i, u := range users {
		if _, err := env.cmds.AddIDPLink(env.iam(), u, "", extLink(orgIDP, fmt.Sprintf("ext-%d", i)), v2Link); err != nil {
			t.Fatal(err)
		}
	}
	trips := &tripStore{Store: env.store}
	links := query.New(env.pool)
	c := command.New(command.Deps{Store: trips, Links: links})
	if _, err := c.RemoveIDPFromLoginPolicy(env.owner(env.org), env.org, orgIDP); err != nil {
		t.Fatal(err)
	}
	if want := []string{"Load", "Load", "Append"}; !slices.Equal(trips.calls, want) {
		t.Errorf("store calls %v, want %v", trips.calls, want)
	}
	left, err := links.UsersLinkedToIDP(context.Background(), env.inst, orgIDP, "")
	if err != nil || len(left) != 0 {
		t.Fatalf("links left after the cascade: %v %v", left, err)
	}
}

// TestSessionInTwoRoundTrips: a session with a user check by ID and a
// password check loads the session and the user in one round trip and
// appends in one; a wrong password does the same.
func TestSessionInTwoRoundTrips(t *testing.T) {
	env := newSessionEnv(t, 0)
	trips := &tripStore{Store: env.store}
	c := command.New(command.Deps{Store: trips, IDs: &seqIDs{}, Members: eventMemberIndex{env.store},
		Now: func() time.Time { return env.now }})
	for _, pw := range []string{goodPassword, "wrong-Passw0rd!"} {
		trips.calls = nil
		_, err := c.CreateSession(env.login, command.CreateSession{Checks: command.SessionChecks{
			User: &command.UserCheck{UserID: env.userID}, Password: &command.PasswordCheck{Password: pw}}})
		if (err != nil) != (pw != goodPassword) {
			t.Fatalf("password %q: %v", pw, err)
		}
		if want := []string{"Load", "Append"}; !slices.Equal(trips.calls, want) {
			t.Errorf("password %q: store calls %v, want %v", pw, trips.calls, want)
		}
	}
}

// tripUsers counts the user index's own reads (a round trip each) with the
// store's calls; a read it hands to the store's Load costs none.
type tripUsers struct {
	command.UserIndex
	trips *tripStore
}

func (u tripUsers) UserIDsByLoginName(ctx context.Context, instanceID, loginName string) ([]string, error) {
	u.trips.calls = append(u.trips.calls, "UserIDsByLoginName")
	return u.UserIndex.UserIDsByLoginName(ctx, instanceID, loginName)
}

// TestSessionByLoginNameInTwoRoundTrips: on Postgres, a session whose user
// check names the user by login name finds the user in the read table and
// loads its events in the same round trip as the session's, then appends
// in one; the decision is the one the lookup on its own gave: a right and a
// wrong password (recorded on the user), any case of the name, an unknown
// name and a name two orgs share (NotFound before any other check, and no
// append), a locked user, and a SetSession of an unknown session.
func TestSessionByLoginNameInTwoRoundTrips(t *testing.T) {
	env := newPLEnv(t)
	other := env.addOrg("other")
	human := func(org, username string) string {
		t.Helper()
		d, err := env.cmds.AddHuman(env.iam(), command.AddHuman{OrgID: org, Username: username, GivenName: "G", FamilyName: "F",
			Email: username + "@" + org + ".example.com", Password: &command.Password{Password: goodPassword}})
		if err != nil {
			t.Fatal(err)
		}
		return d.ID
	}
	alice, carol := human(env.org, "alice"), human(env.org, "carol")
	human(env.org, "shared")
	human(other, "shared")

	trips := &tripStore{Store: env.store}
	c := command.New(command.Deps{Store: trips, IDs: &seqIDs{}, Users: tripUsers{env.q, trips}, MaxPasswordAttempts: 2})
	byName := func(name, pw string) command.SessionChecks {
		return command.SessionChecks{User: &command.UserCheck{LoginName: name}, Password: &command.PasswordCheck{Password: pw}}
	}
	userTypes := func(id string) []string {
		t.Helper()
		evs, err := env.store.Aggregate(context.Background(), eventstore.AggregateRef{InstanceID: env.inst, Type: "user", ID: id}, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, e.Type)
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		checks    command.SessionChecks
		wantErr   string
		wantCalls []string
	}{
		{"right password", byName("alice", goodPassword), "", []string{"Load", "Append"}},
		{"any case", byName("ALICE", goodPassword), "", []string{"Load", "Append"}},
		{"wrong password", byName("alice", "wrong-Passw0rd!"), "COMMAND-3M0fs", []string{"Load", "Append"}},
		{"unknown name", byName("nobody", goodPassword), "QUERY-Dfbg2", []string{"Load"}},
		{"name of two users", byName("shared", goodPassword), "QUERY-Dfbg2", []string{"Load"}},
		{"carol wrong once", byName("carol", "wrong-Passw0rd!"), "COMMAND-3M0fs", []string{"Load", "Append"}},
		{"carol wrong twice: locked", byName("carol", "wrong-Passw0rd!"), "COMMAND-SFA3t", []string{"Load", "Append"}},
		{"carol locked", byName("carol", goodPassword), "SESSION-Gj4ko", []string{"Load"}},
	} {
		trips.calls = nil
		got, err := c.CreateSession(env.iam(), command.CreateSession{Checks: tc.checks})
		if errID(err) != tc.wantErr && !(tc.wantErr == "" && err == nil) {
			t.Fatalf("%s: %v, want %q", tc.name, err, tc.wantErr)
		}
		if tc.wantErr == "" && (got == nil || got.Token == "") {
			t.Fatalf("%s: no session: %+v", tc.name, got)
		}
		if !slices.Equal(trips.calls, tc.wantCalls) {
			t.Errorf("%s: store calls %v, want %v", tc.name, trips.calls, tc.wantCalls)
		}
	}
	if got, want := userTypes(alice), []string{"user.human.password.check.succeeded", "user.human.password.check.succeeded",
		"user.human.password.check.failed"}; !slices.Equal(got[len(got)-3:], want) {
		t.Errorf("alice's last events %v, want %v", got, want)
	}
	if got := userTypes(carol); !slices.Contains(got, "user.locked") {
		t.Errorf("carol's events %v: not locked", got)
	}
	// SetSession: an unknown name is answered before the unknown session,
	// as when the lookup ran first.
	for name, want := range map[string]string{"nobody": "QUERY-Dfbg2", "alice": "COMMAND-SeNF1"} {
		_, err := c.SetSession(env.iam(), command.SetSession{SessionID: "no-such-session", Checks: byName(name, goodPassword)})
		if errID(err) != want {
			t.Errorf("SetSession of an unknown session by %s: %v, want %s", name, err, want)
		}
	}
}

// TestMachineGrantsInOneLoad: the OP's machine grants read the machine
// user and the instance's token lifetimes in one round trip (on Postgres:
// the client ID's lookup, the user's events and the settings' events in one
// batch), so that with the token's append a grant is two round trips. The
// lifetimes are ZITADEL's defaults until the instance sets its own, and
// each read sees the settings as they are at that read.
func TestMachineGrantsInOneLoad(t *testing.T) {
	env := newPLEnv(t)
	d, err := env.cmds.AddMachine(env.iam(), command.AddMachine{OrgID: env.org, Username: "robot", Name: "R"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := env.cmds.GenerateMachineSecret(env.iam(), env.org, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	k, err := env.cmds.AddMachineKey(env.iam(), command.AddMachineKey{OrgID: env.org, UserID: d.ID, Type: command.KeyTypeJSON})
	if err != nil {
		t.Fatal(err)
	}
	trips := &tripStore{Store: env.store}
	c := command.New(command.Deps{Store: trips, IDs: &seqIDs{}, Users: tripUsers{env.q, trips}})
	check := func(what string, want command.OIDCSettings) {
		t.Helper()
		trips.calls = nil
		m, err := c.CheckMachineClient(context.Background(), env.inst, "robot", s.ClientSecret)
		if err != nil || m.UserID != d.ID || m.OrgID != env.org || m.Lifetimes != want {
			t.Fatalf("%s: CheckMachineClient = %+v, %v; want lifetimes %+v", what, m, err, want)
		}
		if !slices.Equal(trips.calls, []string{"Load"}) {
			t.Errorf("%s: CheckMachineClient store calls %v, want [Load]", what, trips.calls)
		}
		trips.calls = nil
		key, err := c.MachineKeyByID(context.Background(), env.inst, k.KeyID, d.ID)
		if err != nil || key.UserID != d.ID || key.Details.ResourceOwner != env.org || key.Lifetimes != want {
			t.Fatalf("%s: MachineKeyByID = %+v, %v; want lifetimes %+v", what, key, err, want)
		}
		if !slices.Equal(trips.calls, []string{"Load"}) {
			t.Errorf("%s: MachineKeyByID store calls %v, want [Load]", what, trips.calls)
		}
	}
	check("defaults", command.OIDCSettings{AccessTokenLifetime: 12 * time.Hour, IDTokenLifetime: 12 * time.Hour,
		RefreshTokenIdleExpiration: 720 * time.Hour, RefreshTokenExpiration: 2160 * time.Hour})
	set := command.OIDCSettings{AccessTokenLifetime: time.Minute, IDTokenLifetime: 2 * time.Minute,
		RefreshTokenIdleExpiration: 5 * time.Minute, RefreshTokenExpiration: time.Hour}
	if _, err := env.cmds.AddOIDCSettings(env.iam(), set); err != nil {
		t.Fatal(err)
	}
	check("set", set)
	set.AccessTokenLifetime = 90 * time.Second
	if _, err := env.cmds.UpdateOIDCSettings(env.iam(), set); err != nil {
		t.Fatal(err)
	}
	check("changed", set)

	// A wrong secret, an unknown client and an unknown key fail after the
	// one load, as before.
	for _, tc := range []struct{ id, secret string }{{"robot", "wrong"}, {"nobody", s.ClientSecret}} {
		trips.calls = nil
		if _, err := c.CheckMachineClient(context.Background(), env.inst, tc.id, tc.secret); err != command.ErrMachineSecret {
			t.Errorf("CheckMachineClient(%q): %v, want ErrMachineSecret", tc.id, err)
		}
		if !slices.Equal(trips.calls, []string{"Load"}) {
			t.Errorf("CheckMachineClient(%q) store calls %v, want [Load]", tc.id, trips.calls)
		}
	}
	if _, err := c.MachineKeyByID(context.Background(), env.inst, "no-such-key", d.ID); err == nil {
		t.Error("MachineKeyByID of an unknown key: no error")
	}
}
