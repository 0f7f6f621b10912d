package command_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idledger/idledger/authz"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// eventUserIndex answers UserIDsByLoginName from the user events of the
// store, as the users table does.
type eventUserIndex struct{ store eventstore.Store }

func (x eventUserIndex) UserIDsByLoginName(ctx context.Context, instanceID, loginName string) ([]string, error) {
	evs, err := x.store.Read(ctx, eventstore.Filter{InstanceID: instanceID,
		EventTypes: []string{events.UserHumanAdded, events.UserMachineAdded}})
	if err != nil {
		return nil, err
	}
	var ids []string
	for i := range evs {
		var p struct {
			Username string `json:"username"`
		}
		if err := evs[i].Unmarshal(&p); err != nil {
			return nil, err
		}
		if strings.EqualFold(p.Username, loginName) {
			ids = append(ids, evs[i].AggregateID)
		}
	}
	return ids, nil
}

func (x eventUserIndex) UserIDsByLoginNameLoad(instanceID, loginName string) *eventstore.Load {
	return eventstore.LoadIDs("", nil, func(ctx context.Context) ([]string, error) { return x.UserIDsByLoginName(ctx, instanceID, loginName) })
}

type machineEnv struct {
	*sessionEnv
	machine string
}

func newMachineEnv(t *testing.T) *machineEnv {
	t.Helper()
	env := newSessionEnv(t, 0)
	ids := &seqIDs{}
	ids.n.Store(100) // past the IDs newSessionEnv handed out
	env.c = command.New(command.Deps{Store: env.store, IDs: ids, Members: eventMemberIndex{env.store},
		Users: eventUserIndex{env.store}, Now: func() time.Time { return env.now }})
	id := "robot-id"
	d, err := env.c.AddMachine(env.owner, command.AddMachine{OrgID: scOrg, UserID: &id, Username: "robot", Name: "R"})
	if err != nil {
		t.Fatal(err)
	}
	return &machineEnv{sessionEnv: env, machine: d.ID}
}

func TestMachineSecret(t *testing.T) {
	env := newMachineEnv(t)
	s, err := env.c.GenerateMachineSecret(env.owner, scOrg, env.machine)
	if err != nil {
		t.Fatal(err)
	}
	if s.ClientID != "robot" || len(s.ClientSecret) != 64 {
		t.Fatalf("secret = %+v", s)
	}
	for _, id := range []string{"robot", "ROBOT"} {
		if u, err := env.c.CheckMachineSecret(context.Background(), scInst, id, s.ClientSecret); err != nil || u != env.machine {
			t.Fatalf("check %s = %q, %v", id, u, err)
		}
	}
	for _, bad := range [][2]string{{"robot", s.ClientSecret + "x"}, {"robot", ""}, {"nobody", s.ClientSecret},
		{"alice", s.ClientSecret}} {
		_, err := env.c.CheckMachineSecret(context.Background(), scInst, bad[0], bad[1])
		wantErr(t, err, errs.KindUnauthenticated, "COMMAND-Msec1")
	}
	// regenerate: the old secret fails
	s2, err := env.c.GenerateMachineSecret(env.owner, scOrg, env.machine)
	if err != nil || s2.ClientSecret == s.ClientSecret {
		t.Fatalf("regenerate: %v", err)
	}
	_, err = env.c.CheckMachineSecret(context.Background(), scInst, "robot", s.ClientSecret)
	wantErr(t, err, errs.KindUnauthenticated, "COMMAND-Msec1")
	if _, err := env.c.CheckMachineSecret(context.Background(), scInst, "robot", s2.ClientSecret); err != nil {
		t.Fatal(err)
	}
	// remove
	if _, err := env.c.RemoveMachineSecret(env.owner, scOrg, env.machine); err != nil {
		t.Fatal(err)
	}
	_, err = env.c.CheckMachineSecret(context.Background(), scInst, "robot", s2.ClientSecret)
	wantErr(t, err, errs.KindUnauthenticated, "COMMAND-Msec1")
	_, err = env.c.RemoveMachineSecret(env.owner, scOrg, env.machine)
	wantErr(t, err, errs.KindFailedPrecondition, "COMMAND-coi82n")

	// a human is refused; only hashes are stored
	_, err = env.c.GenerateMachineSecret(env.owner, scOrg, env.userID)
	wantErr(t, err, errs.KindFailedPrecondition, "COMMAND-x8910n")
	_, err = env.c.RemoveMachineSecret(env.owner, scOrg, env.userID)
	wantErr(t, err, errs.KindFailedPrecondition, "COMMAND-x7s802")
	evs, err := env.store.Read(context.Background(), eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if strings.Contains(string(e.Payload), s.ClientSecret) || strings.Contains(string(e.Payload), s2.ClientSecret) {
			t.Fatalf("secret in event %s", e.Type)
		}
	}
}

