package command_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

func extLink(idpID, ext string) command.IDPLink {
	return command.IDPLink{IDPID: idpID, ExternalUserID: ext, DisplayName: ext + "@external.com"}
}

// v2Link are the v2 AddIDPLinkRequest's names in validation messages.
var v2Link = command.LinkNames{UserID: "AddIDPLinkRequest.UserId", Link: "AddIDPLinkRequest.IdpLink", Message: "IDPLink"}

// TestAddIDPLinkScenarios: AddIDPLink's rules, in their order.
func TestAddIDPLinkScenarios(t *testing.T) {
	instIDP, orgIDP, otherIDP := "idp-inst", "idp-org", "idp-other"
	given := []eventstore.Append{givenIDP(instIDP, ""), givenIDP(orgIDP, scOrg), givenIDP(otherIDP, scOrgB),
		givenHuman("alice", scOrg), givenHuman("bob", scOrg)}
	self := scCaller("alice", scOrg) // no memberships at all
	add := func(userID, orgHint string, l command.IDPLink) func(context.Context, *command.Commands) error {
		return func(ctx context.Context, c *command.Commands) error {
			_, err := c.AddIDPLink(ctx, userID, orgHint, l, v2Link)
			return err
		}
	}
	payload := func(l command.IDPLink) events.IDPLinkPayload { return events.IDPLinkPayload(l) }
	for _, sc := range []scenario{
		// Field validation comes first and names the field.
		{name: "field validation", given: given, as: self,
			when: add("alice", "", command.IDPLink{IDPID: instIDP, ExternalUserID: strings.Repeat("x", 201), DisplayName: "n"}),
			err:  wantMessage("invalid AddIDPLinkRequest.IdpLink: embedded message failed validation | caused by: invalid IDPLink.UserId: value length must be between 1 and 200 runes, inclusive")},
		{name: "unknown user", given: given, as: self, when: add("unknown", "", extLink(instIDP, "e0")),
			err: wantErrOf(errs.KindFailedPrecondition, "COMMAND-vzktar7b7f")},
		{name: "user not in the org hint", given: given, as: self, when: add("alice", scOrgB, extLink(instIDP, "e0")),
			err: wantErrOf(errs.KindFailedPrecondition, "COMMAND-vzktar7b7f")},
		// Another user needs user.write on the user's org.
		{name: "another user", given: given, as: scCaller("bob", scOrg), when: add("alice", "", extLink(instIDP, "e0")),
			err: wantErrOf(errs.KindPermissionDenied, "AUTHZ-HKJD33")},
		{name: "another org's owner", given: given, as: scOrgOwner(scOrgB), when: add("alice", "", extLink(instIDP, "e0")),
			err: wantErrOf(errs.KindPermissionDenied, "AUTHZ-HKJD33")},
		// The IdP must be the user's org's or the instance's.
		{name: "unknown IdP", given: given, as: self, when: add("alice", "", extLink("0", "e0")),
			err: wantErrOf(errs.KindFailedPrecondition, "COMMAND-39nf2")},
		{name: "another org's IdP", given: given, as: self, when: add("alice", "", extLink(otherIDP, "e0")),
			err: wantErrOf(errs.KindFailedPrecondition, "COMMAND-39nf2")},
		{name: "self, instance IdP", given: given, as: self, when: add("alice", scOrg, extLink(instIDP, "e1")),
			then: []thenEvent{{"alice", events.UserIDPLinkAdded, payload(extLink(instIDP, "e1"))}}},
		{name: "user manager, org IdP", given: given, when: add("alice", "", extLink(orgIDP, "e1")),
			as:   scCaller("mgr", scOrg, authz.Membership{OrgID: scOrg, Roles: []string{authz.OrgUserManager}}),
			then: []thenEvent{{"alice", events.UserIDPLinkAdded, payload(extLink(orgIDP, "e1"))}}},
		// (IdP, external ID) is unique across users and for the same user.
		{name: "account linked to the same user", given: append(given, givenLink("alice", scOrg, payload(extLink(instIDP, "e1")))),
			as: scIAMOwner(), when: add("alice", "", extLink(instIDP, "e1")), err: wantErrOf(errs.KindAlreadyExists, "COMMAND-Lnk409")},
		{name: "account linked to another user", given: append(given, givenLink("alice", scOrg, payload(extLink(instIDP, "e1")))),
			as: scIAMOwner(), when: add("bob", "", extLink(instIDP, "e1")), err: wantErrOf(errs.KindAlreadyExists, "COMMAND-Lnk409")},
		{name: "unauthenticated", given: given, when: add("alice", "", extLink(instIDP, "e1")),
			err: wantErrOf(errs.KindUnauthenticated, "AUTH-7fs1e")},
	} {
		sc.run(t)
	}
}

