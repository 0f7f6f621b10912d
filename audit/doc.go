// Package audit answers the auditor's questions from the event log: who
// changed what, when and from where (List), what an aggregate looked like at
// a moment (Replay), and whether the history is intact (Verify). It also
// holds the pieces the HTTP event API shares with the CLI: secret redaction
// (RedactPayload), the event's export shape (NewRecord) and the generator of
// docs/events.md. It knows no HTTP: the client-IP rule is the transport's
// (gateway.ClientIP).
//
// Imports: errs, events, eventstore, idp, internal/idpstate, internal/pbjson,
// query, secretbox;
// never api or net/http. api imports it, never the reverse.
// Start with list.go.
package audit
