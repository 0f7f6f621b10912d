package command_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/secretbox"
)

// samlStored is the latest stored config of SAML IdP id, its key opened.
func samlStored(t *testing.T, env *idpEnv, id string) (key string, cert []byte) {
	t.Helper()
	var c idp.SAMLConfig
	if err := json.Unmarshal(latestConfig(t, env, id), &c); err != nil {
		t.Fatal(err)
	}
	if c.Key == "" {
		return "", c.Certificate
	}
	s, err := secretbox.ParseSealed(c.Key)
	if err != nil {
		t.Fatalf("spKey is not sealed: %v", err)
	}
	pt, err := env.keys.Open(s, secretbox.AAD{InstanceID: testInstance, IDPID: id, Field: "spKey"})
	if err != nil {
		t.Fatal(err)
	}
	return pt, c.Certificate
}

// TestSAMLKeyPair: AddIDP generates the SP key pair (a body's own spKey and
// spCertificate are ignored), sealed; an update keeps it; an IdP stored
// without one (older events) gets one on its next update.
func TestSAMLKeyPair(t *testing.T) {
	env := newIDPEnv(t)
	ctx := iamOwner()
	body := setJSON(t, setJSON(t, idpBodies["saml"], "spKey", "S-client-key"), "spCertificate", "Uy1jbGllbnQtY2VydA==")
	d, err := env.cmds.AddIDP(ctx, systemOwner, tplOf(t, "saml", body))
	if err != nil {
		t.Fatal(err)
	}
	key, cert := samlStored(t, env, d.ID)
	block, _ := pem.Decode(cert)
	if !strings.HasPrefix(key, "-----BEGIN RSA PRIVATE KEY-----") || block == nil {
		t.Fatalf("generated pair: key %.40q cert %q", key, cert)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !strings.Contains(c.Subject.CommonName, d.ID) {
		t.Fatalf("certificate: %v %v", c, err)
	}
	if raw := latestConfig(t, env, d.ID); strings.Contains(string(raw), "PRIVATE KEY") {
		t.Fatalf("plaintext key in the event: %s", raw)
	}

	// An update (with a body's spKey again) keeps the pair.
	upd := setJSON(t, body, "withSignedRequest", true)
	if _, err := env.cmds.UpdateIDP(ctx, systemOwner, d.ID, tplOf(t, "saml", upd)); err != nil {
		t.Fatal(err)
	}
	if k2, c2 := samlStored(t, env, d.ID); k2 != key || string(c2) != string(cert) {
		t.Fatal("an update changed the SP key pair")
	}

	// An IdP stored without a pair: the next update, even with the same
	// values, generates one.
	var old map[string]any
	_ = json.Unmarshal(latestConfig(t, env, d.ID), &old)
	delete(old, "spKey")
	delete(old, "spCertificate")
	cfg, _ := json.Marshal(old)
	if _, err := env.store.Append(context.Background(), eventstore.Append{Aggregates: []eventstore.AggregateAppend{{
		Aggregate:     eventstore.AggregateRef{InstanceID: testInstance, Type: events.AggIDP, ID: d.ID},
		ResourceOwner: testInstance,
		Expected:      uint64(len(idpEvents(t, env, d.ID))),
		Events: []eventstore.PendingEvent{{Type: events.IDPChanged, Payload: events.IDPChangedPayload{
			Kind: "saml", Name: "SAML", Config: cfg}}},
	}}}); err != nil {
		t.Fatal(err)
	}
	if k, _ := samlStored(t, env, d.ID); k != "" {
		t.Fatal("the seeded change kept the key")
	}
	if _, err := env.cmds.UpdateIDP(ctx, systemOwner, d.ID, tplOf(t, "saml", upd)); err != nil {
		t.Fatal(err)
	}
	if k3, c3 := samlStored(t, env, d.ID); k3 == "" || k3 == key || len(c3) == 0 {
		t.Fatal("the update did not generate a new pair")
	}
}
