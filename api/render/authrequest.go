package render

import (
	"strings"
	"time"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
)

var promptEnum = gateway.NewEnum("PROMPT_UNSPECIFIED", "PROMPT_NONE", "PROMPT_LOGIN", "PROMPT_CONSENT", "PROMPT_SELECT_ACCOUNT", "PROMPT_CREATE")

// PromptDef is the enum table of Prompt.
type PromptDef struct{}

func (PromptDef) Enum() *gateway.Enum { return promptEnum }

// Prompt is zitadel.oidc.v2.Prompt.
type Prompt = gateway.EnumValue[PromptDef]

var errorReasonEnum = gateway.NewEnum("ERROR_REASON_UNSPECIFIED", "ERROR_REASON_INVALID_REQUEST", "ERROR_REASON_UNAUTHORIZED_CLIENT",
	"ERROR_REASON_ACCESS_DENIED", "ERROR_REASON_UNSUPPORTED_RESPONSE_TYPE", "ERROR_REASON_INVALID_SCOPE", "ERROR_REASON_SERVER_ERROR",
	"ERROR_REASON_TEMPORARY_UNAVAILABLE", "ERROR_REASON_INTERACTION_REQUIRED", "ERROR_REASON_LOGIN_REQUIRED",
	"ERROR_REASON_ACCOUNT_SELECTION_REQUIRED", "ERROR_REASON_CONSENT_REQUIRED", "ERROR_REASON_INVALID_REQUEST_URI",
	"ERROR_REASON_INVALID_REQUEST_OBJECT", "ERROR_REASON_REQUEST_NOT_SUPPORTED", "ERROR_REASON_REQUEST_URI_NOT_SUPPORTED",
	"ERROR_REASON_REGISTRATION_NOT_SUPPORTED")

// ErrorReasonDef is the enum table of ErrorReason.
type ErrorReasonDef struct{}

func (ErrorReasonDef) Enum() *gateway.Enum { return errorReasonEnum }

// ErrorReason is zitadel.oidc.v2.ErrorReason.
type ErrorReason = gateway.EnumValue[ErrorReasonDef]

// OAuthError is the RFC 6749 error code of r (ZITADEL's
// ErrorReasonToOIDC): the enum name without its prefix, lower case;
// unspecified is server_error.
func OAuthError(r ErrorReason) string {
	name := errorReasonEnum.Name(int(r))
	if r == 0 || name == "" {
		return "server_error"
	}
	if name == "ERROR_REASON_TEMPORARY_UNAVAILABLE" {
		return "temporarily_unavailable"
	}
	return strings.ToLower(strings.TrimPrefix(name, "ERROR_REASON_"))
}

// AuthRequest is zitadel.oidc.v2.AuthRequest.
type AuthRequest struct {
	ID           string            `json:"id"`
	CreationDate gateway.Timestamp `json:"creationDate"`
	ClientID     string            `json:"clientId"`
	Scope        []string          `json:"scope,omitempty"`
	RedirectURI  string            `json:"redirectUri"`
	Prompt       []Prompt          `json:"prompt,omitempty"`
	UILocales    []string          `json:"uiLocales,omitempty"`
	LoginHint    *string           `json:"loginHint,omitempty"`
	MaxAge       *gateway.Duration `json:"maxAge,omitempty"`
	HintUserID   *string           `json:"hintUserId,omitempty"`
}

// AuthRequestBody is GetAuthRequestResponse.
type AuthRequestBody struct {
	AuthRequest AuthRequest `json:"authRequest"`
}

var promptNames = map[string]int{"none": 1, "login": 2, "consent": 3, "select_account": 4, "create": 5}

// AuthRequestOf renders an auth request.
func AuthRequestOf(ar *command.AuthRequest) AuthRequestBody {
	out := AuthRequest{ID: ar.ID, CreationDate: gateway.Timestamp(ar.Created), ClientID: ar.ClientID, Scope: ar.Scope,
		RedirectURI: ar.RedirectURI, UILocales: ar.UILocales}
	for _, p := range ar.Prompt {
		if n, ok := promptNames[p]; ok {
			out.Prompt = append(out.Prompt, Prompt(n))
		}
	}
	if ar.LoginHint != "" {
		out.LoginHint = &ar.LoginHint
	}
	if ar.HintUserID != "" {
		out.HintUserID = &ar.HintUserID
	}
	if ar.MaxAge != nil {
		d := gateway.Duration(time.Duration(*ar.MaxAge) * time.Second)
		out.MaxAge = &d
	}
	return AuthRequestBody{AuthRequest: out}
}

// CreateCallbackRequest is CreateCallbackRequest's body: a session or an
// error.
type CreateCallbackRequest struct {
	Session *struct {
		SessionID    string `json:"sessionId"`
		SessionToken string `json:"sessionToken"`
	} `json:"session"`
	Error *struct {
		Error            ErrorReason `json:"error"`
		ErrorDescription *string     `json:"errorDescription"`
		ErrorURI         *string     `json:"errorUri"`
	} `json:"error"`
}

// Validate applies the oneof rule: exactly one of session and error.
func (r *CreateCallbackRequest) Validate() error {
	if (r.Session == nil) == (r.Error == nil) {
		return errs.InvalidArgument("", "invalid CreateCallbackRequest.CallbackKind: value is required")
	}
	return nil
}

// Input is the request as the command takes it (Validate first): the
// session, or the error's RFC 6749 code and description.
func (r *CreateCallbackRequest) Input() (command.AuthRequestFinish, error) {
	var in command.AuthRequestFinish
	if err := r.Validate(); err != nil {
		return in, err
	}
	if s := r.Session; s != nil {
		in.SessionID, in.SessionToken = s.SessionID, s.SessionToken
		return in, nil
	}
	in.Reason = OAuthError(r.Error.Error)
	if r.Error.ErrorDescription != nil {
		in.Description = *r.Error.ErrorDescription
	}
	return in, nil
}

// CallbackBody is CreateCallbackResponse.
type CallbackBody struct {
	Details     gateway.DetailsV2 `json:"details"`
	CallbackURL string            `json:"callbackUrl"`
}

// CallbackOf renders CreateCallbackResponse.
func CallbackOf(d command.Details, url string) CallbackBody {
	return CallbackBody{Details: gateway.V2(gateway.ObjectDetails{Sequence: d.Sequence, Changed: d.Changed, ResourceOwner: d.ResourceOwner}),
		CallbackURL: url}
}
