package command_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
	"github.com/idledger/idledger/secretbox"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	testInstance = "inst1"
	testOrg      = "org1"
)

// idpBodies is a valid add request per kind; each secret is unique so a
// leak of any one is detectable.
var idpBodies = map[string]string{
	"oauth": `{"name":"OAuth","clientId":"cid","clientSecret":"S-oauth-secret","authorizationEndpoint":"https://a/auth",
		"tokenEndpoint":"https://a/token","userEndpoint":"https://a/user","idAttribute":"sub"}`,
	"generic_oidc": `{"name":"OIDC","issuer":"https://issuer","clientId":"cid","clientSecret":"S-oidc-secret"}`,
	"generic_jwt": `{"name":"JWT","issuer":"https://jwt","jwtEndpoint":"https://jwt/jwt","keysEndpoint":"https://jwt/keys",
		"headerName":"x-auth"}`,
	"ldap": `{"name":"LDAP","servers":["ldaps://l:636"],"baseDn":"dc=x","bindDn":"cn=a","bindPassword":"S-ldap-password",
		"userBase":"dn","userObjectClasses":["user"],"userFilters":["uid"],"timeout":"10s"}`,
	"azure":              `{"name":"Azure","clientId":"cid","clientSecret":"S-azure-secret"}`,
	"github":             `{"clientId":"cid","clientSecret":"S-github-secret"}`,
	"github_es":          `{"name":"GHES","clientId":"cid","clientSecret":"S-ghes-secret","authorizationEndpoint":"https://g/a","tokenEndpoint":"https://g/t","userEndpoint":"https://g/u"}`,
	"gitlab":             `{"clientId":"cid","clientSecret":"S-gitlab-secret"}`,
	"gitlab_self_hosted": `{"name":"GLSH","issuer":"https://gl","clientId":"cid","clientSecret":"S-glsh-secret"}`,
	"google":             `{"clientId":"cid","clientSecret":"S-google-secret"}`,
	"apple":              `{"clientId":"cid","teamId":"ABCDEFGHIJ","keyId":"KEYID12345","privateKey":"Uy1hcHBsZS1wcml2YXRlLWtleQ=="}`,
	"saml":               `{"name":"SAML","metadataXml":"PEVudGl0eURlc2NyaXB0b3IvPg==","binding":"SAML_BINDING_POST"}`,
}

// idpSecrets are the plaintexts of idpBodies ("S-apple-private-key" is the
// base64-decoded form of apple's privateKey).
var idpSecrets = []string{"S-oauth-secret", "S-oidc-secret", "S-ldap-password", "S-azure-secret", "S-github-secret",
	"S-ghes-secret", "S-gitlab-secret", "S-glsh-secret", "S-google-secret", "Uy1hcHBsZS1wcml2YXRlLWtleQ=="}

type idpEnv struct {
	cmds  *command.Commands
	store *eventstore.Postgres
	pool  *pgxpool.Pool
	keys  *secretbox.Keyring
}

func newIDPEnv(t *testing.T) *idpEnv {
	t.Helper()
	a := apptest.Wire(t, app.Options{Log: zerolog.Nop(), MasterKey: bytes.Repeat([]byte{7}, secretbox.KeySize)})
	return &idpEnv{cmds: a.Commands(), store: a.Store(), pool: a.Pool(), keys: a.Keys()}
}

func asCaller(roles []authz.Membership) context.Context {
	return authz.WithCaller(context.Background(), &authz.Caller{
		InstanceID: testInstance, UserID: "user1", UserOrgID: testOrg, OrgID: testOrg, Memberships: roles,
	})
}

func iamOwner() context.Context {
	return asCaller([]authz.Membership{{Roles: []string{authz.IAMOwner}}})
}

func orgOwner(org string) context.Context {
	return asCaller([]authz.Membership{{OrgID: org, Roles: []string{authz.OrgOwner}}})
}

var (
	systemOwner = command.IDPOwnerRef{Type: events.OwnerSystem}
	orgOwnerRef = command.IDPOwnerRef{Type: events.OwnerOrg, OrgID: testOrg}
)

func wantErr(t *testing.T, err error, kind errs.Kind, id string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != kind || (id != "" && e.ID != id) {
		t.Fatalf("error = %v, want %v %s", err, kind, id)
	}
}

