// Package gen holds the Go code that scripts/protogen generates from the
// .proto subset in proto/: the messages (protoc-gen-go) and the connect
// handlers and clients (protoc-gen-connect-go) of the ZITADEL services that
// idledger serves. Do not edit it; change proto/ and rerun the script.
// TestGeneratedCodeIsFresh fails when it is stale.
//
// Imports: no package of the module; the generated packages below it import
// one another, google.golang.org/protobuf and connectrpc.com/connect.
package gen
