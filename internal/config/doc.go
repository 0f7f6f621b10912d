// Package config turns flags and IDLEDGER_* environment variables into a
// validated Config, exactly as DESIGN.md §1 lists them: a flag wins over its
// environment variable, which wins over the default.
//
// Every subcommand of cmd/idledger registers the same common flags through
// Parse, so `idledger migrate --database-url …` and `idledger serve
// --database-url …` mean the same thing. Redacted is the only way a Config
// should reach a log line: it hides the master key and the database password.
//
// Imports: secretbox, and the standard library and third-party modules only.
// Start with Parse in config.go.
package config
