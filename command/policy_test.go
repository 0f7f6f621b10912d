package command_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/projection"
	"github.com/idledger/idledger/query"
	"github.com/idledger/idledger/secretbox"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
)

// plEnv is an instance set up by first start (default policy, org
// "Default", admin), on a fresh database with every inline projection.
type plEnv struct {
	t     *testing.T
	cmds  *command.Commands
	q     *query.Queries
	store *eventstore.Postgres
	pool  *pgxpool.Pool
	inst  string
	org   string // the "Default" org
	admin string
}

func newPLEnv(t *testing.T) *plEnv {
	t.Helper()
	a := apptest.Wire(t, app.Options{Log: zerolog.Nop(), MasterKey: bytes.Repeat([]byte{9}, secretbox.KeySize)})
	cmds := a.Commands()
	res, err := cmds.SetUpInstance(context.Background(), command.InstanceSetup{Domains: []string{"pl.test"}})
	if err != nil {
		t.Fatal(err)
	}
	return &plEnv{t: t, cmds: cmds, q: a.Queries(), store: a.Store(), pool: a.Pool(),
		inst: res.InstanceID, org: res.OrgID, admin: res.AdminUserID}
}

// as returns a context whose caller is userID of org with memberships ms.
func (e *plEnv) as(userID, org string, ms ...authz.Membership) context.Context {
	return authz.WithCaller(context.Background(), &authz.Caller{
		InstanceID: e.inst, UserID: userID, UserOrgID: org, OrgID: org, Memberships: ms,
	})
}

func (e *plEnv) iam() context.Context {
	return e.as(e.admin, e.org, authz.Membership{Roles: []string{authz.IAMOwner}})
}

func (e *plEnv) owner(org string) context.Context {
	return e.as("owner-"+org, org, authz.Membership{OrgID: org, Roles: []string{authz.OrgOwner}})
}

func (e *plEnv) addOrg(name string) string {
	e.t.Helper()
	d, err := e.cmds.AddOrg(e.iam(), command.AddOrg{Name: name})
	if err != nil {
		e.t.Fatal(err)
	}
	return d.ID
}

func (e *plEnv) addHuman(org, name string) string {
	e.t.Helper()
	d, err := e.cmds.AddHuman(e.iam(), command.AddHuman{OrgID: org, GivenName: name, FamilyName: "Test",
		Email: name + "@" + org + ".example.com"})
	if err != nil {
		e.t.Fatal(err)
	}
	return d.ID
}

// addIDP creates a Google IdP of the instance (org "") or of org.
func (e *plEnv) addIDP(org string) string {
	e.t.Helper()
	owner := command.IDPOwnerRef{Type: events.OwnerSystem}
	if org != "" {
		owner = command.IDPOwnerRef{Type: events.OwnerOrg, OrgID: org}
	}
	d, err := e.cmds.AddIDP(e.iam(), owner, tplOf(e.t, "google", `{"clientId":"cid","clientSecret":"secret"}`))
	if err != nil {
		e.t.Fatal(err)
	}
	return d.ID
}

func (e *plEnv) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func plWant(t *testing.T, err error, kind errs.Kind, id string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != kind || e.ID != id {
		t.Fatalf("error = %v, want %v %q", err, kind, id)
	}
}