// TestRemoveIDPLinkScenarios: RemoveIDPLink (one account) and
// RemoveIDPLinks (every account at the IdP).
func TestRemoveIDPLinkScenarios(t *testing.T) {
	instIDP := "idp-inst"
	e1, e2 := events.IDPLinkPayload(extLink(instIDP, "e1")), events.IDPLinkPayload(extLink(instIDP, "e2"))
	given := []eventstore.Append{givenIDP(instIDP, ""), givenHuman("alice", scOrg), givenHuman("bob", scOrg),
		givenLink("alice", scOrg, e1), givenLink("alice", scOrg, e2)}
	self := scCaller("alice", scOrg)
	removed := func(p events.IDPLinkPayload) thenEvent { return thenEvent{"alice", events.UserIDPLinkRemoved, p} }
	for _, sc := range []scenario{
		{name: "not linked", given: given, as: self, err: wantErrOf(errs.KindNotFound, "COMMAND-1M9xR"),
			when: func(ctx context.Context, c *command.Commands) error {
				_, err := c.RemoveIDPLink(ctx, "alice", instIDP, "nope")
				return err
			}},
		{name: "another user", given: given, as: scCaller("bob", scOrg), err: wantErrOf(errs.KindPermissionDenied, "AUTHZ-HKJD33"),
			when: func(ctx context.Context, c *command.Commands) error {
				_, err := c.RemoveIDPLink(ctx, "alice", instIDP, "e1")
				return err
			}},
		{name: "one account", given: given, as: self, then: []thenEvent{removed(e1)},
			when: func(ctx context.Context, c *command.Commands) error {
				_, err := c.RemoveIDPLink(ctx, "alice", instIDP, "e1")
				return err
			}},
		{name: "every account, wrong org hint", given: given, as: self, err: wantErrOf(errs.KindNotFound, "COMMAND-1M9xR"),
			when: func(ctx context.Context, c *command.Commands) error {
				_, err := c.RemoveIDPLinks(ctx, "alice", scOrgB, instIDP)
				return err
			}},
		{name: "every account", given: given, as: self, then: []thenEvent{removed(e1), removed(e2)},
			when: func(ctx context.Context, c *command.Commands) error {
				_, err := c.RemoveIDPLinks(ctx, "alice", scOrg, instIDP)
				return err
			}},
	} {
		sc.run(t)
	}
}

