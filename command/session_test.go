package command_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

const goodPassword = "Secr3t!pass"

// sessionEnv is an instance with one org and one human with a password,
// on the in-memory store, and a login client caller.
type sessionEnv struct {
	store  *eventstore.Memory
	c      *command.Commands
	now    time.Time
	userID string
	login  context.Context // IAM_LOGIN_CLIENT
	owner  context.Context // IAM_OWNER
}

func newSessionEnv(t *testing.T, maxAttempts uint64) *sessionEnv {
	t.Helper()
	env := &sessionEnv{store: eventstore.NewMemory(), now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	env.store.Now = func() time.Time { return env.now }
	env.c = command.New(command.Deps{Store: env.store, IDs: &seqIDs{}, Members: eventMemberIndex{env.store},
		MaxPasswordAttempts: maxAttempts, Now: func() time.Time { return env.now }})
	ctx := context.Background()
	if _, err := env.store.Append(ctx, eventstore.Append{Aggregates: []eventstore.AggregateAppend{
		{Aggregate: eventstore.AggregateRef{InstanceID: scInst, Type: events.AggOrg, ID: scOrg}, ResourceOwner: scOrg,
			Events: []eventstore.PendingEvent{{Type: events.OrgAdded, Payload: events.OrgAddedPayload{Name: "o"}}}}}}); err != nil {
		t.Fatal(err)
	}
	env.owner = authz.WithCaller(ctx, scIAMOwner())
	env.login = authz.WithCaller(ctx, scCaller("login", scOrg, authz.Membership{Roles: []string{authz.IAMLoginClient}}))
	d, err := env.c.AddHuman(env.owner, command.AddHuman{OrgID: scOrg, Username: "alice", GivenName: "A", FamilyName: "L",
		Email: "alice@example.com", Password: &command.Password{Password: goodPassword}})
	if err != nil {
		t.Fatal(err)
	}
	env.userID = d.ID
	return env
}

func (env *sessionEnv) types(t *testing.T, typ ...string) []string {
	t.Helper()
	evs, err := env.store.Read(context.Background(), eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		for _, p := range typ {
			if strings.HasPrefix(e.Type, p) {
				out = append(out, e.Type)
			}
		}
	}
	return out
}

func TestAddHumanPassword(t *testing.T) {
	env := newSessionEnv(t, 0)
	evs, _ := env.store.Read(context.Background(), eventstore.Filter{EventTypes: []string{events.UserPasswordChanged}})
	if len(evs) != 1 || !strings.Contains(string(evs[0].Payload), `"encodedHash":"$argon2id$v=19$m=19456,t=2,p=1$`) ||
		strings.Contains(string(evs[0].Payload), goodPassword) {
		t.Fatalf("password event = %+v", evs)
	}
	for pw, id := range map[string]string{"Sh0rt!": "COMMA-HuJf6", "NOLOWER1!": "COMMA-co3Xw", "noupper1!": "COMMA-VoaRj",
		"NoNumber!": "COMMA-ZBv4H", "NoSymbol1": "COMMA-ZDLwA"} {
		_, err := env.c.AddHuman(env.owner, command.AddHuman{OrgID: scOrg, Username: "b" + pw, GivenName: "B", FamilyName: "L",
			Email: "b@example.com", Password: &command.Password{Password: pw}})
		wantErr(t, err, errs.KindInvalidArgument, id)
	}
	_, err := env.c.AddHuman(env.owner, command.AddHuman{OrgID: scOrg, Username: "h", GivenName: "B", FamilyName: "L",
		Email: "b@example.com", Password: &command.Password{Hash: "md5:abc"}})
	wantErr(t, err, errs.KindInvalidArgument, "COMMAND-Hash1")
}

func TestCreateSessionPassword(t *testing.T) {
	env := newSessionEnv(t, 0)
	s, err := env.c.CreateSession(env.login, command.CreateSession{Checks: command.SessionChecks{
		User: &command.UserCheck{UserID: env.userID}, Password: &command.PasswordCheck{Password: goodPassword}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Token) < 40 || s.ResourceOwner != scInst {
		t.Fatalf("session = %+v", s)
	}
	got := strings.Join(env.types(t, "session.", "user.human.password.check"), " ")
	want := "session.added session.user.checked session.password.checked session.token.set user.human.password.check.succeeded"
	if got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	evs, _ := env.store.Read(context.Background(), eventstore.Filter{EventTypes: []string{events.SessionTokenSet}})
	if strings.Contains(string(evs[0].Payload), s.Token) || !strings.Contains(string(evs[0].Payload), events.PATHash(s.Token)) {
		t.Fatalf("token event %s holds the token or lacks its hash", evs[0].Payload)
	}

	// Set with the token: a new token, the old one stops working.
	s2, err := env.c.SetSession(env.login, command.SetSession{SessionID: s.ID, SessionToken: s.Token, Lifetime: time.Minute})
	if err != nil || s2.Token == "" || s2.Token == s.Token {
		t.Fatalf("set = %+v, %v", s2, err)
	}
	_, err = env.c.SetSession(env.login, command.SetSession{SessionID: s.ID, SessionToken: s.Token, Lifetime: time.Minute})
	wantErr(t, err, errs.KindPermissionDenied, "COMMAND-sGr42")
	// Lifetime: expired a minute later.
	env.now = env.now.Add(2 * time.Minute)
	_, err = env.c.SetSession(env.login, command.SetSession{SessionID: s.ID, SessionToken: s2.Token, Lifetime: time.Minute})
	wantErr(t, err, errs.KindFailedPrecondition, "COMMAND-Hkl3d")
	// Another instance does not see it.
	other := authz.WithCaller(context.Background(), &authz.Caller{InstanceID: "inst2", UserID: "x",
		Memberships: []authz.Membership{{Roles: []string{authz.IAMOwner}}}})
	_, err = env.c.DeleteSession(other, s.ID, "")
	wantErr(t, err, errs.KindNotFound, "COMMAND-SeNF1")
	if _, err := env.c.DeleteSession(env.login, s.ID, s2.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := env.c.DeleteSession(env.login, s.ID, s2.Token); err != nil {
		t.Fatalf("second delete: %v", err)
	}
}

func TestSessionChecksOrder(t *testing.T) {
	env := newSessionEnv(t, 0)
	for _, tc := range []struct {
		name   string
		caller context.Context
		checks command.SessionChecks
		kind   errs.Kind
		id     string
	}{
		{"no permission", authz.WithCaller(context.Background(), scCaller("u", scOrg)), command.SessionChecks{}, errs.KindPermissionDenied, "AUTHZ-HKJD33"},
		{"unknown user", env.login, command.SessionChecks{User: &command.UserCheck{UserID: "nope"}}, errs.KindNotFound, "QUERY-Dfbg2"},
		{"password without user", env.login, command.SessionChecks{Password: &command.PasswordCheck{Password: "x"}}, errs.KindFailedPrecondition, "COMMAND-Sfw3f"},
		{"intent without user", env.login, command.SessionChecks{Intent: &command.IntentCheck{ID: "i", Token: "t"}}, errs.KindFailedPrecondition, "COMMAND-Sfw3r"},
		{"unknown intent", env.login, command.SessionChecks{User: &command.UserCheck{UserID: env.userID},
			Intent: &command.IntentCheck{ID: "i", Token: "t"}}, errs.KindPermissionDenied, "CRYPTO-CRYPTO"},
		{"password before intent", env.login, command.SessionChecks{User: &command.UserCheck{UserID: env.userID},
			Password: &command.PasswordCheck{Password: "wrong"}, Intent: &command.IntentCheck{ID: "i", Token: "t"}}, errs.KindInvalidArgument, "COMMAND-3M0fs"},
	} {
		_, err := env.c.CreateSession(tc.caller, command.CreateSession{Checks: tc.checks})
		e, ok := errs.As(err)
		if !ok || e.Kind != tc.kind || e.ID != tc.id {
			t.Errorf("%s: error = %v, want %v %s", tc.name, err, tc.kind, tc.id)
		}
	}
	if got := env.types(t, "session."); len(got) != 0 {
		t.Fatalf("failed checks created sessions: %v", got)
	}
}

func TestPasswordLockout(t *testing.T) {
	env := newSessionEnv(t, 3)
	check := func(pw string) error {
		_, err := env.c.CreateSession(env.login, command.CreateSession{Checks: command.SessionChecks{
			User: &command.UserCheck{UserID: env.userID}, Password: &command.PasswordCheck{Password: pw}}})
		return err
	}
	wantErr(t, check("wrong1"), errs.KindInvalidArgument, "COMMAND-3M0fs")
	if err := check(goodPassword); err != nil { // a success resets the count
		t.Fatal(err)
	}
	wantErr(t, check("wrong2"), errs.KindInvalidArgument, "COMMAND-3M0fs")
	wantErr(t, check("wrong3"), errs.KindInvalidArgument, "COMMAND-3M0fs")
	wantErr(t, check("wrong4"), errs.KindFailedPrecondition, "COMMAND-SFA3t")
	wantErr(t, check(goodPassword), errs.KindFailedPrecondition, "SESSION-Gj4ko")
	got := strings.Join(env.types(t, "user.human.password.check", "user.locked"), " ")
	want := "user.human.password.check.failed user.human.password.check.succeeded user.human.password.check.failed " +
		"user.human.password.check.failed user.human.password.check.failed user.locked"
	if got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	// SetPassword with the current password of a locked user fails too.
	cur := goodPassword
	self := authz.WithCaller(context.Background(), scCaller(env.userID, scOrg))
	_, err := env.c.SetPassword(self, command.SetPassword{UserID: env.userID, New: command.Password{Password: "N3w!password"}, CurrentPassword: &cur})
	wantErr(t, err, errs.KindFailedPrecondition, "COMMAND-JLK35")
}

func TestSetPassword(t *testing.T) {
	env := newSessionEnv(t, 0)
	self := authz.WithCaller(context.Background(), scCaller(env.userID, scOrg))
	wrong, cur := "nope", goodPassword
	newPW := command.Password{Password: "N3w!password"}
	_, err := env.c.SetPassword(self, command.SetPassword{UserID: env.userID, New: newPW, CurrentPassword: &wrong})
	wantErr(t, err, errs.KindInvalidArgument, "COMMAND-3M0fs")
	_, err = env.c.SetPassword(self, command.SetPassword{UserID: env.userID, New: newPW})
	wantErr(t, err, errs.KindPermissionDenied, "AUTHZ-HKJD33")
	code := "123456"
	_, err = env.c.SetPassword(self, command.SetPassword{UserID: env.userID, New: newPW, VerificationCode: &code})
	wantErr(t, err, errs.KindFailedPrecondition, "COMMAND-2M9fs")
	_, err = env.c.SetPassword(self, command.SetPassword{UserID: env.userID, New: command.Password{Password: "weak"}, CurrentPassword: &cur})
	wantErr(t, err, errs.KindInvalidArgument, "COMMA-HuJf6")
	_, err = env.c.SetPassword(env.owner, command.SetPassword{UserID: "nope", New: newPW})
	wantErr(t, err, errs.KindFailedPrecondition, "COMMAND-G8dh3")
	if _, err := env.c.SetPassword(self, command.SetPassword{UserID: env.userID, New: newPW, CurrentPassword: &cur}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.c.SetPassword(env.owner, command.SetPassword{UserID: env.userID, New: command.Password{Password: "Th1rd!password", ChangeRequired: true}}); err != nil {
		t.Fatal(err)
	}
	_, err = env.c.CreateSession(env.login, command.CreateSession{Checks: command.SessionChecks{
		User: &command.UserCheck{UserID: env.userID}, Password: &command.PasswordCheck{Password: "N3w!password"}}})
	wantErr(t, err, errs.KindInvalidArgument, "COMMAND-3M0fs")
	if _, err := env.c.CreateSession(env.login, command.CreateSession{Checks: command.SessionChecks{
		User: &command.UserCheck{UserID: env.userID}, Password: &command.PasswordCheck{Password: "Th1rd!password"}}}); err != nil {
		t.Fatal(err)
	}
}