// TestPolicyIDPScenarios: adding an IdP to the default or an org's login
// policy, in ZITADEL's check order.
func TestPolicyIDPScenarios(t *testing.T) {
	instIDP, orgIDP, otherIDP, gone := "idp-inst", "idp-org", "idp-other", "idp-gone"
	idps := []eventstore.Append{givenIDP(instIDP, ""), givenIDP(orgIDP, scOrg), givenIDP(otherIDP, scOrgB),
		givenIDP(gone, ""), givenIDPRemoved(gone, "")}
	withDefault := append(slices.Clone(idps), givenPolicy(""))
	withCustom := append(slices.Clone(withDefault), givenPolicy(scOrg))
	toDefault := func(idpID string) func(context.Context, *command.Commands) error {
		return func(ctx context.Context, c *command.Commands) error {
			_, err := c.AddIDPToDefaultLoginPolicy(ctx, idpID)
			return err
		}
	}
	toOrg := func(idpID string, ot command.IDPOwnerType) func(context.Context, *command.Commands) error {
		return func(ctx context.Context, c *command.Commands) error {
			_, err := c.AddIDPToLoginPolicy(ctx, scOrg, idpID, ot)
			return err
		}
	}
	lengthMsg := "invalid AddIDPToLoginPolicyRequest.IdpId: value length must be between 1 and 200 runes, inclusive"
	scenarios := []scenario{
		{name: "default: no membership", given: withDefault, as: scCaller("nobody", scOrg), when: toDefault(instIDP),
			err: wantErrOf(errs.KindNotFound, "AUTHZ-cdgFk")},
		{name: "default: org owner", given: withDefault, as: scOrgOwner(scOrg), when: toDefault(instIDP),
			err: wantErrOf(errs.KindPermissionDenied, "AUTH-5mWD2")},
		{name: "default: empty idpId", given: withDefault, as: scIAMOwner(), when: toDefault(""), err: wantMessage(lengthMsg)},
		{name: "default: long idpId", given: withDefault, as: scIAMOwner(), when: toDefault(strings.Repeat("1", 201)), err: wantMessage(lengthMsg)},
		// An instance without a default policy: 404 before any IdP check.
		{name: "default: no policy", given: idps, as: scIAMOwner(), when: toDefault("0"), err: wantErrOf(errs.KindNotFound, "INSTANCE-GVDfe")},
		{name: "default: linked", given: append(slices.Clone(withDefault), givenPolicyIDP("", instIDP, events.OwnerSystem)),
			as: scIAMOwner(), when: toDefault(instIDP), err: wantErrOf(errs.KindAlreadyExists, "INSTANCE-2B0ps")},
		{name: "default: instance IdP", given: withDefault, as: scIAMOwner(), when: toDefault(instIDP),
			then: []thenEvent{{scInst, events.LoginPolicyIDPAdded, events.LoginPolicyIDPPayload{IDPID: instIDP, OwnerType: events.OwnerSystem}}}},

		// Without a custom policy: 404 even for an unknown IdP.
		{name: "org: no custom policy", given: withDefault, as: scOrgOwner(scOrg), when: toOrg("0", command.IDPOwnerOrg),
			err: wantErrOf(errs.KindNotFound, "Org-Ffgw2")},
		{name: "org: another org's owner", given: withCustom, as: scOrgOwner(scOrgB), when: toOrg(orgIDP, command.IDPOwnerOrg),
			err: wantErrOf(errs.KindPermissionDenied, "AUTH-5mWD2")},
		{name: "org: unspecified owner type", given: withCustom, as: scOrgOwner(scOrg), when: toOrg(orgIDP, command.IDPOwnerUnspecified),
			err: wantMessage("invalid AddIDPToLoginPolicyRequest.OwnerType: value must not be in list [0]")},
		{name: "org: undefined owner type", given: withCustom, as: scOrgOwner(scOrg), when: toOrg(orgIDP, 7),
			err: wantMessage("invalid AddIDPToLoginPolicyRequest.OwnerType: value must be one of the defined enum values")},
		{name: "org: linked", given: append(slices.Clone(withCustom), givenPolicyIDP(scOrg, orgIDP, events.OwnerOrg)),
			as: scOrgOwner(scOrg), when: toOrg(orgIDP, command.IDPOwnerOrg), err: wantErrOf(errs.KindAlreadyExists, "Org-2B0ps")},
		{name: "org: its own IdP", given: withCustom, as: scOrgOwner(scOrg), when: toOrg(orgIDP, command.IDPOwnerOrg),
			then: []thenEvent{{scOrg, events.LoginPolicyIDPAdded, events.LoginPolicyIDPPayload{IDPID: orgIDP, OwnerType: events.OwnerOrg}}}},
		{name: "org: custom policy exists", given: withCustom, as: scOrgOwner(scOrg),
			when: func(ctx context.Context, c *command.Commands) error {
				_, err := c.AddCustomLoginPolicy(ctx, scOrg, command.LoginPolicy{})
				return err
			}, err: wantErrOf(errs.KindAlreadyExists, "Org-Dgfb2")},
	}
	for _, id := range []string{"0", orgIDP, gone} {
		scenarios = append(scenarios, scenario{name: "default: not an instance IdP: " + id, given: withDefault, as: scIAMOwner(),
			when: toDefault(id), err: wantErrOf(errs.KindFailedPrecondition, "INSTANCE-m8fsd")})
	}
	for _, c := range []struct {
		id        string
		ownerType command.IDPOwnerType
	}{
		{"0", command.IDPOwnerOrg}, {"0", command.IDPOwnerSystem}, {instIDP, command.IDPOwnerOrg},
		{orgIDP, command.IDPOwnerSystem}, {otherIDP, command.IDPOwnerOrg}, {otherIDP, command.IDPOwnerSystem},
	} {
		scenarios = append(scenarios, scenario{name: fmt.Sprintf("org: not usable: %s as %d", c.id, c.ownerType), given: withCustom,
			as: scOrgOwner(scOrg), when: toOrg(c.id, c.ownerType), err: wantErrOf(errs.KindFailedPrecondition, "Org-3N9fs")})
	}
	for _, sc := range scenarios {
		sc.run(t)
	}
}

