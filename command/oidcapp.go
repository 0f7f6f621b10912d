package command

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/idledger/idledger/events"
)

// The OIDC app enums (events.OIDCConfig), by ZITADEL's numbers.
const (
	ResponseTypeCode        = 0
	ResponseTypeIDToken     = 1
	ResponseTypeIDTokenTok  = 2
	GrantAuthorizationCode  = 0
	GrantImplicit           = 1
	GrantRefreshToken       = 2
	GrantDeviceCode         = 3
	GrantTokenExchange      = 4
	AppTypeWeb              = 0
	AppTypeUserAgent        = 1
	AppTypeNative           = 2
	AuthMethodBasic         = 0
	AuthMethodPost          = 1
	AuthMethodNone          = 2
	AuthMethodPrivateKeyJWT = 3
	APIAuthBasic            = 0
	APIAuthPrivateKeyJWT    = 1
	maxClockSkew            = 5 * time.Second
)

// Compliance is ZITADEL's OIDC 1.0 compliance report of an app's config:
// it never blocks a write. Problems are i18n keys
// ("Application.OIDC.V1.NoRedirectUris"); ComplianceText has their
// English texts.
type Compliance struct {
	NoneCompliant bool
	Problems      []string
}

// OIDCNeedsSecret reports whether an OIDC auth method authenticates with a
// client secret (basic and post).
func OIDCNeedsSecret(authMethod int) bool {
	return authMethod == AuthMethodBasic || authMethod == AuthMethodPost
}

// oidcDefaults fills what ZITADEL's API fills: response type code and grant
// type authorization_code when none is given; lists are trimmed as the
// events store them.
func oidcDefaults(cfg *events.OIDCConfig) {
	if len(cfg.ResponseTypes) == 0 {
		cfg.ResponseTypes = []int{ResponseTypeCode}
	}
	if len(cfg.GrantTypes) == 0 {
		cfg.GrantTypes = []int{GrantAuthorizationCode}
	}
	for _, l := range []*[]string{&cfg.RedirectURIs, &cfg.PostLogoutRedirectURIs, &cfg.AdditionalOrigins} {
		for i := range *l {
			(*l)[i] = strings.TrimSpace((*l)[i])
		}
	}
	cfg.BackChannelLogoutURI = strings.TrimSpace(cfg.BackChannelLogoutURI)
	cfg.LoginBaseURI = strings.TrimSpace(cfg.LoginBaseURI)
}

// oidcValid is ZITADEL's OIDCApp.IsValid: the clock skew within 0 to 5 s,
// every additional origin an origin, and each response type's grant
// present (code needs authorization_code, or device_code when that is
// chosen; id_token and id_token token need implicit).
func oidcValid(cfg events.OIDCConfig) bool {
	if cfg.ClockSkew < 0 || cfg.ClockSkew > maxClockSkew {
		return false
	}
	for _, o := range cfg.AdditionalOrigins {
		if !isOrigin(o) {
			return false
		}
	}
	required := requiredGrants(cfg.ResponseTypes, cfg.GrantTypes)
	if len(required) == 0 {
		return false
	}
	for _, g := range required {
		if !slices.Contains(cfg.GrantTypes, g) {
			return false
		}
	}
	if cfg.BackChannelLogoutURI != "" {
		if _, err := url.Parse(cfg.BackChannelLogoutURI); err != nil {
			return false
		}
	}
	return true
}

func requiredGrants(responseTypes, grants []int) []int {
	var out []int
	implicit := false
	for _, r := range responseTypes {
		switch r {
		case ResponseTypeCode:
			if slices.Contains(grants, GrantDeviceCode) {
				out = append(out, GrantDeviceCode)
			} else {
				out = append(out, GrantAuthorizationCode)
			}
		case ResponseTypeIDToken, ResponseTypeIDTokenTok:
			if !implicit {
				implicit = true
				out = append(out, GrantImplicit)
			}
		}
	}
	return out
}

// isOrigin reports whether s is scheme://host[:port] with nothing else, as
// ZITADEL's http_util.IsOrigin.
func isOrigin(s string) bool {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return false
	}
	return u.Scheme != "" && u.Host != "" && u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

