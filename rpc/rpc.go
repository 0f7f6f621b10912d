package rpc

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"github.com/go-chi/chi/v5"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/gen/grpc/health/v1/healthv1connect"
	"github.com/idledger/idledger/gen/zitadel/admin/v1/adminv1connect"
	idpv2 "github.com/idledger/idledger/gen/zitadel/idp/v2"
	"github.com/idledger/idledger/gen/zitadel/idp/v2/idpv2connect"
	"github.com/idledger/idledger/gen/zitadel/management/v1/managementv1connect"
	"github.com/idledger/idledger/gen/zitadel/oidc/v2/oidcv2connect"
	"github.com/idledger/idledger/gen/zitadel/org/v2/orgv2connect"
	"github.com/idledger/idledger/gen/zitadel/org/v2beta/orgv2betaconnect"
	"github.com/idledger/idledger/gen/zitadel/resources/user/v3alpha/resourcesuserv3alphaconnect"
	"github.com/idledger/idledger/gen/zitadel/session/v2/sessionv2connect"
	"github.com/idledger/idledger/gen/zitadel/user/v2/userv2connect"
	"github.com/idledger/idledger/gen/zitadel/user/v2beta/userv2betaconnect"
	"github.com/idledger/idledger/gen/zitadel/user/v3alpha/userv3alphaconnect"
	"github.com/idledger/idledger/internal/viewcache"
	"github.com/idledger/idledger/query"
)

// Deps are the collaborators of the RPC transport.
type Deps struct {
	Commands *command.Commands
	Queries  *query.Queries
	// Events is the event log of the event API (ListEvents); nil answers
	// its methods with Internal, as REST without api.WithEvents.
	Events *query.EventLog
	// Observe, when set, counts every method run by procedure and answered
	// code ("ok" or the gRPC code name).
	Observe func(procedure, code string)
	// Ready answers whether the database answers (the health service's
	// SERVING); nil is always ready.
	Ready func(context.Context) error
	// Callbacks finish CreateCallback (the OpenID Provider); nil answers
	// it with Internal.
	Callbacks Callbacks
	// ExternalSecure: the instance's origin is https:// (gateway.Origin),
	// as REST's api.Deps.ExternalSecure.
	ExternalSecure bool
}

// Server holds the services.
type Server struct {
	cmds    *command.Commands
	q       *query.Queries
	events  *query.EventLog
	ready   func(context.Context) error
	observe func(procedure, code string)
	secure  bool
	// callbacks finish auth requests (oidc.go).
	callbacks Callbacks
	// idpViews holds GetIDPByID's messages by row version (idp.go).
	idpViews *viewcache.Cache[*idpv2.IDP]
}

// New returns the RPC transport.
func New(d Deps) *Server {
	return &Server{cmds: d.Commands, q: d.Queries, events: d.Events, ready: d.Ready, observe: d.Observe, secure: d.ExternalSecure, callbacks: d.Callbacks,
		idpViews: viewcache.New[*idpv2.IDP](idpViewBudget)}
}

// service is one mounted service: its full name and its connect handler,
// and its methods' names when the protobuf registry does not hold its
// descriptor (connect's health and reflection handlers register none).
type service struct {
	name    string
	handler http.Handler
	methods []string
	// exact are methods built from a table rather than by the generated
	// handler (the IdP templates), served on their exact paths first.
	exact map[string]http.Handler
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
		mount(sessionv2connect.NewSessionServiceHandler(&sessionService{s: s}, opts...)),
		mount(oidcv2connect.NewOIDCServiceHandler(&oidcService{s: s}, opts...)),
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
		connect.WithInterceptors(errorInterceptor(s.observe)),
		connect.WithReadMaxBytes(gateway.MaxBodyBytes),
		connect.WithCompressMinBytes(compressMinBytes),
	}
	// Methods built from a table, not by a generated handler, answer on
	// their exact paths before the service's handler.
	tabled := map[string]http.Handler{}
	for _, p := range s.idpTemplateProcedures(opts...) {
		tabled[p.path] = p.handler
	}
	// The methods see no *http.Request: the origin the client addressed
	// (an intent's callback base) goes on the context.
	r = r.With(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			next.ServeHTTP(w, req.WithContext(gateway.WithOrigin(req.Context(), gateway.Origin(req, s.secure))))
		})
	})
	for _, svc := range s.services(opts...) {
		svc.exact = tabled
		mountService(r, svc)
	}
}

