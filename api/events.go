package api

import "github.com/go-chi/chi/v5"

// eventRoutes mounts this area's routes. (Placeholder until the area lands.)
func (a *API) eventRoutes(r chi.Router) {}
