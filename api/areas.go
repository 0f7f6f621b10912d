package api

import "github.com/go-chi/chi/v5"

// areas lists the route groups. Each area's file defines its mount function.
func (a *API) areas() []func(chi.Router) {
	return []func(chi.Router){a.identityRoutes, a.idpRoutes, a.policyRoutes, a.linkRoutes, a.eventRoutes,
		a.intentRoutes, a.sessionRoutes, a.listRoutes, a.trustedDomainRoutes, a.projectRoutes, a.appKeyRoutes, a.machineRoutes, a.oidcSettingsRoutes,
		a.authRequestRoutes}
}
