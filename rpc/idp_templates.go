package rpc

import (
	"context"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	adminv1 "github.com/idledger/idledger/gen/zitadel/admin/v1"
	"github.com/idledger/idledger/gen/zitadel/admin/v1/adminv1connect"
	managementv1 "github.com/idledger/idledger/gen/zitadel/management/v1"
	"github.com/idledger/idledger/gen/zitadel/management/v1/managementv1connect"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/query"
)

// The IdP templates of zitadel.admin.v1.AdminService (the instance) and
// zitadel.management.v1.ManagementService (the caller's context org), as
// REST's /admin/v1/idps/... and /management/v1/idps/... serve them.
//
// Add<X>Provider and Update<X>Provider exist for each of the 12 kinds of
// the kinds table, on both services: they are built from the table, one
// handler per verb and kind, over the request and response messages found
// in the registry (dynamicpb). The request, rendered as protojson, is the
// REST body, and is decoded by the same render.IDPTemplate.

// idpOwnerAPI is one of the two v1 services and the owner it acts for.
type idpOwnerAPI struct {
	service   string // full service name
	ownerType string // events.OwnerSystem or events.OwnerOrg
}

var idpOwnerAPIs = []idpOwnerAPI{
	{adminv1connect.AdminServiceName, events.OwnerSystem},
	{managementv1connect.ManagementServiceName, events.OwnerOrg},
}

// owner is the command owner: the instance, or the caller's context org.
func (api idpOwnerAPI) owner(ctx context.Context) command.IDPOwnerRef {
	o := command.IDPOwnerRef{Type: api.ownerType}
	if c := authz.CallerFrom(ctx); c != nil && api.ownerType == events.OwnerOrg {
		o.OrgID = c.OrgID
	}
	return o
}

func (api idpOwnerAPI) scope(ctx context.Context) query.ProviderScope {
	return query.ProviderScope{OrgID: api.owner(ctx).OrgID}
}

// idpProcedure is one mounted method: its path and handler.
type idpProcedure struct {
	path    string
	handler http.Handler
}

// idpTemplateProcedures returns the handlers of Add<X>Provider and
// Update<X>Provider for every kind on both services.
func (s *Server) idpTemplateProcedures(opts ...connect.HandlerOption) []idpProcedure {
	var out []idpProcedure
	for _, api := range idpOwnerAPIs {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(api.service))
		if err != nil {
			panic("rpc: " + api.service + " is not registered: " + err.Error())
		}
		methods := d.(protoreflect.ServiceDescriptor).Methods()
		for _, kind := range idp.Kinds() {
			for _, update := range []bool{false, true} {
				name := strings.TrimSuffix(kind.AddRequest(), "Request")
				if update {
					name = strings.TrimSuffix(kind.UpdateRequest(), "Request")
				}
				md := methods.ByName(protoreflect.Name(name))
				if md == nil {
					panic("rpc: " + api.service + " has no method " + name)
				}
				path := "/" + api.service + "/" + name
				h := connect.NewUnaryHandler(path, s.idpTemplateMethod(api, kind, md, update),
					append(opts, connect.WithSchema(md), connect.WithRequestInitializer(newRequest))...)
				out = append(out, idpProcedure{path, h})
			}
		}
	}
	return out
}

// newRequest makes the dynamic message a method's request decodes into.
func newRequest(spec connect.Spec, msg any) error {
	md, ok := spec.Schema.(protoreflect.MethodDescriptor)
	m, isDynamic := msg.(*dynamicpb.Message)
	if !ok || !isDynamic {
		return errs.Internal("RPC-Dyn1", nil)
	}
	*m = *dynamicpb.NewMessage(md.Input())
	return nil
}

// idpTemplateMethod is Add<X>Provider (POST …/idps/{kind}) or, with
// update, Update<X>Provider (PUT …/idps/{kind}/{id}) of kind, in REST's
// order: the ID, the permission, the body, the command.
func (s *Server) idpTemplateMethod(api idpOwnerAPI, kind idp.Kind, md protoreflect.MethodDescriptor, update bool) func(context.Context, *connect.Request[dynamicpb.Message]) (*connect.Response[dynamicpb.Message], error) {
	return func(ctx context.Context, req *connect.Request[dynamicpb.Message]) (*connect.Response[dynamicpb.Message], error) {
		var id string
		if update {
			id = req.Msg.Get(md.Input().Fields().ByName("id")).String()
			if err := gateway.CheckID(id, kind.UpdateRequest()+".Id"); err != nil {
				return nil, err
			}
		}
		owner := api.owner(ctx)
		if err := s.cmds.CanWriteIDP(ctx, owner); err != nil {
			return nil, err
		}
		body, err := protojson.Marshal(req.Msg)
		if err != nil {
			return nil, errs.Internal("RPC-Tpl1", err)
		}
		tpl, err := render.IDPTemplate(body, kind)
		if err != nil {
			return nil, err
		}
		res := dynamicpb.NewMessage(md.Output())
		if update {
			d, err := s.cmds.UpdateIDP(ctx, owner, id, tpl)
			if err != nil {
				return nil, err
			}
			return connect.NewResponse(res), fromJSON(v1Write(d, false), res)
		}
		d, err := s.cmds.AddIDP(ctx, owner, tpl)
		if err != nil {
			return nil, err
		}
		return connect.NewResponse(res), fromJSON(struct {
			Details gateway.DetailsV1 `json:"details"`
			ID      string            `json:"id"`
		}{v1Write(d, true).Details, d.ID}, res)
	}
}

