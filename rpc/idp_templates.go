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
			return connect.NewResponse(res), fromJSON(idpDetailsV1(d, false), res)
		}
		d, err := s.cmds.AddIDP(ctx, owner, tpl)
		if err != nil {
			return nil, err
		}
		return connect.NewResponse(res), fromJSON(struct {
			Details gateway.DetailsV1 `json:"details"`
			ID      string            `json:"id"`
		}{idpDetailsV1(d, true).Details, d.ID}, res)
	}
}

// idpDetails is {"details": …} of a v1 write answer: of an add, or of a
// change.
type idpDetails struct {
	Details gateway.DetailsV1 `json:"details"`
}

func idpDetailsV1(d command.Details, added bool) idpDetails {
	od := gateway.ObjectDetails{Sequence: d.Sequence, Created: d.Created, Changed: d.Changed, ResourceOwner: d.ResourceOwner, ID: d.ID}
	if added {
		return idpDetails{gateway.V1Add(od)}
	}
	return idpDetails{gateway.V1Change(od)}
}

// getProvider is GetProviderByID: GET …/idps/templates/{id}.
func (s *Server) getProvider(ctx context.Context, api idpOwnerAPI, id string, res proto.Message) error {
	if err := gateway.CheckID(id, "GetProviderByIDRequest.Id"); err != nil {
		return err
	}
	i, err := s.q.ProviderByID(ctx, api.scope(ctx), id)
	if err != nil {
		return err
	}
	return fromJSON(struct {
		IDP render.ProviderV1 `json:"idp"`
	}{render.ToProviderV1(i)}, res)
}

// listProviders is ListProviders: POST …/idps/templates/_search, whose
// body is the request as protojson.
func (s *Server) listProviders(ctx context.Context, api idpOwnerAPI, req proto.Message, res proto.Message) error {
	body, err := protojson.Marshal(req)
	if err != nil {
		return errs.Internal("RPC-Tpl2", err)
	}
	search, err := render.ProviderSearch(body)
	if err != nil {
		return err
	}
	list, err := s.q.SearchProviders(ctx, api.scope(ctx), search)
	if err != nil {
		return err
	}
	return fromJSON(render.ToProviderListV1(list), res)
}

// deleteProvider is DeleteProvider: DELETE …/idps/templates/{id}.
func (s *Server) deleteProvider(ctx context.Context, api idpOwnerAPI, id string, res proto.Message) error {
	if err := gateway.CheckID(id, "DeleteProviderRequest.Id"); err != nil {
		return err
	}
	d, err := s.cmds.RemoveIDP(ctx, api.owner(ctx), id)
	if err != nil {
		return err
	}
	return fromJSON(idpDetailsV1(d, false), res)
}

// idpRespond wraps res, or returns err.
func idpRespond[T any](res *T, err error) (*connect.Response[T], error) {
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(res), nil
}

var adminIDPs, managementIDPs = idpOwnerAPIs[0], idpOwnerAPIs[1]

// GetProviderByID is GET /admin/v1/idps/templates/{id}.
func (v *adminService) GetProviderByID(ctx context.Context, req *connect.Request[adminv1.GetProviderByIDRequest]) (*connect.Response[adminv1.GetProviderByIDResponse], error) {
	res := &adminv1.GetProviderByIDResponse{}
	return idpRespond(res, v.s.getProvider(ctx, adminIDPs, req.Msg.GetId(), res))
}

// ListProviders is POST /admin/v1/idps/templates/_search.
func (v *adminService) ListProviders(ctx context.Context, req *connect.Request[adminv1.ListProvidersRequest]) (*connect.Response[adminv1.ListProvidersResponse], error) {
	res := &adminv1.ListProvidersResponse{}
	return idpRespond(res, v.s.listProviders(ctx, adminIDPs, req.Msg, res))
}

// DeleteProvider is DELETE /admin/v1/idps/templates/{id}.
func (v *adminService) DeleteProvider(ctx context.Context, req *connect.Request[adminv1.DeleteProviderRequest]) (*connect.Response[adminv1.DeleteProviderResponse], error) {
	res := &adminv1.DeleteProviderResponse{}
	return idpRespond(res, v.s.deleteProvider(ctx, adminIDPs, req.Msg.GetId(), res))
}

// GetProviderByID is GET /management/v1/idps/templates/{id}.
func (v *managementService) GetProviderByID(ctx context.Context, req *connect.Request[managementv1.GetProviderByIDRequest]) (*connect.Response[managementv1.GetProviderByIDResponse], error) {
	res := &managementv1.GetProviderByIDResponse{}
	return idpRespond(res, v.s.getProvider(ctx, managementIDPs, req.Msg.GetId(), res))
}

// ListProviders is POST /management/v1/idps/templates/_search.
func (v *managementService) ListProviders(ctx context.Context, req *connect.Request[managementv1.ListProvidersRequest]) (*connect.Response[managementv1.ListProvidersResponse], error) {
	res := &managementv1.ListProvidersResponse{}
	return idpRespond(res, v.s.listProviders(ctx, managementIDPs, req.Msg, res))
}

// DeleteProvider is DELETE /management/v1/idps/templates/{id}.
func (v *managementService) DeleteProvider(ctx context.Context, req *connect.Request[managementv1.DeleteProviderRequest]) (*connect.Response[managementv1.DeleteProviderResponse], error) {
	res := &managementv1.DeleteProviderResponse{}
	return idpRespond(res, v.s.deleteProvider(ctx, managementIDPs, req.Msg.GetId(), res))
}
