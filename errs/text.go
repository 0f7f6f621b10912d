package errs

import "strings"

// englishText is the catalogue of error keys → English texts. Where ZITADEL
// has a text for the key (its internal/static/i18n/en.yaml), the text is
// ZITADEL's; the keys marked "ours" have none there (ZITADEL answers them
// with the raw key) and carry idledger's own wording. Another language is
// one more table of the same keys.
var englishText = map[string]string{
	"Errors.AuthRequest.NotExisting":                  "AuthRequest does not exist",
	"Errors.AuthRequest.AlreadyHandled":               "AuthRequest is already handled",
	"Errors.AuthRequest.Code.Invalid":                 "The code is invalid, expired or was used before",           // ours
	"Errors.AuthRequest.MaxAgeExceeded":               "The session's authentication is older than max_age allows", // ours
	"Errors.Session.User.Missing":                     "The session has no checked user",                           // ours
	"Errors.OIDCSession.Token.Invalid":                "Token is invalid",                                          // ours
	"Errors.OIDCSession.RefreshToken.Invalid":         "Refresh Token is invalid",
	"Errors.OIDCSession.RefreshToken.ScopeNotGranted": "The scope was not granted to the refresh token", // ours
	"Errors.Internal":                                 "An internal error occurred",
	"Errors.AlreadyExists":                            "The object already exists", // ours
	"Errors.ResourceOwnerMissing":                     "Resource Owner Organisation missing",
	"Errors.Token.Invalid":                            "Token is invalid",
	"Errors.Member.AlreadyExists":                     "Member already exists",
	"Errors.Member.InvalidRole":                       "The role is invalid", // ours
	"Errors.User.NotFound":                            "User could not be found",
	"Errors.User.AlreadyExists":                       "User already exists",
	"Errors.User.Registration.NotAllowed":             "Registration is not allowed", // ours
	"Errors.User.NotMachine":                          "The User must be technical",
	"Errors.User.NotExisting":                         "User doesn't exist",
	"Errors.User.NotChanged":                          "User not changed",
	"Errors.User.Machine.Secret.NotExisting":          "Secret doesn't exist",
	"Errors.User.Machine.Secret.Invalid":              "Secret is invalid",
	"Errors.User.Machine.Key.NotFound":                "Machine key not found",
	"Errors.User.Machine.Key.Invalid":                 "The public key is not a valid PEM public key", // ours
	"Errors.AuthNKey.ExpireBeforeNow":                 "The expiration date is in the past",
	"Errors.User.PAT.NotFound":                        "Personal Access Token not found",
	"Errors.User.PAT.ExpirationDateInPast":            "The expiration date must be in the future", // ours
	"Errors.User.ExternalIDP.NotFound":                "External IDP not found",
	"Errors.User.ExternalIDP.AlreadyExists":           "External IDP already taken",
	"Errors.User.ExternalIDP.LoginFailed":             "Login at External IDP failed",
	"Errors.User.NotAllowedOrg":                       "User is not part of the required organisation",
	"Errors.User.ExternalIDP.NoLoginOption":           "The identity provider allows neither linking nor creating a user",
	"Errors.User.ExternalIDP.NotAllowedByLoginPolicy": "The login policy does not allow this identity provider",
	"Errors.User.Password.Invalid":                    "Password is invalid",
	"Errors.User.Locked":                              "User is locked",
	"Errors.IDPConfig.NotExisting":                    "Identity Provider Configuration doesn't exist",
	"Errors.Org.NotFound":                             "Organisation not found",
	"Errors.Org.AlreadyExists":                        "Organisation's name or id already taken",
	"Errors.Org.Empty":                                "Organisation is empty",
	"Errors.Org.IdpInvalid":                           "IDP configuration is invalid",
	"Errors.Org.LoginPolicy.NotFound":                 "Login Policy not found",
	"Errors.Org.LoginPolicy.AlreadyExists":            "Login Policy already exists",
	"Errors.Org.LoginPolicy.RedirectURIInvalid":       "Default Redirect URI is invalid",
	"Errors.Org.LoginPolicy.NotChanged":               "Login Policy has not been changed",
	// ZITADEL raises the IDP.* keys below but translates them under other
	// names (IdpProviderAlreadyExisting, …); these are those texts.
	"Errors.Org.LoginPolicy.IDP.AlreadyExists":       "Identity Provider already existing",
	"Errors.Org.LoginPolicy.IDP.NotExisting":         "Identity Provider not existing",
	"Errors.Org.LoginPolicy.IDP.":                    "Identity Provider invalid",                  // ours: ZITADEL's key ends in a dot
	"Errors.LoginPolicy.NotFound":                    "Login Policy not found",                     // ours
	"Errors.Instance.Domain.AlreadyExists":           "The domain is already taken by an instance", // ours
	"Errors.Invalid.Argument":                        "Invalid argument",
	"Errors.Instance.Domain.InvalidCharacter":        "Only alphanumeric characters, . and - are allowed for a domain",
	"Errors.Instance.Domain.NotFound":                "Domain not found",
	"Errors.Instance.LoginPolicy.NotFound":           "Default Login Policy not found",
	"Errors.Instance.LoginPolicy.NotChanged":         "Default Login Policy has not been changed",
	"Errors.Instance.LoginPolicy.RedirectURIInvalid": "Default Redirect URI is invalid",
	"Errors.Instance.LoginPolicy.IDP.AlreadyExists":  "Identity provider already exists",
	"Errors.Instance.LoginPolicy.IDP.NotExisting":    "Identity provider doesn't exist",
	"Errors.Instance.LoginPolicy.IDP.Invalid":        "Identity Provider invalid",
	"Errors.Intent.NotSucceeded":                     "Intent has not succeeded",
	"Errors.Intent.InvalidToken":                     "Intent Token is invalid",
	"Errors.Intent.NotStarted":                       "Intent is not started or was already terminated",
	"Errors.Intent.IDPMissing":                       "IDP ID is missing in the request",
	"Errors.Intent.IDPInvalid":                       "IDP invalid for the request",
	"Errors.Intent.ResponseInvalid":                  "IDP response is invalid",
	"Errors.Intent.SuccessURLMissing":                "Success URL is missing in the request",
	"Errors.Intent.FailureURLMissing":                "Failure URL is missing in the request",
	"Errors.Intent.SuccessURLNotTrusted":             "The success URL's host is neither the instance's domain nor one of its trusted domains", // ours
	"Errors.Intent.FailureURLNotTrusted":             "The failure URL's host is neither the instance's domain nor one of its trusted domains", // ours
	"Errors.Intent.Expired":                          "Intent has expired",
	"Errors.Intent.StateMissing":                     "State parameter is missing in the request",
	"Errors.Intent.TokenCreationFailed":              "Token creation failed",
	"Errors.ExternalIDP.IDPTypeNotImplemented":       "IDP type is not implemented",
	"Errors.Intent.OtherUser":                        "Intent meant for another user",
	"Errors.IDP.SAML.NoKey":                          "The SAML identity provider has no SP key: update it to generate one", // ours
	"Errors.Session.NotExisting":                     "Session does not exist",
	"Errors.Session.Token.Invalid":                   "Session Token is invalid",
	"Errors.Session.Terminated":                      "Session already terminated",
	"Errors.Session.Expired":                         "Session has expired",
	"Errors.Session.PositiveLifetime":                "Session lifetime must not be less than 0",
	"Errors.Session.UserChange":                      "The user of a session cannot change", // ours
	"Errors.User.NotActive":                          "User is not active",
	"Errors.User.UserIDMissing":                      "User ID missing",
	"Errors.User.Password.NotSet":                    "User has not set a password",
	"Errors.User.Password.NotFound":                  "Password not found",
	"Errors.User.Password.HashUnsupported":           "The password hash is not an argon2id or bcrypt hash", // ours
	"Errors.User.Code.NotFound":                      "Code not found",
	"Errors.User.PasswordComplexityPolicy.MinLength": "Password is too short",
	"Errors.User.PasswordComplexityPolicy.HasLower":  "Password must contain lower case",
	"Errors.User.PasswordComplexityPolicy.HasUpper":  "Password must contain upper case",
	"Errors.User.PasswordComplexityPolicy.HasNumber": "Password must contain number",
	"Errors.User.PasswordComplexityPolicy.HasSymbol": "Password must contain symbol",
	"Errors.NoChangesFound":                          "No changes",
	"Errors.OIDCSettings.AlreadyExists":              "OIDC Settings already exists",
	"Errors.OIDCSettings.NotFound":                   "OIDC Settings not found",
	"Errors.Project.Invalid":                         "Project is invalid",
	"Errors.SigningKey.NextTooYoung":                 "The next signing key was published too recently to sign; rotate again later", // ours
	"Errors.Project.NotFound":                        "Project not found",
	"Errors.Project.AlreadyExists":                   "Project already exists on organization",
	"Errors.Project.App.NotExisting":                 "Application doesn't exist",
	"Errors.Project.App.Invalid":                     "Application invalid",
	"Errors.Project.App.OIDCConfigInvalid":           "OIDC configuration is invalid",
	"Errors.Project.App.AuthMethodNoPrivateKeyJWT":   "Chosen Auth Method does not require a key",
	"Errors.Project.App.Key.NotFound":                "Application key not found",
	"Errors.AuthNKey.NotFound":                       "AuthN Key not found",
	"Errors.Project.App.IsNotOIDC":                   "Application is not type OIDC",
	"Errors.Project.App.ClientSecretInvalid":         "Client Secret is invalid",
}

// Text returns the English text of a message that is an error key
// ("Errors.User.NotFound"), optionally followed by ": detail", which is
// kept. ZITADEL's instance keys were renamed from Errors.IAM.* to
// Errors.Instance.*, and its code still raises the old names untranslated;
// they are answered with the new names' texts. A message that is no known
// key is returned as it is.
func Text(msg string) string {
	if !strings.HasPrefix(msg, "Errors.") {
		return msg
	}
	key, rest := msg, ""
	if i := strings.Index(msg, ": "); i >= 0 {
		key, rest = msg[:i], msg[i:]
	}
	if t, ok := englishText[key]; ok {
		return t + rest
	}
	if strings.HasPrefix(key, "Errors.IAM.") {
		if t, ok := englishText["Errors.Instance."+strings.TrimPrefix(key, "Errors.IAM.")]; ok {
			return t + rest
		}
	}
	return msg
}
