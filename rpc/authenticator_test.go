package rpc_test

import (
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	objectv3alpha "github.com/idledger/idledger/gen/zitadel/object/v3alpha"
	resourcesuserv3alpha "github.com/idledger/idledger/gen/zitadel/resources/user/v3alpha"
	userv3alpha "github.com/idledger/idledger/gen/zitadel/user/v3alpha"
	"github.com/idledger/idledger/internal/app/apptest"
)

// authDialect drives one dialect of the IdP-authenticator methods over REST
// and RPC. org is the resources dialect's restriction ("" none; "domain:x"
// an orgDomain); the v3alpha dialect has none.
type authDialect struct {
	name       string
	addPath    func(user, org string) string
	addBody    func(idp, ext, name string) any
	add        func(t *testing.T, env *apptest.Env, p protocol, user, org, idp, ext, name string, headers ...string) (proto.Message, error)
	removePath func(user, idp, org string) string
	remove     func(t *testing.T, env *apptest.Env, p protocol, user, org, idp string, headers ...string) (proto.Message, error)
	// restricts: the dialect takes an org restriction.
	restricts bool
}

// orgQuery is the REST form of a resources org restriction.
func orgQuery(org string) string {
	if d, ok := strings.CutPrefix(org, "domain:"); ok {
		return "?organization.orgDomain=" + d
	}
	if org == "" {
		return ""
	}
	return "?organization.orgId=" + org
}

// orgMessage is the RPC form of a resources org restriction.
func orgMessage(org string) *objectv3alpha.Organization {
	if d, ok := strings.CutPrefix(org, "domain:"); ok {
		return &objectv3alpha.Organization{Property: &objectv3alpha.Organization_OrgDomain{OrgDomain: d}}
	}
	if org == "" {
		return nil
	}
	return &objectv3alpha.Organization{Property: &objectv3alpha.Organization_OrgId{OrgId: org}}
}

// orEmpty is got, or an empty message of its type when the call failed.
func orEmpty[M any, P interface {
	*M
	proto.Message
}](got P) proto.Message {
	if got == nil {
		return P(new(M))
	}
	return got
}

var authDialects = []authDialect{
	{
		name:    "v3alpha",
		addPath: func(user, _ string) string { return "/v3alpha/users/" + user + "/idps" },
		addBody: func(idp, ext, name string) any {
			return map[string]any{"idpAuthenticator": map[string]any{"idpId": idp, "userId": ext, "userName": name}}
		},
		add: func(t *testing.T, env *apptest.Env, p protocol, user, _, idp, ext, name string, headers ...string) (proto.Message, error) {
			got, err := call[userv3alpha.AddIDPAuthenticatorRequest, userv3alpha.AddIDPAuthenticatorResponse](t, env, p,
				"/zitadel.user.v3alpha.UserService/AddIDPAuthenticator", &userv3alpha.AddIDPAuthenticatorRequest{
					UserId: user, IdpAuthenticator: &userv3alpha.IDPAuthenticator{IdpId: idp, UserId: ext, UserName: name}}, headers...)
			return orEmpty(got), err
		},
		removePath: func(user, idp, _ string) string { return "/v3alpha/users/" + user + "/idps/" + idp },
		remove: func(t *testing.T, env *apptest.Env, p protocol, user, _, idp string, headers ...string) (proto.Message, error) {
			got, err := call[userv3alpha.RemoveIDPAuthenticatorRequest, userv3alpha.RemoveIDPAuthenticatorResponse](t, env, p,
				"/zitadel.user.v3alpha.UserService/RemoveIDPAuthenticator", &userv3alpha.RemoveIDPAuthenticatorRequest{UserId: user, IdpId: idp}, headers...)
			return orEmpty(got), err
		},
	},
	{
		name:    "resources",
		addPath: func(user, org string) string { return "/resources/v3alpha/users/" + user + "/idps" + orgQuery(org) },
		addBody: func(idp, ext, name string) any {
			return map[string]any{"idpId": idp, "userId": ext, "userName": name}
		},
		add: func(t *testing.T, env *apptest.Env, p protocol, user, org, idp, ext, name string, headers ...string) (proto.Message, error) {
			got, err := call[resourcesuserv3alpha.AddIDPAuthenticatorRequest, resourcesuserv3alpha.AddIDPAuthenticatorResponse](t, env, p,
				"/zitadel.resources.user.v3alpha.ZITADELUsers/AddIDPAuthenticator", &resourcesuserv3alpha.AddIDPAuthenticatorRequest{
					Id: user, Organization: orgMessage(org),
					Authenticator: &resourcesuserv3alpha.IDPAuthenticator{IdpId: idp, UserId: ext, UserName: name}}, headers...)
			return orEmpty(got), err
		},
		removePath: func(user, idp, org string) string {
			return "/resources/v3alpha/users/" + user + "/idps/" + idp + orgQuery(org)
		},
		remove: func(t *testing.T, env *apptest.Env, p protocol, user, org, idp string, headers ...string) (proto.Message, error) {
			got, err := call[resourcesuserv3alpha.RemoveIDPAuthenticatorRequest, resourcesuserv3alpha.RemoveIDPAuthenticatorResponse](t, env, p,
				"/zitadel.resources.user.v3alpha.ZITADELUsers/RemoveIDPAuthenticator", &resourcesuserv3alpha.RemoveIDPAuthenticatorRequest{
					Id: user, Organization: orgMessage(org), IdpId: idp}, headers...)
			return orEmpty(got), err
		},
		restricts: true,
	},
}