// TestAddCustomLoginPolicyScenarios: the typed policy is recorded in the
// event's stored form (enums by name, lifetimes as protobuf JSON).
func TestAddCustomLoginPolicyScenarios(t *testing.T) {
	instIDP, orgIDP := "idp-inst", "idp-org"
	given := []eventstore.Append{givenIDP(instIDP, ""), givenIDP(orgIDP, scOrg), givenPolicy("")}
	add := func(p command.LoginPolicy) func(context.Context, *command.Commands) error {
		return func(ctx context.Context, c *command.Commands) error {
			_, err := c.AddCustomLoginPolicy(ctx, scOrg, p)
			return err
		}
	}
	hour, half := time.Hour, 1500*time.Millisecond
	for _, sc := range []scenario{
		{name: "invalid redirect URI", given: given, as: scOrgOwner(scOrg), when: add(command.LoginPolicy{DefaultRedirectURI: "http://"}),
			err: wantErrOf(errs.KindInvalidArgument, "Org-WSfdq")},
		{name: "unknown IdP", given: given, as: scOrgOwner(scOrg), err: wantErrOf(errs.KindFailedPrecondition, "Org-FEd32"),
			when: add(command.LoginPolicy{IDPs: []command.LoginPolicyIDP{{IDPID: orgIDP, OwnerType: command.IDPOwnerOrg}, {IDPID: "0", OwnerType: command.IDPOwnerSystem}}})},
		{name: "unspecified owner type", given: given, as: scOrgOwner(scOrg), when: add(command.LoginPolicy{IDPs: []command.LoginPolicyIDP{{IDPID: orgIDP}}}),
			err: &errs.Error{Kind: errs.KindInvalidArgument, Message: "invalid AddCustomLoginPolicyRequest.Idps[0]: embedded message failed validation | caused by: invalid AddCustomLoginPolicyRequest_IDP.OwnerType: value must not be in list [0]"}},
		{name: "settings and IdPs", given: given, as: scOrgOwner(scOrg),
			when: add(command.LoginPolicy{AllowRegister: true, PasswordlessType: command.PasswordlessAllowed,
				PasswordCheckLifetime: &hour, MFAInitSkipLifetime: &half,
				SecondFactors: []command.SecondFactorType{command.SecondFactorOTP, command.SecondFactorOTPSMS},
				MultiFactors:  []command.MultiFactorType{command.MultiFactorU2FWithVerification}, DefaultRedirectURI: "https://x.example",
				IDPs: []command.LoginPolicyIDP{{IDPID: orgIDP, OwnerType: command.IDPOwnerOrg}, {IDPID: instIDP, OwnerType: command.IDPOwnerSystem},
					{IDPID: orgIDP, OwnerType: command.IDPOwnerOrg}}}),
			then: []thenEvent{
				{scOrg, events.LoginPolicyAdded, map[string]any{"settings": map[string]any{"allowRegister": true,
					"passwordlessType": "PASSWORDLESS_TYPE_ALLOWED", "passwordCheckLifetime": "3600s", "mfaInitSkipLifetime": "1.500s",
					"secondFactors": []string{"SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_OTP_SMS"},
					"multiFactors":  []string{"MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"}, "defaultRedirectUri": "https://x.example"}}},
				{scOrg, events.LoginPolicyIDPAdded, events.LoginPolicyIDPPayload{IDPID: orgIDP, OwnerType: events.OwnerOrg}},
				{scOrg, events.LoginPolicyIDPAdded, events.LoginPolicyIDPPayload{IDPID: instIDP, OwnerType: events.OwnerSystem}},
			}},
	} {
		sc.run(t)
	}
}

