package api

import (
	"net/netip"

	"github.com/go-chi/chi/v5"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/internal/viewcache"
	"github.com/idledger/idledger/query"
	"github.com/rs/zerolog"
)

// Deps are the collaborators of the API.
type Deps struct {
	Commands *command.Commands
	Queries  *query.Queries
	Log      zerolog.Logger
	// Origin says whether and how to record where a write came from.
	Origin Origin
	// ExternalSecure makes the instance's origin https:// (behind a TLS
	// proxy): the IdP callback URL uses it.
	ExternalSecure bool
	// Callbacks build CreateCallback's callback URL (the OpenID Provider).
	Callbacks Callbacks
	// OPTokens, when set, authenticates the OP's access tokens wherever a
	// PAT is accepted.
	OPTokens OPTokens
}

// Origin configures the client IP and user agent recorded on events.
type Origin struct {
	// Off stops recording the client IP and user agent.
	Off bool
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
}

// API holds the handlers.
type API struct {
	cmds *command.Commands
	q    *query.Queries
	log  zerolog.Logger
	// origin configures the client IP and user agent on events.
	origin Origin
	// externalSecure: the instance's origin is https:// (intent.go).
	externalSecure bool
	// events serves the event API (events.go); nil until WithEvents.
	events *query.EventLog
	// idpViews holds rendered GET /v2/idps/{id} bodies by row version (idp.go).
	idpViews *viewcache.Cache[[]byte]
	// intentAnswers holds encoded retrieve answers by intent version
	// (intent.go); they hold the upstream's tokens, so never log them.
	intentAnswers *command.IntentAnswers
	// callbacks build CreateCallback's URL (authrequest.go).
	callbacks Callbacks
	opTokens  OPTokens
}

// New returns the API.
func New(d Deps) *API {
	return &API{cmds: d.Commands, q: d.Queries, log: d.Log, origin: d.Origin, externalSecure: d.ExternalSecure,
		idpViews: viewcache.New[[]byte](idpViewBudget), intentAnswers: command.NewIntentAnswers(intentAnswerBudget), callbacks: d.Callbacks, opTokens: d.OPTokens}
}

// Routes mounts every route on r. Each area registers its own routes in its
// file; this list is the one place that says which areas exist. also are
// other transports' mounts (the RPC services) that share the
// authentication, instance and org context of REST.
func (a *API) Routes(r chi.Router, also ...func(chi.Router)) {
	r.Group(a.callbackRoutes) // unauthenticated: the upstreams' callbacks
	r.Group(func(r chi.Router) {
		r.Use(a.authenticate)
		for _, mount := range append(a.areas(), also...) {
			mount(r)
		}
	})
}
