// Package archtest holds no code, only the tests that keep idledger's
// shape (DESIGN.md §4): the import rules of the seam between transport and
// domain, the typed inputs of the commands, the "
// Imports: no package of the module.
//
// Imports: nothing outside its tests.
package archtest