func idpEvents(t *testing.T, env *idpEnv, id string) []eventstore.Event {
	t.Helper()
	evs, err := env.store.Aggregate(context.Background(),
		eventstore.AggregateRef{InstanceID: testInstance, Type: events.AggIDP, ID: id}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestIDPLifecycleEveryKind(t *testing.T) {
	env := newIDPEnv(t)
	for _, owner := range []command.IDPOwnerRef{systemOwner, orgOwnerRef} {
		for _, kind := range idp.Kinds() {
			t.Run(owner.Type+"/"+kind.Path, func(t *testing.T) {
				body, ok := idpBodies[kind.Path]
				if !ok {
					t.Fatalf("no test body for kind %s", kind.Path)
				}
				ctx := iamOwner()
				d, err := env.cmds.AddIDP(ctx, owner, tplOf(t, kind.Path, body))
				if err != nil {
					t.Fatal(err)
				}
				wantRO := testInstance
				if owner.Type == events.OwnerOrg {
					wantRO = testOrg
				}
				if d.ID == "" || d.Sequence != 1 || d.ResourceOwner != wantRO || d.Created.IsZero() || !d.Created.Equal(d.Changed) {
					t.Fatalf("add details = %+v", d)
				}
				ot, ro, exists, err := env.cmds.IDPOwner(context.Background(), testInstance, d.ID)
				if err != nil || !exists || ot != owner.Type || ro != wantRO {
					t.Fatalf("IDPOwner = %q %q %v %v", ot, ro, exists, err)
				}

				// Secrets are sealed in the event and bound to this IdP.
				evs := idpEvents(t, env, d.ID)
				var p events.IDPAddedPayload
				if err := evs[0].Unmarshal(&p); err != nil {
					t.Fatal(err)
				}
				checkSealed(t, env, kind, d.ID, p.Config)

				// The same body again changes nothing: no event, same details.
				d2, err := env.cmds.UpdateIDP(ctx, owner, d.ID, tplOf(t, kind.Path, body))
				if err != nil {
					t.Fatal(err)
				}
				if d2.Sequence != 1 || !d2.Changed.Equal(d.Changed) || len(idpEvents(t, env, d.ID)) != 1 {
					t.Fatalf("no-op update wrote: %+v", d2)
				}
				// A rename without secrets keeps the stored secrets.
				renamed := setJSON(t, body, "name", "Renamed")
				for _, s := range idp.Secrets(kind.New()) {
					renamed = setJSON(t, renamed, s.Field, "")
				}
				d3, err := env.cmds.UpdateIDP(ctx, owner, d.ID, tplOf(t, kind.Path, renamed))
				if err != nil {
					t.Fatal(err)
				}
				if d3.Sequence != 2 || !d3.Created.Equal(d.Created) || d3.ResourceOwner != wantRO {
					t.Fatalf("update details = %+v", d3)
				}
				evs = idpEvents(t, env, d.ID)
				var c events.IDPChangedPayload
				if err := evs[1].Unmarshal(&c); err != nil {
					t.Fatal(err)
				}
				if c.Name != "Renamed" || c.Kind != kind.Path {
					t.Fatalf("changed payload = %+v", c)
				}
				checkSealed(t, env, kind, d.ID, c.Config)
				// The read table has the public view.
				var name, cfg string
				if err := env.pool.QueryRow(context.Background(),
					`SELECT name, config::text FROM idps WHERE instance_id = $1 AND id = $2`, testInstance, d.ID).Scan(&name, &cfg); err != nil {
					t.Fatal(err)
				}
				if name != "Renamed" {
					t.Fatalf("projected name %q", name)
				}
				for _, s := range idpSecrets {
					if strings.Contains(cfg, s) {
						t.Fatalf("projected config holds a secret: %s", cfg)
					}
				}

				// Another kind's path is 404.
				other := "google"
				if kind.Path == other {
					other = "github"
				}
				_, err = env.cmds.UpdateIDP(ctx, owner, d.ID, tplOf(t, other, idpBodies[other]))
				wantErr(t, err, errs.KindNotFound, map[string]string{events.OwnerSystem: "INST-Dg331", events.OwnerOrg: "ORG-Dg331"}[owner.Type])

				rd, err := env.cmds.RemoveIDP(ctx, owner, d.ID)
				if err != nil {
					t.Fatal(err)
				}
				if rd.Sequence != 3 {
					t.Fatalf("remove details = %+v", rd)
				}
				if _, _, exists, _ := env.cmds.IDPOwner(context.Background(), testInstance, d.ID); exists {
					t.Fatal("removed IdP still exists")
				}
				_, err = env.cmds.RemoveIDP(ctx, owner, d.ID)
				wantErr(t, err, errs.KindNotFound, "")
			})
		}
	}
}

// checkSealed asserts that every secret of the stored config is sealed
// text that opens, with this IdP's AAD, to a known plaintext.
func checkSealed(t *testing.T, env *idpEnv, kind idp.Kind, id string, raw json.RawMessage) {
	t.Helper()
	for _, s := range idpSecrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("stored config holds plaintext secret %q", s)
		}
	}
	cfg := kind.New()
	if err := json.Unmarshal(raw, cfg); err != nil {
		t.Fatal(err)
	}
	for _, sec := range idp.Secrets(cfg) {
		sealed, err := secretbox.ParseSealed(*sec.Value)
		if err != nil {
			t.Fatalf("%s is not sealed: %v", sec.Field, err)
		}
		pt, err := env.keys.Open(sealed, secretbox.AAD{InstanceID: testInstance, IDPID: id, Field: sec.Field})
		generated := sec.Field == "spKey" && strings.HasPrefix(pt, "-----BEGIN RSA PRIVATE KEY-----")
		if err != nil || !strings.HasPrefix(pt, "S-") && pt != "Uy1hcHBsZS1wcml2YXRlLWtleQ==" && !generated {
			t.Fatalf("open %s: %q %v", sec.Field, pt, err)
		}
	}
}

