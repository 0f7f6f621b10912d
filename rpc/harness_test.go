package rpc_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	zitadelv1 "github.com/idledger/idledger/gen/zitadel/v1"
	"github.com/idledger/idledger/internal/app/apptest"
	"github.com/idledger/idledger/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// protocol is one way a client calls a method: gRPC, gRPC-Web, Connect
// with JSON, Connect with binary protobuf.
type protocol struct {
	name string
	opts []connect.ClientOption
}

var protocols = []protocol{
	{"grpc", []connect.ClientOption{connect.WithGRPC()}},
	{"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}},
	{"connect+json", []connect.ClientOption{connect.WithProtoJSON()}},
	{"connect+proto", nil},
}

// h2c is an HTTP client that speaks cleartext HTTP/2 with prior knowledge
// (gRPC needs HTTP/2) and HTTP/1.1 otherwise.
var h2c = func() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{
		Protocols:      &p,
		DialTLSContext: func(context.Context, string, string) (net.Conn, error) { return nil, tls.RecordHeaderError{} },
	}}
}()

// call invokes procedure (for example "/zitadel.idp.v2.IdentityProviderService/GetIDPByID")
// over p, as the admin unless headers set "Authorization" ("" sends none);
// headers are name, value pairs ("x-zitadel-orgid", id).
func call[Req, Res any](t testing.TB, env *apptest.Env, p protocol, procedure string, req *Req, headers ...string) (*Res, error) {
	t.Helper()
	c := connect.NewClient[Req, Res](h2c, env.URL+procedure, p.opts...)
	r := connect.NewRequest(req)
	r.Header().Set("Authorization", "Bearer "+env.AdminPAT)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			r.Header().Del(headers[i])
			continue
		}
		r.Header().Set(headers[i], headers[i+1])
	}
	res, err := c.CallUnary(context.Background(), r)
	if err != nil {
		return nil, err
	}
	return res.Msg, nil
}

// sameAsREST fails t unless the RPC answer got equals the REST answer
// (status, body) to the same request: on success the REST body, read as
// protojson into a message of got's type, equals got; on failure the RPC
// error has the REST body's code, message and ErrorDetail.
func sameAsREST(t testing.TB, p protocol, status int, body []byte, got proto.Message, err error) {
	t.Helper()
	if status != http.StatusOK && status != http.StatusCreated {
		var rest struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Details []struct {
				ID      string `json:"id"`
				Message string `json:"message"`
			} `json:"details"`
		}
		if jerr := json.Unmarshal(body, &rest); jerr != nil {
			t.Fatalf("%s: REST %d body %s: %v", p.name, status, body, jerr)
		}
		ce := new(connect.Error)
		if err == nil || !asConnect(err, &ce) {
			t.Fatalf("%s: RPC succeeded or failed oddly (%v) where REST answered %d %s", p.name, err, status, body)
		}
		if int(ce.Code()) != rest.Code || ce.Message() != rest.Message {
			t.Fatalf("%s: RPC error %d %q, REST %d %q", p.name, ce.Code(), ce.Message(), rest.Code, rest.Message)
		}
		var ids []string
		for _, d := range ce.Details() {
			v, derr := d.Value()
			if derr != nil {
				t.Fatalf("%s: error detail %s: %v", p.name, d.Type(), derr)
			}
			ed, ok := v.(*zitadelv1.ErrorDetail)
			if !ok {
				t.Fatalf("%s: error detail of type %s", p.name, d.Type())
			}
			ids = append(ids, ed.GetId()+": "+ed.GetMessage())
		}
		var want []string
		for _, d := range rest.Details {
			want = append(want, d.ID+": "+d.Message)
		}
		if strings.Join(ids, "|") != strings.Join(want, "|") {
			t.Fatalf("%s: RPC error details %v, REST %v", p.name, ids, want)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: RPC failed (%v) where REST answered %d %s", p.name, err, status, body)
	}
	if want := restMessage(t, p, body, got); !proto.Equal(got, want) {
		g, _ := protojson.Marshal(got)
		t.Fatalf("%s: RPC answered %s\nREST answered %s", p.name, g, body)
	}
}

// restMessage is the REST body read as protojson into a message of got's
// type.
func restMessage(t testing.TB, p protocol, body []byte, got proto.Message) proto.Message {
	t.Helper()
	m := got.ProtoReflect().New().Interface()
	if err := protojson.Unmarshal(body, m); err != nil {
		t.Fatalf("%s: the REST body %s is no %T: %v", p.name, body, got, err)
	}
	return m
}

// answer is an RPC answer as a proto.Message: an empty one of its type
// when the call failed (nil).
func answer[Res any](res *Res) proto.Message {
	if res == nil {
		res = new(Res)
	}
	return any(res).(proto.Message)
}

