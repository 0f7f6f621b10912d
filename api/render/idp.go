package render

import (
	"fmt"
	"unicode/utf8"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/internal/idpstate"
	"github.com/idledger/idledger/query"
)

// IDPTemplate decodes an add or update body of kind and maps its wire names
// onto the domain's template: name, providerOptions, and the kind's config
// fields at the top level under their JSON names (other keys, such as an
// update's id, are ignored). The caller reads the body and checks the
// permission first, where ZITADEL's interceptors run it.
//
// Errors: InvalidArgument (ID "IDP-json") for malformed JSON or a value of
// the wrong type, naming the field.
func IDPTemplate(body []byte, kind idp.Kind) (idp.Template, error) {
	obj, err := gateway.ParseObject(body, "IDP-json")
	if err != nil {
		return idp.Template{}, err
	}
	tpl := idp.Template{Kind: kind, Config: kind.New()}
	if tpl.Name, err = obj.String("name"); err != nil {
		return idp.Template{}, err
	}
	opts, err := obj.Object("providerOptions")
	if err == nil {
		err = opts.Into(&tpl.Options, "providerOptions.")
	}
	if err == nil {
		err = obj.Into(tpl.Config, "")
	}
	return tpl, err
}

// Enums of the IdP responses and search queries.
var (
	idpOwnerEnum   = gateway.NewEnum("IDP_OWNER_TYPE_UNSPECIFIED", "IDP_OWNER_TYPE_SYSTEM", "IDP_OWNER_TYPE_ORG")
	textMethodEnum = gateway.NewEnum("TEXT_QUERY_METHOD_EQUALS", "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE",
		"TEXT_QUERY_METHOD_STARTS_WITH", "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE",
		"TEXT_QUERY_METHOD_CONTAINS", "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE",
		"TEXT_QUERY_METHOD_ENDS_WITH", "TEXT_QUERY_METHOD_ENDS_WITH_IGNORE_CASE")
)

type idpOwnerDef struct{}

func (idpOwnerDef) Enum() *gateway.Enum { return idpOwnerEnum }

// TextMethodDef is zitadel.v1.TextQueryMethod, for the list queries of both
// transports.
type TextMethodDef struct{}

func (TextMethodDef) Enum() *gateway.Enum { return textMethodEnum }

// idpOwnerType maps the stored owner type to the IDPOwnerType number.
func idpOwnerType(ownerType string) gateway.EnumValue[idpOwnerDef] {
	if ownerType == events.OwnerOrg {
		return 2
	}
	return 1
}

// ProviderV1 is zitadel.idp.v1.Provider, which never holds a secret.
type ProviderV1 struct {
	ID      string                         `json:"id,omitempty"`
	Details gateway.DetailsV1              `json:"details"`
	State   string                         `json:"state,omitempty"`
	Name    string                         `json:"name,omitempty"`
	Owner   gateway.EnumValue[idpOwnerDef] `json:"owner,omitzero"`
	Type    string                         `json:"type,omitempty"`
	Config  idpstate.Config                `json:"config"`
}

// ToProviderV1 renders a read-table IdP as zitadel.idp.v1.Provider.
func ToProviderV1(i *query.IDP) ProviderV1 {
	return ProviderV1{
		ID:      i.ID,
		Details: gateway.V1Read(gateway.ObjectDetails{Sequence: i.Sequence, Created: i.Created, Changed: i.Changed, ResourceOwner: i.ResourceOwner}),
		State:   idpstate.StateName(i.State),
		Name:    i.Name,
		Owner:   idpOwnerType(i.OwnerType),
		Type:    idp.ProviderTypeName(i.Type),
		Config:  idpstate.RenderRow(i.Kind, i.Options, i.Config, true),
	}
}

// ProviderListV1 is ListProvidersResponse.
type ProviderListV1 struct {
	Details gateway.ListDetailsV1 `json:"details"`
	Result  []ProviderV1          `json:"result,omitempty"`
}

// ToProviderListV1 renders a page of IdPs as ListProvidersResponse.
func ToProviderListV1(list *query.ProviderList) ProviderListV1 {
	result := make([]ProviderV1, 0, len(list.IDPs))
	for _, i := range list.IDPs {
		result = append(result, ToProviderV1(i))
	}
	return ProviderListV1{gateway.ListDetailsV1{TotalResult: gateway.Uint64(list.Total), ViewTimestamp: gateway.Timestamp(list.Timestamp)}, result}
}

// providerSearchRequest is ListProvidersRequest.
type providerSearchRequest struct {
	Query   gateway.ListQuery `json:"query"`
	Queries []struct {
		IDPIDQuery *struct {
			ID string `json:"id"`
		} `json:"idpIdQuery"`
		IDPNameQuery *struct {
			Name   string                           `json:"name"`
			Method gateway.EnumValue[TextMethodDef] `json:"method"`
		} `json:"idpNameQuery"`
		OwnerTypeQuery *struct {
			OwnerType gateway.EnumValue[idpOwnerDef] `json:"ownerType"`
		} `json:"ownerTypeQuery"`
	} `json:"queries"`
}

// ProviderSearch decodes a ListProvidersRequest body (as gateway.DecodeBody) and
// checks it as ZITADEL's request validation does.
//
// Errors: InvalidArgument.
func ProviderSearch(body []byte) (query.ProviderSearch, error) {
	var req providerSearchRequest
	if err := gateway.DecodeBody(body, &req); err != nil {
		return query.ProviderSearch{}, err
	}
	offset, limit, err := req.Query.Page()
	if err != nil {
		return query.ProviderSearch{}, err
	}
	s := query.ProviderSearch{Offset: offset, Limit: limit, Asc: req.Query.Asc}
	for n, q := range req.Queries {
		var f query.ProviderFilter
		switch {
		case q.IDPIDQuery != nil:
			if utf8.RuneCountInString(q.IDPIDQuery.ID) > 200 {
				return s, errs.InvalidArgument("", fmt.Sprintf("invalid ListProvidersRequest.Queries[%d]: embedded message failed validation | caused by: invalid IDPIDQuery.Id: value length must be at most 200 runes", n))
			}
			f.ID = &q.IDPIDQuery.ID
		case q.IDPNameQuery != nil:
			if utf8.RuneCountInString(q.IDPNameQuery.Name) > 200 {
				return s, errs.InvalidArgument("", fmt.Sprintf("invalid ListProvidersRequest.Queries[%d]: embedded message failed validation | caused by: invalid IDPNameQuery.Name: value length must be at most 200 runes", n))
			}
			f.Name = &query.NameFilter{Name: q.IDPNameQuery.Name, Method: query.TextMethod(q.IDPNameQuery.Method)}
		case q.OwnerTypeQuery != nil:
			ot := events.OwnerSystem
			switch q.OwnerTypeQuery.OwnerType {
			case 2:
				ot = events.OwnerOrg
			case 0:
				return s, errs.InvalidArgument("", fmt.Sprintf("invalid ListProvidersRequest.Queries[%d]: embedded message failed validation | caused by: invalid IDPOwnerTypeQuery.OwnerType: value must be one of the defined enum values", n))
			}
			f.OwnerType = &ot
		default:
			return s, errs.InvalidArgument("ORG-Dr2aa", "List.Query.Invalid")
		}
		s.Filters = append(s.Filters, f)
	}
	return s, nil
}