func setJSON(t *testing.T, body, key string, v any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	m[key] = v
	b, _ := json.Marshal(m)
	return string(b)
}

func TestIDPSecretReplaced(t *testing.T) {
	env := newIDPEnv(t)
	ctx := iamOwner()
	d, err := env.cmds.AddIDP(ctx, systemOwner, tplOf(t, "google", idpBodies["google"]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.cmds.UpdateIDP(ctx, systemOwner, d.ID, tplOf(t, "google", `{"clientId":"cid","clientSecret":"S-new"}`)); err != nil {
		t.Fatal(err)
	}
	evs := idpEvents(t, env, d.ID)
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	var cfg idp.ClientConfig
	var p events.IDPChangedPayload
	_ = evs[1].Unmarshal(&p)
	_ = json.Unmarshal(p.Config, &cfg)
	sealed, _ := secretbox.ParseSealed(cfg.ClientSecret)
	if pt, err := env.keys.Open(sealed, secretbox.AAD{InstanceID: testInstance, IDPID: d.ID, Field: "clientSecret"}); err != nil || pt != "S-new" {
		t.Fatalf("secret = %q %v", pt, err)
	}
	// A sealed value cannot be opened as another IdP's or field's.
	if _, err := env.keys.Open(sealed, secretbox.AAD{InstanceID: testInstance, IDPID: "other", Field: "clientSecret"}); err == nil {
		t.Fatal("secret opened under another IdP's AAD")
	}
}

func TestIDPValidationAndPermissions(t *testing.T) {
	env := newIDPEnv(t)
	_, err := env.cmds.AddIDP(iamOwner(), systemOwner, tplOf(t, "google", `{"clientSecret":"x"}`))
	wantErr(t, err, errs.KindInvalidArgument, "INST-idp-google-clientId")
	_, err = env.cmds.AddIDP(iamOwner(), orgOwnerRef, tplOf(t, "generic_oidc", `{"name":"x","issuer":" ","clientId":"c"}`))
	wantErr(t, err, errs.KindInvalidArgument, "ORG-idp-oidc-issuer")
	_, err = env.cmds.AddIDP(iamOwner(), systemOwner, tplOf(t, "nope", `{}`))
	wantErr(t, err, errs.KindNotFound, "")

	_, err = env.cmds.AddIDP(context.Background(), systemOwner, tplOf(t, "google", idpBodies["google"]))
	wantErr(t, err, errs.KindUnauthenticated, "")
	_, err = env.cmds.AddIDP(asCaller(nil), systemOwner, tplOf(t, "google", idpBodies["google"]))
	wantErr(t, err, errs.KindNotFound, "AUTHZ-cdgFk")
	_, err = env.cmds.AddIDP(orgOwner(testOrg), systemOwner, tplOf(t, "google", idpBodies["google"]))
	wantErr(t, err, errs.KindPermissionDenied, "AUTH-5mWD2")
	_, err = env.cmds.AddIDP(orgOwner("org2"), orgOwnerRef, tplOf(t, "google", idpBodies["google"]))
	wantErr(t, err, errs.KindPermissionDenied, "AUTH-5mWD2")

	d, err := env.cmds.AddIDP(orgOwner(testOrg), orgOwnerRef, tplOf(t, "google", idpBodies["google"]))
	if err != nil {
		t.Fatal(err)
	}
	// Another org, or the instance, cannot see it as theirs.
	_, err = env.cmds.UpdateIDP(iamOwner(), command.IDPOwnerRef{Type: events.OwnerOrg, OrgID: "org2"}, d.ID, tplOf(t, "google", idpBodies["google"]))
	wantErr(t, err, errs.KindNotFound, "ORG-Dg331")
	_, err = env.cmds.RemoveIDP(iamOwner(), systemOwner, d.ID)
	wantErr(t, err, errs.KindNotFound, "INST-Se3tg")
	_, err = env.cmds.UpdateIDP(iamOwner(), systemOwner, "unknown", tplOf(t, "google", idpBodies["google"]))
	wantErr(t, err, errs.KindNotFound, "INST-Dg331")
}

func TestIDPRemoveCascades(t *testing.T) {
	env := newIDPEnv(t)
	ctx := iamOwner()
	d, err := env.cmds.AddIDP(ctx, systemOwner, tplOf(t, "google", idpBodies["google"]))
	if err != nil {
		t.Fatal(err)
	}
	keep, err := env.cmds.AddIDP(ctx, systemOwner, tplOf(t, "github", idpBodies["github"]))
	if err != nil {
		t.Fatal(err)
	}
	policy := eventstore.AggregateRef{InstanceID: testInstance, Type: events.AggLoginPolicy, ID: testInstance}
	user := eventstore.AggregateRef{InstanceID: testInstance, Type: events.AggUser, ID: "user9"}
	link := func(idpID, ext string) eventstore.PendingEvent {
		return eventstore.PendingEvent{Type: events.UserIDPLinkAdded, Payload: events.IDPLinkPayload{IDPID: idpID, ExternalUserID: ext}}
	}
	claim := func(idpID, ext string) eventstore.UniqueConstraint {
		return eventstore.UniqueConstraint{InstanceID: testInstance, Type: "user.idp.link", Value: idpID + ":" + ext}
	}
	_, err = env.store.Append(context.Background(), eventstore.Append{
		Aggregates: []eventstore.AggregateAppend{
			{Aggregate: policy, ResourceOwner: testInstance, Events: []eventstore.PendingEvent{
				{Type: events.LoginPolicyAdded, Payload: events.LoginPolicyAddedPayload{IsDefault: true}},
				{Type: events.LoginPolicyIDPAdded, Payload: events.LoginPolicyIDPPayload{IDPID: d.ID, OwnerType: events.OwnerSystem}},
				{Type: events.LoginPolicyIDPAdded, Payload: events.LoginPolicyIDPPayload{IDPID: keep.ID, OwnerType: events.OwnerSystem}},
			}},
			{Aggregate: user, ResourceOwner: testOrg, Events: []eventstore.PendingEvent{
				{Type: events.UserHumanAdded, Payload: events.HumanAddedPayload{Username: "u9", Email: "u9@x"}},
				link(d.ID, "ext-a"), link(d.ID, "ext-b"), link(keep.ID, "ext-c"),
			}},
		},
		Constraints: []eventstore.UniqueConstraint{claim(d.ID, "ext-a"), claim(d.ID, "ext-b"), claim(keep.ID, "ext-c")},
	})
	if err != nil {
		t.Skipf("cannot seed policy and user events (other areas' projections may reject them): %v", err)
	}
	rd, err := env.cmds.RemoveIDP(ctx, systemOwner, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	// One append: the cascade events share the IdP removal's transaction.
	env.store.Barrier(context.Background(), 5*time.Second) //nolint:errcheck // a one-shot read follows
	all, err := env.store.Read(context.Background(), eventstore.Filter{InstanceID: testInstance})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var tx uint64
	for _, e := range all {
		if e.Type == events.IDPRemoved {
			tx = e.TxID
		}
	}
	for _, e := range all {
		if e.TxID == tx {
			var p struct {
				IDPID string `json:"idpId"`
				Ext   string `json:"userId"`
			}
			_ = e.Unmarshal(&p)
			got = append(got, e.Type+" "+p.Ext)
		}
	}
	want := []string{events.IDPRemoved + " ", events.LoginPolicyIDPCascadeRemoved + " ",
		events.UserIDPLinkCascadeRemoved + " ext-a", events.UserIDPLinkCascadeRemoved + " ext-b"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("cascade events = %q, want %q", got, want)
	}
	if rd.Sequence != 2 {
		t.Fatalf("remove details = %+v", rd)
	}
	// The link values are released; the other IdP's is not.
	_, err = env.store.Append(context.Background(), eventstore.Append{
		Aggregates: []eventstore.AggregateAppend{{Aggregate: user, ResourceOwner: testOrg, Expected: 6,
			Events: []eventstore.PendingEvent{link(d.ID, "ext-a")}}},
		Constraints: []eventstore.UniqueConstraint{claim(d.ID, "ext-a")},
	})
	if err != nil {
		t.Fatalf("link value not released: %v", err)
	}
	_, err = env.store.Append(context.Background(), eventstore.Append{
		Aggregates: []eventstore.AggregateAppend{{Aggregate: user, ResourceOwner: testOrg, Expected: 7,
			Events: []eventstore.PendingEvent{link(keep.ID, "ext-c")}}},
		Constraints: []eventstore.UniqueConstraint{claim(keep.ID, "ext-c")},
	})
	var ce *eventstore.ConstraintError
	if !errors.As(err, &ce) {
		t.Fatalf("other IdP's link value released: %v", err)
	}
}

func TestIDPConcurrentUpdates(t *testing.T) {
	env := newIDPEnv(t)
	ctx := iamOwner()
	d, err := env.cmds.AddIDP(ctx, systemOwner, tplOf(t, "github", idpBodies["github"]))
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	var wg sync.WaitGroup
	results := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			body := setJSON(t, idpBodies["github"], "name", "name-"+string(rune('a'+i)))
			_, results[i] = env.cmds.UpdateIDP(ctx, systemOwner, d.ID, tplOf(t, "github", body))
		}()
	}
	close(start)
	wg.Wait()
	applied := 0
	for _, err := range results {
		switch {
		case err == nil:
			applied++
		default:
			wantErr(t, err, errs.KindAborted, "EVENT-Abrt1")
		}
	}
	evs := idpEvents(t, env, d.ID)
	if len(evs) != 1+applied {
		t.Fatalf("%d events for %d applied updates", len(evs), applied)
	}
	var last events.IDPChangedPayload
	_ = evs[len(evs)-1].Unmarshal(&last)
	var name string
	_ = env.pool.QueryRow(context.Background(), `SELECT name FROM idps WHERE id = $1`, d.ID).Scan(&name)
	if name != last.Name {
		t.Fatalf("read table name %q, last event %q", name, last.Name)
	}
}

// tplOf is the typed template of an add or update body of kind path, as a
// transport hands it to the command: encoding/json over the config's JSON
// names, name and providerOptions at the top level. A path that is not in
// the table gives a template whose Kind is not a table row.
func tplOf(t testing.TB, path, body string) idp.Template {
	k, ok := idp.ByPath(path)
	if !ok {
		return idp.Template{Kind: idp.Kind{Path: path}}
	}
	tpl := idp.Template{Kind: k, Config: k.New()}
	var top struct {
		Name    string      `json:"name"`
		Options idp.Options `json:"providerOptions"`
	}
	if err := json.Unmarshal([]byte(body), &top); err != nil {
		t.Errorf("template body %s: %v", body, err)
	}
	if err := json.Unmarshal([]byte(body), tpl.Config); err != nil {
		t.Errorf("template body %s: %v", body, err)
	}
	tpl.Name, tpl.Options = top.Name, top.Options
	return tpl
}
