package rpc_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/idledger/idledger/internal/app/apptest"
)

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
	_, noRoles := env.CreateMachineWithPAT(t, s.orgA)
	_, ownerB := env.CreateOrgOwner(t, s.orgB)
	s.noRoles, s.ownerB = []string{"Authorization", "Bearer " + noRoles}, []string{"Authorization", "Bearer " + ownerB}
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
		if res == nil {
			return PRes(new(Res)), err
		}
		return PRes(res), err
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
	if res == nil {
		return PBRes(new(BRes)), err
	}
	return PBRes(res), err
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
