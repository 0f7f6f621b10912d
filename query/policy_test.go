package query_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/query"
	"github.com/idledger/idledger/secretbox"
	"github.com/rs/zerolog"
)

// plFixture is an instance set up by first start, with its commands and
// queries.
type plFixture struct {
	t    *testing.T
	cmds *command.Commands
	q    *query.Queries
	inst string
	org  string
}

func newPLFixture(t *testing.T) *plFixture {
	t.Helper()
	a := apptest.Wire(t, app.Options{Log: zerolog.Nop(), MasterKey: bytes.Repeat([]byte{5}, secretbox.KeySize)})
	cmds := a.Commands()
	res, err := cmds.SetUpInstance(context.Background(), command.InstanceSetup{Domains: []string{"q.test"}})
	if err != nil {
		t.Fatal(err)
	}
	return &plFixture{t: t, cmds: cmds, q: a.Queries(), inst: res.InstanceID, org: res.OrgID}
}

func (f *plFixture) as(org string, ms ...authz.Membership) context.Context {
	return authz.WithCaller(context.Background(), &authz.Caller{InstanceID: f.inst, UserID: "u-" + org,
		UserOrgID: org, OrgID: org, Memberships: ms})
}

func (f *plFixture) iam() context.Context {
	return f.as(f.org, authz.Membership{Roles: []string{authz.IAMOwner}})
}

func (f *plFixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func TestLoginPolicyReads(t *testing.T) {
	f := newPLFixture(t)
	d, err := f.cmds.AddOrg(f.iam(), command.AddOrg{Name: "B"})
	f.must(err)
	orgB := d.ID
	idpD, err := f.cmds.AddIDP(f.iam(), command.IDPOwnerRef{Type: events.OwnerSystem}, idp.Template{Kind: idp.Kinds()[1], Name: "JWT",
		Config: &idp.JWTConfig{Issuer: "https://j", JWTEndpoint: "https://j/jwt", KeysEndpoint: "https://j/keys", HeaderName: "x"}})
	f.must(err)
	_, err = f.cmds.AddIDPToDefaultLoginPolicy(f.iam(), idpD.ID)
	f.must(err)

	// Permissions: v1 semantics.
	_, err = f.q.DefaultLoginPolicy(f.as(f.org))
	wantKind(t, err, errs.KindNotFound, "AUTHZ-cdgFk")
	owner := f.as(orgB, authz.Membership{OrgID: orgB, Roles: []string{authz.OrgOwner}})
	_, err = f.q.DefaultLoginPolicy(owner)
	wantKind(t, err, errs.KindPermissionDenied, "AUTH-5mWD2")
	_, err = f.q.OrgLoginPolicy(owner, f.org)
	wantKind(t, err, errs.KindPermissionDenied, "AUTH-5mWD2")
	viewer := f.as(f.org, authz.Membership{Roles: []string{authz.IAMOwnerViewer}})
	_, err = f.q.DefaultLoginPolicyIDPs(viewer, 0, 0)
	f.must(err)

	// An org without its own policy reads the default, links included.
	p, err := f.q.OrgLoginPolicy(owner, orgB)
	f.must(err)
	if !p.IsDefault || p.ID != f.inst || len(p.IDPs) != 1 || p.IDPs[0].Type != 2 || p.IDPs[0].Name != "JWT" {
		t.Fatalf("policy = %+v", p)
	}
	_, err = f.cmds.AddCustomLoginPolicy(owner, orgB, command.LoginPolicy{ForceMFA: true})
	f.must(err)
	p, err = f.q.OrgLoginPolicy(owner, orgB)
	f.must(err)
	if p.IsDefault || p.ID != orgB || len(p.IDPs) != 0 || !p.Settings.ForceMFA || p.Sequence != 1 {
		t.Fatalf("custom policy = %+v", p)
	}
	list, err := f.q.OrgLoginPolicyIDPs(owner, orgB, 0, 0)
	f.must(err)
	if list.Total != 0 || len(list.IDPs) != 0 || list.Sequence != 1 || list.Timestamp.IsZero() {
		t.Fatalf("list = %+v", list)
	}

	// An instance without any policy: not found, and an empty list.
	none := authz.WithCaller(context.Background(), &authz.Caller{InstanceID: "none", UserID: "x",
		Memberships: []authz.Membership{{Roles: []string{authz.IAMOwner}}}})
	_, err = f.q.DefaultLoginPolicy(none)
	wantKind(t, err, errs.KindNotFound, "QUERY-LpNf1")
	empty, err := f.q.DefaultLoginPolicyIDPs(none, 0, 0)
	if err != nil || empty.Total != 0 {
		t.Fatalf("empty = %+v, %v", empty, err)
	}
}
