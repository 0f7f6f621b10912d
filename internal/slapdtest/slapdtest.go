package slapdtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is where Debian's slapd package puts the server.
const Binary = "/usr/sbin/slapd"

// slapadd is slapd itself under another name (a symlink in Debian).
const slapadd = "/usr/sbin/slapadd"

const installHint = "slapd is not installed: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils"

// Options says what the directory holds.
type Options struct {
	// Schema is extra schema text (attributetype and objectclass lines),
	// included after the core, cosine and inetorgperson schemas.
	Schema string
	// LDIF is the seed, under the suffix; the suffix entry itself is added
	// first.
	LDIF string
}

// Server is a running slapd.
type Server struct {
	URL    string // ldap://127.0.0.1:<port> (StartTLS available)
	TLSURL string // ldaps://127.0.0.1:<port>
	CA     []byte // PEM: the CA that signed the server's certificate
	Suffix string // the database's suffix
	RootDN string // the database's rootdn
	RootPW string // its password (clear text)
	PID    int
}

// Suffix is the suffix of every test directory.
const Suffix = "dc=example,dc=org"

// Start writes a configuration, seeds a directory and starts slapd on
// free loopback ports; t.Cleanup stops it.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		t.Skip(installHint)
	}
	dir := t.TempDir()
	ca, caPEM := newCA(t)
	certPEM, keyPEM := ca.issue(t)
	s := &Server{CA: caPEM, Suffix: Suffix, RootDN: "cn=admin," + Suffix, RootPW: "admin-secret"}

	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	var conf strings.Builder
	for _, sc := range []string{"core", "cosine", "inetorgperson"} {
		fmt.Fprintf(&conf, "include /etc/ldap/schema/%s.schema\n", sc)
	}
	if o.Schema != "" {
		fmt.Fprintf(&conf, "include %s\n", write("test.schema", o.Schema))
	}
	fmt.Fprintf(&conf, `pidfile %s
argsfile %s
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile %s
TLSCertificateFile %s
TLSCertificateKeyFile %s
database mdb
maxsize 16777216
suffix "%s"
rootdn "%s"
rootpw %s
directory %s
access to attrs=userPassword by anonymous auth by self read by * none
access to * by * read
`, filepath.Join(dir, "slapd.pid"), filepath.Join(dir, "slapd.args"),
		write("ca.pem", string(caPEM)), write("cert.pem", string(certPEM)), write("key.pem", string(keyPEM)),
		s.Suffix, s.RootDN, s.RootPW, filepath.Join(dir, "db"))
	confPath := write("slapd.conf", conf.String())

	seed := "dn: " + Suffix + "\nobjectClass: dcObject\nobjectClass: organization\no: example\ndc: example\n\n" + o.LDIF
	if out, err := exec.Command(slapadd, "-q", "-f", confPath, "-l", write("seed.ldif", seed)).CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}

	port, tlsPort := freePort(t), freePort(t)
	s.URL = "ldap://127.0.0.1:" + port
	s.TLSURL = "ldaps://127.0.0.1:" + tlsPort
	cmd := exec.Command(Binary, "-d", "0", "-h", s.URL+"/ "+s.TLSURL+"/", "-f", confPath)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("slapd: %v", err)
	}
	s.PID = cmd.Process.Pid
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	for _, p := range []string{port, tlsPort} {
		deadline := time.Now().Add(15 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+p, time.Second)
			if err == nil {
				_ = c.Close()
				break
			}
			select {
			case <-exited:
				t.Fatalf("slapd exited at start:\n%s", out.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("slapd did not listen on %s within 15s:\n%s", p, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return s
}

// UnrelatedCA is a CA certificate (PEM) that signed nothing the server
// holds: a client that trusts only it must refuse the server.
func UnrelatedCA(t testing.TB) []byte {
	_, p := newCA(t)
	return p
}

// freePort is a loopback port that was free a moment ago.
func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t testing.TB) (*ca, []byte) {
	cert, key, certPEM := sign(t, &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "slapdtest CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, nil)
	return &ca{cert: cert, key: key}, certPEM
}

// issue is a server certificate for 127.0.0.1 and localhost, and its key.
func (c *ca) issue(t testing.TB) (certPEM, keyPEM []byte) {
	_, key, certPEM := sign(t, &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}, c)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// sign makes a new P-256 key and a certificate for it from tmpl, valid for
// a day, signed by parent (self-signed when nil).
func sign(t testing.TB, tmpl *x509.Certificate, parent *ca) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	issuer, issuerKey := tmpl, key
	if parent != nil {
		issuer, issuerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, issuerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// syncBuffer collects slapd's output for a failure message.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
