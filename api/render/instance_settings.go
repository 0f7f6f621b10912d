package render

import (
	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/query"
)

// The instance's OIDC token lifetimes and trusted domains (admin API), for
// REST and RPC alike.

// OIDCSettingsJSON is zitadel.settings.v1.OIDCSettings's lifetimes, and
// AddOIDCSettingsRequest / UpdateOIDCSettingsRequest.
type OIDCSettingsJSON struct {
	AccessTokenLifetime        gateway.Duration `json:"accessTokenLifetime"`
	IDTokenLifetime            gateway.Duration `json:"idTokenLifetime"`
	RefreshTokenIdleExpiration gateway.Duration `json:"refreshTokenIdleExpiration"`
	RefreshTokenExpiration     gateway.Duration `json:"refreshTokenExpiration"`
}

// Input is the request's lifetimes as the command takes them.
func (s *OIDCSettingsJSON) Input() command.OIDCSettings {
	return command.OIDCSettings{AccessTokenLifetime: s.AccessTokenLifetime.Std(), IDTokenLifetime: s.IDTokenLifetime.Std(),
		RefreshTokenIdleExpiration: s.RefreshTokenIdleExpiration.Std(), RefreshTokenExpiration: s.RefreshTokenExpiration.Std()}
}

// OIDCSettingsResponse is GetOIDCSettingsResponse.
type OIDCSettingsResponse struct {
	Settings struct {
		Details gateway.DetailsV1 `json:"details"`
		OIDCSettingsJSON
	} `json:"settings"`
}

// OIDCSettingsOf renders instance instanceID's settings s.
func OIDCSettingsOf(s *query.OIDCSettings, instanceID string) OIDCSettingsResponse {
	var out OIDCSettingsResponse
	out.Settings.Details = gateway.V1Read(gateway.ObjectDetails{Sequence: s.Sequence, Created: s.Created, Changed: s.Changed, ResourceOwner: instanceID})
	out.Settings.OIDCSettingsJSON = OIDCSettingsJSON{gateway.Duration(s.AccessTokenLifetime), gateway.Duration(s.IDTokenLifetime),
		gateway.Duration(s.RefreshTokenIdleExpiration), gateway.Duration(s.RefreshTokenExpiration)}
	return out
}

// TrustedDomainRequest is AddInstanceTrustedDomainRequest.
type TrustedDomainRequest struct {
	Domain string `json:"domain"`
}

// ListTrustedDomainsRequest is ListInstanceTrustedDomainsRequest; its
// sortingColumn is accepted and answered, the order is creation order.
type ListTrustedDomainsRequest struct {
	Query         gateway.ListQuery `json:"query"`
	SortingColumn string            `json:"sortingColumn"`
	Queries       []struct {
		DomainQuery *struct {
			Domain string                           `json:"domain"`
			Method gateway.EnumValue[TextMethodDef] `json:"method"`
		} `json:"domainQuery"`
	} `json:"queries"`
}

// Search is the request's page and filters.
func (req *ListTrustedDomainsRequest) Search() (query.TrustedDomainSearch, error) {
	offset, limit, err := req.Query.Page()
	if err != nil {
		return query.TrustedDomainSearch{}, err
	}
	s := query.TrustedDomainSearch{Offset: offset, Limit: limit, Asc: req.Query.Asc}
	for _, q := range req.Queries {
		if q.DomainQuery == nil {
			return query.TrustedDomainSearch{}, errs.InvalidArgument("INST-Ags42", "List.Query.Invalid")
		}
		if len(q.DomainQuery.Domain) > 200 {
			return query.TrustedDomainSearch{}, errs.InvalidArgument("", "invalid DomainQuery.Domain: value length must be at most 200 runes")
		}
		s.Filters = append(s.Filters, query.NameFilter{Name: q.DomainQuery.Domain, Method: query.TextMethod(q.DomainQuery.Method)})
	}
	return s, nil
}

// TrustedDomainJSON is zitadel.instance.v1.TrustedDomain.
type TrustedDomainJSON struct {
	Details gateway.DetailsV1 `json:"details"`
	Domain  string            `json:"domain"`
}

// TrustedDomainListJSON is ListInstanceTrustedDomainsResponse.
type TrustedDomainListJSON struct {
	Details       gateway.ListDetailsV1 `json:"details"`
	SortingColumn string                `json:"sortingColumn"`
	Result        []TrustedDomainJSON   `json:"result"`
}

// Result renders list, the domains of instance owner, answering the
// request's sorting column.
func (req *ListTrustedDomainsRequest) Result(list *query.TrustedDomainList, owner string) TrustedDomainListJSON {
	result := make([]TrustedDomainJSON, 0, len(list.Domains))
	for _, d := range list.Domains {
		det := gateway.V1Read(gateway.ObjectDetails{Sequence: d.Sequence, Created: d.Created, Changed: d.Created, ResourceOwner: owner})
		result = append(result, TrustedDomainJSON{det, d.Domain})
	}
	sorting := req.SortingColumn
	if sorting == "" {
		sorting = "DOMAIN_FIELD_NAME_UNSPECIFIED"
	}
	return TrustedDomainListJSON{gateway.ListDetailsV1{TotalResult: gateway.Uint64(list.Total), ViewTimestamp: gateway.Timestamp(list.Timestamp)}, sorting, result}
}
