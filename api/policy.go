package api

import "github.com/go-chi/chi/v5"

// policyRoutes mounts this area's routes. (Placeholder until the area lands.)
func (a *API) policyRoutes(r chi.Router) {}
