package render

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/query"
)

// The management v1 shapes of projects and apps (zitadel.project.v1,
// zitadel.app.v1), rendered once for every transport.

// The enums of projects and apps; their numbers are the domain's
// (events.OIDCConfig).
var (
	privateLabelingEnum = gateway.NewEnum("PRIVATE_LABELING_SETTING_UNSPECIFIED",
		"PRIVATE_LABELING_SETTING_ENFORCE_PROJECT_RESOURCE_OWNER_POLICY",
		"PRIVATE_LABELING_SETTING_ALLOW_LOGIN_USER_RESOURCE_OWNER_POLICY")
	responseTypeEnum = gateway.NewEnum("OIDC_RESPONSE_TYPE_CODE", "OIDC_RESPONSE_TYPE_ID_TOKEN", "OIDC_RESPONSE_TYPE_ID_TOKEN_TOKEN")
	grantTypeEnum    = gateway.NewEnum("OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_IMPLICIT",
		"OIDC_GRANT_TYPE_REFRESH_TOKEN", "OIDC_GRANT_TYPE_DEVICE_CODE", "OIDC_GRANT_TYPE_TOKEN_EXCHANGE")
	appTypeEnum    = gateway.NewEnum("OIDC_APP_TYPE_WEB", "OIDC_APP_TYPE_USER_AGENT", "OIDC_APP_TYPE_NATIVE")
	authMethodEnum = gateway.NewEnum("OIDC_AUTH_METHOD_TYPE_BASIC", "OIDC_AUTH_METHOD_TYPE_POST",
		"OIDC_AUTH_METHOD_TYPE_NONE", "OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT")
	oidcVersionEnum = gateway.NewEnum("OIDC_VERSION_1_0")
	tokenTypeEnum   = gateway.NewEnum("OIDC_TOKEN_TYPE_BEARER", "OIDC_TOKEN_TYPE_JWT")
	apiAuthEnum     = gateway.NewEnum("API_AUTH_METHOD_TYPE_BASIC", "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT")
)

type (
	privateLabelingDef struct{}
	responseTypeDef    struct{}
	grantTypeDef       struct{}
	appTypeDef         struct{}
	authMethodDef      struct{}
	oidcVersionDef     struct{}
	tokenTypeDef       struct{}
	apiAuthDef         struct{}
)

func (privateLabelingDef) Enum() *gateway.Enum { return privateLabelingEnum }
func (responseTypeDef) Enum() *gateway.Enum    { return responseTypeEnum }
func (grantTypeDef) Enum() *gateway.Enum       { return grantTypeEnum }
func (appTypeDef) Enum() *gateway.Enum         { return appTypeEnum }
func (authMethodDef) Enum() *gateway.Enum      { return authMethodEnum }
func (oidcVersionDef) Enum() *gateway.Enum     { return oidcVersionEnum }
func (tokenTypeDef) Enum() *gateway.Enum       { return tokenTypeEnum }
func (apiAuthDef) Enum() *gateway.Enum         { return apiAuthEnum }

// projectRequest is AddProjectRequest and UpdateProjectRequest.
type projectRequest struct {
	Name                   string                                `json:"name"`
	ProjectRoleAssertion   bool                                  `json:"projectRoleAssertion"`
	ProjectRoleCheck       bool                                  `json:"projectRoleCheck"`
	HasProjectCheck        bool                                  `json:"hasProjectCheck"`
	PrivateLabelingSetting gateway.EnumValue[privateLabelingDef] `json:"privateLabelingSetting"`
}

// ProjectInput decodes an AddProjectRequest or UpdateProjectRequest body;
// the command checks its rules.
//
// Errors: InvalidArgument for malformed JSON or a wrong type.
func ProjectInput(body []byte) (command.Project, error) {
	var req projectRequest
	if err := gateway.DecodeBody(body, &req); err != nil {
		return command.Project{}, err
	}
	return command.Project{Name: req.Name, ProjectRoleAssertion: req.ProjectRoleAssertion, ProjectRoleCheck: req.ProjectRoleCheck,
		HasProjectCheck: req.HasProjectCheck, PrivateLabelingSetting: int(req.PrivateLabelingSetting)}, nil
}

