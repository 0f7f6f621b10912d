package rpc_test

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/idledger/idledger/internal/app/apptest"
)

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
	var msg proto.Message
	if got != nil {
		msg = any(got).(proto.Message)
	} else {
		msg = any(new(Res)).(proto.Message)
	}
	if err == nil && len(volatile) > 0 && (status == 200 || status == 201) {
		rest := msg.ProtoReflect().New().Interface()
		if uerr := protojson.Unmarshal(raw, rest); uerr != nil {
			t.Fatalf("%s: the REST body %s is no %T: %v", p.name, raw, msg, uerr)
		}
		g, r := scrub(proto.Clone(msg), volatile), scrub(rest, volatile)
		if g.set != r.set {
			t.Fatalf("%s: RPC sets %v of %v, REST %v\nRPC %v\nREST %s", p.name, g.set, volatile, r.set, msg, raw)
		}
		raw, _ = protojson.Marshal(r.m)
		msg = g.m
	}
	sameAsREST(t, p, status, raw, msg, err)
	return got, err
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