func TestAddIDPLinkRules(t *testing.T) {
	env := newPLEnv(t)
	orgB := env.addOrg("B")
	instIDP, orgIDP := env.addIDP(""), env.addIDP(env.org)
	alice, bob := env.addHuman(env.org, "alice"), env.addHuman(env.org, "bob")
	self := env.as(alice, env.org) // no memberships at all

	d, err := env.cmds.AddIDPLink(self, alice, env.org, extLink(instIDP, "e1"), v2Link)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != alice || d.ResourceOwner != env.org || d.Sequence != 2 || d.Created.IsZero() || !d.Changed.After(d.Created) {
		t.Fatalf("details = %+v", d)
	}
	manager := env.as("mgr", env.org, authz.Membership{OrgID: env.org, Roles: []string{authz.OrgUserManager}})
	if _, err := env.cmds.AddIDPLink(manager, alice, "", extLink(orgIDP, "e1"), v2Link); err != nil {
		t.Fatal(err)
	}
	if _, err := env.cmds.AddIDPLink(env.iam(), alice, "", extLink(instIDP, "e2"), v2Link); err != nil {
		t.Fatal(err)
	}

	list, err := env.q.UserIDPLinks(self, alice, 0, 0)
	if err != nil || list.Total != 3 || len(list.Links) != 3 || list.Links[0].ExternalUserID != "e1" || list.Links[0].IDPName != "Google" {
		t.Fatalf("list = %+v, %v", list, err)
	}
	// Entries the caller may not read are left out.
	if hidden, err := env.q.UserIDPLinks(env.as(bob, env.org), alice, 0, 0); err != nil || hidden.Total != 0 || len(hidden.Links) != 0 {
		t.Fatalf("bob sees %+v, %v", hidden, err)
	}

	// Removal.
	_, err = env.cmds.RemoveIDPLink(self, alice, instIDP, "nope")
	plWant(t, err, errs.KindNotFound, "COMMAND-1M9xR")
	_, err = env.cmds.RemoveIDPLink(env.as(bob, env.org), alice, instIDP, "e1")
	plWant(t, err, errs.KindPermissionDenied, "AUTHZ-HKJD33")
	if _, err := env.cmds.RemoveIDPLink(self, alice, instIDP, "e1"); err != nil {
		t.Fatal(err)
	}
	_, err = env.cmds.RemoveIDPLink(self, alice, instIDP, "e1")
	plWant(t, err, errs.KindNotFound, "COMMAND-1M9xR")
	if _, err := env.cmds.AddIDPLink(env.iam(), bob, "", extLink(instIDP, "e1"), v2Link); err != nil {
		t.Fatalf("released account cannot be linked again: %v", err)
	}
	// v3alpha removal: every link of the user to that IdP.
	_, err = env.cmds.RemoveIDPLinks(self, alice, orgB, orgIDP)
	plWant(t, err, errs.KindNotFound, "COMMAND-1M9xR")
	if _, err := env.cmds.RemoveIDPLinks(self, alice, "", instIDP); err != nil {
		t.Fatal(err)
	}
	if n := env.count(`SELECT count(*) FROM user_idp_links WHERE user_id = $1`, alice); n != 1 {
		t.Fatalf("alice has %d links, want 1", n)
	}

	// A removed user's links go with it.
	releases, err := env.cmds.IDPLinkReleases(context.Background(), env.inst, alice)
	if err != nil || len(releases) != 1 || !releases[0].Remove || releases[0].Value != orgIDP+":e1" {
		t.Fatalf("releases = %+v, %v", releases, err)
	}
	if _, err := env.cmds.RemoveUser(env.iam(), alice); err != nil {
		t.Fatal(err)
	}
	if n := env.count(`SELECT count(*) FROM user_idp_links WHERE user_id = $1`, alice); n != 0 {
		t.Fatalf("removed user has %d links", n)
	}
	_, err = env.cmds.AddIDPLink(env.iam(), alice, "", extLink(instIDP, "e9"), v2Link)
	plWant(t, err, errs.KindFailedPrecondition, "COMMAND-vzktar7b7f")
}

