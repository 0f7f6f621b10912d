package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"io"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const goodKey = "0123456789abcdef0123456789abcdef" // 32 raw characters

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func parseWith(t *testing.T, args []string, vars map[string]string, terminal bool) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return parse(fs, args, env(vars), terminal)
}

func TestDefaults(t *testing.T) {
	c, err := parseWith(t, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		DataDir:        "./idledger-data",
		Listen:         "127.0.0.1:8080",
		ExternalDomain: "localhost",
		AdminPATFile:   filepath.Join("idledger-data", "admin.pat"),
		LogFormat:      "json",
		LogLevel:       "info",
		RecordClientIP: true,
	}
	if c.DatabaseURL != "" || c.MasterKey != "" || c.MachineID != nil || c.TrustedProxies != nil ||
		c.DataDir != want.DataDir || c.Listen != want.Listen || c.ExternalDomain != want.ExternalDomain ||
		c.AdminPATFile != want.AdminPATFile || c.LogFormat != want.LogFormat || c.LogLevel != want.LogLevel ||
		c.RecordClientIP != want.RecordClientIP {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
	c, err = parseWith(t, nil, nil, true)
	if err != nil || c.LogFormat != "console" {
		t.Fatalf("on a terminal the log format defaults to console, got %q (%v)", c.LogFormat, err)
	}
}

func TestAdminPATFileFollowsDataDir(t *testing.T) {
	c, err := parseWith(t, []string{"--data-dir", "/srv/idl"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminPATFile != "/srv/idl/admin.pat" {
		t.Fatalf("AdminPATFile = %q", c.AdminPATFile)
	}
	c, err = parseWith(t, nil, map[string]string{"IDLEDGER_DATA_DIR": "/env/dir"}, false)
	if err != nil || c.AdminPATFile != "/env/dir/admin.pat" {
		t.Fatalf("AdminPATFile = %q (%v)", c.AdminPATFile, err)
	}
}

// TestPrecedence checks flag > env > default for every option.
func TestPrecedence(t *testing.T) {
	b64Key := base64.StdEncoding.EncodeToString([]byte(goodKey))
	cases := []struct {
		flag, flagVal, envVal string
		get                   func(Config) string
		def                   string
	}{
		{"database-url", "postgres://f@h/db", "postgres://e@h/db", func(c Config) string { return c.DatabaseURL }, ""},
		{"data-dir", "/flag", "/env", func(c Config) string { return c.DataDir }, "./idledger-data"},
		{"listen", "127.0.0.1:1", "127.0.0.1:2", func(c Config) string { return c.Listen }, "127.0.0.1:8080"},
		{"external-domain", "f.example.com", "e.example.com", func(c Config) string { return c.ExternalDomain }, "localhost"},
		{"external-secure", "true", "true", func(c Config) string { return strconv.FormatBool(c.ExternalSecure) }, "false"},
		{"login-url", "https://login.example.com/ui/v2/login", "http://127.0.0.1:3000", func(c Config) string { return c.LoginURL }, ""},
		{"masterkey", goodKey, b64Key, func(c Config) string { return c.MasterKey }, ""},
		{"admin-pat-file", "/f.pat", "/e.pat", func(c Config) string { return c.AdminPATFile }, filepath.Join("idledger-data", "admin.pat")},
		{"log-format", "console", "json", func(c Config) string { return c.LogFormat }, "json"},
		{"log-level", "debug", "warn", func(c Config) string { return c.LogLevel }, "info"},
		{"machine-id", "7", "9", func(c Config) string { return machineIDValue{&c.MachineID}.String() }, ""},
		{"audit-client-ip", "false", "false", func(c Config) string {
			if c.RecordClientIP {
				return "true"
			}
			return "false"
		}, "true"},
		{"trusted-proxies", "10.0.0.0/8", "192.168.1.0/24,10.1.2.3", func(c Config) string { return prefixesValue{&c.TrustedProxies}.String() }, ""},
		{"auth-rate-limit", "5", "7", func(c Config) string { return strconv.Itoa(c.AuthRateLimit) }, "20"},
		{"request-timeout", "3s", "4s", func(c Config) string { return c.RequestTimeout.String() }, "10s"},
		{"db-max-conns", "12", "6", func(c Config) string { return strconv.Itoa(c.DBMaxConns) }, "0"},
	}
	for _, tc := range cases {
		t.Run(tc.flag, func(t *testing.T) {
			envName := EnvName(tc.flag)
			c, err := parseWith(t, nil, nil, false)
			if err != nil || tc.get(c) != tc.def {
				t.Errorf("default: got %q (%v), want %q", tc.get(c), err, tc.def)
			}
			c, err = parseWith(t, nil, map[string]string{envName: tc.envVal}, false)
			wantEnv := tc.envVal
			if tc.flag == "trusted-proxies" {
				wantEnv = "192.168.1.0/24,10.1.2.3/32"
			}
			if err != nil || tc.get(c) != wantEnv {
				t.Errorf("env %s: got %q (%v), want %q", envName, tc.get(c), err, wantEnv)
			}
			if tc.flag == "audit-client-ip" {
				// The flag must win even when it sets the default value.
				c, err = parseWith(t, []string{"--audit-client-ip=true"}, map[string]string{envName: "false"}, false)
				if err != nil || !c.RecordClientIP {
					t.Errorf("flag true should win over env false (%v)", err)
				}
				return
			}
			if tc.flag == "external-secure" {
				c, err = parseWith(t, []string{"--external-secure=false"}, map[string]string{envName: "true"}, false)
				if err != nil || c.ExternalSecure {
					t.Errorf("flag false should win over env true (%v)", err)
				}
				return
			}
			c, err = parseWith(t, []string{"--" + tc.flag, tc.flagVal}, map[string]string{envName: tc.envVal}, false)
			if err != nil || tc.get(c) != tc.flagVal {
				t.Errorf("flag over env: got %q (%v), want %q", tc.get(c), err, tc.flagVal)
			}
		})
	}
}

func TestEnvNames(t *testing.T) {
	want := map[string]string{
		"database-url": "IDLEDGER_DATABASE_URL", "data-dir": "IDLEDGER_DATA_DIR", "listen": "IDLEDGER_LISTEN",
		"external-domain": "IDLEDGER_EXTERNAL_DOMAIN", "external-secure": "IDLEDGER_EXTERNAL_SECURE", "login-url": "IDLEDGER_LOGIN_URL", "masterkey": "IDLEDGER_MASTERKEY",
		"admin-pat-file": "IDLEDGER_ADMIN_PAT_FILE", "log-format": "IDLEDGER_LOG_FORMAT",
		"log-level": "IDLEDGER_LOG_LEVEL", "machine-id": "IDLEDGER_MACHINE_ID",
		"audit-client-ip": "IDLEDGER_AUDIT_CLIENT_IP", "trusted-proxies": "IDLEDGER_TRUSTED_PROXIES",
		"auth-rate-limit": "IDLEDGER_AUTH_RATE_LIMIT", "request-timeout": "IDLEDGER_REQUEST_TIMEOUT",
		"db-max-conns": "IDLEDGER_DB_MAX_CONNS",
	}
	for _, name := range flagNames {
		if EnvName(name) != want[name] {
			t.Errorf("EnvName(%q) = %q, want %q", name, EnvName(name), want[name])
		}
	}
	if len(want) != len(flagNames) {
		t.Errorf("flagNames has %d entries, want %d", len(flagNames), len(want))
	}
}

func TestValidationErrors(t *testing.T) {
	secret := "tooshort-secret-value"
	cases := []struct {
		name string
		args []string
		vars map[string]string
		want []string // substrings of the error
	}{
		{"listen without port", []string{"--listen", "localhost"}, nil, []string{"--listen / IDLEDGER_LISTEN", "host:port"}},
		{"listen bad port", []string{"--listen", "127.0.0.1:99999"}, nil, []string{"--listen", "0-65535"}},
		{"listen from env", nil, map[string]string{"IDLEDGER_LISTEN": "nope"}, []string{"IDLEDGER_LISTEN", `"nope"`}},
		{"log format", []string{"--log-format", "xml"}, nil, []string{"--log-format / IDLEDGER_LOG_FORMAT", `"xml" is not console or json`}},
		{"log level", []string{"--log-level", "loud"}, nil, []string{"--log-level", "trace, debug, info, warn, error"}},
		{"database url", []string{"--database-url", "postgres://u:hunter2@host:notaport/db"}, nil, []string{"--database-url / IDLEDGER_DATABASE_URL"}},
		{"master key", []string{"--masterkey", secret}, nil, []string{"--masterkey / IDLEDGER_MASTERKEY", "32 bytes", "got 21 characters"}},
		{"master key bad base64 length", []string{"--masterkey", base64.StdEncoding.EncodeToString(make([]byte, 31))}, nil, []string{"--masterkey"}},
		{"machine id", nil, map[string]string{"IDLEDGER_MACHINE_ID": "70000"}, []string{"IDLEDGER_MACHINE_ID", "0-65535"}},
		{"machine id flag", []string{"--machine-id", "x"}, nil, []string{"machine-id", "0-65535"}},
		{"trusted proxies", nil, map[string]string{"IDLEDGER_TRUSTED_PROXIES": "10.0.0.0/8,bogus"}, []string{"IDLEDGER_TRUSTED_PROXIES", `"bogus"`}},
		{"audit client ip", nil, map[string]string{"IDLEDGER_AUDIT_CLIENT_IP": "maybe"}, []string{"IDLEDGER_AUDIT_CLIENT_IP"}},
		{"external domain", []string{"--external-domain", "https://x.example.com/"}, nil, []string{"--external-domain"}},
		{"empty data dir", []string{"--data-dir", ""}, nil, []string{"--data-dir"}},
		{"login url relative", []string{"--login-url", "/ui/v2/login"}, nil, []string{"--login-url / IDLEDGER_LOGIN_URL", "absolute http:// or https://"}},
		{"login url scheme", nil, map[string]string{"IDLEDGER_LOGIN_URL": "ftp://login.example.com"}, []string{"IDLEDGER_LOGIN_URL", `"ftp://login.example.com"`, "absolute"}},
		{"login url no host", []string{"--login-url", "https:///login"}, nil, []string{"--login-url", "no host"}},
		{"login url bare host", []string{"--login-url", "login.example.com"}, nil, []string{"--login-url", "absolute"}},
		{"login url query", []string{"--login-url", "https://login.example.com/?authRequest="}, nil, []string{"--login-url", "query or fragment"}},
		{"login url fragment", []string{"--login-url", "https://login.example.com/#x"}, nil, []string{"--login-url", "query or fragment"}},
		{"login url user info", []string{"--login-url", "https://u:p@login.example.com/"}, nil, []string{"--login-url", "user info"}},
		{"login url unparsable", []string{"--login-url", "https://login example.com"}, nil, []string{"--login-url", "is not a URL"}},
		{"two at once", []string{"--log-format", "xml", "--listen", "x"}, nil, []string{"--log-format", "--listen"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseWith(t, tc.args, tc.vars, false)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q should contain %q", err, w)
				}
			}
			for _, leak := range []string{secret, "hunter2"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error %q leaks a secret", err)
				}
			}
		})
	}
}

