package query_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
	"github.com/idledger/idledger/query"
	"github.com/idledger/idledger/secretbox"
	"github.com/rs/zerolog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type idpFixture struct {
	cmds  *command.Commands
	q     *query.Queries
	store *eventstore.Postgres
}

func newIDPFixture(t *testing.T) *idpFixture {
	t.Helper()
	a := apptest.Wire(t, app.Options{Log: zerolog.Nop(), MasterKey: bytes.Repeat([]byte{3}, secretbox.KeySize)})
	return &idpFixture{cmds: a.Commands(), q: a.Queries(), store: a.Store()}
}

func ctxWith(orgID string, ms ...authz.Membership) context.Context {
	return authz.WithCaller(context.Background(), &authz.Caller{
		InstanceID: "i1", UserID: "u1", UserOrgID: orgID, OrgID: orgID, Memberships: ms,
	})
}

var (
	iam     = authz.Membership{Roles: []string{authz.IAMOwner}}
	ownerOf = func(org string) authz.Membership {
		return authz.Membership{OrgID: org, Roles: []string{authz.OrgOwner}}
	}
	sysOwner = command.IDPOwnerRef{Type: events.OwnerSystem}
)

func mustAdd(t *testing.T, f *idpFixture, owner command.IDPOwnerRef, name string) string {
	t.Helper()
	d, err := f.cmds.AddIDP(ctxWith("o1", iam), owner, clientTemplate("gitlab", name, "c", "query-test-secret"))
	if err != nil {
		t.Fatal(err)
	}
	return d.ID
}

func wantKind(t *testing.T, err error, kind errs.Kind, id string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != kind || e.ID != id {
		t.Fatalf("error = %v, want %v %s", err, kind, id)
	}
}

func TestIDPByID(t *testing.T) {
	f := newIDPFixture(t)
	inst := mustAdd(t, f, sysOwner, "inst")
	org := mustAdd(t, f, command.IDPOwnerRef{Type: events.OwnerOrg, OrgID: "o1"}, "org")

	// Unknown: 404 even for a caller without any permission.
	_, err := f.q.IDPByID(ctxWith("o1"), "nope")
	wantKind(t, err, errs.KindNotFound, "QUERY-SAFrt")

	i, err := f.q.IDPByID(ctxWith("o1", ownerOf("o1")), org)
	if err != nil || i.Name != "org" || i.OwnerType != events.OwnerOrg || i.ResourceOwner != "o1" || i.Kind != "gitlab" {
		t.Fatalf("%+v %v", i, err)
	}
	if strings.Contains(string(i.Config), "secret") {
		t.Fatalf("config holds the secret: %s", i.Config)
	}
	_, err = f.q.IDPByID(ctxWith("o1", ownerOf("o1")), inst)
	wantKind(t, err, errs.KindPermissionDenied, "AUTHZ-HKJD33")
	_, err = f.q.IDPByID(ctxWith("o2", ownerOf("o2")), org)
	wantKind(t, err, errs.KindPermissionDenied, "AUTHZ-HKJD33")
	for _, id := range []string{inst, org} {
		if _, err := f.q.IDPByID(ctxWith("o2", iam), id); err != nil {
			t.Fatal(err)
		}
		if _, err := f.q.IDPByID(ctxWith("o2", authz.Membership{Roles: []string{authz.IAMOwnerViewer}}), id); err != nil {
			t.Fatal(err)
		}
	}
	// Another instance sees nothing.
	other := authz.WithCaller(context.Background(), &authz.Caller{InstanceID: "i2", Memberships: []authz.Membership{iam}})
	_, err = f.q.IDPByID(other, inst)
	wantKind(t, err, errs.KindNotFound, "QUERY-SAFrt")

	// v1 scopes: admin sees instance IdPs only; management its org's and
	// the instance's.
	if _, err := f.q.ProviderByID(ctxWith("o1", iam), query.ProviderScope{}, org); err == nil {
		t.Fatal("admin read an org IdP")
	}
	for _, id := range []string{inst, org} {
		if _, err := f.q.ProviderByID(ctxWith("o1", ownerOf("o1")), query.ProviderScope{OrgID: "o1"}, id); err != nil {
			t.Fatal(err)
		}
	}
	_, err = f.q.ProviderByID(ctxWith("o2", ownerOf("o2")), query.ProviderScope{OrgID: "o2"}, org)
	wantKind(t, err, errs.KindNotFound, "QUERY-SAFrt")
	_, err = f.q.ProviderByID(ctxWith("o1", ownerOf("o1")), query.ProviderScope{}, inst)
	wantKind(t, err, errs.KindPermissionDenied, "AUTH-5mWD2")

	// The owning org is removed: 404.
	ref := eventstore.AggregateRef{InstanceID: "i1", Type: events.AggOrg, ID: "o1"}
	if _, err := f.store.Append(context.Background(), eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
		Aggregate: ref, ResourceOwner: "o1", Events: []eventstore.PendingEvent{
			{Type: events.OrgAdded, Payload: events.OrgAddedPayload{Name: "o1"}}, {Type: events.OrgRemoved},
		}}}}); err != nil {
		t.Fatal(err)
	}
	_, err = f.q.IDPByID(ctxWith("o2", iam), org)
	wantKind(t, err, errs.KindNotFound, "QUERY-SAFrt")
}

