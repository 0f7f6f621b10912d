package command_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// givenPolicySettings is the default policy (org "") or org's custom one,
// added with settings s.
func givenPolicySettings(org string, s events.LoginPolicySettings) eventstore.Append {
	a := givenPolicy(org)
	raw, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	p := a.Aggregates[0].Events[0].Payload.(events.LoginPolicyAddedPayload)
	p.Settings = raw
	a.Aggregates[0].Events[0].Payload = p
	return a
}

func TestUpdateLoginPolicyScenarios(t *testing.T) {
	current := events.LoginPolicySettings{AllowUsernamePassword: true, AllowExternalIDP: true,
		PasswordlessType: "PASSWORDLESS_TYPE_ALLOWED", PasswordCheckLifetime: "864000s",
		SecondFactors: []string{"SECOND_FACTOR_TYPE_OTP"}, MultiFactors: []string{"MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"}}
	ten := 240 * time.Hour
	same := command.LoginPolicy{AllowUsernamePassword: true, AllowExternalIDP: true,
		PasswordlessType: command.PasswordlessAllowed, PasswordCheckLifetime: &ten}
	updDefault := func(p command.LoginPolicy) func(context.Context, *command.Commands) error {
		return func(ctx context.Context, c *command.Commands) error {
			_, err := c.UpdateDefaultLoginPolicy(ctx, p)
			return err
		}
	}
	updOrg := func(p command.LoginPolicy) func(context.Context, *command.Commands) error {
		return func(ctx context.Context, c *command.Commands) error {
			_, err := c.UpdateCustomLoginPolicy(ctx, scOrg, p)
			return err
		}
	}
	changed := same
	changed.AllowRegister, changed.AllowExternalIDP, changed.DefaultRedirectURI = true, false, "https://app.example/login"
	changed.SecondFactors = []command.SecondFactorType{command.SecondFactorU2F} // ignored: factors have their own methods
	wantSettings := map[string]any{"settings": map[string]any{"allowUsernamePassword": true, "allowRegister": true,
		"passwordlessType": "PASSWORDLESS_TYPE_ALLOWED", "passwordCheckLifetime": "864000s",
		"defaultRedirectUri": "https://app.example/login",
		"secondFactors":      []string{"SECOND_FACTOR_TYPE_OTP"}, "multiFactors": []string{"MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"}}}
	for _, sc := range []scenario{
		{name: "default: unauthenticated", given: []eventstore.Append{givenPolicySettings("", current)},
			when: updDefault(changed), err: wantErrOf(errs.KindUnauthenticated, "AUTH-7fs1e")},
		{name: "default: org owner lacks iam.policy.write", given: []eventstore.Append{givenPolicySettings("", current)},
			as: scOrgOwner(scOrg), when: updDefault(changed), err: wantErrOf(errs.KindPermissionDenied, "AUTH-5mWD2")},
		{name: "default: undefined passwordless type", given: []eventstore.Append{givenPolicySettings("", current)},
			as: scIAMOwner(), when: updDefault(command.LoginPolicy{PasswordlessType: 7}),
			err: wantMessage("invalid UpdateLoginPolicyRequest.PasswordlessType: value must be one of the defined enum values")},
		{name: "default: invalid redirect URI", given: []eventstore.Append{givenPolicySettings("", current)},
			as: scIAMOwner(), when: updDefault(command.LoginPolicy{DefaultRedirectURI: "https://"}),
			err: wantErrOf(errs.KindInvalidArgument, "IAM-SFdqd")},
		{name: "default: none", as: scIAMOwner(), when: updDefault(changed), err: wantErrOf(errs.KindNotFound, "INSTANCE-M0sif")},
		{name: "default: nothing changes", given: []eventstore.Append{givenPolicySettings("", current)},
			as: scIAMOwner(), when: updDefault(same), err: wantErrOf(errs.KindFailedPrecondition, "INSTANCE-5M9vdd")},
		{name: "default: changed, factors kept", given: []eventstore.Append{givenPolicySettings("", current)},
			as: scIAMOwner(), when: updDefault(changed), then: []thenEvent{{scInst, events.LoginPolicyChanged, wantSettings}}},
		{name: "org: inherits the default", given: []eventstore.Append{givenPolicySettings("", current)},
			as: scOrgOwner(scOrg), when: updOrg(changed), err: wantErrOf(errs.KindNotFound, "Org-M0sif")},
		{name: "org: other org's owner", given: []eventstore.Append{givenPolicySettings(scOrg, current)},
			as: scOrgOwner(scOrgB), when: updOrg(changed), err: wantErrOf(errs.KindPermissionDenied, "AUTH-5mWD2")},
		{name: "org: invalid redirect URI", given: []eventstore.Append{givenPolicySettings(scOrg, current)},
			as: scOrgOwner(scOrg), when: updOrg(command.LoginPolicy{DefaultRedirectURI: "no scheme"}),
			err: wantErrOf(errs.KindInvalidArgument, "Org-Sfd21")},
		{name: "org: nothing changes", given: []eventstore.Append{givenPolicySettings(scOrg, current)},
			as: scOrgOwner(scOrg), when: updOrg(same), err: wantErrOf(errs.KindFailedPrecondition, "Org-5M9vdd")},
		{name: "org: changed", given: []eventstore.Append{givenPolicySettings(scOrg, current)},
			as: scOrgOwner(scOrg), when: updOrg(changed), then: []thenEvent{{scOrg, events.LoginPolicyChanged, wantSettings}}},
		{name: "org: a second change compares with the first", given: []eventstore.Append{givenPolicySettings(scOrg, current),
			{Aggregates: []eventstore.AggregateAppend{agg(events.AggLoginPolicy, scOrg, scOrg, eventstore.PendingEvent{
				Type: events.LoginPolicyChanged, Payload: wantSettings})}}},
			as: scOrgOwner(scOrg), when: updOrg(changed), err: wantErrOf(errs.KindFailedPrecondition, "Org-5M9vdd")},
	} {
		sc.run(t)
	}
}

