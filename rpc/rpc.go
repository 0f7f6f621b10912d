package rpc

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/go-chi/chi/v5"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/gen/zitadel/admin/v1/adminv1connect"
	"github.com/idledger/idledger/gen/zitadel/idp/v2/idpv2connect"
	"github.com/idledger/idledger/gen/zitadel/management/v1/managementv1connect"
	"github.com/idledger/idledger/gen/zitadel/org/v2/orgv2connect"
	"github.com/idledger/idledger/gen/zitadel/org/v2beta/orgv2betaconnect"
	"github.com/idledger/idledger/gen/zitadel/resources/user/v3alpha/resourcesuserv3alphaconnect"
	"github.com/idledger/idledger/gen/zitadel/user/v2/userv2connect"
	"github.com/idledger/idledger/gen/zitadel/user/v2beta/userv2betaconnect"
	"github.com/idledger/idledger/gen/zitadel/user/v3alpha/userv3alphaconnect"
	"github.com/idledger/idledger/query"
)

// Deps are the collaborators of the RPC transport.
type Deps struct {
	Commands *command.Commands
	Queries  *query.Queries
	// Ready answers whether the database answers (the health service's
	// SERVING); nil is always ready.
	Ready func(context.Context) error
}

// Server holds the services.
type Server struct {
	cmds  *command.Commands
	q     *query.Queries
	ready func(context.Context) error
}

// New returns the RPC transport.
func New(d Deps) *Server {
	return &Server{cmds: d.Commands, q: d.Queries, ready: d.Ready}
}

// service is one mounted service: its full name and its connect handler.
type service struct {
	name    string
	handler http.Handler
}

// services is the one list of the services idledger serves over RPC.
func (s *Server) services(opts ...connect.HandlerOption) []service {
	mount := func(path string, h http.Handler) service {
		return service{name: strings.Trim(path, "/"), handler: h}
	}
	return []service{
		mount(idpv2connect.NewIdentityProviderServiceHandler(&idpService{s: s}, opts...)),
		mount(adminv1connect.NewAdminServiceHandler(&adminService{s: s}, opts...)),
		mount(managementv1connect.NewManagementServiceHandler(&managementService{s: s}, opts...)),
		mount(userv2connect.NewUserServiceHandler(&userService{s: s}, opts...)),
		mount(userv2betaconnect.NewUserServiceHandler(&userBetaService{s: s}, opts...)),
		mount(orgv2connect.NewOrganizationServiceHandler(&orgService{s: s}, opts...)),
		mount(orgv2betaconnect.NewOrganizationServiceHandler(&orgBetaService{s: s}, opts...)),
		mount(userv3alphaconnect.NewUserServiceHandler(&userV3Service{s: s}, opts...)),
		mount(resourcesuserv3alphaconnect.NewZITADELUsersHandler(&resourceUserService{s: s}, opts...)),
	}
}

// Names are the full names of the served services, for reflection and
// health.
func (s *Server) Names() []string {
	var names []string
	for _, svc := range s.services() {
		names = append(names, svc.name)
	}
	return names
}

// Mount mounts every service at /<package>.<Service>/ on r, which must be
// the router group that authenticates (the authentication, instance and org
// context middleware run before any method). A method the service does not
// serve answers unimplemented in the caller's protocol.
func (s *Server) Mount(r chi.Router) {
	opts := []connect.HandlerOption{
		connect.WithInterceptors(errorInterceptor()),
		connect.WithReadMaxBytes(gateway.MaxBodyBytes),
	}
	// Methods built from a table, not by a generated handler, answer on
	// their exact paths before the service's handler.
	tabled := map[string]http.Handler{}
	for _, p := range s.idpTemplateProcedures(opts...) {
		tabled[p.path] = p.handler
	}
	for _, svc := range s.services(opts...) {
		r.Handle("/"+svc.name+"/*", servedOnly(svc, tabled))
	}
}

// MountPublic mounts what needs no credential: grpc.health.v1.Health, which
// reports NOT_SERVING while the database does not answer, and server
// reflection (v1 and v1alpha) for the served services, so that grpcurl and
// buf curl work.
func (s *Server) MountPublic(r chi.Router) {
	names := s.Names()
	reflector := grpcreflect.NewStaticReflector(names...)
	for _, h := range []func() (string, http.Handler){
		func() (string, http.Handler) { return grpcreflect.NewHandlerV1(reflector) },
		func() (string, http.Handler) { return grpcreflect.NewHandlerV1Alpha(reflector) },
		func() (string, http.Handler) { return grpchealth.NewHandler(&health{s: s, names: names}) },
	} {
		path, handler := h()
		r.Handle(path+"*", handler)
	}
}

// servedOnly answers a method of svc that has no handler with
// unimplemented in the caller's protocol, where connect's generated router
// would answer a bare 404. A path in tabled is served by its handler.
func servedOnly(svc service, tabled map[string]http.Handler) http.Handler {
	sd, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc.name))
	methods := map[string]bool{}
	if err == nil {
		ms := sd.(protoreflect.ServiceDescriptor).Methods()
		for i := 0; i < ms.Len(); i++ {
			methods["/"+svc.name+"/"+string(ms.Get(i).Name())] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := tabled[r.URL.Path]; ok {
			h.ServeHTTP(w, r)
			return
		}
		if !methods[r.URL.Path] {
			gateway.NotFoundHandler(w, r)
			return
		}
		svc.handler.ServeHTTP(w, r)
	})
}

// errorInterceptor answers every error of a method as gateway.RPCError
// does, so that RPC and REST give the same code, ID and text.
func errorInterceptor() connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			res, err := next(ctx, req)
			if err != nil {
				return nil, gateway.RPCError(ctx, err)
			}
			return res, nil
		}
	})
}

// health is the grpc.health.v1 checker: every served service, and the
// server as a whole (""), is SERVING while the database answers.
type health struct {
	s     *Server
	names []string
}

func (h *health) Check(ctx context.Context, req *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	if req.Service != "" && !contains(h.names, req.Service) {
		return nil, connect.NewError(connect.CodeNotFound, errs.NotFound("", "unknown service "+req.Service))
	}
	if h.s.ready != nil && h.s.ready(ctx) != nil {
		return &grpchealth.CheckResponse{Status: grpchealth.StatusNotServing}, nil
	}
	return &grpchealth.CheckResponse{Status: grpchealth.StatusServing}, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// fromJSON fills m from v's REST rendering. Read models are rendered once,
// as ZITADEL's JSON (the REST wire shape); a response message takes that
// JSON as protojson, which is the mapping grpc-gateway applies between the
// two, so both transports answer the same by construction. A field the
// message does not have is a bug, and fails.
func fromJSON(v any, m proto.Message) error {
	b, err := json.Marshal(v)
	if err != nil {
		return errs.Internal("RPC-Json1", err)
	}
	if err := protojson.Unmarshal(b, m); err != nil {
		return errs.Internal("RPC-Json2", err)
	}
	return nil
}