// masked returns the protojson of m with what differs between two writes
// of the same shape (sequences, dates) replaced by fixed values; absent
// fields stay absent.
func masked(m proto.Message) []byte {
	m = proto.Clone(m)
	var walk func(protoreflect.Message)
	walk = func(r protoreflect.Message) {
		r.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.Message() != nil && fd.Message().FullName() == "google.protobuf.Timestamp" && !fd.IsList():
				r.Set(fd, protoreflect.ValueOfMessage((&timestamppb.Timestamp{Seconds: 1}).ProtoReflect()))
			case fd.Name() == "sequence":
				r.Set(fd, protoreflect.ValueOfUint64(1))
			case fd.Message() != nil && fd.IsList():
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					walk(l.Get(i).Message())
				}
			case fd.Message() != nil && !fd.IsMap():
				walk(v.Message())
			}
			return true
		})
	}
	walk(m.ProtoReflect())
	b, err := protojson.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// sameWrite compares an RPC write with the same write through REST on
// another object: equal once sequences and dates are masked.
func sameWrite(t *testing.T, p protocol, status int, body []byte, got proto.Message, err error) {
	t.Helper()
	if status != http.StatusOK && status != http.StatusCreated || err != nil {
		sameAsREST(t, p, status, body, got, err)
		return
	}
	rest := got.ProtoReflect().New().Interface()
	if uerr := protojson.Unmarshal(body, rest); uerr != nil {
		t.Fatalf("%s: the REST body %s is no %T: %v", p.name, body, got, uerr)
	}
	sameAsREST(t, p, status, masked(rest), mustUnmask(t, got), nil)
}

// mustUnmask is got with the same masking as the REST side.
func mustUnmask(t *testing.T, got proto.Message) proto.Message {
	out := got.ProtoReflect().New().Interface()
	if err := protojson.Unmarshal(masked(got), out); err != nil {
		t.Fatal(err)
	}
	return out
}

// linksOf is the IdP IDs and external user IDs of user's links, read
// through REST.
func linksOf(t *testing.T, env *apptest.Env, user string) string {
	t.Helper()
	m := env.MustDo(t, http.StatusOK, "POST", "/v2/users/"+user+"/links/_search", `{}`)
	var out []string
	list, _ := m["result"].([]any)
	for _, l := range list {
		l := l.(map[string]any)
		out = append(out, l["idpId"].(string)+"/"+l["userId"].(string))
	}
	return strings.Join(out, ",")
}

