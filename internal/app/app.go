// Package app is the one place where idledger's application is wired: event
// store with its inline projections, ID generator, keyring, commands,
// queries and HTTP API. cmd/idledger and the end-to-end harness
// (internal/app/apptest) both build it with New.
//
// Imports everything below cmd. Start with New, then Bootstrap.
//
// Imports: api, api/gateway, api/openapi, command, errs, eventstore, internal/ids, internal/metrics, oidc, projection, query, rpc, secretbox, ui, upstream, and the standard library and third-party modules only.
package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/idledger/idledger/api"
	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/api/openapi"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/eventstore"
	"github.com/idledger/idledger/internal/ids"
	"github.com/idledger/idledger/internal/metrics"
	"github.com/idledger/idledger/oidc"
	"github.com/idledger/idledger/projection"
	"github.com/idledger/idledger/query"
	"github.com/idledger/idledger/rpc"
	"github.com/idledger/idledger/secretbox"
	"github.com/idledger/idledger/ui"
	"github.com/idledger/idledger/upstream"
)

// readyPingTimeout bounds /readyz's database ping.
const readyPingTimeout = time.Second

// Options are what New needs from its caller.
type Options struct {
	Pool *pgxpool.Pool // a migrated database
	Log  zerolog.Logger
	// MasterKey encrypts IdP secrets (secretbox.KeySize bytes). nil makes a
	// random one, which only tests should rely on: secrets sealed with it
	// cannot be opened after a restart.
	MasterKey []byte
	// OldMasterKeys can still open secrets sealed before a rotation.
	OldMasterKeys [][]byte
	// MachineID of the ID generator; nil derives one (see ids.New).
	MachineID *uint16
	// Now is the clock of commands; nil is time.Now.
	Now func() time.Time
	// Origin configures the client IP and user agent recorded on events.
	Origin api.Origin
	// Version and Commit label the build-info metric.
	Version, Commit string
	// Limits are the abuse limits (limits.go); the zero value is none.
	Limits Limits
	// UpstreamClient makes the requests to upstream IdPs (discovery, token,
	// userinfo, keys); nil is a client with a 10 s timeout. Tests route the
	// fixed hosts (github.com, …) to loopback through its transport.
	UpstreamClient *http.Client
	// ExternalSecure: the instance's origin, and so every IdP callback URL,
	// is https:// (behind a TLS proxy).
	ExternalSecure bool
	// LoginURL is --login-url, the base URL of the login UI for apps that
	// name none of their own: the OP sends the browser to
	// <LoginURL>/login?authRequest=V2_<id> ("" is the hosted login,
	// /ui/v2/login).
	LoginURL string
	// MaxPasswordAttempts is the lockout policy (command.Deps'): a user is
	// locked after this many failed password checks in a row; 0 never.
	MaxPasswordAttempts uint64
}

// App is a wired idledger application.
type App struct {
	pool     *pgxpool.Pool
	log      zerolog.Logger
	registry *projection.Registry
	store    *eventstore.Postgres
	ids      *ids.Flake
	keys     *secretbox.Keyring
	cmds     *command.Commands
	secure   bool // Options.ExternalSecure
	q        *query.Queries
	api      *api.API
	rpc      *rpc.Server
	ui       *ui.UI
	op       *oidc.OP
	metrics  *metrics.Metrics
	// [faults] abuse limits (limits.go)
	limits      Limits
	authLimiter *api.AuthLimiter
	admission   *api.Admission
}

