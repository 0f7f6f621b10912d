package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/idp"
)

// ErrLDAPLoginFailed is the one answer to a failed LDAP login, whatever
// failed: no entry or several, a wrong password, no reachable server, a bad
// template. The caller sees only this ID and message; the reason is its
// Cause, for the server's log (it never holds a password).
var ErrLDAPLoginFailed = errs.InvalidArgument("COMMAND-nzun2i", "Errors.User.ExternalIDP.LoginFailed")

// DefaultLDAPTimeout bounds each step when the template sets no timeout.
const DefaultLDAPTimeout = 10 * time.Second

// LDAPLogin signs username in at the directory that cfg describes, the
// synchronous login of an LDAP IdP (login-flows.md §2).
//
// cfg.Servers are tried in order. A server that cannot be reached (dial,
// TLS handshake, StartTLS, or a network error or timeout before the user's
// password is sent) is skipped for the next one; any other answer is final,
// so a password is never tried at more than one server. ldaps:// URLs speak
// TLS from the start; ldap:// URLs upgrade with StartTLS when
// cfg.StartTLS is set and stay in clear text otherwise. Both verify the
// server's certificate against cfg.RootCA (PEM or DER) when set, or the
// system roots, for the URL's host name.
//
// cfg.Timeout (DefaultLDAPTimeout when zero) bounds the dial, the TLS
// handshake and every LDAP request, each on its own; ctx cancels the whole
// login at any point.
//
// With one server, the login binds as cfg.BindDN with cfg.BindPassword (the
// template's sealed secret, opened by the caller), searches cfg.BaseDN's
// subtree with
//
//	(&(objectClass=c1)…(|(f1=<username>)(f2=<username>)…))
//
// where every object class and every username is escaped
// (ldap.EscapeFilter: ZITADEL inserts the username unescaped, the filter
// injection GHSA-rxvx-hhpj-q6px / CVE-2026-44671), and requires exactly one
// entry. It then binds as that entry's DN with password. Zero or several
// entries and a refused bind all answer ErrLDAPLoginFailed, so the caller
// cannot tell an unknown user from a wrong password.
//
// cfg.UserBase is not used: ZITADEL requests it as the one attribute to
// return, which returns no attributes at all for its usual value "dn";
// idledger reads all the entry's user attributes.
//
// The attributes map to the User as cfg.Attributes says (see ldapUser);
// Result.LDAP holds every attribute of the entry as a list of strings, a
// value that is not UTF-8 (objectGUID, jpegPhoto) base64-encoded (standard
// encoding, padded). Neither password is logged or kept.
func LDAPLogin(ctx context.Context, cfg idp.LDAPConfig, username, password string) (Result, error) {
	if username == "" || password == "" {
		return Result{}, ErrLDAPLoginFailed.WithCause(errors.New("ldap: empty username or password"))
	}
	filter, err := ldapFilter(cfg.UserObjectClasses, cfg.UserFilters, username)
	if err != nil {
		return Result{}, ErrLDAPLoginFailed.WithCause(err)
	}
	timeout := cfg.Timeout.Std()
	if timeout <= 0 {
		timeout = DefaultLDAPTimeout
	}
	roots, err := ldapRoots(cfg.RootCA)
	if err != nil {
		return Result{}, ErrLDAPLoginFailed.WithCause(err)
	}
	if len(cfg.Servers) == 0 {
		return Result{}, ErrLDAPLoginFailed.WithCause(errors.New("ldap: no servers"))
	}
	var unreachable []error
	for _, server := range cfg.Servers {
		entry, err := ldapTryServer(ctx, server, cfg, roots, timeout, filter, password)
		var u errUnreachable
		if errors.As(err, &u) {
			unreachable = append(unreachable, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if err != nil {
			return Result{}, ErrLDAPLoginFailed.WithCause(err)
		}
		user, err := ldapUser(entry, cfg.Attributes)
		if err != nil {
			return Result{}, ErrLDAPLoginFailed.WithCause(err)
		}
		return Result{User: user, LDAP: ldapAttributes(entry)}, nil
	}
	return Result{}, ErrLDAPLoginFailed.WithCause(fmt.Errorf("ldap: no server reachable: %w", errors.Join(unreachable...)))
}

// errUnreachable marks a server that could not be reached: the login goes
// on with the next one.
type errUnreachable struct {
	server string
	err    error
}

func (e errUnreachable) Error() string { return e.server + ": " + e.err.Error() }
func (e errUnreachable) Unwrap() error { return e.err }

// ldapTryServer runs the login at one server and returns the user's entry.
func ldapTryServer(ctx context.Context, server string, cfg idp.LDAPConfig, roots *x509.CertPool, timeout time.Duration, filter, password string) (*ldap.Entry, error) {
	unreachable := func(err error) error { return errUnreachable{server: ldapRedactURL(server), err: err} }
	conn, err := ldapDial(ctx, server, cfg.StartTLS, roots, timeout)
	if err != nil {
		return nil, unreachable(err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	conn.SetTimeout(timeout)

	if cfg.BindDN == "" {
		err = conn.UnauthenticatedBind("")
	} else {
		err = conn.Bind(cfg.BindDN, cfg.BindPassword)
	}
	if err != nil {
		if ldap.IsErrorWithCode(err, ldap.ErrorNetwork) {
			return nil, unreachable(fmt.Errorf("ldap: bind as bindDn: %w", err))
		}
		return nil, fmt.Errorf("ldap: bind as bindDn: %w", err)
	}

	seconds := int(timeout / time.Second)
	if seconds < 1 {
		seconds = 1
	}
	req := ldap.NewSearchRequest(cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, seconds, false, filter, nil, nil)
	res, err := conn.Search(req)
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded):
		return nil, errors.New("ldap: several entries match")
	case ldap.IsErrorWithCode(err, ldap.ErrorNetwork):
		return nil, unreachable(fmt.Errorf("ldap: search: %w", err))
	case err != nil:
		return nil, fmt.Errorf("ldap: search: %w", err)
	case len(res.Entries) == 0:
		return nil, errors.New("ldap: no entry matches")
	case len(res.Entries) > 1:
		return nil, errors.New("ldap: several entries match")
	}
	entry := res.Entries[0]
	// The user's password goes to this one server only: any failure from
	// here on is final.
	if err := conn.Bind(entry.DN, password); err != nil {
		return nil, fmt.Errorf("ldap: bind as the entry: %w", err)
	}
	return entry, nil
}

// ldapDial connects to server and secures the connection as the URL and
// startTLS say.
func ldapDial(ctx context.Context, server string, startTLS bool, roots *x509.CertPool, timeout time.Duration) (*ldap.Conn, error) {
	u, err := url.Parse(server)
	if err != nil {
		return nil, errors.New("ldap: server is no URL")
	}
	var port string
	switch u.Scheme {
	case "ldap":
		port = "389"
	case "ldaps":
		port = "636"
	default:
		return nil, fmt.Errorf("ldap: scheme %q is neither ldap nor ldaps", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return nil, errors.New("ldap: server URL has no host")
	}
	if p := u.Port(); p != "" {
		port = p
	}
	tlsConfig := &tls.Config{RootCAs: roots, ServerName: host, MinVersion: tls.VersionTLS12}

	dialer := &net.Dialer{Timeout: timeout}
	raw, err := dialer.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, err
	}
	if u.Scheme == "ldaps" {
		hctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		tc := tls.Client(raw, tlsConfig)
		if err := tc.HandshakeContext(hctx); err != nil {
			_ = raw.Close()
			return nil, fmt.Errorf("ldap: TLS handshake: %w", err)
		}
		conn := ldap.NewConn(tc, true)
		conn.Start()
		return conn, nil
	}
	conn := ldap.NewConn(raw, false)
	conn.Start()
	if !startTLS {
		return conn, nil
	}
	// go-ldap's StartTLS handshake has no deadline of its own.
	conn.SetTimeout(timeout)
	_ = raw.SetDeadline(time.Now().Add(2 * timeout))
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	err = conn.StartTLS(tlsConfig)
	stop()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("ldap: StartTLS: %w", err)
	}
	_ = raw.SetDeadline(time.Time{})
	return conn, nil
}

// ldapRedactURL drops any user information from a server URL before it
// goes into an error.
func ldapRedactURL(server string) string {
	u, err := url.Parse(server)
	if err != nil {
		return "(invalid URL)"
	}
	u.User = nil
	return u.String()
}

// ldapRoots reads the template's root CA: PEM certificates, or one DER
// certificate. None means the system roots.
func ldapRoots(ca []byte) (*x509.CertPool, error) {
	if len(ca) == 0 {
		return nil, nil
	}
	pool := x509.NewCertPool()
	if !strings.Contains(string(ca), "-----BEGIN") {
		c, err := x509.ParseCertificate(ca)
		if err != nil {
			return nil, errors.New("ldap: rootCa is neither PEM nor a DER certificate")
		}
		pool.AddCert(c)
		return pool, nil
	}
	n := 0
	for rest := ca; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, errors.New("ldap: rootCa holds an invalid certificate")
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, errors.New("ldap: rootCa holds no PEM certificate")
	}
	return pool, nil
}

