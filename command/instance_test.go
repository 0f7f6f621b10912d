package command_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// seqIDs hands out 1000, 1001, …
type seqIDs struct{ n atomic.Int64 }

func (s *seqIDs) Next() (string, error) { return strconv.FormatInt(1000+s.n.Add(1), 10), nil }

func identityCommands(t *testing.T) (*command.Commands, *eventstore.Memory) {
	t.Helper()
	store := eventstore.NewMemory()
	return command.New(command.Deps{Store: store, IDs: &seqIDs{}, Members: eventMemberIndex{store}}), store
}

// eventMemberIndex answers MembershipOrgs from the member events of the
// store, as the members table does.
type eventMemberIndex struct{ store eventstore.Store }

func (x eventMemberIndex) MembershipOrgs(ctx context.Context, instanceID, userID string) ([]string, error) {
	evs, err := x.store.Read(ctx, eventstore.Filter{InstanceID: instanceID,
		EventTypes: []string{events.InstanceMemberAdded, events.InstanceMemberRemoved, events.OrgMemberAdded, events.OrgMemberRemoved}})
	if err != nil {
		return nil, err
	}
	in := map[string]bool{}
	for i := range evs {
		var p events.MemberPayload
		if err := evs[i].Unmarshal(&p); err != nil {
			return nil, err
		}
		if p.UserID != userID {
			continue
		}
		org := evs[i].AggregateID
		if evs[i].AggregateType == events.AggInstance {
			org = ""
		}
		in[org] = strings.HasSuffix(evs[i].Type, ".added")
	}
	var orgs []string
	for org, ok := range in {
		if ok {
			orgs = append(orgs, org)
		}
	}
	return orgs, nil
}

func wantIdentityErr(t *testing.T, err error, kind errs.Kind, id string) {
	t.Helper()
	if !errors.Is(err, &errs.Error{Kind: kind, ID: id}) {
		t.Fatalf("error = %v, want %v %s", err, kind, id)
	}
}

func TestSetUpInstance(t *testing.T) {
	ctx := context.Background()
	c, store := identityCommands(t)
	res, err := c.SetUpInstance(ctx, command.InstanceSetup{Domains: []string{"A.example.com", "localhost", "[::1]", "localhost"}, First: true})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := store.Read(ctx, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
		if e.Type == events.UserPATAdded {
			var p events.PATAddedPayload
			_ = e.Unmarshal(&p)
			if p.TokenHash != events.PATHash(res.AdminPAT) || len(p.TokenHash) != 64 {
				t.Errorf("stored token hash %q is not the token's SHA-256", p.TokenHash)
			}
		}
		if strings.Contains(string(e.Payload), res.AdminPAT) {
			t.Errorf("event %s holds the plain token", e.Type)
		}
	}
	want := []string{events.InstanceAdded, events.InstanceDomainAdded, events.InstanceDomainAdded, events.InstanceDomainAdded,
		events.InstanceIAMProjectSet, events.InstanceMemberAdded, events.LoginPolicyAdded, events.OrgAdded, events.OrgMemberAdded,
		events.UserMachineAdded, events.UserPATAdded, events.ProjectAdded,
		events.AppAdded, events.APIConfigAdded, events.AppAdded, events.APIConfigAdded, events.AppAdded, events.APIConfigAdded,
		events.AppAdded, events.OIDCConfigAdded}
	if len(types) != len(want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("events %v, want %v", types, want)
		}
	}
	if res.Details.Sequence != 6 || res.Details.ResourceOwner != res.InstanceID {
		t.Errorf("details = %+v", res.Details)
	}

	// a second first instance loses; a taken domain is AlreadyExists
	_, err = c.SetUpInstance(ctx, command.InstanceSetup{Domains: []string{"b.example.com"}, First: true})
	if !command.IsFirstInstanceTaken(err) {
		t.Fatalf("second first instance: %v", err)
	}
	_, err = c.SetUpInstance(ctx, command.InstanceSetup{Domains: []string{"LOCALHOST"}})
	wantIdentityErr(t, err, errs.KindAlreadyExists, "COMMAND-DomDup")
	_, err = c.SetUpInstance(ctx, command.InstanceSetup{Domains: []string{"bad domain"}})
	wantIdentityErr(t, err, errs.KindInvalidArgument, "COMMAND-Dom02")
	if _, err := c.SetUpInstance(ctx, command.InstanceSetup{Domains: []string{"c.example.com"}}); err != nil {
		t.Fatalf("further instance: %v", err)
	}
}