// New wires the application on a migrated database. It starts nothing;
// call Start for the background work and Handler for HTTP.
func New(_ context.Context, o Options) (*App, error) {
	if o.Pool == nil {
		return nil, fmt.Errorf("app: no database pool")
	}
	key := o.MasterKey
	if key == nil {
		key = make([]byte, secretbox.KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("app: generate master key: %w", err)
		}
	}
	keys, err := secretbox.NewKeyring(key, o.OldMasterKeys...)
	if err != nil {
		return nil, fmt.Errorf("app: keyring: %w", err)
	}
	gen, err := ids.New(o.MachineID)
	if err != nil {
		return nil, err
	}
	a := &App{pool: o.Pool, log: o.Log, ids: gen, keys: keys}
	a.metrics = metrics.New(metrics.BuildInfo{Version: o.Version, Commit: o.Commit})
	if err := a.metrics.RegisterPool(o.Pool); err != nil {
		return nil, fmt.Errorf("app: metrics: %w", err)
	}
	a.registry = projection.NewRegistry(projection.All()...)
	a.store = eventstore.NewPostgres(o.Pool, a.registry)
	if err := a.metrics.RegisterProjections(a.projectionStats); err != nil {
		return nil, fmt.Errorf("app: metrics: %w", err)
	}
	a.q = query.New(o.Pool)
	a.cmds = command.New(command.Deps{Store: a.metrics.InstrumentStore(a.store), IDs: gen, Keys: keys, Now: o.Now,
		Links: a.q, Members: a.q, Users: a.q, Clients: a.q, Observe: a.metrics.ObserveCommand,
		Upstream: upstream.New(upstream.Options{Client: o.UpstreamClient, Now: o.Now}), ExternalUsers: a.q, LoginUsers: a.q,
		MaxPasswordAttempts: o.MaxPasswordAttempts})
	eventLog := query.NewEventLog(a.store)
	a.secure = o.ExternalSecure
	if a.op, err = oidc.New(oidc.Deps{Commands: a.cmds, Queries: a.q, Keys: keys, ExternalSecure: o.ExternalSecure,
		LoginURL: o.LoginURL}); err != nil {
		return nil, fmt.Errorf("app: openid provider: %w", err)
	}
	a.api = api.New(api.Deps{Commands: a.cmds, Queries: a.q, Log: o.Log, Origin: o.Origin, ExternalSecure: o.ExternalSecure,
		Callbacks: a.op, OPTokens: a.op}).WithEvents(eventLog)
	a.rpc = rpc.New(rpc.Deps{Commands: a.cmds, Queries: a.q, Events: eventLog, Ready: a.ping, ExternalSecure: o.ExternalSecure, Callbacks: a.op,
		Observe: a.metrics.ObserveRPC})
	if a.ui, err = ui.New(ui.Deps{Commands: a.cmds, Queries: a.q, Keys: keys, AuthRequests: loginAuthRequests{cmds: a.cmds, q: a.q, op: a.op},
		ExternalSecure: o.ExternalSecure, TrustedProxies: o.Origin.TrustedProxies, RecordOriginOff: o.Origin.Off,
		Log: o.Log}); err != nil {
		return nil, fmt.Errorf("app: hosted login: %w", err)
	}
	a.initLimits(o.Limits) // [faults]
	return a, nil
}

// Handler returns the HTTP handler: the gateway router (request IDs, access
// log, recovery, body limit, ZITADEL's 404/405 bodies), the abuse limits of
// Options.Limits, /healthz, /readyz, every API route and the hosted login.
func (a *App) Handler() http.Handler {
	r := gateway.NewRouter(a.log)
	r.Use(metrics.Middleware(a.metrics))
	r.Use(a.limitMiddlewares()...) // [faults] admission, request timeout, auth rate limit
	r.Method(http.MethodGet, "/metrics", a.metrics.Handler())
	r.Method(http.MethodGet, "/openapi.yaml", openapi.Handler())
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		gateway.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", a.readyz)
	a.rpc.MountPublic(r)
	r.Mount(ui.BasePath, a.ui.Handler())
	a.op.Mount(r)
	a.api.Routes(r, a.rpc.Mount)
	return r
}

// ping answers whether the database answers within readyPingTimeout.
func (a *App) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyPingTimeout)
	defer cancel()
	return a.pool.Ping(ctx)
}

// readyz answers 200 while the database answers a ping within a second,
// and 503 with the standard error body otherwise.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	if err := a.ping(r.Context()); err != nil {
		gateway.WriteError(w, r, errs.Unavailable("HEALTH-d8Rq2", "database is not reachable").WithCause(err))
		return
	}
	gateway.WriteJSON(w, http.StatusOK, a.readiness(r.Context()))
}

// Pool returns the database pool.
func (a *App) Pool() *pgxpool.Pool { return a.pool }

// Store returns the event store.
func (a *App) Store() *eventstore.Postgres { return a.store }

// Registry returns the projection registry (for rebuilds and status).
func (a *App) Registry() *projection.Registry { return a.registry }

// Commands returns the write side.
func (a *App) Commands() *command.Commands { return a.cmds }

// Queries returns the read side.
func (a *App) Queries() *query.Queries { return a.q }

// IDs returns the ID generator.
func (a *App) IDs() *ids.Flake { return a.ids }

// Metrics returns the Prometheus metrics of this process.
func (a *App) Metrics() *metrics.Metrics { return a.metrics }

// Keys returns the secret keyring.
func (a *App) Keys() *secretbox.Keyring { return a.keys }
