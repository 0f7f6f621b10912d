package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/render"
	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/query"
)

// The read side nominates the users a policy-link removal cascades to.
var _ command.LinkIndex = (*query.Queries)(nil)

// policyRoutes mounts the login policies and their IdP links (admin: the
// instance default; management: the context org's custom policy).
func (a *API) policyRoutes(r chi.Router) {
	r.Get("/admin/v1/policies/login", a.getDefaultLoginPolicy)
	r.Put("/admin/v1/policies/login", decodeCall(http.StatusOK, func(r *http.Request, req *loginPolicySwitches) (any, error) {
		return answer(changedV1[command.Details])(a.cmds.UpdateDefaultLoginPolicy(r.Context(), req.policy()))
	}))
	r.Post("/admin/v1/policies/login/idps", addPolicyIDP(a.addDefaultPolicyIDP))
	r.Post("/admin/v1/policies/login/idps/_search", a.listDefaultPolicyIDPs)
	r.Delete("/admin/v1/policies/login/idps/{idpId}", a.removeDefaultPolicyIDP)

	r.Get("/management/v1/policies/login", a.getOrgLoginPolicy)
	r.Post("/management/v1/policies/login", a.addCustomLoginPolicy)
	r.Put("/management/v1/policies/login", decodeCall(http.StatusOK, func(r *http.Request, req *loginPolicySwitches) (any, error) {
		return answer(changedV1[command.Details])(a.cmds.UpdateCustomLoginPolicy(r.Context(), policyOrg(r), req.policy()))
	}))
	r.Delete("/management/v1/policies/login", a.resetLoginPolicy)
	r.Post("/management/v1/policies/login/idps", addPolicyIDP(a.addOrgPolicyIDP))
	r.Post("/management/v1/policies/login/idps/_search", a.listOrgPolicyIDPs)
	r.Delete("/management/v1/policies/login/idps/{idpId}", a.removeOrgPolicyIDP)
}

// policyOrg is the context org of a management call (x-zitadel-orgid, or
// the caller's own org).
func policyOrg(r *http.Request) string {
	if cl := authz.CallerFrom(r.Context()); cl != nil {
		return cl.OrgID
	}
	return ""
}

// Enum tables of the login policy messages.
var (
	idpOwnerTypeEnum = gateway.NewEnum("IDP_OWNER_TYPE_UNSPECIFIED", "IDP_OWNER_TYPE_SYSTEM", "IDP_OWNER_TYPE_ORG")
	secondFactorEnum = gateway.NewEnum("SECOND_FACTOR_TYPE_UNSPECIFIED", "SECOND_FACTOR_TYPE_OTP",
		"SECOND_FACTOR_TYPE_U2F", "SECOND_FACTOR_TYPE_OTP_EMAIL", "SECOND_FACTOR_TYPE_OTP_SMS")
	multiFactorEnum = gateway.NewEnum("MULTI_FACTOR_TYPE_UNSPECIFIED", "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION")
)

type (
	passwordlessTypeDef struct{}
	secondFactorDef     struct{}
	multiFactorDef      struct{}
)

func (passwordlessTypeDef) Enum() *gateway.Enum { return render.PasswordlessTypeEnum }
func (secondFactorDef) Enum() *gateway.Enum     { return secondFactorEnum }
func (multiFactorDef) Enum() *gateway.Enum      { return multiFactorEnum }

// ownerTypeFromJSON maps an IDPOwnerType JSON value to the command's owner
// type: unset is IDP_OWNER_TYPE_UNSPECIFIED, and a value the table does not
// define is passed on as an undefined number. The command rejects both with
// protoc-gen-validate's messages, after its permission check, as ZITADEL's
// interceptors order them.
func ownerTypeFromJSON(raw json.RawMessage) command.IDPOwnerType {
	if len(raw) == 0 {
		return command.IDPOwnerUnspecified
	}
	n, err := idpOwnerTypeEnum.Parse(raw)
	if err != nil {
		return -1
	}
	return command.IDPOwnerType(n)
}

// --- read ------------------------------------------------------------------

func (a *API) getDefaultLoginPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := a.q.DefaultLoginPolicy(r.Context())
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, struct {
		Policy render.LoginPolicyJSON `json:"policy"`
	}{render.LoginPolicy(p)})
}

func (a *API) getOrgLoginPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := a.q.OrgLoginPolicy(r.Context(), policyOrg(r))
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, struct {
		Policy    render.LoginPolicyJSON `json:"policy"`
		IsDefault bool                   `json:"isDefault,omitempty"`
	}{render.LoginPolicy(p), p.IsDefault})
}

