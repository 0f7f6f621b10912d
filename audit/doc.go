// Package audit answers the auditor's questions from the event log: who
// changed what, when and from where (List), what an aggregate looked like at
// a moment (Replay), and whether the history is intact (Verify). It also
// holds the pieces the HTTP event API shares with the CLI: secret redaction
// (RedactPayload), the event's export shape (NewRecord), the client-IP rule
// for request metadata (ClientIP) and the generator of docs/events.md.
//
// It may import eventstore, events, idp, secretbox, errs and api/gateway (for
// the JSON encodings of the v2 IdP shape); api imports it, never the reverse.
// Start with list.go.
package audit