// ProjectV1 is zitadel.project.v1.Project.
type ProjectV1 struct {
	ID                     string                                `json:"id,omitempty"`
	Details                gateway.DetailsV1                     `json:"details"`
	Name                   string                                `json:"name,omitempty"`
	State                  string                                `json:"state,omitempty"`
	ProjectRoleAssertion   bool                                  `json:"projectRoleAssertion,omitempty"`
	ProjectRoleCheck       bool                                  `json:"projectRoleCheck,omitempty"`
	HasProjectCheck        bool                                  `json:"hasProjectCheck,omitempty"`
	PrivateLabelingSetting gateway.EnumValue[privateLabelingDef] `json:"privateLabelingSetting,omitzero"`
}

// ProjectV1Of renders a read-table project.
func ProjectV1Of(p *query.Project) ProjectV1 {
	s := p.Settings
	return ProjectV1{ID: p.ID, Name: s.Name, State: "PROJECT_STATE_ACTIVE",
		Details:              gateway.V1Read(gateway.ObjectDetails{Sequence: p.Sequence, Created: p.Created, Changed: p.Changed, ResourceOwner: p.ResourceOwner}),
		ProjectRoleAssertion: s.ProjectRoleAssertion, ProjectRoleCheck: s.ProjectRoleCheck, HasProjectCheck: s.HasProjectCheck,
		PrivateLabelingSetting: gateway.EnumValue[privateLabelingDef](s.PrivateLabelingSetting)}
}

// ListV1 is a v1 list response (ListProjectsResponse, ListAppsResponse).
type ListV1[R any] struct {
	Details gateway.ListDetailsV1 `json:"details"`
	Result  []R                   `json:"result,omitempty"`
}

func listV1[T, R any](total uint64, ts time.Time, items []T, render func(T) R) ListV1[R] {
	out := ListV1[R]{Details: gateway.ListDetailsV1{TotalResult: gateway.Uint64(total), ViewTimestamp: gateway.Timestamp(ts)}}
	for _, it := range items {
		out.Result = append(out.Result, render(it))
	}
	return out
}

// ProjectListV1Of renders a page of projects as ListProjectsResponse.
func ProjectListV1Of(l *query.ProjectList) ListV1[ProjectV1] {
	return listV1(l.Total, l.Timestamp, l.Projects, ProjectV1Of)
}

// listRequest is ListProjectsRequest and ListAppsRequest: paging and name
// queries (ProjectNameQuery, AppNameQuery).
type listRequest struct {
	Query   gateway.ListQuery `json:"query"`
	Queries []struct {
		NameQuery *struct {
			Name   string                           `json:"name"`
			Method gateway.EnumValue[TextMethodDef] `json:"method"`
		} `json:"nameQuery"`
	} `json:"queries"`
}

// ListInput decodes a ListProjectsRequest or ListAppsRequest body (msg
// names it in errors, kind is "Project" or "App"). Several name queries
// must agree; of the other queries none is served.
//
// Errors: InvalidArgument.
func ListInput(body []byte, msg, kind string) (query.ListSearch, error) {
	var req listRequest
	if err := gateway.DecodeBody(body, &req); err != nil {
		return query.ListSearch{}, err
	}
	offset, limit, err := req.Query.Page()
	if err != nil {
		return query.ListSearch{}, err
	}
	s := query.ListSearch{Offset: offset, Limit: limit, Asc: req.Query.Asc}
	for n, q := range req.Queries {
		if q.NameQuery == nil {
			return s, errs.InvalidArgument("PROJECT-Dr2aa", "List.Query.Invalid")
		}
		if utf8.RuneCountInString(q.NameQuery.Name) > 200 {
			return s, errs.InvalidArgument("", fmt.Sprintf("invalid %s.Queries[%d]: embedded message failed validation | caused by: invalid %sQuery.NameQuery: embedded message failed validation | caused by: invalid %sNameQuery.Name: value length must be at most 200 runes", msg, n, kind, kind))
		}
		if s.Name != nil && (s.Name.Name != q.NameQuery.Name || s.Name.Method != query.TextMethod(q.NameQuery.Method)) {
			return s, errs.InvalidArgument("PROJECT-Dr2ab", "List.Query.Invalid")
		}
		s.Name = &query.NameFilter{Name: q.NameQuery.Name, Method: query.TextMethod(q.NameQuery.Method)}
	}
	return s, nil
}