func TestAddIDPToDefaultLoginPolicy(t *testing.T) {
	env := newPLEnv(t)
	instIDP := env.addIDP("")

	d, err := env.cmds.AddIDPToDefaultLoginPolicy(env.iam(), instIDP)
	if err != nil {
		t.Fatal(err)
	}
	if d.ResourceOwner != env.inst || d.Sequence != 2 || d.Changed.IsZero() || d.ID != env.inst {
		t.Fatalf("details = %+v", d)
	}
	_, err = env.cmds.AddIDPToDefaultLoginPolicy(env.iam(), instIDP)
	plWant(t, err, errs.KindAlreadyExists, "INSTANCE-2B0ps")

	p, err := env.q.DefaultLoginPolicy(env.iam())
	if err != nil {
		t.Fatal(err)
	}
	if !p.IsDefault || p.Sequence != 2 || len(p.IDPs) != 1 || p.IDPs[0].IDPID != instIDP || p.IDPs[0].Name != "Google" ||
		!p.Settings.AllowUsernamePassword || p.Settings.PasswordCheckLifetime != "864000s" {
		t.Fatalf("policy = %+v", p)
	}

	// A removed link can be added again.
	if _, err := env.cmds.RemoveIDPFromDefaultLoginPolicy(env.iam(), instIDP); err != nil {
		t.Fatal(err)
	}
	_, err = env.cmds.RemoveIDPFromDefaultLoginPolicy(env.iam(), instIDP)
	plWant(t, err, errs.KindNotFound, "INSTANCE-39fjs")
	if _, err := env.cmds.AddIDPToDefaultLoginPolicy(env.iam(), instIDP); err != nil {
		t.Fatal(err)
	}

	// An instance without a default policy: 404 before any IdP check.
	other := authz.WithCaller(context.Background(), &authz.Caller{InstanceID: "no-policy", UserID: "x",
		Memberships: []authz.Membership{{Roles: []string{authz.IAMOwner}}}})
	_, err = env.cmds.AddIDPToDefaultLoginPolicy(other, "0")
	plWant(t, err, errs.KindNotFound, "INSTANCE-GVDfe")
	_, err = env.cmds.RemoveIDPFromDefaultLoginPolicy(other, "0")
	plWant(t, err, errs.KindNotFound, "INSTANCE-Dfg4t")
}

