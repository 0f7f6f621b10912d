package upstream_test

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/idp"
	"github.com/idledger/idledger/internal/pbjson"
	"github.com/idledger/idledger/internal/slapdtest"
	"github.com/idledger/idledger/upstream"
)

// A binary ID, as Active Directory's objectGUID, and an emailVerified
// that says "yes": neither is in the stock schemas.
const testSchema = `attributetype ( 1.3.6.1.4.1.55555.1.1 NAME 'objectGUID' DESC 'test: a binary ID'
	EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.55555.1.2 NAME 'emailVerified' DESC 'test: free text'
	EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.55555.2.1 NAME 'idledgerTestUser' AUXILIARY
	MAY ( objectGUID $ emailVerified ) )
`

// aliceGUID is not UTF-8.
var aliceGUID = []byte{0xff, 0xfe, 0x00, 0x01, 0x80, 0x81, 0xc0, 0x41, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80}

func seed() string {
	return `dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: cn=reader,dc=example,dc=org
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: reader-secret

dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
objectClass: idledgerTestUser
uid: alice
cn: Alice Smith
givenName: Alice
sn: Smith
displayName: Alice S.
mail: alice@example.org
emailVerified: Yes
preferredLanguage: de
telephoneNumber: +41 44 123 45 67
labeledURI: https://example.org/~alice
objectGUID:: ` + base64.StdEncoding.EncodeToString(aliceGUID) + `
userPassword: alice-pw

dn: uid=bob (admin),ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: bob (admin)
cn: Bob
sn: Admin
userPassword: bob-pw

dn: cn=Doe\, John,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: jdoe
cn: Doe, John
sn: Doe
userPassword: jdoe-pw

dn: cn=star,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: st*r
cn: star
sn: Star
userPassword: star-pw

dn: cn=backslash,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: back\slash
cn: backslash
sn: Slash
userPassword: back-pw

dn: uid=twin1,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: twin1
cn: Twin One
sn: Twin
mail: twin@example.org
userPassword: twin-pw

dn: uid=twin2,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: twin2
cn: Twin Two
sn: Twin
mail: twin@example.org
userPassword: twin-pw

dn: uid=carol,ou=people,dc=example,dc=org
objectClass: account
objectClass: simpleSecurityObject
uid: carol
userPassword: carol-pw
`
}

// testPasswords are every password of the seed and the tests: none may
// appear in an error.
var testPasswords = []string{"reader-secret", "alice-pw", "bob-pw", "jdoe-pw", "star-pw", "back-pw", "twin-pw", "carol-pw", "wrong"}

func ldapConfig(s *slapdtest.Server) idp.LDAPConfig {
	return idp.LDAPConfig{
		Servers:           []string{s.URL},
		BaseDN:            "ou=people," + s.Suffix,
		BindDN:            "cn=reader," + s.Suffix,
		BindPassword:      "reader-secret",
		UserBase:          "dn",
		UserObjectClasses: []string{"inetOrgPerson"},
		UserFilters:       []string{"uid", "mail"},
		Timeout:           pbjson.Duration(5 * time.Second),
		Attributes: idp.LDAPAttributes{
			IDAttribute:                "uid",
			FirstNameAttribute:         "givenName",
			LastNameAttribute:          "sn",
			DisplayNameAttribute:       "displayName",
			NickNameAttribute:          "cn",
			PreferredUsernameAttribute: "uid",
			EmailAttribute:             "mail",
			EmailVerifiedAttribute:     "emailVerified",
			PhoneAttribute:             "telephoneNumber",
			PreferredLanguageAttribute: "preferredLanguage",
			ProfileAttribute:           "labeledURI",
		},
	}
}

// loginFailed asserts the one answer to every failed login, and that its
// reason (for the log) contains want.
func loginFailed(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatal("login succeeded")
	}
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.KindInvalidArgument || e.ID != "COMMAND-nzun2i" || e.Message != "Errors.User.ExternalIDP.LoginFailed" {
		t.Fatalf("err = %v, want the login-failed error", err)
	}
	if !errors.Is(err, upstream.ErrLDAPLoginFailed) {
		t.Fatalf("errors.Is(%v, ErrLDAPLoginFailed) is false", err)
	}
	for _, pw := range testPasswords {
		if strings.Contains(err.Error(), pw) {
			t.Fatalf("a password in the error: %v", err)
		}
	}
	if e.Cause == nil || !strings.Contains(e.Cause.Error(), want) {
		t.Fatalf("reason = %v, want it to contain %q", e.Cause, want)
	}
}