func TestHelp(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var out strings.Builder
	fs.SetOutput(&out)
	_, err := parse(fs, []string{"-h"}, env(nil), false)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("want flag.ErrHelp, got %v", err)
	}
	for _, w := range []string{"IDLEDGER_DATABASE_URL", "-masterkey", "IDLEDGER_TRUSTED_PROXIES", "-login-url", "IDLEDGER_LOGIN_URL"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("usage should mention %s:\n%s", w, out.String())
		}
	}
}

func TestSubcommandFlagsAndArgs(t *testing.T) {
	fs := flag.NewFlagSet("events list", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	limit := fs.Int("limit", 100, "")
	c, err := parse(fs, []string{"--limit", "5", "--log-level", "debug", "rest1", "rest2"}, env(nil), false)
	if err != nil {
		t.Fatal(err)
	}
	if *limit != 5 || c.LogLevel != "debug" || strings.Join(fs.Args(), " ") != "rest1 rest2" {
		t.Fatalf("limit=%d level=%s args=%v", *limit, c.LogLevel, fs.Args())
	}
}

func TestDecodeMasterKey(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(255 - i)
	}
	for name, s := range map[string]string{
		"std":     base64.StdEncoding.EncodeToString(raw),
		"raw std": base64.RawStdEncoding.EncodeToString(raw),
		"url":     base64.URLEncoding.EncodeToString(raw),
		"raw url": base64.RawURLEncoding.EncodeToString(raw),
	} {
		b, err := DecodeMasterKey(s)
		if err != nil || string(b) != string(raw) {
			t.Errorf("%s: got %x, %v", name, b, err)
		}
	}
	b, err := DecodeMasterKey(goodKey)
	if err != nil || string(b) != goodKey {
		t.Errorf("raw 32 chars: got %q, %v", b, err)
	}
	for _, bad := range []string{"", "short", goodKey + "x", base64.StdEncoding.EncodeToString(make([]byte, 33))} {
		if _, err := DecodeMasterKey(bad); err == nil {
			t.Errorf("DecodeMasterKey(%q) should fail", bad)
		}
	}
	c := Config{}
	if k, err := c.MasterKeyBytes(); k != nil || err != nil {
		t.Errorf("no key configured: got %x, %v", k, err)
	}
}