func TestMachineCredentialsFollowPower(t *testing.T) {
	env := newMachineEnv(t)
	// robot is an org owner; a user manager may not give it credentials
	if _, err := env.c.AddOrgMember(env.owner, scOrg, env.machine, []string{authz.OrgOwner}); err != nil {
		t.Fatal(err)
	}
	mgr := authz.WithCaller(context.Background(), scCaller("mgr", scOrg, authz.Membership{OrgID: scOrg, Roles: []string{authz.OrgUserManager}}))
	_, err := env.c.GenerateMachineSecret(mgr, scOrg, env.machine)
	wantErr(t, err, errs.KindPermissionDenied, "AUTHZ-Cov01")
	_, err = env.c.AddMachineKey(mgr, command.AddMachineKey{OrgID: scOrg, UserID: env.machine, Type: command.KeyTypeJSON})
	wantErr(t, err, errs.KindPermissionDenied, "AUTHZ-Cov01")
	if _, err := env.c.GenerateMachineSecret(env.owner, scOrg, env.machine); err != nil {
		t.Fatal(err)
	}
	_, err = env.c.RemoveMachineSecret(mgr, scOrg, env.machine)
	wantErr(t, err, errs.KindPermissionDenied, "AUTHZ-Cov01")
	// another org's context does not find the user
	_, err = env.c.GenerateMachineSecret(env.owner, scOrgB, env.machine)
	wantErr(t, err, errs.KindNotFound, "COMMAND-Dggw2")
	ownerB := authz.WithCaller(context.Background(), scOrgOwner(scOrgB))
	_, err = env.c.GenerateMachineSecret(ownerB, scOrg, env.machine)
	if errs.KindOf(err) != errs.KindPermissionDenied && errs.KindOf(err) != errs.KindNotFound {
		t.Fatalf("owner of B on A: %v", err)
	}
}