// getProvider is GetProviderByID: GET …/idps/templates/{id}.
func getProvider[Res any, P message[Res]](ctx context.Context, s *Server, api idpOwnerAPI, id string) (*connect.Response[Res], error) {
	if err := gateway.CheckID(id, "GetProviderByIDRequest.Id"); err != nil {
		return nil, err
	}
	i, err := s.q.ProviderByID(ctx, api.scope(ctx), id)
	if err != nil {
		return nil, err
	}
	return respond[Res, P](struct {
		IDP render.ProviderV1 `json:"idp"`
	}{render.ToProviderV1(i)})
}

// listProviders is ListProviders: POST …/idps/templates/_search, whose
// body is the request as protojson.
func listProviders[Res any, P message[Res]](ctx context.Context, s *Server, api idpOwnerAPI, req proto.Message) (*connect.Response[Res], error) {
	body, err := protojson.Marshal(req)
	if err != nil {
		return nil, errs.Internal("RPC-Tpl2", err)
	}
	search, err := render.ProviderSearch(body)
	if err != nil {
		return nil, err
	}
	list, err := s.q.SearchProviders(ctx, api.scope(ctx), search)
	if err != nil {
		return nil, err
	}
	return respond[Res, P](render.ToProviderListV1(list))
}

// deleteProvider is DeleteProvider: DELETE …/idps/templates/{id}.
func deleteProvider[Res any, P message[Res]](ctx context.Context, s *Server, api idpOwnerAPI, id string) (*connect.Response[Res], error) {
	if err := gateway.CheckID(id, "DeleteProviderRequest.Id"); err != nil {
		return nil, err
	}
	return v1Changed[Res, P](s.cmds.RemoveIDP(ctx, api.owner(ctx), id))
}

var adminIDPs, managementIDPs = idpOwnerAPIs[0], idpOwnerAPIs[1]

// GetProviderByID is GET /admin/v1/idps/templates/{id}.
func (v *adminService) GetProviderByID(ctx context.Context, req *connect.Request[adminv1.GetProviderByIDRequest]) (*connect.Response[adminv1.GetProviderByIDResponse], error) {
	return getProvider[adminv1.GetProviderByIDResponse](ctx, v.s, adminIDPs, req.Msg.GetId())
}

// ListProviders is POST /admin/v1/idps/templates/_search.
func (v *adminService) ListProviders(ctx context.Context, req *connect.Request[adminv1.ListProvidersRequest]) (*connect.Response[adminv1.ListProvidersResponse], error) {
	return listProviders[adminv1.ListProvidersResponse](ctx, v.s, adminIDPs, req.Msg)
}

// DeleteProvider is DELETE /admin/v1/idps/templates/{id}.
func (v *adminService) DeleteProvider(ctx context.Context, req *connect.Request[adminv1.DeleteProviderRequest]) (*connect.Response[adminv1.DeleteProviderResponse], error) {
	return deleteProvider[adminv1.DeleteProviderResponse](ctx, v.s, adminIDPs, req.Msg.GetId())
}

// GetProviderByID is GET /management/v1/idps/templates/{id}.
func (v *managementService) GetProviderByID(ctx context.Context, req *connect.Request[managementv1.GetProviderByIDRequest]) (*connect.Response[managementv1.GetProviderByIDResponse], error) {
	return getProvider[managementv1.GetProviderByIDResponse](ctx, v.s, managementIDPs, req.Msg.GetId())
}

// ListProviders is POST /management/v1/idps/templates/_search.
func (v *managementService) ListProviders(ctx context.Context, req *connect.Request[managementv1.ListProvidersRequest]) (*connect.Response[managementv1.ListProvidersResponse], error) {
	return listProviders[managementv1.ListProvidersResponse](ctx, v.s, managementIDPs, req.Msg)
}

// DeleteProvider is DELETE /management/v1/idps/templates/{id}.
func (v *managementService) DeleteProvider(ctx context.Context, req *connect.Request[managementv1.DeleteProviderRequest]) (*connect.Response[managementv1.DeleteProviderResponse], error) {
	return deleteProvider[managementv1.DeleteProviderResponse](ctx, v.s, managementIDPs, req.Msg.GetId())
}