func asConnect(err error, target **connect.Error) bool {
	ce, ok := err.(*connect.Error)
	if ok {
		*target = ce
	}
	return ok
}

// userSetup is what the user service tests share: two orgs, a human in
// org A, an instance IdP, and two callers that may not write A's users: a
// machine of A without roles and an owner of org B.
type userSetup struct {
	env             *apptest.Env
	orgA, orgB      string
	idp             string
	noRoles, ownerB []string // headers: the caller's Authorization
}

func newUserSetup(t *testing.T, env *apptest.Env) *userSetup {
	s := &userSetup{env: env, orgA: env.CreateOrg(t, "acme"), orgB: env.CreateOrg(t, "other")}
	m := env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/google", `{"clientId":"cid","clientSecret":"secret"}`)
	s.idp = m["id"].(string)
	noRoles, ownerB := shortOfRoles(t, env, s.orgA, s.orgB)
	s.noRoles, s.ownerB = as(noRoles), as(ownerB)
	return s
}

// The two user services: v2, and v2beta, which @zitadel/node calls and
// which answers as v2 does.
const (
	userV2   = "/zitadel.user.v2.UserService/"
	userBeta = "/zitadel.user.v2beta.UserService/"
)

var userServices = []string{userV2, userBeta}

// message is a protobuf message type M, used through *M.
type message[M any] interface {
	*M
	proto.Message
}

// userCall calls method on service svc (userV2 or userBeta) with the v2
// request req. For v2beta, req is carried over to the v2beta message by
// its protojson, that is by field names, independently of the field
// numbers the server's conversion relies on; the answer is then a v2beta
// message, which sameAsREST reads the REST body into by names as well.
// The answer is never nil: an empty message when the call failed.
func userCall[Req, Res, BReq, BRes any, PReq message[Req], PRes message[Res], PBReq message[BReq], PBRes message[BRes]](
	t *testing.T, env *apptest.Env, p protocol, svc, method string, req PReq, headers ...string,
) (proto.Message, error) {
	t.Helper()
	if svc == userV2 {
		res, err := call[Req, Res](t, env, p, svc+method, (*Req)(req), headers...)
		return answer(res), err
	}
	b, err := protojson.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	breq := PBReq(new(BReq))
	if err := protojson.Unmarshal(b, breq); err != nil {
		t.Fatalf("%s is no v2beta %T: %v", b, breq, err)
	}
	res, err := call[BReq, BRes](t, env, p, svc+method, (*BReq)(breq), headers...)
	return answer(res), err
}

// adopt returns the REST body with the values at paths (dotted JSON
// names: "details.changeDate") taken from got's protojson: the values in
// which two equal writes on different objects differ (IDs, dates). A path
// that got lacks is removed from the body.
func adopt(t *testing.T, body []byte, got proto.Message, paths ...string) []byte {
	t.Helper()
	var rest, rpc map[string]any
	gb, err := protojson.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &rest); err != nil {
		t.Fatalf("REST body %s: %v", body, err)
	}
	if err := json.Unmarshal(gb, &rpc); err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		keys := strings.Split(path, ".")
		dst, src := rest, rpc
		for _, k := range keys[:len(keys)-1] {
			d, _ := dst[k].(map[string]any)
			s, _ := src[k].(map[string]any)
			if d == nil || s == nil {
				t.Fatalf("adopt %s: REST %s, RPC %s", path, body, gb)
			}
			dst, src = d, s
		}
		last := keys[len(keys)-1]
		if v, ok := src[last]; ok {
			dst[last] = v
		} else {
			delete(dst, last)
		}
	}
	out, err := json.Marshal(rest)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// restError is a REST error body for an RPC-only request (one REST has no
// route for, such as an empty path parameter): the message check answers
// it, as ZITADEL's validation does.
func restError(msg string) (int, []byte) {
	b, _ := json.Marshal(map[string]any{"code": 3, "message": msg})
	return http.StatusBadRequest, b
}

func isUnimplemented(err error) bool { return connect.CodeOf(err) == connect.CodeUnimplemented }

// svcName is "v2" or "v2beta", for subtest names.
func svcName(svc string) string {
	if svc == userBeta {
		return "v2beta"
	}
	return "v2"
}

// shortOfRoles are the tokens of two callers short of the roles: a machine
// of org without any role, and the owner of other.
func shortOfRoles(t *testing.T, env *apptest.Env, org, other string) (nobody, owner string) {
	_, nobody = env.CreateMachineWithPAT(t, org)
	_, owner = env.CreateOrgOwner(t, other)
	return nobody, owner
}