// compressMinBytes is the smallest response connect gzips for a client
// that accepts it (connect's default, 0, gzips every response: a GetIDPByID
// answer of a few hundred bytes then costs more CPU in flate than it saves
// on the wire, and REST sends it plain).
const compressMinBytes = 8 << 10

// MountPublic mounts what needs no credential: grpc.health.v1.Health, which
// reports NOT_SERVING while the database does not answer, and server
// reflection (v1 and v1alpha) for the served services, so that grpcurl and
// buf curl work.
func (s *Server) MountPublic(r chi.Router) {
	names := s.Names()
	reflector := grpcreflect.NewStaticReflector(append(names, healthv1connect.HealthName)...)
	for _, h := range []func() (string, http.Handler){
		func() (string, http.Handler) { return grpcreflect.NewHandlerV1(reflector) },
		func() (string, http.Handler) { return grpcreflect.NewHandlerV1Alpha(reflector) },
	} {
		path, handler := h()
		mountService(r, service{name: strings.Trim(path, "/"), handler: http2Only(handler),
			methods: []string{"ServerReflectionInfo"}})
	}
	path, handler := healthv1connect.NewHealthHandler(&health{s: s, names: names},
		connect.WithCompressMinBytes(compressMinBytes))
	mountService(r, service{name: strings.Trim(path, "/"), handler: handler})
}

// mountService mounts svc at /<name>/*: POST only (every protocol posts;
// other methods get the router's 405), and its methods only.
func mountService(r chi.Router, svc service) {
	r.Method(http.MethodPost, "/"+svc.name+"/*", checkedTransport(servedOnly(svc)))
}

// http2Only refuses a request over HTTP/1: server reflection is a
// bidirectional stream, which connect serves only over HTTP/2, and would
// otherwise answer 505.
func http2Only(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor < 2 {
			gateway.WriteError(w, r, errs.FailedPrecondition("RPC-H2only",
				"server reflection is a bidirectional stream: call it with gRPC over HTTP/2"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// servedOnly answers a method of svc that has no handler with
// unimplemented in the caller's protocol, where connect's generated router
// would answer a bare 404. A path in svc.exact is served by its handler.
func servedOnly(svc service) http.Handler {
	methods := map[string]bool{}
	for _, m := range svc.methods {
		methods["/"+svc.name+"/"+m] = true
	}
	if sd, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc.name)); err == nil {
		ms := sd.(protoreflect.ServiceDescriptor).Methods()
		for i := 0; i < ms.Len(); i++ {
			methods["/"+svc.name+"/"+string(ms.Get(i).Name())] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := svc.exact[r.URL.Path]; ok {
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
// does, so that RPC and REST give the same code, ID and text; with
// observe, when not nil, it counts each run by procedure and code.
func errorInterceptor(observe func(procedure, code string)) connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			res, err := next(ctx, req)
			if err != nil {
				ce := gateway.RPCError(ctx, err)
				if observe != nil {
					observe(req.Spec().Procedure, ce.Code().String())
				}
				return nil, ce
			}
			if observe != nil {
				observe(req.Spec().Procedure, "ok")
			}
			return res, nil
		}
	})
}

// fromJSON fills m from v's REST rendering. Read models are rendered once,
// as ZITADEL's JSON (the REST wire shape); a response message takes that
// JSON as protojson, which is the mapping grpc-gateway applies between the
// two, so both transports answer the same by construction. A field the
// message does not have is a bug, and fails.
//
// A v that marshals itself (idpstate.Config) is taken as it writes itself:
// json.Marshal would check and compact that output again before protojson
// parses it, which checks it anyway.
func fromJSON(v any, m proto.Message) error {
	var b []byte
	var err error
	if jm, ok := v.(json.Marshaler); ok {
		b, err = jm.MarshalJSON()
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		return errs.Internal("RPC-Json1", err)
	}
	if err := protojson.Unmarshal(b, m); err != nil {
		return errs.Internal("RPC-Json2", err)
	}
	return nil
}
