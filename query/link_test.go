package query_test

import (
	"context"
	"testing"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/events"
)

func TestUsersLinkedToIDP(t *testing.T) {
	f := newPLFixture(t)
	d, err := f.cmds.AddOrg(f.iam(), command.AddOrg{Name: "B"})
	f.must(err)
	orgB := d.ID
	idpD, err := f.cmds.AddIDP(f.iam(), command.IDPOwnerRef{Type: events.OwnerSystem}, "google",
		[]byte(`{"clientId":"c","clientSecret":"s"}`))
	f.must(err)
	var users []string
	for i, org := range []string{f.org, orgB} {
		u, err := f.cmds.AddHuman(f.iam(), command.AddHuman{OrgID: org, GivenName: "G", FamilyName: "F",
			Email: string(rune('a'+i)) + "@x.example"})
		f.must(err)
		users = append(users, u.ID)
		_, err = f.cmds.AddIDPLink(f.iam(), u.ID, "", command.IDPLink{IDPID: idpD.ID, ExternalUserID: u.ID, DisplayName: "n"}, command.LinkNames{})
		f.must(err)
	}
	all, err := f.q.UsersLinkedToIDP(context.Background(), f.inst, idpD.ID, "")
	f.must(err)
	inB, err := f.q.UsersLinkedToIDP(context.Background(), f.inst, idpD.ID, orgB)
	f.must(err)
	if len(all) != 2 || len(inB) != 1 || inB[0] != users[1] {
		t.Fatalf("all %v, in B %v", all, inB)
	}
	// Self may read its links without any role; others need user.read.
	self := authz.WithCaller(context.Background(), &authz.Caller{InstanceID: f.inst, UserID: users[0]})
	list, err := f.q.UserIDPLinks(self, users[0], 0, 0)
	f.must(err)
	if list.Total != 1 || list.Links[0].IDPName != "Google" || list.Links[0].ResourceOwner != f.org {
		t.Fatalf("self list = %+v", list)
	}
	other := authz.WithCaller(context.Background(), &authz.Caller{InstanceID: f.inst, UserID: users[1]})
	list, err = f.q.UserIDPLinks(other, users[0], 0, 0)
	f.must(err)
	if list.Total != 0 || len(list.Links) != 0 {
		t.Fatalf("foreign list = %+v", list)
	}
}