// identityEnv is an instance with a second org and two callers short of
// the roles (shortOfRoles): one with none, and the owner of the second org.
type identityEnv struct {
	*apptest.Env
	other          string
	nobody, outsid string // tokens
}

func newIdentityEnv(t *testing.T) identityEnv {
	env := apptest.New(t)
	e := identityEnv{Env: env, other: env.CreateOrg(t, "other")}
	e.nobody, e.outsid = shortOfRoles(t, env, env.DefaultOrgID, e.other)
	return e
}

// caller is a named way to call: the headers of the call.
type caller struct {
	name    string
	headers []string
}

// instanceCallers are the admin and e's two callers short of an instance
// role.
func (e identityEnv) instanceCallers() []caller {
	return []caller{{"admin", nil}, {"no role", as(e.nobody)}, {"org owner", as(e.outsid)}}
}

// addOIDC adds an instance generic OIDC IdP that allows linking and returns
// its ID.
func addOIDC(t *testing.T, env *apptest.Env) string {
	t.Helper()
	return env.MustDo(t, http.StatusOK, "POST", "/admin/v1/idps/generic_oidc",
		map[string]any{"name": "OIDC", "issuer": "https://issuer.example", "clientId": "c", "clientSecret": "s",
			"scopes": []string{"openid"}, "providerOptions": map[string]any{"isLinkingAllowed": true}})["id"].(string)
}

// as are the headers of a call with token pat.
func as(pat string, more ...string) []string {
	return append([]string{"Authorization", "Bearer " + pat}, more...)
}

// Fields that differ between two equal answers: a write's sequence and
// dates (REST and RPC write different objects), a list's view timestamp.
var (
	writeVolatile = []string{"sequence", "creation_date", "change_date"}
	listVolatile  = []string{"view_timestamp"}
	orgVolatile   = append([]string{"resource_owner"}, writeVolatile...)
)

// both sends the same request over REST (method, path, body) and over RPC
// p (procedure, req), each with headers, and fails t unless the answers
// agree (sameAsREST); on success the fields named volatile must be set in
// both or in neither, and their values are not compared. It returns the
// RPC answer (nil on error) and its error.
func both[Req, Res any](t *testing.T, env *apptest.Env, p protocol, procedure, method, path string, body any, req *Req, volatile []string, headers ...string) (*Res, error) {
	t.Helper()
	return bothOn[Req, Res](t, env, p, procedure, method, path, body, headers, req, headers, volatile)
}

// bothOn is both with headers of their own for REST and RPC: writes of two
// objects in different orgs (add resource_owner to volatile).
func bothOn[Req, Res any](t *testing.T, env *apptest.Env, p protocol, procedure, method, path string, body any, restHeaders []string, req *Req, rpcHeaders, volatile []string) (*Res, error) {
	t.Helper()
	status, raw := env.Do(t, method, path, body, restHeaders...)
	got, err := call[Req, Res](t, env, p, procedure, req, rpcHeaders...)
	sameAsRESTBut(t, p, status, raw, answer(got), err, volatile)
	return got, err
}

// sameAsRESTBut is sameAsREST where, on success, the fields named volatile
// must be set in both answers or in neither, and their values are not
// compared.
func sameAsRESTBut(t *testing.T, p protocol, status int, raw []byte, msg proto.Message, err error, volatile []string) {
	t.Helper()
	if err == nil && len(volatile) > 0 && (status == 200 || status == 201) {
		g, r := scrub(proto.Clone(msg), volatile), scrub(restMessage(t, p, raw, msg), volatile)
		if g.set != r.set {
			t.Fatalf("%s: RPC sets %v of %v, REST %v\nRPC %v\nREST %s", p.name, g.set, volatile, r.set, msg, raw)
		}
		raw, _ = protojson.Marshal(r.m)
		msg = g.m
	}
	sameAsREST(t, p, status, raw, msg, err)
}

type scrubbed struct {
	m   proto.Message
	set string // the volatile fields that were set, in walk order
}

// scrub clears the fields named in names at every depth of m.
func scrub(m proto.Message, names []string) scrubbed {
	out := scrubbed{m: m}
	var walk func(protoreflect.Message)
	walk = func(r protoreflect.Message) {
		var clear []protoreflect.FieldDescriptor // not while ranging
		r.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			for _, n := range names {
				if string(fd.Name()) == n {
					out.set += string(fd.FullName()) + " "
					clear = append(clear, fd)
					return true
				}
			}
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < v.List().Len(); i++ {
					walk(v.List().Get(i).Message())
				}
			case fd.Message() != nil && !fd.IsMap():
				walk(v.Message())
			}
			return true
		})
		for _, fd := range clear {
			r.Clear(fd)
		}
	}
	walk(m.ProtoReflect())
	return out
}