func TestRedacted(t *testing.T) {
	id := uint16(42)
	c := Config{
		DatabaseURL:    "postgres://app:s3cr%40t@db.example.com:5432/idledger?sslmode=require",
		DataDir:        "/var/lib/idledger",
		Listen:         "0.0.0.0:8080",
		ExternalDomain: "auth.example.com",
		ExternalSecure: true,
		LoginURL:       "https://login.example.com/ui/v2/login",
		MasterKey:      goodKey,
		AdminPATFile:   "/var/lib/idledger/admin.pat",
		LogFormat:      "json",
		LogLevel:       "info",
		MachineID:      &id,
		RecordClientIP: true,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		AuthRateLimit:  20,
		RequestTimeout: 10 * time.Second,
		DBMaxConns:     16,
	}
	got := c.Redacted()
	want := "database-url=postgres://app:xxxxx@db.example.com:5432/idledger?sslmode=require data-dir=/var/lib/idledger " +
		"listen=0.0.0.0:8080 external-domain=auth.example.com external-secure=true login-url=https://login.example.com/ui/v2/login masterkey=[redacted] admin-pat-file=/var/lib/idledger/admin.pat " +
		"log-format=json log-level=info machine-id=42 audit-client-ip=true trusted-proxies=10.0.0.0/8 " +
		"auth-rate-limit=20 request-timeout=10s db-max-conns=16"
	if got != want {
		t.Fatalf("Redacted:\n got %s\nwant %s", got, want)
	}
	if strings.Contains(got, goodKey) || strings.Contains(got, "s3cr") {
		t.Fatal("Redacted leaks a secret")
	}
	empty := Config{}.Redacted()
	if !strings.Contains(empty, `database-url=""`) || !strings.Contains(empty, "masterkey=(unset)") || !strings.Contains(empty, "machine-id=(derived)") {
		t.Fatalf("Redacted of an empty config: %s", empty)
	}
}