func TestSearchProviders(t *testing.T) {
	f := newIDPFixture(t)
	for _, n := range []string{"Alpha", "alpha_beta", "alphaXbeta", "Gamma%", "delta"} {
		mustAdd(t, f, sysOwner, n)
	}
	orgIDP := mustAdd(t, f, command.IDPOwnerRef{Type: events.OwnerOrg, OrgID: "o1"}, "org-alpha")
	ctx := ctxWith("o1", iam)
	names := func(s query.ProviderSearch, scope query.ProviderScope) (string, uint64) {
		t.Helper()
		l, err := f.q.SearchProviders(ctx, scope, s)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, i := range l.IDPs {
			out = append(out, i.Name)
		}
		if l.Timestamp.IsZero() {
			t.Fatal("no view timestamp")
		}
		return strings.Join(out, ","), l.Total
	}
	name := func(n string, m query.TextMethod) query.ProviderSearch {
		return query.ProviderSearch{Asc: true, Filters: []query.ProviderFilter{{Name: &query.NameFilter{Name: n, Method: m}}}}
	}
	admin := query.ProviderScope{}
	for _, tc := range []struct {
		s    query.ProviderSearch
		want string
	}{
		{query.ProviderSearch{Asc: true}, "Alpha,alpha_beta,alphaXbeta,Gamma%,delta"},
		{query.ProviderSearch{}, "delta,Gamma%,alphaXbeta,alpha_beta,Alpha"},
		{name("Alpha", query.TextEquals), "Alpha"},
		{name("ALPHA", query.TextEqualsIgnoreCase), "Alpha"},
		{name("alpha_", query.TextStartsWith), "alpha_beta"},
		{name("ALPHA", query.TextStartsWithIgnoreCase), "Alpha,alpha_beta,alphaXbeta"},
		{name("a%", query.TextContains), "Gamma%"},
		{name("A_B", query.TextContainsIgnoreCase), "alpha_beta"},
		{name("beta", query.TextEndsWith), "alpha_beta,alphaXbeta"},
		{name("TA", query.TextEndsWithIgnoreCase), "alpha_beta,alphaXbeta,delta"},
		{query.ProviderSearch{Asc: true, Offset: 1, Limit: 2}, "alpha_beta,alphaXbeta"},
	} {
		if got, _ := names(tc.s, admin); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.s.Filters, got, tc.want)
		}
	}
	if _, total := names(query.ProviderSearch{Offset: 1, Limit: 2}, admin); total != 5 {
		t.Fatalf("total = %d", total)
	}
	mgmt := query.ProviderScope{OrgID: "o1"}
	if got, total := names(name("alpha", query.TextContainsIgnoreCase), mgmt); total != 4 || got != "Alpha,alpha_beta,alphaXbeta,org-alpha" {
		t.Fatalf("management search: %q %d", got, total)
	}
	org := events.OwnerOrg
	if got, _ := names(query.ProviderSearch{Filters: []query.ProviderFilter{{OwnerType: &org}}}, mgmt); got != "org-alpha" {
		t.Fatalf("owner filter: %q", got)
	}
	if got, _ := names(query.ProviderSearch{Filters: []query.ProviderFilter{{ID: &orgIDP}}}, mgmt); got != "org-alpha" {
		t.Fatalf("id filter: %q", got)
	}
	_, err := f.q.SearchProviders(ctxWith("o1", ownerOf("o1")), admin, query.ProviderSearch{})
	wantKind(t, err, errs.KindPermissionDenied, "AUTH-5mWD2")
}

// clientTemplate is the template of a kind whose config is idp.ClientConfig
// (github, gitlab, google).
func clientTemplate(path, name, clientID, secret string) idp.Template {
	k, _ := idp.ByPath(path)
	cfg := k.New().(*idp.ClientConfig)
	cfg.ClientID, cfg.ClientSecret = clientID, secret
	return idp.Template{Kind: k, Name: name, Config: cfg}
}
