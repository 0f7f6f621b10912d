package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/idledger/idledger/internal/app/apptest"
)

// TestStartIntentReadsIDPChanges: a start decides on the IdP as its last
// write left it, however often it was started before: a changed client ID
// and secret show in the next start's auth URL and serve the code exchange
// at the upstream; a removed IdP starts no intent.
func TestStartIntentReadsIDPChanges(t *testing.T) {
	env := newIntentEnv(t, nil)
	cb := env.URL + "/idps/callback"
	op := newTestOP(t, storage.WebClient("first", "s3cret-first", cb), storage.WebClient("second", "s3cret-second", cb))
	body := func(client string) string {
		return fmt.Sprintf(`{"name":"OP","issuer":%q,"clientId":%q,"clientSecret":"s3cret-%s"}`, op.URL, client, client)
	}
	idpID := plIDP(t, env, "", "generic_oidc", body("first"))
	clientOf := func() string {
		t.Helper()
		u, err := url.Parse(startIntent(t, env, idpID)["authUrl"].(string))
		if err != nil {
			t.Fatal(err)
		}
		return u.Query().Get("client_id")
	}
	for range 3 {
		if got := clientOf(); got != "first" {
			t.Fatalf("start before the change: client_id %q", got)
		}
	}
	env.MustDo(t, http.StatusOK, "PUT", "/admin/v1/idps/generic_oidc/"+idpID, body("second"))
	if got := clientOf(); got != "second" {
		t.Fatalf("start after the change: client_id %q, want second", got)
	}
	// The whole login with the new client: the code exchange at the OP
	// authenticates with the new secret.
	id, token := oidcLogin(t, env, idpID)
	env.MustDo(t, http.StatusOK, "POST", "/v2/idp_intents/"+id, map[string]string{"idpIntentToken": token})

	env.MustDo(t, http.StatusOK, "DELETE", "/admin/v1/idps/templates/"+idpID, nil)
	st, b := env.Do(t, "POST", "/v2/idp_intents", map[string]any{"idpId": idpID,
		"urls": map[string]string{"successUrl": successURL, "failureUrl": failureURL}})
	if st != http.StatusBadRequest || apptest.ErrorID(b) != "COMMAND-as02jin" {
		t.Fatalf("start at a removed IdP: %d %s", st, b)
	}
}
