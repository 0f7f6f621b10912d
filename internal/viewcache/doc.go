// Package viewcache holds values derived from one version of a row or an
// aggregate (a rendered view, a derived write-side value) by that version,
// in least recently used order within a byte budget: a value is served only
// to a request that has just read that very version from the database.
//
// Imports: no package of the module.
// Start with Cache in viewcache.go.
package viewcache