func TestIDPAuthenticators(t *testing.T) {
	env := apptest.New(t)
	org, other := env.CreateOrg(t, "acme"), env.CreateOrg(t, "other")
	idpREST := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/google", `{"clientId":"a","clientSecret":"s"}`)["id"].(string)
	idpRPC := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/google", `{"clientId":"b","clientSecret":"s"}`)["id"].(string)
	otherIDP := env.MustDo(t, http.StatusOK, "POST", "/management/v1/idps/google", `{"clientId":"c","clientSecret":"s"}`,
		"x-zitadel-orgid", other)["id"].(string)
	_, noRoles := env.CreateMachineWithPAT(t, org)
	long := strings.Repeat("1", 201)

	for _, d := range authDialects {
		for _, p := range protocols {
			t.Run(d.name+"/"+p.name, func(t *testing.T) {
				user := env.CreateHuman(t, org, "u-"+d.name+"-"+p.name)
				ext := d.name + "-" + p.name

				// Add: the same write through REST (idpREST) and RPC (idpRPC).
				status, body := env.Do(t, "POST", d.addPath(user, ""), d.addBody(idpREST, ext, ext+"@x"))
				got, err := d.add(t, env, p, user, "", idpRPC, ext, ext+"@x")
				sameWrite(t, p, status, body, got, err)
				if l := linksOf(t, env, user); l != idpREST+"/"+ext+","+idpRPC+"/"+ext {
					t.Fatalf("links after both adds: %s", l)
				}

				for _, c := range []struct {
					name                string
					user, org, idp, ext string
					name2               string
					headers             []string
				}{
					{"long userName", user, "", idpRPC, "e1", strings.Repeat("n", 201), nil}, // an empty one is valid (zitadel#11421)
					{"long user ID", long, "", idpRPC, "e1", "n", nil},
					{"user not found", "404404", "", idpRPC, "e1", "n", nil},
					{"idp not found", user, "", "0", "e1", "n", nil},
					{"idp of another org", user, "", otherIDP, "e1", "n", nil},
					{"already linked", user, "", idpREST, ext, "n", nil},
					{"permission denied", user, "", idpRPC, "e1", "n", []string{"Authorization", "Bearer " + noRoles}},
					{"unauthenticated", user, "", idpRPC, "e1", "n", []string{"Authorization", ""}},
					{"org restriction", user, other, idpRPC, "e1", "n", nil},
					{"org domain", user, "domain:acme.example", idpRPC, "e1", "n", nil},
				} {
					if c.org != "" && !d.restricts {
						continue
					}
					status, body := env.DoAs(t, patOf(env, c.headers), "POST", d.addPath(c.user, c.org), d.addBody(c.idp, c.ext, c.name2))
					got, err := d.add(t, env, p, c.user, c.org, c.idp, c.ext, c.name2, c.headers...)
					if status == http.StatusOK {
						t.Fatalf("add %s: REST succeeded: %s", c.name, body)
					}
					sameAsREST(t, p, status, body, got, err)
				}
				if d.restricts {
					// The user's own org as restriction passes.
					status, body := env.Do(t, "POST", d.addPath(user, org), d.addBody(idpREST, ext+"-2", "n"))
					got, err := d.add(t, env, p, user, org, idpRPC, ext+"-2", "n")
					sameWrite(t, p, status, body, got, err)
				}

				// Remove errors, then the remove itself.
				for _, c := range []struct {
					name, user, org, idp string
					headers              []string
				}{
					{"long idp ID", user, "", long, nil},
					{"user not found", "404404", "", idpRPC, nil},
					{"not linked", user, "", otherIDP, nil},
					{"permission denied", user, "", idpRPC, []string{"Authorization", "Bearer " + noRoles}},
					{"org restriction", user, other, idpRPC, nil},
					{"org domain", user, "domain:acme.example", idpRPC, nil},
				} {
					if c.org != "" && !d.restricts {
						continue
					}
					status, body := env.DoAs(t, patOf(env, c.headers), "DELETE", d.removePath(c.user, c.idp, c.org), nil)
					got, err := d.remove(t, env, p, c.user, c.org, c.idp, c.headers...)
					if status == http.StatusOK {
						t.Fatalf("remove %s: REST succeeded: %s", c.name, body)
					}
					sameAsREST(t, p, status, body, got, err)
				}
				restrict := ""
				if d.restricts {
					restrict = org
				}
				status, body = env.Do(t, "DELETE", d.removePath(user, idpREST, restrict), nil)
				got, err = d.remove(t, env, p, user, restrict, idpRPC)
				sameWrite(t, p, status, body, got, err)
				if l := linksOf(t, env, user); l != "" {
					t.Fatalf("links after both removes: %s", l)
				}
				status, body = env.Do(t, "DELETE", d.removePath(user, idpREST, ""), nil)
				got, err = d.remove(t, env, p, user, "", idpRPC)
				sameAsREST(t, p, status, body, got, err)
			})
		}
	}
}

// patOf is the token that headers send (call's convention): the admin's
// unless they set Authorization.
func patOf(env *apptest.Env, headers []string) string {
	for i := 0; i+1 < len(headers); i += 2 {
		if strings.EqualFold(headers[i], "Authorization") {
			return strings.TrimPrefix(headers[i+1], "Bearer ")
		}
	}
	return env.AdminPAT
}