// ldapAttributeName is an attribute description (RFC 4512 §2.5: a name or
// an OID, with options): what the template may put on the left of a
// filter's "=".
var ldapAttributeName = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)*)(;[A-Za-z0-9-]+)*$`)

// ldapFilter builds the search filter. The template's attribute names are
// checked (they come from an administrator, but a parenthesis in one would
// still rewrite the filter); every value is escaped.
func ldapFilter(objectClasses, filters []string, username string) (string, error) {
	if len(filters) == 0 {
		return "", errors.New("ldap: the template has no userFilters")
	}
	var b strings.Builder
	b.WriteString("(&")
	for _, c := range objectClasses {
		b.WriteString("(objectClass=" + ldap.EscapeFilter(c) + ")")
	}
	b.WriteString("(|")
	v := ldap.EscapeFilter(username)
	for _, f := range filters {
		if !ldapAttributeName.MatchString(f) {
			return "", fmt.Errorf("ldap: userFilter %q is no attribute name", f)
		}
		b.WriteString("(" + f + "=" + v + ")")
	}
	b.WriteString("))")
	return b.String(), nil
}

// ldapTrue is what an LDAP attribute may say for "verified". ZITADEL reads
// emailVerifiedAttribute with strconv.ParseBool, so a directory's "yes" or
// "verified" reads as false, and since most directories have no boolean
// for it, auto-linking by email never works (zitadel#12367). Compared
// case-insensitively after trimming spaces; anything else, and a missing
// attribute, is false.
var ldapTrue = []string{"true", "t", "1", "yes", "y", "on", "verified"}

func ldapTruthy(v string) bool {
	v = strings.TrimSpace(v)
	for _, t := range ldapTrue {
		if strings.EqualFold(v, t) {
			return true
		}
	}
	return false
}

// ldapValue is an attribute's first value as text: "" when the name is
// empty or the entry lacks it, base64 when the value is not UTF-8. Names
// match case-insensitively, as LDAP's do.
func ldapValue(e *ldap.Entry, name string) string {
	if name == "" {
		return ""
	}
	for _, a := range e.Attributes {
		if strings.EqualFold(a.Name, name) && len(a.ByteValues) > 0 {
			return ldapText(a.ByteValues[0])
		}
	}
	return ""
}

func ldapText(v []byte) string {
	if utf8.Valid(v) {
		return string(v)
	}
	return base64.StdEncoding.EncodeToString(v)
}

// ldapUser maps the entry to a User by the template's attribute names.
// emailVerified and phoneVerified are true only for a truthy value (see
// ldapTrue); everything else is the attribute's first value. The ID
// attribute must be present: it is the link's key. Raw is the mapped user
// in ZITADEL's JSON names (its ldap.User), empty fields left out.
func ldapUser(e *ldap.Entry, m idp.LDAPAttributes) (User, error) {
	if m.IDAttribute == "" {
		return User{}, errors.New("ldap: the template has no idAttribute")
	}
	u := User{
		ID:                ldapValue(e, m.IDAttribute),
		FirstName:         ldapValue(e, m.FirstNameAttribute),
		LastName:          ldapValue(e, m.LastNameAttribute),
		DisplayName:       ldapValue(e, m.DisplayNameAttribute),
		NickName:          ldapValue(e, m.NickNameAttribute),
		PreferredUsername: ldapValue(e, m.PreferredUsernameAttribute),
		Email:             ldapValue(e, m.EmailAttribute),
		EmailVerified:     ldapTruthy(ldapValue(e, m.EmailVerifiedAttribute)),
		Phone:             ldapValue(e, m.PhoneAttribute),
		PhoneVerified:     ldapTruthy(ldapValue(e, m.PhoneVerifiedAttribute)),
		PreferredLanguage: ldapValue(e, m.PreferredLanguageAttribute),
		AvatarURL:         ldapValue(e, m.AvatarURLAttribute),
		ProfileURL:        ldapValue(e, m.ProfileAttribute),
	}
	if u.ID == "" {
		return User{}, fmt.Errorf("ldap: the entry has no %s", m.IDAttribute)
	}
	raw := map[string]any{}
	for k, v := range map[string]string{
		"id": u.ID, "firstName": u.FirstName, "lastName": u.LastName,
		"displayName": u.DisplayName, "nickName": u.NickName,
		"preferredUsername": u.PreferredUsername, "email": u.Email,
		"phone": u.Phone, "preferredLanguage": u.PreferredLanguage,
		"avatarURL": u.AvatarURL, "profile": u.ProfileURL,
	} {
		if v != "" {
			raw[k] = v
		}
	}
	if u.EmailVerified {
		raw["emailVerified"] = true
	}
	if u.PhoneVerified {
		raw["phoneVerified"] = true
	}
	u.Raw = raw
	return u, nil
}

// ldapAttributes is every attribute of the entry as a list of strings,
// values that are not UTF-8 base64-encoded.
func ldapAttributes(e *ldap.Entry) map[string][]string {
	out := make(map[string][]string, len(e.Attributes))
	for _, a := range e.Attributes {
		vs := make([]string, len(a.ByteValues))
		for i, v := range a.ByteValues {
			vs[i] = ldapText(v)
		}
		out[a.Name] = vs
	}
	return out
}

// ldapProvider is the LDAP family's PasswordProvider: LDAPLogin over one
// IdP's configuration.
type ldapProvider struct{ cfg idp.LDAPConfig }

func (p ldapProvider) Login(ctx context.Context, username, password string) (Result, error) {
	return LDAPLogin(ctx, p.cfg, username, password)
}

// buildLDAP is the LDAP family's Builder.
func buildLDAP(_ context.Context, _ *Registry, l Login) (any, error) {
	cfg, ok := l.Template.Config.(*idp.LDAPConfig)
	if !ok || cfg == nil {
		return nil, fmt.Errorf("upstream: kind %s has no LDAP configuration", l.Template.Kind.Path)
	}
	return ldapProvider{cfg: *cfg}, nil
}
