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
	want := got.ProtoReflect().New().Interface()
	if uerr := protojson.Unmarshal(body, want); uerr != nil {
		t.Fatalf("%s: the REST body %s is no %T: %v", p.name, body, got, uerr)
	}
	if !proto.Equal(got, want) {
		g, _ := protojson.Marshal(got)
		t.Fatalf("%s: RPC answered %s\nREST answered %s", p.name, g, body)
	}
}

func asConnect(err error, target **connect.Error) bool {
	ce, ok := err.(*connect.Error)
	if ok {
		*target = ce
	}
	return ok
}