// TestUpdateLoginPolicy: an update shows in the GET (the projection) and in
// the login decision's policy check, on the default and on a custom policy.
func TestUpdateLoginPolicy(t *testing.T) {
	env := newPLEnv(t)
	d, err := env.cmds.UpdateDefaultLoginPolicy(env.iam(), command.LoginPolicy{AllowUsernamePassword: true,
		ForceMFA: true, PasswordlessType: command.PasswordlessAllowed, DefaultRedirectURI: "https://app.example"})
	if err != nil {
		t.Fatal(err)
	}
	def, err := env.q.DefaultLoginPolicy(env.iam())
	if err != nil {
		t.Fatal(err)
	}
	s := def.Settings
	if def.Sequence != d.Sequence || !def.Changed.Equal(d.Changed) || !s.ForceMFA || s.AllowRegister || s.AllowExternalIDP ||
		s.DefaultRedirectURI != "https://app.example" || s.PasswordCheckLifetime != "" || len(s.SecondFactors) != 2 {
		t.Fatalf("default after update = %+v (details %+v)", def, d)
	}
	// An org without its own policy inherits the change.
	org := env.addOrg("inherits")
	p, err := env.q.OrgLoginPolicy(env.owner(org), org)
	if err != nil || !p.IsDefault || !p.Settings.ForceMFA {
		t.Fatalf("org policy = %+v, %v", p, err)
	}
	// The custom policy.
	ctx := env.owner(env.org)
	if _, err := env.cmds.AddCustomLoginPolicy(ctx, env.org, command.LoginPolicy{AllowExternalIDP: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.cmds.UpdateCustomLoginPolicy(ctx, env.org, command.LoginPolicy{HidePasswordReset: true}); err != nil {
		t.Fatal(err)
	}
	p, err = env.q.OrgLoginPolicy(ctx, env.org)
	if err != nil || p.IsDefault || !p.Settings.HidePasswordReset || p.Settings.AllowExternalIDP {
		t.Fatalf("custom policy = %+v, %v", p, err)
	}
	_, err = env.cmds.UpdateCustomLoginPolicy(ctx, env.org, command.LoginPolicy{HidePasswordReset: true})
	plWant(t, err, errs.KindFailedPrecondition, "Org-5M9vdd")
}
