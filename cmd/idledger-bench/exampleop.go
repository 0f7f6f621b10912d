package main

// token_vs_example_op: the token endpoint beside zitadel/oidc's own
// in-memory example OP (example/server/exampleop and storage), the
// library's floor, in the same process and run.

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	exstorage "github.com/zitadel/oidc/v3/example/server/storage"
)

// The example storage's service user (example/server/storage).
const (
	exampleClientID     = "sid1"
	exampleClientSecret = "verysecret"
)

// exampleOP is zitadel/oidc's example OP on loopback.
type exampleOP struct {
	url string
	srv *http.Server
}

func startExampleOP() (*exampleOP, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := "http://" + ln.Addr().String()
	issuer := u + "/"
	store := exstorage.NewStorage(exstorage.NewUserStore(issuer))
	// The example logs every request through slog at info level, as our
	// server writes its access log: keep the work, throw the lines away.
	// (SetupServer installs the logger as the process default.)
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	router := exampleop.SetupServer(issuer, store, logger, false)
	ex := &exampleOP{url: u, srv: &http.Server{Handler: router, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}}
	go func() { _ = ex.srv.Serve(ln) }()
	return ex, nil
}

func (ex *exampleOP) close() { _ = ex.srv.Close() }

// exampleClientCredentials is client_credentials against the example OP,
// with the same form and the same client: the baseline of
// token_vs_example_op.
func exampleClientCredentials(_ context.Context, b *bench) (op, []string, error) {
	ex := b.fx.oauth.example
	t := tokenClient{base: ex.url, http: b.c.http}
	form := ccForm()
	o := func(ctx context.Context, w *worker) error {
		return w.timed(func() error {
			_, err := t.token(ctx, "/oauth/token", form, exampleClientID, exampleClientSecret)
			return err
		})
	}
	return o, []string{"zitadel/oidc example OP (in memory) at " + ex.url + "/oauth/token, client_credentials of " + exampleClientID + " (client_secret_basic, plaintext compare)"}, nil
}

// parseRSAPrivateKey reads a PEM RSA private key, PKCS#1 or PKCS#8.
func parseRSAPrivateKey(b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return rk, nil
}