func TestRedactDatabaseURL(t *testing.T) {
	cases := map[string]string{
		"":                                       "",
		"postgres://u@h/db":                      "postgres://u@h/db",
		"postgres://u:pw@h:5432/db":              "postgres://u:xxxxx@h:5432/db",
		"postgresql://u:pw@h1,h2/db?sslmode=off": "postgresql://u:xxxxx@h1,h2/db?sslmode=off",
		"postgres://h/db?user=u&password=pw&x=1": "postgres://h/db?user=u&password=xxxxx&x=1",
		"postgres://h/db?password=pw":            "postgres://h/db?password=xxxxx",
		"postgres://h/db?sslpassword=pw":         "postgres://h/db?sslpassword=xxxxx",
		"host=h user=u password=pw dbname=d":     "host=h user=u password=xxxxx dbname=d",
		"host=h password='p w' dbname=d":         "host=h password=xxxxx dbname=d",
		"host=h password = pw dbname=d":          "host=h password = xxxxx dbname=d",
		"host=h sslpassword=pw":                  "host=h sslpassword=xxxxx",
		"postgres://u:p%zzw@h/db":                "postgres://u:xxxxx@h/db",
		"postgres://u:p%zz@ss@h/db?password=x":   "postgres://u:xxxxx@h/db?password=xxxxx",
	}
	for in, want := range cases {
		if got := RedactDatabaseURL(in); got != want {
			t.Errorf("RedactDatabaseURL(%q) = %q, want %q", in, got, want)
		}
	}
}
