package api

import "github.com/go-chi/chi/v5"

// identityRoutes mounts this area's routes. (Placeholder until the area lands.)
func (a *API) identityRoutes(r chi.Router) {}