func TestMachineKeys(t *testing.T) {
	env := newMachineEnv(t)
	ctx := context.Background()
	k, err := env.c.AddMachineKey(env.owner, command.AddMachineKey{OrgID: scOrg, UserID: env.machine, Type: command.KeyTypeJSON})
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Type, KeyID, Key, UserID string
		ExpirationDate           time.Time
	}
	if err := json.Unmarshal(k.KeyFile, &file); err != nil {
		t.Fatal(err)
	}
	if file.Type != "serviceaccount" || file.KeyID != k.KeyID || file.UserID != env.machine ||
		!file.ExpirationDate.Equal(command.DefaultKeyExpiration) {
		t.Fatalf("key file = %s", k.KeyFile)
	}
	block, _ := pem.Decode([]byte(file.Key))
	if block == nil || block.Type != "RSA PRIVATE KEY" {
		t.Fatalf("key = %q", file.Key)
	}
	priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	// the private key signs an assertion the stored public key verifies
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: priv},
		(&jose.SignerOptions{}).WithHeader("kid", file.KeyID))
	if err != nil {
		t.Fatal(err)
	}
	assertion, err := jwt.Signed(signer).Claims(jwt.Claims{Issuer: file.UserID, Subject: file.UserID,
		Audience: jwt.Audience{"https://issuer.example"}, IssuedAt: jwt.NewNumericDate(env.now)}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var claims jwt.Claims
	if err := parsed.UnsafeClaimsWithoutVerification(&claims); err != nil {
		t.Fatal(err)
	}
	mk, err := env.c.MachineKeyByID(ctx, scInst, parsed.Headers[0].KeyID, claims.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	if err := parsed.Claims(mk.PublicKey, &claims); err != nil {
		t.Fatalf("assertion does not verify with the stored key: %v", err)
	}
	if !strings.HasPrefix(mk.PublicKeyPEM, "-----BEGIN RSA PUBLIC KEY-----") {
		t.Fatalf("stored PEM = %q", mk.PublicKeyPEM)
	}
	// the private key is in no event
	evs, err := env.store.Read(ctx, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Split(strings.TrimSpace(file.Key), "\n")[3]
	for _, e := range evs {
		if strings.Contains(string(e.Payload), body) {
			t.Fatalf("private key in event %s", e.Type)
		}
	}
	// wrong user or key
	_, err = env.c.MachineKeyByID(ctx, scInst, k.KeyID, env.userID)
	wantErr(t, err, errs.KindNotFound, "COMMAND-4m77G")
	_, err = env.c.MachineKeyByID(ctx, scInst, "nope", env.machine)
	wantErr(t, err, errs.KindNotFound, "COMMAND-4m77G")

	// a caller-supplied public key, expiring
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	exp := env.now.Add(time.Hour)
	k2, err := env.c.AddMachineKey(env.owner, command.AddMachineKey{OrgID: scOrg, UserID: env.machine, Type: command.KeyTypeJSON,
		Expiration: exp, PublicKey: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})})
	if err != nil || k2.KeyFile != nil {
		t.Fatalf("supplied key: %+v, %v", k2, err)
	}
	mk2, err := env.c.MachineKeyByID(ctx, scInst, k2.KeyID, env.machine)
	if err != nil || !mk2.PublicKey.(*ecdsa.PublicKey).Equal(&ec.PublicKey) || !mk2.Expiration.Equal(exp) {
		t.Fatalf("supplied key lookup: %+v, %v", mk2, err)
	}
	env.now = exp.Add(time.Second)
	_, err = env.c.MachineKeyByID(ctx, scInst, k2.KeyID, env.machine)
	wantErr(t, err, errs.KindNotFound, "COMMAND-4m77G")

	// bad input
	for _, in := range []command.AddMachineKey{
		{Type: command.KeyTypeJSON, PublicKey: []byte("not a key")},
		{Type: command.KeyTypeJSON, Expiration: env.now.Add(-time.Second)},
		{Type: 0},
	} {
		in.OrgID, in.UserID = scOrg, env.machine
		_, err := env.c.AddMachineKey(env.owner, in)
		if errs.KindOf(err) != errs.KindInvalidArgument {
			t.Fatalf("%+v: %v", in, err)
		}
	}
	_, err = env.c.AddMachineKey(env.owner, command.AddMachineKey{OrgID: scOrg, UserID: env.userID, Type: command.KeyTypeJSON,
		PublicKey: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})})
	wantErr(t, err, errs.KindFailedPrecondition, "COMMAND-Dggw3")

	// list (expired included) and remove
	list, err := env.c.ListMachineKeys(env.owner, scOrg, env.machine)
	if err != nil || len(list) != 2 || list[0].KeyID != k.KeyID || list[1].KeyID != k2.KeyID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if _, err := env.c.RemoveMachineKey(env.owner, scOrg, env.machine, k.KeyID); err != nil {
		t.Fatal(err)
	}
	_, err = env.c.MachineKeyByID(ctx, scInst, k.KeyID, env.machine)
	wantErr(t, err, errs.KindNotFound, "COMMAND-4m77G")
	_, err = env.c.RemoveMachineKey(env.owner, scOrg, env.machine, k.KeyID)
	wantErr(t, err, errs.KindNotFound, "COMMAND-4m77G")
	if list, err := env.c.ListMachineKeys(env.owner, scOrg, env.machine); err != nil || len(list) != 1 {
		t.Fatalf("list after remove = %+v, %v", list, err)
	}
}
