package main

import (
	"encoding/base64"
	"fmt"
)

// idpBody returns a valid add request body for the IdP kind at path, with
// every required field filled and realistic sizes (secrets included, so the
// sealing cost is part of the measurement).
func idpBody(path, name string) map[string]any {
	b := map[string]any{"name": name}
	client := func() {
		b["clientId"] = "client-" + name
		b["clientSecret"] = "secret-0123456789abcdef-" + name
		b["scopes"] = []string{"openid", "profile", "email"}
	}
	switch path {
	case "generic_oidc":
		client()
		b["issuer"] = "https://issuer.example.com"
	case "generic_jwt":
		b["issuer"] = "https://issuer.example.com"
		b["jwtEndpoint"] = "https://issuer.example.com/jwt"
		b["keysEndpoint"] = "https://issuer.example.com/keys"
		b["headerName"] = "x-auth"
	case "ldap":
		b["servers"] = []string{"ldaps://ldap.example.com:636"}
		b["baseDn"] = "dc=example,dc=com"
		b["bindDn"] = "cn=admin,dc=example,dc=com"
		b["bindPassword"] = "bind-password-" + name
		b["userBase"] = "ou=people"
		b["userObjectClasses"] = []string{"inetOrgPerson"}
		b["userFilters"] = []string{"uid"}
		b["attributes"] = map[string]any{"idAttribute": "uid", "emailAttribute": "mail"}
	case "oauth":
		client()
		b["authorizationEndpoint"] = "https://oauth.example.com/authorize"
		b["tokenEndpoint"] = "https://oauth.example.com/token"
		b["userEndpoint"] = "https://oauth.example.com/userinfo"
		b["idAttribute"] = "sub"
	case "azure":
		client()
		b["tenant"] = map[string]any{"tenantType": "AZURE_AD_TENANT_TYPE_ORGANISATIONS"}
	case "github", "gitlab", "google":
		client()
	case "github_es":
		client()
		b["authorizationEndpoint"] = "https://github.example.com/login/oauth/authorize"
		b["tokenEndpoint"] = "https://github.example.com/login/oauth/access_token"
		b["userEndpoint"] = "https://github.example.com/api/v3/user"
	case "gitlab_self_hosted":
		client()
		b["issuer"] = "https://gitlab.example.com"
	case "apple":
		b["clientId"] = "com.example." + name
		b["teamId"] = "ABCDE12345"
		b["keyId"] = "KEY1234567"
		b["privateKey"] = base64.StdEncoding.EncodeToString([]byte("-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg" + name + "\n-----END PRIVATE KEY-----\n"))
		b["scopes"] = []string{"name", "email"}
	case "saml":
		b["metadataXml"] = base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf(
			`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://saml.example.com/%s">`+
				`<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">`+
				`<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://saml.example.com/sso"/>`+
				`</IDPSSODescriptor></EntityDescriptor>`, name)))
		b["binding"] = "SAML_BINDING_POST"
	}
	return b
}

// humanBody is an AddHumanUser request in org.
func humanBody(org, username string) map[string]any {
	return map[string]any{
		"username":     username,
		"organization": map[string]any{"orgId": org},
		"profile":      map[string]any{"givenName": "Bench", "familyName": "User " + username},
		"email":        map[string]any{"email": username + "@bench.example.com", "isVerified": true},
	}
}

// linkBody is an AddIDPLink request.
func linkBody(idpID, externalID string) map[string]any {
	return map[string]any{"idpLink": map[string]any{"idpId": idpID, "userId": externalID, "userName": linkUserName(externalID)}}
}

// linkUserName is the external user name of a link to externalID.
func linkUserName(externalID string) string { return externalID + "@idp" }
