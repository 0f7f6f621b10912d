package main

import (
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idledger/idledger/api"
	"github.com/idledger/idledger/internal/app"
	"github.com/idledger/idledger/internal/config"
	"github.com/idledger/idledger/migrations"
)

// HTTP server limits. The drain timeout bounds graceful shutdown.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	drainTimeout      = 20 * time.Second
	streamGrace       = 2 * time.Second
)

// deps is everything buildApp wires together. runServe creates each of
// them once.
type deps struct {
	Config        config.Config
	Log           zerolog.Logger
	Pool          *pgxpool.Pool
	MasterKey     []byte
	OldMasterKeys [][]byte
}

// buildApp is the one place where cmd hands over to the application
// wiring (internal/app): stores, commands, queries, API handlers, metrics
// and the OpenAPI document, on the gateway router.
func buildApp(_ context.Context, d deps) (*app.App, error) {
	ver, rev := buildVersion()
	return app.New(context.Background(), app.Options{
		Pool: d.Pool, Log: d.Log, MasterKey: d.MasterKey, OldMasterKeys: d.OldMasterKeys, MachineID: d.Config.MachineID,
		Version: ver, Commit: rev,
		Origin:         api.Origin{Off: !d.Config.RecordClientIP, TrustedProxies: d.Config.TrustedProxies},
		Limits:         serveLimits(d.Config, d.Pool), // [faults]
		ExternalSecure: d.Config.ExternalSecure,
		LoginURL:       d.Config.LoginURL,
	})
}

// runServe opens the database, migrates it, wires the handler and serves
// until ctx ends (SIGINT/SIGTERM). Shutdown order: drain HTTP requests (up to
// drainTimeout), close the pool, stop the embedded PostgreSQL.
func runServe(ctx context.Context, e *env, cfg config.Config, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	ver, rev := buildVersion()
	e.log.Info().Str("version", ver).Str("commit", rev).Str("config", cfg.Redacted()).Msg("starting idledger")

	pool, cleanup, err := openDatabase(ctx, cfg, e.log, mayInitCluster, servePool(cfg))
	if err != nil {
		return err
	}
	defer cleanup()
	applied, err := migrations.Apply(ctx, pool)
	if err != nil {
		return err
	}
	e.log.Info().Ints("applied", applied).Msg("schema is up to date")
	key, oldKeys, err := masterKeys(cfg, e.log)
	if err != nil {
		return err
	}
	a, err := buildApp(ctx, deps{Config: cfg, Log: e.log, Pool: pool, MasterKey: key, OldMasterKeys: oldKeys})
	if err != nil {
		return err
	}
	if cfg.MasterKey == "" {
		// The keyring file is the truth: a `keys rotate` takes effect before
		// the next seal, and SIGHUP reloads it at once.
		w := newKeyringWatcher(cfg.DataDir, a.Keys(), e.log)
		a.Keys().OnRefresh(w.check)
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-hup:
					w.reload(true)
				}
			}
		}()
	}
	e.log.Info().Str("current_key", a.Keys().CurrentID()).Int("keys", len(a.Keys().IDs())).Msg("master keys loaded")
	e.log.Info().Uint16("machine_id", a.IDs().MachineID()).Str("source", a.IDs().MachineIDSource()).Msg("ID generator ready")
	if _, err := a.Bootstrap(ctx, cfg.ExternalDomain, nil, cfg.AdminPATFile); err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	if err := a.EnsureInstanceProjects(ctx); err != nil {
		return err
	}
	bg, cancelBG := context.WithCancel(ctx)
	defer cancelBG()
	if _, err := a.Start(bg); err != nil {
		return err
	}
	handler := a.Handler()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	url := serverURL(cfg.Listen, ln.Addr())
	e.log.Info().Str("url", url).Str("addr", ln.Addr().String()).Msg("serving HTTP")
	fmt.Fprintf(e.stdout, "idledger is serving on %s\n", url)
	note := ""
	if _, err := os.Stat(cfg.AdminPATFile); err != nil {
		note = " (not written yet)"
	}
	fmt.Fprintf(e.stdout, "admin token file: %s%s\n", cfg.AdminPATFile, note)

	return serveHTTP(ctx, ln, handler, e.log)
}

// newHTTPServer returns the server with idledger's timeouts.
// It speaks HTTP/1.1 and cleartext HTTP/2 (h2c) on the one listener, so
// that gRPC clients reach the RPC services beside REST.
func newHTTPServer(h http.Handler, log zerolog.Logger) *http.Server {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Server{
		Handler:           h,
		Protocols:         &protocols,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          stdlog.New(log.With().Str("component", "http").Logger(), "", 0),
	}
}

// serveHTTP serves on ln until ctx ends, then stops accepting connections
// and waits up to drainTimeout for requests in flight. Requests do not
// inherit ctx, so a signal does not cancel them: they finish.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, log zerolog.Logger) error {
	srv := newHTTPServer(h, log)
	// Requests do not see the shutdown signal, so ordinary requests finish.
	// Long-lived ones (the event stream) end only when their context does:
	// cancel the base context a moment into the drain so they close cleanly.
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	srv.BaseContext = func(net.Listener) context.Context { return base }
	srv.RegisterOnShutdown(func() { time.AfterFunc(streamGrace, cancelBase) })
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info().Dur("timeout", drainTimeout).Msg("shutting down: draining requests (signal again to force)")
	sctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("drain requests: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	log.Info().Msg("HTTP server stopped")
	return nil
}

// serverURL is the URL to print for the listen address: the configured host
// (localhost when it is empty or unspecified) and the port actually bound,
// which differs when the configured port is 0.
func serverURL(listen string, bound net.Addr) string {
	host, _, _ := net.SplitHostPort(listen)
	_, port, _ := net.SplitHostPort(bound.String())
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
