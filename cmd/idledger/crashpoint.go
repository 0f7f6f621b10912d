//go:build !crashpoints

package main

// crashPoint marks a step of a multi-step command after which the tests kill
// the process (built with -tags crashpoints). In a normal build it does
// nothing.
func crashPoint(string) {}
