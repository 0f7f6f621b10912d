package rpc_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "github.com/idledger/idledger/gen/zitadel/user/v2"
	_ "github.com/idledger/idledger/gen/zitadel/user/v2beta"
)

// TestBetaMessagesAreV2s: the v2beta service answers through the v2
// adapters by re-reading each message's binary encoding, which is right
// only if, for every method v2beta serves, the request and response
// messages and every message and enum they reach have, field by field, the
// v2 one's number, name, kind, cardinality and oneof, and the same enum
// values. The one allowed difference is a v2 field v2beta lacks, which the
// conversion drops.
func TestBetaMessagesAreV2s(t *testing.T) {
	onlyInV2 := map[protoreflect.FullName]bool{"zitadel.user.v2.HumanUser.mfa_init_skipped": true}
	find := func(name string) protoreflect.ServiceDescriptor {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			t.Fatal(err)
		}
		return d.(protoreflect.ServiceDescriptor)
	}
	v2, beta := find("zitadel.user.v2.UserService"), find("zitadel.user.v2beta.UserService")
	counterpart := func(n protoreflect.FullName) protoreflect.FullName {
		return protoreflect.FullName(strings.Replace(string(n), ".v2beta.", ".v2.", 1))
	}
	seen := map[protoreflect.FullName]bool{}
	sameEnum := func(b, v protoreflect.EnumDescriptor) {
		if counterpart(b.FullName()) != v.FullName() || b.Values().Len() != v.Values().Len() {
			t.Errorf("enum %s ≠ %s", b.FullName(), v.FullName())
			return
		}
		for i := range b.Values().Len() {
			bv, vv := b.Values().Get(i), v.Values().Get(i)
			if bv.Name() != vv.Name() || bv.Number() != vv.Number() {
				t.Errorf("enum value %s ≠ %s", bv.FullName(), vv.FullName())
			}
		}
	}
	var same func(b, v protoreflect.MessageDescriptor)
	same = func(b, v protoreflect.MessageDescriptor) {
		if seen[b.FullName()] {
			return
		}
		seen[b.FullName()] = true
		if strings.HasPrefix(string(b.FullName()), "google.protobuf.") && b.FullName() == v.FullName() {
			return
		}
		if counterpart(b.FullName()) != v.FullName() {
			t.Errorf("message %s answers for %s", b.FullName(), v.FullName())
			return
		}
		for i := range v.Fields().Len() {
			vf := v.Fields().Get(i)
			bf := b.Fields().ByNumber(vf.Number())
			if bf == nil {
				if !onlyInV2[vf.FullName()] {
					t.Errorf("%s has no v2beta counterpart", vf.FullName())
				}
				continue
			}
			if bf.Name() != vf.Name() || bf.Kind() != vf.Kind() || bf.Cardinality() != vf.Cardinality() ||
				bf.HasPresence() != vf.HasPresence() || (bf.ContainingOneof() == nil) != (vf.ContainingOneof() == nil) ||
				bf.ContainingOneof() != nil && bf.ContainingOneof().Name() != vf.ContainingOneof().Name() {
				t.Errorf("field %s ≠ %s", bf.FullName(), vf.FullName())
				continue
			}
			switch {
			case vf.Message() != nil:
				same(bf.Message(), vf.Message())
			case vf.Enum() != nil:
				sameEnum(bf.Enum(), vf.Enum())
			}
		}
		if b.Fields().Len()+len(onlyInV2Of(v, onlyInV2)) != v.Fields().Len() {
			t.Errorf("%s and %s differ in their fields", b.FullName(), v.FullName())
		}
	}
	for i := range beta.Methods().Len() {
		bm := beta.Methods().Get(i)
		vm := v2.Methods().ByName(bm.Name())
		if vm == nil {
			t.Errorf("v2 has no %s", bm.Name())
			continue
		}
		same(bm.Input(), vm.Input())
		same(bm.Output(), vm.Output())
	}
	if len(seen) < 15 {
		t.Fatalf("only %d messages compared", len(seen))
	}
}

func onlyInV2Of(v protoreflect.MessageDescriptor, only map[protoreflect.FullName]bool) []protoreflect.FullName {
	var out []protoreflect.FullName
	for i := range v.Fields().Len() {
		if only[v.Fields().Get(i).FullName()] {
			out = append(out, v.Fields().Get(i).FullName())
		}
	}
	return out
}
