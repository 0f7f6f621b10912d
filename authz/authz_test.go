package authz

import (
	"testing"

	"github.com/idledger/idledger/errs"
)

func TestRoleTable(t *testing.T) {
	iam := &Caller{Memberships: []Membership{{Roles: []string{IAMOwner}}}}
	viewer := &Caller{Memberships: []Membership{{Roles: []string{IAMOwnerViewer}}}}
	orgA := &Caller{Memberships: []Membership{{OrgID: "A", Roles: []string{OrgOwner}}}}
	um := &Caller{Memberships: []Membership{{OrgID: "A", Roles: []string{OrgUserManager}}}}
	none := &Caller{}
	cases := []struct {
		c         *Caller
		perm, org string
		allowed   bool
		name      string
		v1ErrorID string
	}{
		{iam, "iam.idp.write", "", true, "iam owner instance", ""},
		{iam, "org.idp.write", "B", true, "iam owner any org", ""},
		{viewer, "iam.idp.read", "", true, "viewer reads", ""},
		{viewer, "events.read", "", true, "viewer reads events", ""},
		{viewer, "iam.idp.write", "", false, "viewer cannot write", "AUTH-5mWD2"},
		{orgA, "org.idp.write", "A", true, "org owner own org", ""},
		{orgA, "policy.write", "A", true, "org owner policy", ""},
		{orgA, "user.write", "A", true, "org owner users", ""},
		{orgA, "org.idp.read", "B", false, "org owner other org", "AUTH-5mWD2"},
		{orgA, "iam.idp.read", "", false, "org owner instance idp", "AUTH-5mWD2"},
		{orgA, "org.create", "", false, "org owner cannot create orgs", "AUTH-5mWD2"},
		{um, "user.write", "A", true, "user manager", ""},
		{um, "policy.write", "A", false, "user manager policy", "AUTH-5mWD2"},
		{none, "user.read", "A", false, "no memberships", "AUTHZ-cdgFk"},
		{nil, "user.read", "A", false, "nil caller", "AUTHZ-cdgFk"},
	}
	for _, c := range cases {
		if got := c.c.Allowed(c.perm, c.org); got != c.allowed {
			t.Errorf("%s: Allowed=%v", c.name, got)
		}
		err := c.c.CheckV1(c.perm, c.org)
		if c.allowed != (err == nil) {
			t.Errorf("%s: CheckV1=%v", c.name, err)
		}
		if e, ok := errs.As(err); ok && e.ID != c.v1ErrorID {
			t.Errorf("%s: v1 error %s, want %s", c.name, e.ID, c.v1ErrorID)
		}
	}
}

// TestCheckCovers: credentials follow power, role by role and org by org.
func TestCheckCovers(t *testing.T) {
	iam := &Caller{Memberships: []Membership{{Roles: []string{IAMOwner}}}}
	viewer := &Caller{Memberships: []Membership{{Roles: []string{IAMOwnerViewer}}}}
	ownerA := &Caller{Memberships: []Membership{{OrgID: "A", Roles: []string{OrgOwner}}}}
	umA := &Caller{Memberships: []Membership{{OrgID: "A", Roles: []string{OrgUserManager}}}}
	inst := func(roles ...string) []Membership { return []Membership{{Roles: roles}} }
	org := func(id string, roles ...string) []Membership { return []Membership{{OrgID: id, Roles: roles}} }
	cases := []struct {
		name   string
		c      *Caller
		target []Membership
		ok     bool
	}{
		{"plain user", umA, nil, true},
		{"iam owner covers iam owner", iam, inst(IAMOwner), true},
		{"iam owner covers org roles anywhere", iam, org("B", OrgOwner), true},
		{"user manager: iam owner", umA, inst(IAMOwner), false},
		{"user manager: iam viewer", umA, inst(IAMOwnerViewer), false},
		{"user manager: org owner", umA, org("A", OrgOwner), false},
		{"user manager: user manager", umA, org("A", OrgUserManager), true},
		{"user manager: user manager of another org", umA, org("B", OrgUserManager), false},
		{"org owner: org owner", ownerA, org("A", OrgOwner), true},
		{"org owner: user manager", ownerA, org("A", OrgUserManager), true},
		{"org owner: iam owner", ownerA, inst(IAMOwner), false},
		{"org owner: iam viewer", ownerA, inst(IAMOwnerViewer), false},
		{"org owner: owner of another org", ownerA, org("B", OrgOwner), false},
		{"org owner: one role not covered", ownerA, append(org("A", OrgUserManager), org("B", OrgUserManager)...), false},
		{"viewer: viewer", viewer, inst(IAMOwnerViewer), true},
		{"viewer: user manager", viewer, org("A", OrgUserManager), false},
		{"nil caller", nil, org("A", OrgUserManager), false},
	}
	for _, c := range cases {
		err := c.c.CheckCovers(c.target)
		if c.ok != (err == nil) {
			t.Errorf("%s: %v", c.name, err)
		}
		if e, ok := errs.As(err); err != nil && (!ok || e.ID != "AUTHZ-Cov01" || e.Kind != errs.KindPermissionDenied) {
			t.Errorf("%s: error %v", c.name, err)
		}
	}
}
