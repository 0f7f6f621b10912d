package api

import "github.com/go-chi/chi/v5"

// linkRoutes mounts this area's routes. (Placeholder until the area lands.)
func (a *API) linkRoutes(r chi.Router) {}
