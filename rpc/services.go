package rpc

import (
	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/gen/zitadel/admin/v1/adminv1connect"
	"github.com/idledger/idledger/gen/zitadel/management/v1/managementv1connect"
	"github.com/idledger/idledger/gen/zitadel/oidc/v2/oidcv2connect"
	"github.com/idledger/idledger/gen/zitadel/org/v2/orgv2connect"
	"github.com/idledger/idledger/gen/zitadel/org/v2beta/orgv2betaconnect"
	"github.com/idledger/idledger/gen/zitadel/resources/user/v3alpha/resourcesuserv3alphaconnect"
	"github.com/idledger/idledger/gen/zitadel/session/v2/sessionv2connect"
	"github.com/idledger/idledger/gen/zitadel/user/v2/userv2connect"
	"github.com/idledger/idledger/gen/zitadel/user/v2beta/userv2betaconnect"
	"github.com/idledger/idledger/gen/zitadel/user/v3alpha/userv3alphaconnect"
)

// The services. Each embeds its generated Unimplemented handler, so that a
// method not written yet answers unimplemented; each method lives in the
// file of its area (idp.go, policy.go, user.go, ...).

// adminService is zitadel.admin.v1.AdminService: the instance.
type adminService struct {
	adminv1connect.UnimplementedAdminServiceHandler
	s *Server
}

// managementService is zitadel.management.v1.ManagementService: the
// caller's context org.
type managementService struct {
	managementv1connect.UnimplementedManagementServiceHandler
	s *Server
}

// userService is zitadel.user.v2.UserService.
type userService struct {
	userv2connect.UnimplementedUserServiceHandler
	s *Server
}

// userBetaService is zitadel.user.v2beta.UserService, which @zitadel/node
// calls.
type userBetaService struct {
	userv2betaconnect.UnimplementedUserServiceHandler
	s *Server
}

// orgService is zitadel.org.v2.OrganizationService.
type orgService struct {
	orgv2connect.UnimplementedOrganizationServiceHandler
	s *Server
}

// orgBetaService is zitadel.org.v2beta.OrganizationService.
type orgBetaService struct {
	orgv2betaconnect.UnimplementedOrganizationServiceHandler
	s *Server
}

// userV3Service is zitadel.user.v3alpha.UserService (in ZITADEL's
// repository, in no npm package).
type userV3Service struct {
	userv3alphaconnect.UnimplementedUserServiceHandler
	s *Server
}

// sessionService is zitadel.session.v2.SessionService.
type sessionService struct {
	sessionv2connect.UnimplementedSessionServiceHandler
	s *Server
}

// oidcService is zitadel.oidc.v2.OIDCService: the auth requests of the
// OpenID Provider, for a login UI.
type oidcService struct {
	oidcv2connect.UnimplementedOIDCServiceHandler
	s *Server
}

// resourceUserService is zitadel.resources.user.v3alpha.ZITADELUsers.
type resourceUserService struct {
	resourcesuserv3alphaconnect.UnimplementedZITADELUsersHandler
	s *Server
}

// message is a protobuf message type M, used through *M.
type message[M any] interface {
	*M
	proto.Message
}

// respond is the response message Res filled from v, the REST renderer's
// JSON value (see fromJSON): the one way a method answers.
func respond[Res any, P message[Res]](v any) (*connect.Response[Res], error) {
	res := P(new(Res))
	if err := fromJSON(v, res); err != nil {
		return nil, err
	}
	return connect.NewResponse((*Res)(res)), nil
}

// detailsV1 is {"details": …} of a v1 write's answer.
type detailsV1 struct {
	Details gateway.DetailsV1 `json:"details"`
}

// v1Write is the details of write d in v1's shape: an add fills the
// creation date, a change or removal the change date (gateway.V1Add,
// V1Change).
func v1Write(d command.Details, add bool) detailsV1 {
	if add {
		return detailsV1{gateway.V1Add(render.DetailsOf(d))}
	}
	return detailsV1{gateway.V1Change(render.DetailsOf(d))}
}

// v1Added answers Res with the v1 details of the add d, or fails with err.
func v1Added[Res any, P message[Res]](d command.Details, err error) (*connect.Response[Res], error) {
	if err != nil {
		return nil, err
	}
	return respond[Res, P](v1Write(d, true))
}

// v1Changed answers Res with the v1 details of the change or removal d,
// or fails with err.
func v1Changed[Res any, P message[Res]](d command.Details, err error) (*connect.Response[Res], error) {
	if err != nil {
		return nil, err
	}
	return respond[Res, P](v1Write(d, false))
}