// loginVersion is zitadel.app.v1.LoginVersion.
type loginVersion struct {
	LoginV1 *struct{} `json:"loginV1,omitempty"`
	LoginV2 *struct {
		BaseURI *string `json:"baseUri,omitempty"`
	} `json:"loginV2,omitempty"`
}

// oidcConfigRequest is the config of AddOIDCAppRequest and
// UpdateOIDCAppConfigRequest.
type oidcConfigRequest struct {
	Name                     string                               `json:"name"`
	RedirectURIs             []string                             `json:"redirectUris"`
	ResponseTypes            []gateway.EnumValue[responseTypeDef] `json:"responseTypes"`
	GrantTypes               []gateway.EnumValue[grantTypeDef]    `json:"grantTypes"`
	AppType                  gateway.EnumValue[appTypeDef]        `json:"appType"`
	AuthMethodType           gateway.EnumValue[authMethodDef]     `json:"authMethodType"`
	PostLogoutRedirectURIs   []string                             `json:"postLogoutRedirectUris"`
	Version                  gateway.EnumValue[oidcVersionDef]    `json:"version"`
	DevMode                  bool                                 `json:"devMode"`
	AccessTokenType          gateway.EnumValue[tokenTypeDef]      `json:"accessTokenType"`
	AccessTokenRoleAssertion bool                                 `json:"accessTokenRoleAssertion"`
	IDTokenRoleAssertion     bool                                 `json:"idTokenRoleAssertion"`
	IDTokenUserinfoAssertion bool                                 `json:"idTokenUserinfoAssertion"`
	ClockSkew                gateway.Duration                     `json:"clockSkew"`
	AdditionalOrigins        []string                             `json:"additionalOrigins"`
	SkipNativeAppSuccessPage bool                                 `json:"skipNativeAppSuccessPage"`
	BackChannelLogoutURI     string                               `json:"backChannelLogoutUri"`
	LoginVersion             *loginVersion                        `json:"loginVersion"`
}

// OIDCAppInput decodes an AddOIDCAppRequest (or, for the config,
// UpdateOIDCAppConfigRequest) body; the command checks its rules.
//
// Errors: InvalidArgument for malformed JSON or a wrong type.
func OIDCAppInput(body []byte) (command.OIDCApp, error) {
	var req oidcConfigRequest
	if err := gateway.DecodeBody(body, &req); err != nil {
		return command.OIDCApp{}, err
	}
	cfg := events.OIDCConfig{
		Version: int(req.Version), RedirectURIs: req.RedirectURIs, ApplicationType: int(req.AppType),
		AuthMethodType: int(req.AuthMethodType), PostLogoutRedirectURIs: req.PostLogoutRedirectURIs, DevMode: req.DevMode,
		AccessTokenType: int(req.AccessTokenType), AccessTokenRoleAssertion: req.AccessTokenRoleAssertion,
		IDTokenRoleAssertion: req.IDTokenRoleAssertion, IDTokenUserinfoAssertion: req.IDTokenUserinfoAssertion,
		ClockSkew: req.ClockSkew.Std(), AdditionalOrigins: req.AdditionalOrigins, SkipNativeAppSuccessPage: req.SkipNativeAppSuccessPage,
		BackChannelLogoutURI: req.BackChannelLogoutURI,
	}
	for _, r := range req.ResponseTypes {
		cfg.ResponseTypes = append(cfg.ResponseTypes, int(r))
	}
	for _, g := range req.GrantTypes {
		cfg.GrantTypes = append(cfg.GrantTypes, int(g))
	}
	if lv := req.LoginVersion; lv != nil {
		switch {
		case lv.LoginV2 != nil:
			cfg.LoginVersion = 2
			if lv.LoginV2.BaseURI != nil {
				cfg.LoginBaseURI = *lv.LoginV2.BaseURI
			}
		case lv.LoginV1 != nil:
			cfg.LoginVersion = 1
		}
	}
	return command.OIDCApp{Name: req.Name, Config: cfg}, nil
}

