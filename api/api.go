package api

import (
	"github.com/go-chi/chi/v5"
	"github.com/idledger/idledger/command"
	"github.com/idledger/idledger/query"
	"github.com/rs/zerolog"
)

// Deps are the collaborators of the API.
type Deps struct {
	Commands *command.Commands
	Queries  *query.Queries
	Log      zerolog.Logger
}

// API holds the handlers.
type API struct {
	cmds *command.Commands
	q    *query.Queries
	log  zerolog.Logger
	// events serves the event API (events.go); nil until WithEvents.
	events eventSource
}

// New returns the API.
func New(d Deps) *API {
	return &API{cmds: d.Commands, q: d.Queries, log: d.Log}
}

// Routes mounts every route on r. Each area registers its own routes in its
// file; this list is the one place that says which areas exist.
func (a *API) Routes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(a.authenticate)
		for _, mount := range a.areas() {
			mount(r)
		}
	})
}