// OIDCCompliance is ZITADEL's GetOIDCV1Compliance of cfg. ZITADEL lists
// "Application.OIDC.V1.NotCompliant" twice in a non-compliant report (its
// application-type check prepends it, then the caller again); idledger
// lists it once, first.
func OIDCCompliance(cfg events.OIDCConfig) Compliance {
	var c Compliance
	if cfg.Version != 0 {
		return Compliance{NoneCompliant: true, Problems: []string{"Application.OIDC.UnsupportedVersion"}}
	}
	g := cfg.GrantTypes
	has := func(x int) bool { return slices.Contains(g, x) }
	problem := func(key string) { c.NoneCompliant = true; c.Problems = append(c.Problems, key) }
	if !has(GrantDeviceCode) && has(GrantRefreshToken) && !has(GrantAuthorizationCode) {
		problem("Application.OIDC.V1.GrantType.Refresh.NoAuthCode")
	}
	uris, appType := cfg.RedirectURIs, cfg.ApplicationType
	if len(uris) == 0 && (!has(GrantDeviceCode) || has(GrantAuthorizationCode)) {
		c.NoneCompliant = true
		c.Problems = append([]string{"Application.OIDC.V1.NoRedirectUris"}, c.Problems...)
	}
	switch {
	case allHTTPS(uris):
		// Nothing to report, not even NotAllCombinationsAreAllowed: ZITADEL
		// returns first when every URI is https (or there is none).
	case has(GrantImplicit) && has(GrantAuthorizationCode):
		if anyCustom(uris) && appType != AppTypeNative {
			problem("Application.OIDC.V1.Implicit.RedirectUris.CustomNotAllowed")
		}
		if anyHTTP(uris) {
			if appType == AppTypeUserAgent {
				problem("Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb")
			}
			if appType == AppTypeNative && !onlyLoopbackHTTP(uris) {
				problem("Application.OIDC.V1.Native.RedirectUris.MustBeHttpLocalhost")
			}
		}
		if !c.NoneCompliant {
			c.Problems = append(c.Problems, "Application.OIDC.V1.NotAllCombinationsAreAllowed")
		}
	default:
		if has(GrantImplicit) {
			if anyCustom(uris) {
				problem("Application.OIDC.V1.Implicit.RedirectUris.CustomNotAllowed")
			}
			if anyHTTP(uris) {
				if appType != AppTypeNative {
					problem("Application.OIDC.V1.Implicit.RedirectUris.HttpNotAllowed")
				} else if !onlyLoopbackHTTP(uris) {
					problem("Application.OIDC.V1.Native.RedirectUris.MustBeHttpLocalhost")
				}
			}
		}
		if has(GrantAuthorizationCode) {
			if anyHTTP(uris) {
				if appType == AppTypeUserAgent {
					problem("Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb")
				}
				if appType == AppTypeNative && !onlyLoopbackHTTP(uris) {
					problem("Application.OIDC.V1.Native.RedirectUris.MustBeHttpLocalhost")
				}
			}
			if anyCustom(uris) && appType != AppTypeNative {
				problem("Application.OIDC.V1.Code.RedirectUris.CustomOnlyForNative")
			}
		}
	}
	if cfg.AuthMethodType != AuthMethodNone {
		switch appType {
		case AppTypeNative:
			problem("Application.OIDC.V1.Native.AuthMethodType.NotNone")
		case AppTypeUserAgent:
			problem("Application.OIDC.V1.UserAgent.AuthMethodType.NotNone")
		}
	}
	if c.NoneCompliant {
		c.Problems = append([]string{"Application.OIDC.V1.NotCompliant"}, c.Problems...)
	}
	return c
}

func allHTTPS(uris []string) bool {
	for _, u := range uris {
		if !strings.HasPrefix(u, "https://") {
			return false
		}
	}
	return true
}

func anyHTTP(uris []string) bool {
	return slices.ContainsFunc(uris, func(u string) bool { return strings.HasPrefix(u, "http://") })
}

func anyCustom(uris []string) bool {
	return slices.ContainsFunc(uris, func(u string) bool {
		return !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://")
	})
}

// onlyLoopbackHTTP reports whether every http:// URI names localhost or a
// loopback address.
func onlyLoopbackHTTP(uris []string) bool {
	for _, s := range uris {
		u, err := url.ParseRequestURI(s)
		if err != nil {
			return false
		}
		if u.Scheme != "http" {
			continue
		}
		h := u.Hostname()
		if h == "localhost" {
			continue
		}
		if a, err := netip.ParseAddr(h); err != nil || !a.IsLoopback() {
			return false
		}
	}
	return true
}

// complianceText are the English texts of the compliance keys (ZITADEL's
// en.yaml, "Application:").
var complianceText = map[string]string{
	"Application.OIDC.UnsupportedVersion":                         "Your OIDC version is not supported",
	"Application.OIDC.V1.NotCompliant":                            "Your configuration is not compliant and differs from OIDC 1.0 standard.",
	"Application.OIDC.V1.NoRedirectUris":                          "At least one redirect uri must be registered.",
	"Application.OIDC.V1.NotAllCombinationsAreAllowed":            "Configuration is compliant, but not all possible combinations are allowed.",
	"Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb":        `Grant type "code" only allows http redirect uris for apptype "web".`,
	"Application.OIDC.V1.Code.RedirectUris.CustomOnlyForNative":   `Grant type "code" only allows custom redirect uris for apptype "native"  (e.g appname:// )`,
	"Application.OIDC.V1.Implicit.RedirectUris.CustomNotAllowed":  "Grant type implicit doesn't allow custom redirect uris",
	"Application.OIDC.V1.Implicit.RedirectUris.HttpNotAllowed":    "Grant type implicit doesn't allow http redirect uris",
	"Application.OIDC.V1.Native.AuthMethodType.NotNone":           "Native applications should have authmethodtype none.",
	"Application.OIDC.V1.Native.RedirectUris.MustBeHttpLocalhost": "Redirect URIs must begin with your own protocol, http://127.0.0.1, http://[::1] or http://localhost.",
	"Application.OIDC.V1.UserAgent.AuthMethodType.NotNone":        "User agent app should have authmethodtype none.",
	"Application.OIDC.V1.GrantType.Refresh.NoAuthCode":            "Refresh Token only allowed in combination with Authorization Code.",
}

// ComplianceText returns the English text of a compliance problem key (the
// key itself when it has none).
func ComplianceText(key string) string {
	if t, ok := complianceText[key]; ok {
		return t
	}
	return key
}
