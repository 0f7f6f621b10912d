package config

import (
	"errors"
	"flag"
	"fmt"
	"github.com/idledger/idledger/secretbox"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-isatty"
)

// Config is idledger's runtime configuration (DESIGN.md §1 plus the
// operational extras: log level, machine ID, client-IP auditing and trusted
// proxies).
type Config struct {
	// DatabaseURL is a PostgreSQL connection string (URL or keyword/value).
	// Empty selects the embedded cluster under DataDir/postgres.
	DatabaseURL string
	// DataDir holds the embedded cluster, the generated master key and the
	// admin token.
	DataDir string
	// Listen is the HTTP listen address, host:port. Port 0 picks a free one.
	Listen string
	// ExternalDomain is the first instance's domain.
	ExternalDomain string
	// ExternalSecure: the instance's public origin is https:// (behind a
	// TLS proxy); every IdP callback URL uses it.
	ExternalSecure bool
	// LoginURL is the base URL of an external login UI, for the apps that
	// name none (their loginVersion.loginV2.baseUri): the OP sends the
	// browser to <LoginURL>/login?authRequest=V2_<id>. Empty is the hosted
	// login, /ui/v2/login.
	LoginURL string
	// MasterKey encrypts IdP secrets: 32 bytes as base64 or as 32 raw
	// characters. Empty means "generate one into the data dir". Use
	// MasterKeyBytes to decode it; never log it.
	MasterKey string
	// AdminPATFile is where the first start writes the admin's token.
	AdminPATFile string
	// LogFormat is "console" or "json".
	LogFormat string
	// LogLevel is one of trace, debug, info, warn, error.
	LogLevel string
	// MachineID is the sonyflake machine ID; nil lets internal/ids derive one.
	MachineID *uint16
	// RecordClientIP records the caller's IP address in audit data.
	RecordClientIP bool
	// TrustedProxies are the networks whose X-Forwarded-For is believed when
	// determining the client IP. Empty trusts no proxy.
	TrustedProxies []netip.Prefix

	// [faults] Abuse limits (docs/security.md, "Faults and abuse limits").

	// AuthRateLimit is how many failed authentication attempts one client IP
	// may make per minute before it gets 429; 0 disables the limit.
	AuthRateLimit int
	// RequestTimeout bounds each API request (except the event stream),
	// including its database work.
	RequestTimeout time.Duration
	// DBMaxConns bounds the database pool, and with it the API requests in
	// flight; 0 is the default, 4 × GOMAXPROCS.
	DBMaxConns int
}

// Defaults of the options whose default is a plain value.
const (
	DefaultDataDir        = "./idledger-data"
	DefaultListen         = "127.0.0.1:8080"
	DefaultExternalDomain = "localhost"
	DefaultLogLevel       = "info"
	// DefaultAuthRateLimit is the default of --auth-rate-limit.
	DefaultAuthRateLimit = 20
	// DefaultRequestTimeout is the default of --request-timeout.
	DefaultRequestTimeout = 10 * time.Second
)

// DefaultDBMaxConns is the pool size when --db-max-conns is 0.
func DefaultDBMaxConns() int { return 4 * runtime.GOMAXPROCS(0) }

// MaxConns is DBMaxConns, or its default when it is 0.
func (c Config) MaxConns() int {
	if c.DBMaxConns > 0 {
		return c.DBMaxConns
	}
	return DefaultDBMaxConns()
}

// LogLevels are the accepted values of --log-level.
var LogLevels = []string{"trace", "debug", "info", "warn", "error"}

