package api

import "github.com/go-chi/chi/v5"

// idpRoutes mounts this area's routes. (Placeholder until the area lands.)
func (a *API) idpRoutes(r chi.Router) {}
