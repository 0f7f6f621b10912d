package rpc_test

import (
	"context"
	"slices"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestReflectionListsServices streams server reflection over gRPC through
// the whole middleware chain (access log, metrics, limits), which must keep
// the writer's Flush: grpcurl and buf curl depend on it.
func TestReflectionListsServices(t *testing.T) {
	env := apptest.New(t)
	c := grpcreflect.NewClient(h2c, env.URL, connect.WithGRPC())
	stream := c.NewStream(context.Background())
	defer stream.Close()
	names, err := stream.ListServices()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []protoreflect.FullName{"zitadel.admin.v1.AdminService", "zitadel.management.v1.ManagementService",
		"zitadel.idp.v2.IdentityProviderService", "zitadel.user.v2.UserService", "zitadel.user.v2beta.UserService",
		"zitadel.org.v2.OrganizationService", "zitadel.org.v2beta.OrganizationService",
		"zitadel.user.v3alpha.UserService", "zitadel.resources.user.v3alpha.ZITADELUsers"} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, without %s", names, want)
		}
	}
	files, err := stream.FileContainingSymbol("zitadel.idp.v2.IdentityProviderService")
	if err != nil || len(files) == 0 {
		t.Fatalf("FileContainingSymbol: %v (%d files)", err, len(files))
	}
}