type listPolicyIDPsRequest struct {
	Query gateway.ListQuery `json:"query"`
}

// listPolicyIDPs lists the default policy's links (admin) or the org's
// effective policy's links (management).
func (a *API) listPolicyIDPs(w http.ResponseWriter, r *http.Request, admin bool, orgID string) {
	var req listPolicyIDPsRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	offset, limit, err := req.Query.Page()
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	var list *query.PolicyIDPList
	if admin {
		list, err = a.q.DefaultLoginPolicyIDPs(r.Context(), offset, limit)
	} else {
		list, err = a.q.OrgLoginPolicyIDPs(r.Context(), orgID, offset, limit)
	}
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, render.PolicyIDPList(list))
}

func (a *API) listDefaultPolicyIDPs(w http.ResponseWriter, r *http.Request) {
	a.listPolicyIDPs(w, r, true, "")
}

func (a *API) listOrgPolicyIDPs(w http.ResponseWriter, r *http.Request) {
	a.listPolicyIDPs(w, r, false, policyOrg(r))
}

// --- write -----------------------------------------------------------------

type detailsV1Response struct {
	Details gateway.DetailsV1 `json:"details"`
}

// changedV1 is a change's (or removal's) details response; addedV1 an
// addition's. They take the commands that answer a *Details too.
func changedV1[D command.Details | *command.Details](d D) detailsV1Response {
	return detailsV1Response{gateway.V1Change(render.DetailsOf(deref(d)))}
}

func addedV1[D command.Details | *command.Details](d D) detailsV1Response {
	return detailsV1Response{gateway.V1Add(render.DetailsOf(deref(d)))}
}

// deref is d's value.
func deref[D command.Details | *command.Details](d D) command.Details {
	if p, ok := any(d).(*command.Details); ok {
		return *p
	}
	return any(d).(command.Details)
}

func writeV1(w http.ResponseWriter, r *http.Request, d command.Details, err error, add bool) {
	if err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	det := gateway.V1Change(render.DetailsOf(d))
	if add {
		det = gateway.V1Add(render.DetailsOf(d))
	}
	gateway.WriteJSON(w, http.StatusOK, detailsV1Response{det})
}

type addPolicyIDPRequest struct {
	IDPID     string          `json:"idpId"`
	OwnerType json.RawMessage `json:"ownerType"`
}

// addPolicyIDP decodes an AddIDPToLoginPolicyRequest (admin or management)
// and hands it to add.
func addPolicyIDP(add func(r *http.Request, req addPolicyIDPRequest) (command.Details, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req addPolicyIDPRequest
		if err := gateway.Decode(r, &req); err != nil {
			gateway.WriteError(w, r, err)
			return
		}
		d, err := add(r, req)
		writeV1(w, r, d, err, true)
	}
}

func (a *API) addDefaultPolicyIDP(r *http.Request, req addPolicyIDPRequest) (command.Details, error) {
	return a.cmds.AddIDPToDefaultLoginPolicy(r.Context(), req.IDPID)
}

func (a *API) addOrgPolicyIDP(r *http.Request, req addPolicyIDPRequest) (command.Details, error) {
	return a.cmds.AddIDPToLoginPolicy(r.Context(), policyOrg(r), req.IDPID, ownerTypeFromJSON(req.OwnerType))
}

func (a *API) removeDefaultPolicyIDP(w http.ResponseWriter, r *http.Request) {
	d, err := a.cmds.RemoveIDPFromDefaultLoginPolicy(r.Context(), chi.URLParam(r, "idpId"))
	writeV1(w, r, d, err, false)
}

func (a *API) removeOrgPolicyIDP(w http.ResponseWriter, r *http.Request) {
	d, err := a.cmds.RemoveIDPFromLoginPolicy(r.Context(), policyOrg(r), chi.URLParam(r, "idpId"))
	writeV1(w, r, d, err, false)
}