// EnvName returns the environment variable of a flag:
// "admin-pat-file" → "IDLEDGER_ADMIN_PAT_FILE".
func EnvName(flagName string) string {
	return "IDLEDGER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Names of the common flags, in the order they are documented.
var flagNames = []string{
	"database-url", "data-dir", "listen", "external-domain", "external-secure", "login-url", "masterkey", "admin-pat-file",
	"log-format", "log-level", "machine-id", "audit-client-ip", "trusted-proxies",
	"auth-rate-limit", "request-timeout", "db-max-conns",
}

// Parse registers the common flags on fs, parses args and fills every flag
// the command line left unset from its IDLEDGER_* variable (read through
// getenv), then applies defaults and validates the result.
//
// A subcommand registers its own flags on fs before calling Parse; its
// positional arguments are fs.Args() afterwards. fs should use
// flag.ContinueOnError: Parse returns flag.ErrHelp for -h, and otherwise an
// error that names the offending flag and variable.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	return parse(fs, args, getenv, isatty.IsTerminal(os.Stderr.Fd()) || isatty.IsCygwinTerminal(os.Stderr.Fd()))
}

func parse(fs *flag.FlagSet, args []string, getenv func(string) string, terminal bool) (Config, error) {
	c := Config{RecordClientIP: true}
	usage := func(name, text string) string { return text + " (env " + EnvName(name) + ")" }
	fs.StringVar(&c.DatabaseURL, "database-url", "", usage("database-url", "PostgreSQL connection string; empty uses the embedded cluster under <data-dir>/postgres"))
	fs.StringVar(&c.DataDir, "data-dir", DefaultDataDir, usage("data-dir", "directory for the embedded PostgreSQL cluster, the generated master key and the admin token"))
	fs.StringVar(&c.Listen, "listen", DefaultListen, usage("listen", "HTTP listen address"))
	fs.StringVar(&c.ExternalDomain, "external-domain", DefaultExternalDomain, usage("external-domain", "the first instance's domain"))
	fs.BoolVar(&c.ExternalSecure, "external-secure", false, usage("external-secure", "the public origin is https:// (behind a TLS proxy); every IdP callback URL uses it"))
	fs.StringVar(&c.LoginURL, "login-url", "", usage("login-url", "base URL of an external login UI, used for apps that name none; the browser goes to <login-url>/login?authRequest=V2_<id> (default the hosted login, /ui/v2/login)"))
	fs.StringVar(&c.MasterKey, "masterkey", "", usage("masterkey", "32-byte key encrypting IdP secrets, as base64 or 32 raw characters, or a comma-separated list whose first key seals and whose others still open older secrets; when empty, the data dir's keyring (generated on first start)"))
	fs.StringVar(&c.AdminPATFile, "admin-pat-file", "", usage("admin-pat-file", "where the first start writes the admin's personal access token (default <data-dir>/admin.pat)"))
	fs.StringVar(&c.LogFormat, "log-format", "", usage("log-format", "console or json (default console on a terminal, json otherwise)"))
	fs.StringVar(&c.LogLevel, "log-level", DefaultLogLevel, usage("log-level", "trace, debug, info, warn or error"))
	fs.Var(machineIDValue{&c.MachineID}, "machine-id", usage("machine-id", "sonyflake machine ID 0-65535 (default derived from the private IPv4 address, else from hostname and pid)"))
	fs.BoolVar(&c.RecordClientIP, "audit-client-ip", true, usage("audit-client-ip", "record the client IP address in audit data"))
	fs.Var(prefixesValue{&c.TrustedProxies}, "trusted-proxies", usage("trusted-proxies", "comma-separated CIDRs or IPs of proxies whose X-Forwarded-For is trusted"))
	fs.IntVar(&c.AuthRateLimit, "auth-rate-limit", DefaultAuthRateLimit, usage("auth-rate-limit", "failed authentication attempts allowed per minute and client IP before 429; 0 disables"))
	fs.DurationVar(&c.RequestTimeout, "request-timeout", DefaultRequestTimeout, usage("request-timeout", "time limit of one API request, database work included (the event stream excepted); 0 disables"))
	fs.IntVar(&c.DBMaxConns, "db-max-conns", 0, usage("db-max-conns", "database pool size, which also bounds the API requests in flight (default 4 × GOMAXPROCS)"))

	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errList []error
	for _, name := range flagNames {
		v := getenv(EnvName(name))
		if set[name] || v == "" {
			continue
		}
		if err := fs.Lookup(name).Value.Set(v); err != nil {
			errList = append(errList, fmt.Errorf("%s: %w", EnvName(name), err))
		}
	}
	if err := errors.Join(errList...); err != nil {
		return Config{}, err
	}
	if c.AdminPATFile == "" {
		c.AdminPATFile = filepath.Join(c.DataDir, "admin.pat")
	}
	if c.LogFormat == "" {
		c.LogFormat = "json"
		if terminal {
			c.LogFormat = "console"
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks every option and returns all problems at once, each naming
// its flag and environment variable. It never echoes the master key.
func (c Config) Validate() error {
	var errList []error
	bad := func(name, format string, args ...any) {
		errList = append(errList, fmt.Errorf("--%s / %s: %s", name, EnvName(name), fmt.Sprintf(format, args...)))
	}
	if c.DatabaseURL != "" {
		// pgconn redacts the password in its own error text.
		if _, err := pgconn.ParseConfig(c.DatabaseURL); err != nil {
			bad("database-url", "%v", err)
		}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data-dir", "must not be empty")
	}
	if err := checkListen(c.Listen); err != nil {
		bad("listen", "%q %v", c.Listen, err)
	}
	if d := c.ExternalDomain; d == "" || strings.ContainsAny(d, "/ \t\r\n") {
		bad("external-domain", "%q is not a domain name (want for example auth.example.com, without scheme or path)", d)
	}
	if c.LoginURL != "" {
		if err := checkLoginURL(c.LoginURL); err != nil {
			bad("login-url", "%q %v", c.LoginURL, err)
		}
	}
	if c.MasterKey != "" {
		if _, _, err := DecodeMasterKeys(c.MasterKey); err != nil {
			bad("masterkey", "%v", err)
		}
	}
	if strings.TrimSpace(c.AdminPATFile) == "" {
		bad("admin-pat-file", "must not be empty")
	}
	if c.LogFormat != "console" && c.LogFormat != "json" {
		bad("log-format", "%q is not console or json", c.LogFormat)
	}
	if !slices.Contains(LogLevels, c.LogLevel) {
		bad("log-level", "%q is not one of %s", c.LogLevel, strings.Join(LogLevels, ", "))
	}
	if c.AuthRateLimit < 0 {
		bad("auth-rate-limit", "%d is negative (0 disables the limit)", c.AuthRateLimit)
	}
	if c.RequestTimeout < 0 || c.RequestTimeout > 0 && c.RequestTimeout < 100*time.Millisecond {
		bad("request-timeout", "%v is too short (want at least 100ms)", c.RequestTimeout)
	}
	if c.DBMaxConns < 0 || c.DBMaxConns > 1000 {
		bad("db-max-conns", "%d is out of range (want 1-1000, or 0 for the default)", c.DBMaxConns)
	}
	return errors.Join(errList...)
}

// checkLoginURL accepts an absolute http(s) URL with a host and without
// user info, query or fragment: the OP appends /login?authRequest=….
func checkLoginURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || strings.ContainsAny(s, " \t\r\n"):
		return fmt.Errorf("is not a URL (want for example https://login.example.com/ui/v2/login)")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("is not an absolute http:// or https:// URL (want for example https://login.example.com/ui/v2/login)")
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("has no host (want for example https://login.example.com/ui/v2/login)")
	case u.User != nil:
		return fmt.Errorf("must not contain user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("must not have a query or fragment (it is a base URL; /login?authRequest=… is appended)")
	}
	return nil
}

func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("is not host:port (%v)", err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("has no valid port (want a number 0-65535)")
	}
	return nil
}

// DecodeMasterKey returns the 32 key bytes of s: s is either base64
// (standard or URL alphabet, padded or not) of 32 bytes, or exactly 32 raw
// characters. The error describes the shape only, never the value.
func DecodeMasterKey(s string) ([]byte, error) {
	return secretbox.ParseMasterKey(s)
}

// DecodeMasterKeys decodes a --masterkey value: one key, or a
// comma-separated list of keys of which the first seals and the others still
// open secrets sealed before a rotation. A value that is one key as a whole
// (32 raw characters may hold a comma) is one key. The error never contains
// a key.
func DecodeMasterKeys(s string) (current []byte, old [][]byte, err error) {
	k, err := DecodeMasterKey(s)
	parts := strings.Split(s, ",")
	if err == nil || len(parts) < 2 {
		return k, nil, err
	}
	for i, p := range parts {
		k, err := DecodeMasterKey(strings.TrimSpace(p))
		if err != nil {
			return nil, nil, fmt.Errorf("key %d of the list: %w", i+1, err)
		}
		if i == 0 {
			current = k
		} else {
			old = append(old, k)
		}
	}
	return current, old, nil
}

// MasterKeyBytes decodes MasterKey. It returns nil and no error when no key
// is configured.
func (c Config) MasterKeyBytes() ([]byte, error) {
	if c.MasterKey == "" {
		return nil, nil
	}
	k, _, err := DecodeMasterKeys(c.MasterKey)
	return k, err
}

// Redacted renders the configuration on one line as flag=value pairs, for
// logs and support: the master key shows as "[redacted]" and the database
// password as "xxxxx".
func (c Config) Redacted() string {
	key := "(unset)"
	if c.MasterKey != "" {
		key = "[redacted]"
	}
	machine := "(derived)"
	if c.MachineID != nil {
		machine = strconv.Itoa(int(*c.MachineID))
	}
	pairs := [][2]string{
		{"database-url", RedactDatabaseURL(c.DatabaseURL)},
		{"data-dir", c.DataDir},
		{"listen", c.Listen},
		{"external-domain", c.ExternalDomain},
		{"external-secure", strconv.FormatBool(c.ExternalSecure)},
		{"login-url", c.LoginURL},
		{"masterkey", key},
		{"admin-pat-file", c.AdminPATFile},
		{"log-format", c.LogFormat},
		{"log-level", c.LogLevel},
		{"machine-id", machine},
		{"audit-client-ip", strconv.FormatBool(c.RecordClientIP)},
		{"trusted-proxies", prefixesValue{&c.TrustedProxies}.String()},
		{"auth-rate-limit", strconv.Itoa(c.AuthRateLimit)},
		{"request-timeout", c.RequestTimeout.String()},
		{"db-max-conns", strconv.Itoa(c.MaxConns())},
	}
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := p[1]
		if v == "" || strings.ContainsAny(v, " \t\"'") {
			v = strconv.Quote(v)
		}
		b.WriteString(p[0] + "=" + v)
	}
	return b.String()
}

// machineIDValue is the flag.Value of --machine-id: unset means nil.
type machineIDValue struct{ p **uint16 }

func (v machineIDValue) String() string {
	if v.p == nil || *v.p == nil {
		return ""
	}
	return strconv.Itoa(int(**v.p))
}

func (v machineIDValue) Set(s string) error {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	if err != nil {
		return fmt.Errorf("%q is not a machine ID (want an integer 0-65535)", s)
	}
	id := uint16(n)
	*v.p = &id
	return nil
}

// prefixesValue is the flag.Value of --trusted-proxies.
type prefixesValue struct{ p *[]netip.Prefix }

func (v prefixesValue) String() string {
	if v.p == nil {
		return ""
	}
	s := make([]string, len(*v.p))
	for i, p := range *v.p {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (v prefixesValue) Set(s string) error {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			ip, err := netip.ParseAddr(part)
			if err != nil {
				return fmt.Errorf("%q is not a CIDR or IP address", part)
			}
			out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return fmt.Errorf("%q is not a CIDR or IP address", part)
		}
		out = append(out, p.Masked())
	}
	*v.p = out
	return nil
}