func TestIdentityCommandRules(t *testing.T) {
	c, _ := identityCommands(t)
	ctx := context.Background()
	res, err := c.SetUpInstance(ctx, command.InstanceSetup{Domains: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	admin := authz.WithCaller(ctx, &authz.Caller{InstanceID: res.InstanceID, UserID: res.AdminUserID, UserOrgID: res.OrgID,
		OrgID: res.OrgID, Memberships: []authz.Membership{{Roles: []string{authz.IAMOwner}}}})
	nobody := authz.WithCaller(ctx, &authz.Caller{InstanceID: res.InstanceID, UserID: "x", OrgID: res.OrgID})

	// no caller at all
	_, err = c.AddOrg(ctx, command.AddOrg{Name: "x"})
	wantIdentityErr(t, err, errs.KindUnauthenticated, "AUTH-7fs1e")
	// permission before validation, v1 vs v2
	_, err = c.AddOrg(nobody, command.AddOrg{})
	wantIdentityErr(t, err, errs.KindPermissionDenied, "AUTHZ-HKJD33")
	_, err = c.AddOrg(nobody, command.AddOrg{V1: true})
	wantIdentityErr(t, err, errs.KindNotFound, "AUTHZ-cdgFk")

	org, err := c.AddOrg(admin, command.AddOrg{Name: " Org ", Admins: []command.OrgAdmin{{UserID: res.AdminUserID}}})
	if err != nil {
		t.Fatal(err)
	}
	if org.Sequence != 2 || org.ResourceOwner != org.ID || org.Created.IsZero() || org.Changed.Before(org.Created) {
		t.Errorf("org details = %+v", org)
	}
	_, err = c.AddOrg(admin, command.AddOrg{Name: "y", Admins: []command.OrgAdmin{{UserID: "nobody"}}})
	wantIdentityErr(t, err, errs.KindFailedPrecondition, "COMMAND-uXHNj")

	h := command.AddHuman{OrgID: org.ID, GivenName: "G", FamilyName: "F", Email: "u@example.com"}
	u, err := c.AddHuman(admin, h)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AddHuman(admin, h) // user name defaults to the email: taken
	wantIdentityErr(t, err, errs.KindAlreadyExists, "COMMAND-UsrDup")
	h.IDPLinks = []command.IDPLink{{IDPID: "1", ExternalUserID: "2", DisplayName: "3"}}
	h.Email = "v@example.com"
	if _, err = c.AddHuman(admin, h); err != nil && !errors.Is(err, &errs.Error{Kind: errs.KindUnimplemented}) {
		// once the links area lands, the IdP "1" does not exist: any 4xx kind but Internal
		if errs.KindOf(err) == errs.KindInternal || errs.KindOf(err) == errs.KindUnknown {
			t.Fatalf("idpLinks: %v", err)
		}
	}

	// PATs: machine users only, never in the past
	_, err = c.AddPAT(admin, org.ID, u.ID, time.Time{})
	wantIdentityErr(t, err, errs.KindFailedPrecondition, "COMMAND-Dggw3")
	_, err = c.AddPAT(admin, org.ID, res.AdminUserID, time.Time{}) // admin is in the Default org
	wantIdentityErr(t, err, errs.KindNotFound, "COMMAND-Dggw2")
	_, err = c.AddPAT(admin, res.OrgID, res.AdminUserID, time.Now().Add(-time.Minute))
	wantIdentityErr(t, err, errs.KindInvalidArgument, "COMMAND-dv3t5")
	pat, err := c.AddPAT(admin, res.OrgID, res.AdminUserID, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RemovePAT(admin, res.OrgID, res.AdminUserID, pat.TokenID); err != nil {
		t.Fatal(err)
	}
	_, err = c.RemovePAT(admin, res.OrgID, res.AdminUserID, pat.TokenID)
	wantIdentityErr(t, err, errs.KindNotFound, "COMMAND-S3tGd")

	// members
	_, err = c.AddInstanceMember(admin, u.ID, []string{authz.OrgOwner})
	wantIdentityErr(t, err, errs.KindInvalidArgument, "COMMAND-4m0fS")
	if _, err := c.AddInstanceMember(admin, u.ID, []string{authz.IAMOwnerViewer, authz.IAMOwnerViewer}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AddInstanceMember(admin, u.ID, []string{authz.IAMOwner})
	wantIdentityErr(t, err, errs.KindAlreadyExists, "COMMAND-MemDup")
	_, err = c.AddOrgMember(admin, "no-such-org", u.ID, []string{authz.OrgOwner})
	wantIdentityErr(t, err, errs.KindFailedPrecondition, "COMMAND-QXPGs")

	// removing a user frees its name
	if _, err := c.RemoveUser(admin, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.RemoveUser(admin, u.ID)
	wantIdentityErr(t, err, errs.KindNotFound, "COMMAND-uXHNj2")
	h.IDPLinks, h.Email = nil, "u@example.com"
	if _, err := c.AddHuman(admin, h); err != nil {
		t.Fatalf("re-add after remove: %v", err)
	}
}