// loginPolicySwitches are the fields of admin UpdateLoginPolicyRequest and
// management UpdateCustomLoginPolicyRequest, which
// AddCustomLoginPolicyRequest has too.
type loginPolicySwitches struct {
	AllowUsernamePassword      bool                                   `json:"allowUsernamePassword"`
	AllowRegister              bool                                   `json:"allowRegister"`
	AllowExternalIDP           bool                                   `json:"allowExternalIdp"`
	ForceMFA                   bool                                   `json:"forceMfa"`
	PasswordlessType           gateway.EnumValue[passwordlessTypeDef] `json:"passwordlessType"`
	HidePasswordReset          bool                                   `json:"hidePasswordReset"`
	IgnoreUnknownUsernames     bool                                   `json:"ignoreUnknownUsernames"`
	DefaultRedirectURI         string                                 `json:"defaultRedirectUri"`
	PasswordCheckLifetime      *gateway.Duration                      `json:"passwordCheckLifetime"`
	ExternalLoginCheckLifetime *gateway.Duration                      `json:"externalLoginCheckLifetime"`
	MFAInitSkipLifetime        *gateway.Duration                      `json:"mfaInitSkipLifetime"`
	SecondFactorCheckLifetime  *gateway.Duration                      `json:"secondFactorCheckLifetime"`
	MultiFactorCheckLifetime   *gateway.Duration                      `json:"multiFactorCheckLifetime"`
	AllowDomainDiscovery       bool                                   `json:"allowDomainDiscovery"`
	DisableLoginWithEmail      bool                                   `json:"disableLoginWithEmail"`
	DisableLoginWithPhone      bool                                   `json:"disableLoginWithPhone"`
	ForceMFALocalOnly          bool                                   `json:"forceMfaLocalOnly"`
}

// addCustomLoginPolicyRequest is management AddCustomLoginPolicyRequest.
type addCustomLoginPolicyRequest struct {
	loginPolicySwitches
	SecondFactors []gateway.EnumValue[secondFactorDef] `json:"secondFactors"`
	MultiFactors  []gateway.EnumValue[multiFactorDef]  `json:"multiFactors"`
	IDPs          []addPolicyIDPRequest                `json:"idps"`
}

// lifetime is a set duration; unset is nil.
func lifetime(d *gateway.Duration) *time.Duration {
	if d == nil {
		return nil
	}
	v := d.Std()
	return &v
}

// policy maps the switches to the command's input. The enum table numbers
// the values as the command's type does.
func (req *loginPolicySwitches) policy() command.LoginPolicy {
	return command.LoginPolicy{
		AllowUsernamePassword: req.AllowUsernamePassword, AllowRegister: req.AllowRegister,
		AllowExternalIDP: req.AllowExternalIDP, ForceMFA: req.ForceMFA, ForceMFALocalOnly: req.ForceMFALocalOnly,
		PasswordlessType:  command.PasswordlessType(req.PasswordlessType),
		HidePasswordReset: req.HidePasswordReset, IgnoreUnknownUsernames: req.IgnoreUnknownUsernames,
		AllowDomainDiscovery: req.AllowDomainDiscovery, DisableLoginWithEmail: req.DisableLoginWithEmail,
		DisableLoginWithPhone: req.DisableLoginWithPhone, DefaultRedirectURI: req.DefaultRedirectURI,
		PasswordCheckLifetime:      lifetime(req.PasswordCheckLifetime),
		ExternalLoginCheckLifetime: lifetime(req.ExternalLoginCheckLifetime),
		MFAInitSkipLifetime:        lifetime(req.MFAInitSkipLifetime),
		SecondFactorCheckLifetime:  lifetime(req.SecondFactorCheckLifetime),
		MultiFactorCheckLifetime:   lifetime(req.MultiFactorCheckLifetime),
	}
}

// policy maps the request to the command's input: the switches, the
// factors and the IdPs.
func (req *addCustomLoginPolicyRequest) policy() command.LoginPolicy {
	p := req.loginPolicySwitches.policy()
	p.IDPs = make([]command.LoginPolicyIDP, 0, len(req.IDPs))
	for _, f := range req.SecondFactors {
		p.SecondFactors = append(p.SecondFactors, command.SecondFactorType(f))
	}
	for _, f := range req.MultiFactors {
		p.MultiFactors = append(p.MultiFactors, command.MultiFactorType(f))
	}
	for _, l := range req.IDPs {
		p.IDPs = append(p.IDPs, command.LoginPolicyIDP{IDPID: l.IDPID, OwnerType: ownerTypeFromJSON(l.OwnerType)})
	}
	return p
}

func (a *API) addCustomLoginPolicy(w http.ResponseWriter, r *http.Request) {
	var req addCustomLoginPolicyRequest
	if err := gateway.Decode(r, &req); err != nil {
		gateway.WriteError(w, r, err)
		return
	}
	d, err := a.cmds.AddCustomLoginPolicy(r.Context(), policyOrg(r), req.policy())
	writeV1(w, r, d, err, true)
}

func (a *API) resetLoginPolicy(w http.ResponseWriter, r *http.Request) {
	d, err := a.cmds.ResetLoginPolicyToDefault(r.Context(), policyOrg(r))
	writeV1(w, r, d, err, false)
}