// APIAppInput decodes an AddAPIAppRequest body: name and auth method.
//
// Errors: InvalidArgument for malformed JSON or a wrong type.
func APIAppInput(body []byte) (string, int, error) {
	var req struct {
		Name           string                        `json:"name"`
		AuthMethodType gateway.EnumValue[apiAuthDef] `json:"authMethodType"`
	}
	err := gateway.DecodeBody(body, &req)
	return req.Name, int(req.AuthMethodType), err
}

// LocalizedMessage is zitadel.v1.LocalizedMessage.
type LocalizedMessage struct {
	Key              string `json:"key,omitempty"`
	LocalizedMessage string `json:"localizedMessage,omitempty"`
}

func problemsOf(c command.Compliance) []LocalizedMessage {
	var out []LocalizedMessage
	for _, p := range c.Problems {
		out = append(out, LocalizedMessage{Key: p, LocalizedMessage: command.ComplianceText(p)})
	}
	return out
}

// AppAddedV1 is AddOIDCAppResponse and AddAPIAppResponse. The client
// secret appears here only, once.
type AppAddedV1 struct {
	AppID              string             `json:"appId,omitempty"`
	Details            gateway.DetailsV1  `json:"details"`
	ClientID           string             `json:"clientId,omitempty"`
	ClientSecret       string             `json:"clientSecret,omitempty"`
	NoneCompliant      bool               `json:"noneCompliant,omitempty"`
	ComplianceProblems []LocalizedMessage `json:"complianceProblems,omitempty"`
}

// AppAddedV1Of renders an added app.
func AppAddedV1Of(a command.AddedApp) AppAddedV1 {
	return AppAddedV1{AppID: a.AppID, Details: gateway.V1Add(DetailsOf(a.Details)), ClientID: a.ClientID, ClientSecret: a.ClientSecret,
		NoneCompliant: a.Compliance.NoneCompliant, ComplianceProblems: problemsOf(a.Compliance)}
}

// SecretV1 is RegenerateOIDCClientSecretResponse.
type SecretV1 struct {
	ClientSecret string            `json:"clientSecret,omitempty"`
	Details      gateway.DetailsV1 `json:"details"`
}

// AppV1 is zitadel.app.v1.App.
type AppV1 struct {
	ID         string            `json:"id,omitempty"`
	Details    gateway.DetailsV1 `json:"details"`
	State      string            `json:"state,omitempty"`
	Name       string            `json:"name,omitempty"`
	OIDCConfig *OIDCConfigV1     `json:"oidcConfig,omitempty"`
	APIConfig  *APIConfigV1      `json:"apiConfig,omitempty"`
}

// OIDCConfigV1 is zitadel.app.v1.OIDCConfig.
type OIDCConfigV1 struct {
	RedirectURIs             []string                             `json:"redirectUris,omitempty"`
	ResponseTypes            []gateway.EnumValue[responseTypeDef] `json:"responseTypes,omitempty"`
	GrantTypes               []gateway.EnumValue[grantTypeDef]    `json:"grantTypes,omitempty"`
	AppType                  gateway.EnumValue[appTypeDef]        `json:"appType,omitzero"`
	ClientID                 string                               `json:"clientId,omitempty"`
	AuthMethodType           gateway.EnumValue[authMethodDef]     `json:"authMethodType,omitzero"`
	PostLogoutRedirectURIs   []string                             `json:"postLogoutRedirectUris,omitempty"`
	Version                  gateway.EnumValue[oidcVersionDef]    `json:"version,omitzero"`
	NoneCompliant            bool                                 `json:"noneCompliant,omitempty"`
	ComplianceProblems       []LocalizedMessage                   `json:"complianceProblems,omitempty"`
	DevMode                  bool                                 `json:"devMode,omitempty"`
	AccessTokenType          gateway.EnumValue[tokenTypeDef]      `json:"accessTokenType,omitzero"`
	AccessTokenRoleAssertion bool                                 `json:"accessTokenRoleAssertion,omitempty"`
	IDTokenRoleAssertion     bool                                 `json:"idTokenRoleAssertion,omitempty"`
	IDTokenUserinfoAssertion bool                                 `json:"idTokenUserinfoAssertion,omitempty"`
	// ClockSkew is a message field ZITADEL always sets: "0s" too.
	ClockSkew                gateway.Duration `json:"clockSkew"`
	AdditionalOrigins        []string         `json:"additionalOrigins,omitempty"`
	AllowedOrigins           []string         `json:"allowedOrigins,omitempty"`
	SkipNativeAppSuccessPage bool             `json:"skipNativeAppSuccessPage,omitempty"`
	BackChannelLogoutURI     string           `json:"backChannelLogoutUri,omitempty"`
	LoginVersion             *loginVersion    `json:"loginVersion,omitempty"`
}