func TestAddHumanWithIDPLinks(t *testing.T) {
	env := newPLEnv(t)
	orgB := env.addOrg("B")
	instIDP, otherIDP := env.addIDP(""), env.addIDP(orgB)
	n := 0
	add := func(links ...command.IDPLink) (*command.Details, error) {
		n++
		h := command.AddHuman{OrgID: env.org, GivenName: "N", FamilyName: "F", Email: fmt.Sprintf("n%d@x.example", n)}
		h.IDPLinks = append(h.IDPLinks, links...)
		return env.cmds.AddHuman(env.iam(), h)
	}
	_, err := add(extLink(otherIDP, "a"))
	plWant(t, err, errs.KindFailedPrecondition, "COMMAND-39nf2")
	d, err := add(extLink(instIDP, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if n := env.count(`SELECT count(*) FROM user_idp_links WHERE user_id = $1`, d.ID); n != 1 {
		t.Fatalf("%d link rows", n)
	}
	_, err = add(extLink(instIDP, "a"))
	plWant(t, err, errs.KindAlreadyExists, "COMMAND-Lnk409")
	_, err = add(extLink(instIDP, "b"), extLink(instIDP, "b"))
	plWant(t, err, errs.KindAlreadyExists, "COMMAND-Lnk409")
	_, err = add(command.IDPLink{IDPID: "0", ExternalUserID: "c"})
	plWant(t, err, errs.KindFailedPrecondition, "COMMAND-39nf2")
	_, err = add(command.IDPLink{IDPID: instIDP})
	plWant(t, err, errs.KindInvalidArgument, "")
	// A link without a user name (zitadel#11421), and two links: the user
	// and its links are one append (one transaction ID), with one unique
	// claim per link.
	d, err = add(command.IDPLink{IDPID: instIDP, ExternalUserID: "c"}, extLink(instIDP, "d"))
	if err != nil {
		t.Fatal(err)
	}
	if n := env.count(`SELECT count(DISTINCT tx_id) FROM events WHERE aggregate_id = $1`, d.ID); n != 1 {
		t.Fatalf("user and links in %d transactions", n)
	}
	if n := env.count(`SELECT count(*) FROM user_idp_links WHERE user_id = $1 AND external_user_name = ''`, d.ID); n != 1 {
		t.Fatalf("%d links without a user name", n)
	}
	_, err = env.cmds.AddIDPLink(env.iam(), env.addHuman(env.org, "taker"), "", command.IDPLink{IDPID: instIDP, ExternalUserID: "c"}, v2Link)
	plWant(t, err, errs.KindAlreadyExists, "COMMAND-Lnk409")
}

// TestAddIDPLinkConcurrent: of 100 identical requests exactly one wins;
// the others get AlreadyExists, and one event and one row exist.
func TestAddIDPLinkConcurrent(t *testing.T) {
	env := newPLEnv(t)
	idpID, user := env.addIDP(""), env.addHuman(env.org, "alice")
	var wg sync.WaitGroup
	errc := make(chan error, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := env.cmds.AddIDPLink(env.iam(), user, "", extLink(idpID, "same"), v2Link)
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	ok, dup := 0, 0
	for err := range errc {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, &errs.Error{Kind: errs.KindAlreadyExists, ID: "COMMAND-Lnk409"}):
			dup++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || dup != 99 {
		t.Fatalf("ok=%d dup=%d", ok, dup)
	}
	evs, err := env.store.Aggregate(context.Background(), eventstore.AggregateRef{InstanceID: env.inst, Type: events.AggUser, ID: user}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[1].Type != events.UserIDPLinkAdded {
		t.Fatalf("%d events", len(evs))
	}
	if n := env.count(`SELECT count(*) FROM user_idp_links WHERE user_id = $1`, user); n != 1 {
		t.Fatalf("%d rows", n)
	}
}

// raceIDPRemoval runs rounds in which a fresh instance IdP is removed while
// adds refer to it, all at once. An add may succeed (it committed first;
// the removal's cascade must undo it) or fail with one of the refused error
// IDs (the IdP was gone). After each round, the leftover queries (with $1
// the instance and $2 the IdP) must count nothing.
func raceIDPRemoval(t *testing.T, env *plEnv, adds []func(idpID string, round int) error, refused []string, leftovers ...string) {
	t.Helper()
	system := command.IDPOwnerRef{Type: events.OwnerSystem}
	var mu sync.Mutex
	added, failed := 0, 0
	count := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			added++
			return
		}
		if e, ok := errs.As(err); ok && slices.Contains(refused, e.ID) {
			failed++
			return
		}
		t.Errorf("add: %v", err)
	}
	for round := range 40 {
		idpID := env.addIDP("")
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, add := range adds {
			wg.Go(func() {
				<-start
				count(add(idpID, round))
			})
		}
		wg.Go(func() {
			<-start
			if _, err := env.cmds.RemoveIDP(env.iam(), system, idpID); err != nil {
				t.Errorf("remove idp: %v", err)
			}
		})
		close(start)
		wg.Wait()
		for _, q := range leftovers {
			if n := env.count(q, env.inst, idpID); n != 0 {
				t.Fatalf("round %d: %d rows outlive the removed IdP: %s", round, n, q)
			}
		}
	}
	t.Logf("%d adds committed before the IdP's removal (and were cascaded), %d refused after it", added, failed)
}

// TestRemoveIDPRacesAddIDPLink: no link, and no claim on an external
// account, outlives its IdP.
func TestRemoveIDPRacesAddIDPLink(t *testing.T) {
	env := newPLEnv(t)
	var adds []func(string, int) error
	for i := range 6 {
		user := env.addHuman(env.org, fmt.Sprintf("racer%d", i))
		adds = append(adds, func(idpID string, round int) error {
			_, err := env.cmds.AddIDPLink(env.iam(), user, "", extLink(idpID, fmt.Sprintf("r%d-%d", round, i)), v2Link)
			return err
		})
	}
	raceIDPRemoval(t, env, adds, []string{"COMMAND-39nf2"},
		`SELECT count(*) FROM user_idp_links WHERE instance_id = $1 AND idp_id = $2`,
		`SELECT count(*) FROM unique_constraints WHERE instance_id = $1 AND unique_type = 'user.idp.link'
			AND left(unique_value, length($2) + 1) = $2 || ':'`)
}

// TestRemoveIDPRacesAddIDPToPolicy: no login policy lists a removed IdP.
func TestRemoveIDPRacesAddIDPToPolicy(t *testing.T) {
	env := newPLEnv(t)
	adds := []func(string, int) error{func(idpID string, _ int) error {
		_, err := env.cmds.AddIDPToDefaultLoginPolicy(env.iam(), idpID)
		return err
	}}
	for i := range 5 {
		org := env.addOrg(fmt.Sprintf("policy-racer%d", i))
		if _, err := env.cmds.AddCustomLoginPolicy(env.iam(), org, command.LoginPolicy{AllowExternalIDP: true}); err != nil {
			t.Fatal(err)
		}
		adds = append(adds, func(idpID string, _ int) error {
			_, err := env.cmds.AddIDPToLoginPolicy(env.iam(), org, idpID, command.IDPOwnerSystem)
			return err
		})
	}
	raceIDPRemoval(t, env, adds, []string{"Org-3N9fs", "INSTANCE-m8fsd"},
		`SELECT count(*) FROM login_policy_idps WHERE instance_id = $1 AND idp_id = $2`,
		`SELECT count(*) FROM unique_constraints WHERE instance_id = $1 AND unique_type = 'login_policy.idp'
			AND left(unique_value, length($2) + 1) = $2 || ':'`)
}

// TestPolicyIDPClaimsFollowTheEntries: the claim behind each policy entry
// is released by every way an entry goes (removal, reset, the IdP's
// removal), so the entry can come back, and none is left behind.
func TestPolicyIDPClaimsFollowTheEntries(t *testing.T) {
	env := newPLEnv(t)
	org := env.addOrg("claims")
	idpID := env.addIDP("")
	claims := func() int {
		return env.count(`SELECT count(*) FROM unique_constraints WHERE instance_id = $1 AND unique_type = 'login_policy.idp'
			AND left(unique_value, length($2)) = $2`, env.inst, idpID+":")
	}
	must := func(_ command.Details, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(env.cmds.AddCustomLoginPolicy(env.iam(), org, command.LoginPolicy{IDPs: []command.LoginPolicyIDP{{IDPID: idpID, OwnerType: command.IDPOwnerSystem}}}))
	must(env.cmds.AddIDPToDefaultLoginPolicy(env.iam(), idpID))
	if n := claims(); n != 2 {
		t.Fatalf("%d claims for 2 entries", n)
	}
	_, err := env.cmds.AddIDPToLoginPolicy(env.iam(), org, idpID, command.IDPOwnerSystem)
	plWant(t, err, errs.KindAlreadyExists, "Org-2B0ps")
	must(env.cmds.RemoveIDPFromLoginPolicy(env.iam(), org, idpID))
	must(env.cmds.AddIDPToLoginPolicy(env.iam(), org, idpID, command.IDPOwnerSystem))
	must(env.cmds.ResetLoginPolicyToDefault(env.iam(), org))
	if n := claims(); n != 1 {
		t.Fatalf("%d claims after the reset, want the default policy's only", n)
	}
	must(env.cmds.AddCustomLoginPolicy(env.iam(), org, command.LoginPolicy{IDPs: []command.LoginPolicyIDP{{IDPID: idpID, OwnerType: command.IDPOwnerSystem}}}))
	must(env.cmds.RemoveIDP(env.iam(), command.IDPOwnerRef{Type: events.OwnerSystem}, idpID))
	if n := claims(); n != 0 {
		t.Fatalf("%d claims outlive the IdP", n)
	}
	if n := env.count(`SELECT count(*) FROM unique_constraints WHERE instance_id = $1 AND unique_type = 'idp.exists' AND unique_value = $2`, env.inst, idpID); n != 0 {
		t.Fatalf("the removed IdP still claims to exist")
	}
}