func TestLDAPLogin(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{Schema: testSchema, LDIF: seed()})
	ctx := context.Background()

	t.Run("maps the attributes", func(t *testing.T) {
		res, err := upstream.LDAPLogin(ctx, ldapConfig(s), "alice", "alice-pw")
		if err != nil {
			t.Fatal(err)
		}
		u := res.User
		want := upstream.User{
			ID: "alice", PreferredUsername: "alice", FirstName: "Alice", LastName: "Smith",
			DisplayName: "Alice S.", NickName: "Alice Smith", Email: "alice@example.org", EmailVerified: true,
			Phone: "+41 44 123 45 67", PreferredLanguage: "de", ProfileURL: "https://example.org/~alice",
		}
		raw := u.Raw
		u.Raw = nil
		if !reflect.DeepEqual(u, want) {
			t.Errorf("user = %+v\nwant   %+v", u, want)
		}
		if raw["id"] != "alice" || raw["email"] != "alice@example.org" || raw["emailVerified"] != true ||
			raw["profile"] != "https://example.org/~alice" || raw["phoneVerified"] != nil || len(raw) != 11 {
			t.Errorf("raw = %v", raw)
		}
		if got := res.LDAP["uid"]; len(got) != 1 || got[0] != "alice" {
			t.Errorf("LDAP[uid] = %v", got)
		}
		if got := res.LDAP["objectClass"]; len(got) != 2 {
			t.Errorf("LDAP[objectClass] = %v", got)
		}
		if got := res.LDAP["objectGUID"]; len(got) != 1 || got[0] != base64.StdEncoding.EncodeToString(aliceGUID) {
			t.Errorf("LDAP[objectGUID] = %v", got)
		}
		if _, ok := res.LDAP["userPassword"]; ok {
			t.Error("the entry's userPassword reached the result")
		}
		if res.AccessToken != "" || !res.ExpiresAt.IsZero() {
			t.Errorf("result = %+v", res)
		}
	})

	t.Run("a non-UTF-8 ID is base64", func(t *testing.T) {
		cfg := ldapConfig(s)
		cfg.Attributes.IDAttribute = "objectGUID"
		res, err := upstream.LDAPLogin(ctx, cfg, "alice@example.org", "alice-pw")
		if err != nil {
			t.Fatal(err)
		}
		if want := base64.StdEncoding.EncodeToString(aliceGUID); res.User.ID != want || res.User.Raw["id"] != want {
			t.Errorf("ID = %q, want %q", res.User.ID, want)
		}
	})

	t.Run("an entry without the ID attribute", func(t *testing.T) {
		cfg := ldapConfig(s)
		cfg.Attributes.IDAttribute = "objectGUID"
		_, err := upstream.LDAPLogin(ctx, cfg, "jdoe", "jdoe-pw")
		loginFailed(t, err, "no objectGUID")
	})

	t.Run("email verified only for a truthy value", func(t *testing.T) {
		res, err := upstream.LDAPLogin(ctx, ldapConfig(s), "jdoe", "jdoe-pw")
		if err != nil {
			t.Fatal(err)
		}
		if res.User.EmailVerified || res.User.Email != "" {
			t.Errorf("user = %+v", res.User)
		}
		cfg := ldapConfig(s)
		cfg.Attributes.EmailVerifiedAttribute = ""
		res, err = upstream.LDAPLogin(ctx, cfg, "alice", "alice-pw")
		if err != nil {
			t.Fatal(err)
		}
		if res.User.EmailVerified {
			t.Error("verified without an emailVerifiedAttribute")
		}
	})

	for _, c := range []struct{ name, username, password, reason string }{
		{"wrong password", "alice", "bob-pw", "bind as the entry"},
		{"empty password", "alice", "", "empty"},
		{"empty username", "", "alice-pw", "empty"},
		{"unknown user", "mallory", "alice-pw", "no entry matches"},
		{"outside the object classes", "carol", "carol-pw", "no entry matches"},
		{"two entries match", "twin@example.org", "twin-pw", "several entries match"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := upstream.LDAPLogin(ctx, ldapConfig(s), c.username, c.password)
			loginFailed(t, err, c.reason)
		})
	}

	t.Run("the object classes and each filter", func(t *testing.T) {
		cfg := ldapConfig(s)
		cfg.UserObjectClasses = []string{"account"}
		if _, err := upstream.LDAPLogin(ctx, cfg, "carol", "carol-pw"); err != nil {
			t.Fatal(err)
		}
		// Each twin signs in by its own uid.
		if _, err := upstream.LDAPLogin(ctx, ldapConfig(s), "twin1", "twin-pw"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("wrong bindDn password", func(t *testing.T) {
		cfg := ldapConfig(s)
		cfg.BindPassword = "wrong"
		_, err := upstream.LDAPLogin(ctx, cfg, "alice", "alice-pw")
		loginFailed(t, err, "bind as bindDn")
	})

	t.Run("filter injection", func(t *testing.T) {
		// With ZITADEL's unescaped filter, "*" matches every entry and
		// "alice)(uid=*" rewrites the filter; each must be a literal
		// username that no entry has.
		for _, name := range []string{
			"*", "a*", "alic*", "*)(|(objectClass=*", "alice)(uid=*", "alice)(|(uid=*)",
			"alice\\", "\\2a", "(", ")", "alice)", "(uid=alice)", "alice\x00", "\x00", "*\x00*",
			"alice)(&", "st\\2ar", "bob (admin", "bob*",
		} {
			for _, pw := range []string{"alice-pw", "bob-pw", "star-pw"} {
				_, err := upstream.LDAPLogin(ctx, ldapConfig(s), name, pw)
				loginFailed(t, err, "no entry matches")
			}
		}
	})

	t.Run("values that need escaping", func(t *testing.T) {
		for name, pw := range map[string]string{
			"bob (admin)": "bob-pw", // parentheses, and in the DN
			"st*r":        "star-pw",
			`back\slash`:  "back-pw",
			"jdoe":        "jdoe-pw", // a comma in the DN
			"JDOE":        "jdoe-pw", // uid matches case-insensitively
		} {
			res, err := upstream.LDAPLogin(ctx, ldapConfig(s), name, pw)
			if err != nil {
				t.Errorf("%q: %v", name, err)
				continue
			}
			if !strings.EqualFold(res.User.ID, name) {
				t.Errorf("%q: ID = %q", name, res.User.ID)
			}
		}
	})

	t.Run("object classes are escaped", func(t *testing.T) {
		cfg := ldapConfig(s)
		cfg.UserObjectClasses = []string{"*"}
		_, err := upstream.LDAPLogin(ctx, cfg, "alice", "alice-pw")
		loginFailed(t, err, "no entry matches")
	})

	t.Run("a userFilter that is no attribute name", func(t *testing.T) {
		cfg := ldapConfig(s)
		cfg.UserFilters = []string{"uid=*)(uid"}
		_, err := upstream.LDAPLogin(ctx, cfg, "alice", "alice-pw")
		loginFailed(t, err, "no attribute name")
	})

	t.Run("first server down, second used", func(t *testing.T) {
		cfg := ldapConfig(s)
		cfg.Servers = []string{"ldap://127.0.0.1:" + closedPort(t), "http://127.0.0.1/", s.URL}
		res, err := upstream.LDAPLogin(ctx, cfg, "alice", "alice-pw")
		if err != nil {
			t.Fatal(err)
		}
		if res.User.ID != "alice" {
			t.Errorf("ID = %q", res.User.ID)
		}
	})

	t.Run("no server reachable", func(t *testing.T) {
		cfg := ldapConfig(s)
		cfg.Servers = []string{"ldap://127.0.0.1:" + closedPort(t), "ldap://127.0.0.1:" + closedPort(t)}
		_, err := upstream.LDAPLogin(ctx, cfg, "alice", "alice-pw")
		loginFailed(t, err, "no server reachable")
	})

	t.Run("a wrong password is tried at one server only", func(t *testing.T) {
		cfg := ldapConfig(s)
		cfg.Servers = []string{s.URL, "ldap://127.0.0.1:" + closedPort(t)}
		_, err := upstream.LDAPLogin(ctx, cfg, "alice", "wrong")
		loginFailed(t, err, "bind as the entry")
		if strings.Contains(err.Error(), "reachable") {
			t.Errorf("went on to the next server: %v", err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		hang := silentServer(t)
		cfg := ldapConfig(s)
		cfg.Timeout = pbjson.Duration(300 * time.Millisecond)
		cfg.Servers = []string{"ldap://" + hang}
		start := time.Now()
		_, err := upstream.LDAPLogin(ctx, cfg, "alice", "alice-pw")
		loginFailed(t, err, "timed out")
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v with a timeout of 300ms", d)
		}

		// StartTLS and ldaps against the silent server are bounded too.
		for _, c := range []struct {
			url      string
			startTLS bool
		}{{"ldap://" + hang, true}, {"ldaps://" + hang, false}} {
			cfg.Servers, cfg.StartTLS = []string{c.url}, c.startTLS
			start = time.Now()
			_, err = upstream.LDAPLogin(ctx, cfg, "alice", "alice-pw")
			loginFailed(t, err, "no server reachable")
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("%s (startTLS %v) took %v with a timeout of 300ms", c.url, c.startTLS, d)
			}
		}

		cfg.Servers, cfg.StartTLS = []string{"ldap://" + hang, s.URL}, false
		res, err := upstream.LDAPLogin(ctx, cfg, "alice", "alice-pw")
		if err != nil || res.User.ID != "alice" {
			t.Fatalf("silent server, then slapd: %v", err)
		}
	})

	t.Run("the context cancels", func(t *testing.T) {
		cfg := ldapConfig(s)
		cfg.Timeout = pbjson.Duration(time.Minute)
		cfg.Servers = []string{"ldap://" + silentServer(t), s.URL}
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := upstream.LDAPLogin(cctx, cfg, "alice", "alice-pw")
		loginFailed(t, err, "no server reachable")
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v after the context ended at 300ms", d)
		}
	})

	for _, c := range []struct {
		name     string
		url      string
		startTLS bool
	}{{"StartTLS", s.URL, true}, {"ldaps", s.TLSURL, false}} {
		t.Run(c.name+" with the root CA", func(t *testing.T) {
			cfg := ldapConfig(s)
			cfg.Servers, cfg.StartTLS = []string{c.url}, c.startTLS
			for _, ca := range [][]byte{s.CA, derOf(t, s.CA)} { // PEM or DER
				cfg.RootCA = ca
				if _, err := upstream.LDAPLogin(ctx, cfg, "alice", "alice-pw"); err != nil {
					t.Fatal(err)
				}
			}
			cfg.RootCA = slapdtest.UnrelatedCA(t)
			_, err := upstream.LDAPLogin(ctx, cfg, "alice", "alice-pw")
			loginFailed(t, err, "certificate")
			cfg.RootCA = nil // the system roots do not know the test CA
			_, err = upstream.LDAPLogin(ctx, cfg, "alice", "alice-pw")
			loginFailed(t, err, "certificate")
		})
	}

	t.Run("a rootCa that is no certificate", func(t *testing.T) {
		cfg := ldapConfig(s)
		cfg.RootCA = []byte("not a certificate")
		_, err := upstream.LDAPLogin(ctx, cfg, "alice", "alice-pw")
		loginFailed(t, err, "rootCa")
	})
}

// closedPort is a loopback port that nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	_ = l.Close()
	return port
}

// silentServer accepts connections and never answers; it returns its
// address.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

// derOf is the one certificate of a PEM block, as DER.
func derOf(t *testing.T, p []byte) []byte {
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatal("no PEM")
	}
	return b.Bytes
}