// APIConfigV1 is zitadel.app.v1.APIConfig.
type APIConfigV1 struct {
	ClientID       string                        `json:"clientId,omitempty"`
	AuthMethodType gateway.EnumValue[apiAuthDef] `json:"authMethodType,omitzero"`
}

// AppV1Of renders a read-table app; its secret hash is never rendered.
func AppV1Of(a *query.App) AppV1 {
	out := AppV1{ID: a.ID, State: "APP_STATE_ACTIVE", Name: a.Name,
		Details: gateway.V1Read(gateway.ObjectDetails{Sequence: a.Sequence, Created: a.Created, Changed: a.Changed, ResourceOwner: a.ResourceOwner})}
	if a.Kind == "api" {
		out.APIConfig = &APIConfigV1{ClientID: a.ClientID, AuthMethodType: gateway.EnumValue[apiAuthDef](a.APIAuthMethod)}
		return out
	}
	c := a.OIDC
	comp := command.OIDCCompliance(c)
	o := &OIDCConfigV1{RedirectURIs: c.RedirectURIs, AppType: gateway.EnumValue[appTypeDef](c.ApplicationType), ClientID: a.ClientID,
		AuthMethodType: gateway.EnumValue[authMethodDef](c.AuthMethodType), PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		Version: gateway.EnumValue[oidcVersionDef](c.Version), NoneCompliant: comp.NoneCompliant, ComplianceProblems: problemsOf(comp),
		DevMode: c.DevMode, AccessTokenType: gateway.EnumValue[tokenTypeDef](c.AccessTokenType),
		AccessTokenRoleAssertion: c.AccessTokenRoleAssertion, IDTokenRoleAssertion: c.IDTokenRoleAssertion,
		IDTokenUserinfoAssertion: c.IDTokenUserinfoAssertion, ClockSkew: gateway.Duration(c.ClockSkew),
		AdditionalOrigins: c.AdditionalOrigins, AllowedOrigins: allowedOrigins(c.RedirectURIs, c.AdditionalOrigins),
		SkipNativeAppSuccessPage: c.SkipNativeAppSuccessPage, BackChannelLogoutURI: c.BackChannelLogoutURI}
	for _, r := range c.ResponseTypes {
		o.ResponseTypes = append(o.ResponseTypes, gateway.EnumValue[responseTypeDef](r))
	}
	for _, g := range c.GrantTypes {
		o.GrantTypes = append(o.GrantTypes, gateway.EnumValue[grantTypeDef](g))
	}
	switch c.LoginVersion {
	case 1:
		o.LoginVersion = &loginVersion{LoginV1: &struct{}{}}
	case 2:
		o.LoginVersion = &loginVersion{LoginV2: &struct {
			BaseURI *string `json:"baseUri,omitempty"`
		}{}}
		if c.LoginBaseURI != "" {
			o.LoginVersion.LoginV2.BaseURI = &c.LoginBaseURI
		}
	}
	out.OIDCConfig = o
	return out
}

// allowedOrigins is ZITADEL's OIDCOriginAllowList: the origins of the
// redirect URIs, then the additional origins, each once.
func allowedOrigins(redirects, additional []string) []string {
	var out []string
	add := func(o string) {
		for _, x := range out {
			if x == o {
				return
			}
		}
		out = append(out, o)
	}
	for _, r := range redirects {
		if u, err := url.Parse(r); err == nil && u.Scheme != "" && u.Host != "" {
			add(u.Scheme + "://" + u.Host)
		}
	}
	for _, o := range additional {
		add(strings.TrimSpace(o))
	}
	return out
}

// AppListV1Of renders a page of apps as ListAppsResponse.
func AppListV1Of(l *query.AppList) ListV1[AppV1] {
	return listV1(l.Total, l.Timestamp, l.Apps, AppV1Of)
}