func TestAddIDPToOrgLoginPolicy(t *testing.T) {
	env := newPLEnv(t)
	instIDP, orgIDP := env.addIDP(""), env.addIDP(env.org)
	ctx := env.owner(env.org)

	if _, err := env.cmds.AddCustomLoginPolicy(ctx, env.org, command.LoginPolicy{AllowUsernamePassword: true}); err != nil {
		t.Fatal(err)
	}
	d, err := env.cmds.AddIDPToLoginPolicy(ctx, env.org, orgIDP, command.IDPOwnerOrg)
	if err != nil {
		t.Fatal(err)
	}
	if d.ResourceOwner != env.org || d.Sequence != 2 {
		t.Fatalf("details = %+v", d)
	}
	if _, err := env.cmds.AddIDPToLoginPolicy(ctx, env.org, instIDP, command.IDPOwnerSystem); err != nil {
		t.Fatal(err)
	}
	_, err = env.cmds.AddIDPToLoginPolicy(ctx, env.org, orgIDP, command.IDPOwnerOrg)
	plWant(t, err, errs.KindAlreadyExists, "Org-2B0ps")

	list, err := env.q.OrgLoginPolicyIDPs(ctx, env.org, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if list.Total != 2 || len(list.IDPs) != 2 || list.IDPs[0].IDPID != orgIDP || list.IDPs[1].IDPID != instIDP || list.Sequence != 3 {
		t.Fatalf("list = %+v", list)
	}
	page, err := env.q.OrgLoginPolicyIDPs(ctx, env.org, 1, 1)
	if err != nil || page.Total != 2 || len(page.IDPs) != 1 || page.IDPs[0].IDPID != instIDP {
		t.Fatalf("page = %+v, %v", page, err)
	}

	// Remove and re-add; reset to default.
	if _, err := env.cmds.RemoveIDPFromLoginPolicy(ctx, env.org, orgIDP); err != nil {
		t.Fatal(err)
	}
	_, err = env.cmds.RemoveIDPFromLoginPolicy(ctx, env.org, orgIDP)
	plWant(t, err, errs.KindNotFound, "Org-39fjs")
	if _, err := env.cmds.AddIDPToLoginPolicy(ctx, env.org, orgIDP, command.IDPOwnerOrg); err != nil {
		t.Fatal(err)
	}
	if _, err := env.cmds.ResetLoginPolicyToDefault(ctx, env.org); err != nil {
		t.Fatal(err)
	}
	_, err = env.cmds.ResetLoginPolicyToDefault(ctx, env.org)
	plWant(t, err, errs.KindNotFound, "Org-GHB37")
	_, err = env.cmds.AddIDPToLoginPolicy(ctx, env.org, orgIDP, command.IDPOwnerOrg)
	plWant(t, err, errs.KindNotFound, "Org-Ffgw2")
	_, err = env.cmds.RemoveIDPFromLoginPolicy(ctx, env.org, orgIDP)
	plWant(t, err, errs.KindNotFound, "Org-GVDfe")
	if n := env.count(`SELECT count(*) FROM login_policy_idps WHERE policy_id = $1`, env.org); n != 0 {
		t.Fatalf("%d link rows after reset", n)
	}

	// The org inherits again: reads fall back to the default.
	p, err := env.q.OrgLoginPolicy(ctx, env.org)
	if err != nil || !p.IsDefault || p.ID != env.inst {
		t.Fatalf("policy = %+v, %v", p, err)
	}
}

func TestAddCustomLoginPolicy(t *testing.T) {
	env := newPLEnv(t)
	instIDP, orgIDP := env.addIDP(""), env.addIDP(env.org)
	ctx := env.owner(env.org)
	hour := time.Hour
	d, err := env.cmds.AddCustomLoginPolicy(ctx, env.org, command.LoginPolicy{AllowRegister: true, PasswordlessType: command.PasswordlessAllowed,
		PasswordCheckLifetime: &hour, SecondFactors: []command.SecondFactorType{command.SecondFactorOTP}, DefaultRedirectURI: "https://x.example",
		IDPs: []command.LoginPolicyIDP{{IDPID: orgIDP, OwnerType: command.IDPOwnerOrg}, {IDPID: instIDP, OwnerType: command.IDPOwnerSystem}}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Sequence != 3 || d.ResourceOwner != env.org {
		t.Fatalf("details = %+v", d)
	}
	p, err := env.q.OrgLoginPolicy(ctx, env.org)
	if err != nil {
		t.Fatal(err)
	}
	if p.IsDefault || p.ID != env.org || p.Sequence != 3 || len(p.IDPs) != 2 || p.Settings.PasswordCheckLifetime != "3600s" ||
		!p.Settings.AllowRegister || p.Settings.AllowUsernamePassword || p.Settings.SecondFactors[0] != "SECOND_FACTOR_TYPE_OTP" {
		t.Fatalf("policy = %+v", p)
	}
	// The org's policy does not copy the default's links, nor change it.
	def, err := env.q.DefaultLoginPolicy(env.iam())
	if err != nil || len(def.IDPs) != 0 {
		t.Fatalf("default = %+v, %v", def, err)
	}
}

// TestRemovePolicyIDPCascades: removing an IdP from a policy removes the
// user links to it, of the org's users (management) or of every user
// (admin), in the same append, releasing their unique values.
func TestRemovePolicyIDPCascades(t *testing.T) {
	env := newPLEnv(t)
	orgB := env.addOrg("B")
	idpID := env.addIDP("")
	ua, ub := env.addHuman(env.org, "alice"), env.addHuman(orgB, "bob")
	link := func(user, ext string) {
		t.Helper()
		if _, err := env.cmds.AddIDPLink(env.iam(), user, "", command.IDPLink{IDPID: idpID, ExternalUserID: ext, DisplayName: ext}, v2Link); err != nil {
			t.Fatal(err)
		}
	}
	link(ua, "ext-a")
	link(ub, "ext-b")
	if _, err := env.cmds.AddCustomLoginPolicy(env.owner(env.org), env.org,
		command.LoginPolicy{IDPs: []command.LoginPolicyIDP{{IDPID: idpID, OwnerType: command.IDPOwnerSystem}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.cmds.AddIDPToDefaultLoginPolicy(env.iam(), idpID); err != nil {
		t.Fatal(err)
	}

	d, err := env.cmds.RemoveIDPFromLoginPolicy(env.owner(env.org), env.org, idpID)
	if err != nil {
		t.Fatal(err)
	}
	if d.ResourceOwner != env.org {
		t.Fatalf("details = %+v", d)
	}
	if n := env.count(`SELECT count(*) FROM user_idp_links WHERE user_id = $1`, ua); n != 0 {
		t.Fatalf("alice still has %d links", n)
	}
	if n := env.count(`SELECT count(*) FROM user_idp_links WHERE user_id = $1`, ub); n != 1 {
		t.Fatalf("bob has %d links, want 1 (other org)", n)
	}
	evs, err := env.store.Aggregate(context.Background(), eventstore.AggregateRef{InstanceID: env.inst, Type: events.AggUser, ID: ua}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if last := evs[len(evs)-1]; last.Type != events.UserIDPLinkCascadeRemoved {
		t.Fatalf("last user event %s", last.Type)
	}
	// The account is free again: another user may link it.
	link(env.addHuman(env.org, "carol"), "ext-a")

	if _, err := env.cmds.RemoveIDPFromDefaultLoginPolicy(env.iam(), idpID); err != nil {
		t.Fatal(err)
	}
	if n := env.count(`SELECT count(*) FROM user_idp_links WHERE idp_id = $1`, idpID); n != 0 {
		t.Fatalf("%d links left after the admin removal", n)
	}
	link(ub, "ext-b")

	if _, err := env.cmds.AddIDPToDefaultLoginPolicy(env.iam(), idpID); err != nil {
		t.Fatal(err)
	}
	// A rebuild from the events gives exactly the rows inline processing
	// wrote.
	before := env.checksum("login_policies", "login_policy_idps", "user_idp_links")
	reg := projection.NewRegistry(projection.All()...)
	if err := projection.Rebuild(context.Background(), env.pool, env.store, reg,
		[]string{"login_policies", "user_idp_links"}, nil); err != nil {
		t.Fatal(err)
	}
	if after := env.checksum("login_policies", "login_policy_idps", "user_idp_links"); after != before {
		t.Fatalf("rebuild differs:\n got %s\nwant %s", after, before)
	}
}

func (e *plEnv) checksum(tables ...string) string {
	e.t.Helper()
	var out []string
	for _, tbl := range tables {
		var sum *string
		if err := e.pool.QueryRow(context.Background(),
			"SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM "+tbl+" t").Scan(&sum); err != nil {
			e.t.Fatal(err)
		}
		if sum == nil {
			e.t.Fatalf("table %s is empty", tbl)
		}
		out = append(out, tbl+"="+*sum)
	}
	return strings.Join(out, " ")
}
