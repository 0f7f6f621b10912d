package render

import (
	"encoding/base64"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/upstream"
)

// IntentDetailsV2 are an intent's v2 details: the sequence and date of its
// last event, the instance as resource owner.
func IntentDetailsV2(d command.Details) gateway.DetailsV2 {
	return gateway.V2(gateway.ObjectDetails{Sequence: d.Sequence, Changed: d.Changed, ResourceOwner: d.ResourceOwner})
}

// StartIntentRequest is StartIdentityProviderIntentRequest (but for the
// SAML and other contents, which are not read), as REST decodes its body
// and RPC its message as protojson.
type StartIntentRequest struct {
	IDPID string `json:"idpId"`
	URLs  *struct {
		SuccessURL string `json:"successUrl"`
		FailureURL string `json:"failureUrl"`
	} `json:"urls"`
	LDAP *struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"ldap"`
}

// Input is req as the command's input, with origin the instance's origin
// as the client addressed it (gateway.Origin).
func (req *StartIntentRequest) Input(origin string) command.StartIntentInput {
	in := command.StartIntentInput{IDPID: req.IDPID, Origin: origin}
	if req.URLs != nil {
		in.URLs = &command.IntentURLs{Success: req.URLs.SuccessURL, Failure: req.URLs.FailureURL}
	}
	if req.LDAP != nil {
		in.LDAP = &command.LDAPCredentials{Username: req.LDAP.Username, Password: req.LDAP.Password}
	}
	return in
}

// RetrieveIntentRequest is RetrieveIdentityProviderIntentRequest but for
// the intent's ID (REST's path parameter).
type RetrieveIntentRequest struct {
	IDPIntentToken string `json:"idpIntentToken"`
}

// StartIntentV2 is StartIdentityProviderIntentResponse: exactly one of
// authUrl, formData and idpIntent.
type StartIntentV2 struct {
	Details   gateway.DetailsV2 `json:"details"`
	AuthURL   string            `json:"authUrl,omitempty"`
	FormData  *FormDataV2       `json:"formData,omitempty"`
	IDPIntent *IDPIntentV2      `json:"idpIntent,omitempty"`
}

// FormDataV2 is user.v2.FormData (SAML's POST binding).
type FormDataV2 struct {
	URL    string            `json:"url"`
	Fields map[string]string `json:"fields"`
}

// IDPIntentV2 is user.v2.IDPIntent (LDAP: done at once).
type IDPIntentV2 struct {
	IDPIntentID    string `json:"idpIntentId"`
	IDPIntentToken string `json:"idpIntentToken"`
	UserID         string `json:"userId,omitempty"`
}

// StartIntentV2Of renders a started intent.
func StartIntentV2Of(s command.IntentStart) StartIntentV2 {
	out := StartIntentV2{Details: IntentDetailsV2(s.Details), AuthURL: s.AuthURL}
	switch {
	case s.Form != nil:
		out.FormData = &FormDataV2{URL: s.Form.URL, Fields: s.Form.Fields}
	case s.Token != "":
		out.IDPIntent = &IDPIntentV2{IDPIntentID: s.Details.ID, IDPIntentToken: s.Token, UserID: s.UserID}
	}
	return out
}

// RetrieveIntentV2 is RetrieveIdentityProviderIntentResponse.
type RetrieveIntentV2 struct {
	Details        gateway.DetailsV2 `json:"details"`
	IDPInformation IDPInformationV2  `json:"idpInformation"`
	UserID         string            `json:"userId,omitempty"`
	AddHumanUser   *AddHumanUserV2   `json:"addHumanUser,omitempty"`
}

// IDPInformationV2 is user.v2.IDPInformation: one of oauth, ldap, saml.
type IDPInformationV2 struct {
	OAuth          *OAuthAccessV2 `json:"oauth,omitempty"`
	IDPID          string         `json:"idpId"`
	UserID         string         `json:"userId"`
	UserName       string         `json:"userName,omitempty"`
	RawInformation map[string]any `json:"rawInformation"`
	LDAP           *LDAPAccessV2  `json:"ldap,omitempty"`
	SAML           *SAMLAccessV2  `json:"saml,omitempty"`
}

// OAuthAccessV2 is IDPOAuthAccessInformation.
type OAuthAccessV2 struct {
	AccessToken  string `json:"accessToken"`
	IDToken      string `json:"idToken,omitempty"`
	RefreshToken string `json:"refreshToken,omitempty"`
}

// LDAPAccessV2 is IDPLDAPAccessInformation.
type LDAPAccessV2 struct {
	Attributes map[string][]string `json:"attributes"`
}

// SAMLAccessV2 is IDPSAMLAccessInformation; the assertion is base64 bytes.
type SAMLAccessV2 struct {
	Assertion string `json:"assertion"`
}

// AddHumanUserV2 is the AddHumanUserRequest prefilled from the IdP's user.
type AddHumanUserV2 struct {
	// Organization is set by the login decision (the login's org), not by
	// Retrieve, which knows none.
	Organization *OrganizationV2 `json:"organization,omitempty"`
	Username     string          `json:"username,omitempty"`
	Profile      HumanProfileV2  `json:"profile"`
	Email        SetHumanEmailV2 `json:"email"`
	Phone        *HumanPhoneV2   `json:"phone,omitempty"`
	Metadata     []any           `json:"metadata"`
	IDPLinks     []IDPLinkV2     `json:"idpLinks"`
}

// OrganizationV2 is user.v2.Organization by ID.
type OrganizationV2 struct {
	OrgID string `json:"orgId"`
}

// SetHumanEmailV2 is user.v2.SetHumanEmail: verified, or a code to send.
type SetHumanEmailV2 struct {
	Email      string    `json:"email,omitempty"`
	IsVerified bool      `json:"isVerified,omitempty"`
	SendCode   *struct{} `json:"sendCode,omitempty"`
}

// HumanPhoneV2 is user.v2.SetHumanPhone.
type HumanPhoneV2 struct {
	Phone      string    `json:"phone,omitempty"`
	IsVerified bool      `json:"isVerified,omitempty"`
	SendCode   *struct{} `json:"sendCode,omitempty"`
}

// RetrieveIntentV2Of renders a retrieved intent: addHumanUser only when
// no user is linked, as ZITADEL.
func RetrieveIntentV2Of(in command.IntentInfo) RetrieveIntentV2 {
	raw := in.User.Raw
	if raw == nil {
		raw = map[string]any{}
	}
	info := IDPInformationV2{IDPID: in.IDPID, UserID: in.User.ID, UserName: in.UserName, RawInformation: raw}
	switch in.Protocol {
	case "ldap":
		info.LDAP = &LDAPAccessV2{Attributes: in.LDAP}
	case "saml":
		info.SAML = &SAMLAccessV2{Assertion: base64.StdEncoding.EncodeToString(in.Assertion)}
	default:
		info.OAuth = &OAuthAccessV2{AccessToken: in.AccessToken, IDToken: in.IDToken, RefreshToken: in.RefreshToken}
	}
	out := RetrieveIntentV2{Details: IntentDetailsV2(in.Details), IDPInformation: info, UserID: in.UserID}
	if in.UserID == "" {
		out.AddHumanUser = addHumanUser(in.IDPID, in.UserName, in.User)
	}
	return out
}

func addHumanUser(idpID, userName string, u upstream.User) *AddHumanUserV2 {
	lang := u.PreferredLanguage
	if lang == "" {
		lang = "und"
	}
	h := &AddHumanUserV2{
		Username: u.PreferredUsername,
		Profile: HumanProfileV2{GivenName: u.FirstName, FamilyName: u.LastName, NickName: u.NickName,
			DisplayName: u.DisplayName, PreferredLanguage: lang},
		Email:    SetHumanEmailV2{Email: u.Email},
		Metadata: []any{},
		IDPLinks: []IDPLinkV2{{IDPID: idpID, UserID: u.ID, UserName: userName}},
	}
	if u.EmailVerified {
		h.Email.IsVerified = true
	} else {
		h.Email.SendCode = &struct{}{}
	}
	if u.Phone != "" {
		h.Phone = &HumanPhoneV2{Phone: u.Phone, IsVerified: u.PhoneVerified}
		if !u.PhoneVerified {
			h.Phone.SendCode = &struct{}{}
		}
	}
	return h
}

// IntentLoginRequest is the body of idledger's POST
// /v2/idp_intents/{idpIntentId}/login.
type IntentLoginRequest struct {
	IDPIntentToken string `json:"idpIntentToken"`
	OrganizationID string `json:"organizationId"`
}

// Input is req as DecideIntentLogin's input, for intent id (the path's).
func (req *IntentLoginRequest) Input(id string) command.DecideLoginInput {
	return command.DecideLoginInput{IntentID: id, IntentToken: req.IDPIntentToken, OrgID: req.OrganizationID}
}

// IntentLoginV2 is the login decision: the outcome and what the login UI
// needs for it.
type IntentLoginV2 struct {
	Details        gateway.DetailsV2  `json:"details"`
	Outcome        string             `json:"outcome"`
	OrganizationID string             `json:"organizationId"`
	UserID         string             `json:"userId,omitempty"`
	Linked         bool               `json:"linked,omitempty"`
	Created        bool               `json:"created,omitempty"`
	Candidates     *LoginCandidatesV2 `json:"candidates,omitempty"`
	AddHumanUser   *AddHumanUserV2    `json:"addHumanUser,omitempty"`
	Refusal        *RefusalV2         `json:"refusal,omitempty"`
}

// LoginCandidatesV2 are several auto-linking matches, masked.
type LoginCandidatesV2 struct {
	Count      int      `json:"count"`
	LoginNames []string `json:"loginNames"`
}

// RefusalV2 is why a login is refused: a stable error ID and its message.
type RefusalV2 struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// IntentLoginV2Of renders a login decision: candidates for CHOOSE, the
// prefilled addHumanUser (as Retrieve's) for OFFER_REGISTRATION, the
// refusal for REFUSED.
func IntentLoginV2Of(d command.LoginDecision) IntentLoginV2 {
	out := IntentLoginV2{Details: IntentDetailsV2(d.Details), Outcome: d.Outcome.String(), OrganizationID: d.OrgID,
		UserID: d.UserID, Linked: d.Linked, Created: d.Created}
	switch d.Outcome {
	case command.LoginChoose:
		out.Candidates = &LoginCandidatesV2{Count: d.Candidates.Count, LoginNames: d.Candidates.LoginNames}
	case command.LoginOfferRegistration:
		out.AddHumanUser = addHumanUser(d.Intent.IDPID, d.Intent.UserName, d.Intent.User)
		out.AddHumanUser.Organization = &OrganizationV2{OrgID: d.OrgID}
	case command.LoginRefused:
		if d.Refusal != nil {
			out.Refusal = &RefusalV2{ID: d.Refusal.ID, Message: d.Refusal.Message}
		}
	}
	return out
}
