package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/idledger/idledger/errs"
)

// ErrBodyTooLarge is the cause of the error Decode returns for a body over
// MaxBodyBytes. WriteError answers any error wrapping it, or wrapping an
// *http.MaxBytesError, with 413 and gRPC code 8 (ResourceExhausted).
var ErrBodyTooLarge = errors.New("request body too large")

// errorDetailType is the "@type" of ZITADEL's error detail message.
const errorDetailType = "type.googleapis.com/zitadel.v1.ErrorDetail"

// Messages sent instead of the real cause, which never reaches the client.
const (
	msgInternal    = "Internal error"
	msgUnavailable = "service unavailable"
	msgCanceled    = "request canceled"
	msgTooLarge    = "request body too large"
	// msgDBUnavailable and dbUnavailableID answer an error that says the
	// database cannot be reached or is shutting down.
	msgDBUnavailable = "database is not reachable"
	dbUnavailableID  = "GATEWAY-Db503"
)

// statusByKind is the one table that maps an error kind to its HTTP status
// (grpc-gateway's HTTPStatusFromCode, with FailedPrecondition as 400).
var statusByKind = map[errs.Kind]int{
	errs.KindInvalidArgument:    http.StatusBadRequest,
	errs.KindFailedPrecondition: http.StatusBadRequest,
	errs.KindUnauthenticated:    http.StatusUnauthorized,
	errs.KindPermissionDenied:   http.StatusForbidden,
	errs.KindNotFound:           http.StatusNotFound,
	errs.KindAlreadyExists:      http.StatusConflict,
	errs.KindAborted:            http.StatusConflict,
	errs.KindResourceExhausted:  http.StatusTooManyRequests,
	errs.KindUnimplemented:      http.StatusNotImplemented,
	errs.KindInternal:           http.StatusInternalServerError,
	errs.KindUnavailable:        http.StatusServiceUnavailable,
	errs.KindDeadlineExceeded:   http.StatusGatewayTimeout,
	errs.KindUnknown:            http.StatusInternalServerError,
}

// errorBody is grpc-gateway's google.rpc.Status JSON.
type errorBody struct {
	Code    int           `json:"code"`
	Message string        `json:"message"`
	Details []errorDetail `json:"details,omitempty"`
}

// errorDetail is zitadel.v1.ErrorDetail.
type errorDetail struct {
	Type    string `json:"@type"`
	ID      string `json:"id"`
	Message string `json:"message"`
}

// WriteError writes err as ZITADEL's error body with the status that the
// kind table gives.
//
// An *errs.Error is sent with its kind as "code" and "<message> (<ID>)" as
// "message", plus one ErrorDetail when it has an ID. Internal and Unknown
// errors, and errors that are not *errs.Error, are sent as 500 with a generic
// message; their cause is logged once to the request's logger
// (LogFrom). Otherwise context.DeadlineExceeded becomes 503 "service
// unavailable", context.Canceled, when the client has gone, 499, and an
// error for which DatabaseUnavailable holds 503 "database is not reachable
// (GATEWAY-Db503)".
// ErrBodyTooLarge becomes 413. Client errors (4xx) are not logged.
//
// On an RPC request (IsRPC) the same error is written in the caller's
// protocol, as RPCError builds it.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if IsRPC(r) {
		writeRPCError(w, r, err)
		return
	}
	status, body, level := classify(r.Context(), err)
	logFailure(r.Context(), level, status, err)
	writeJSONBody(w, status, body)
}

// classify turns err into a status, a body, and the level its cause is
// logged at (NoLevel: not logged, because the client caused it).
func classify(ctx context.Context, err error) (int, errorBody, zerolog.Level) {
	var tooLarge *http.MaxBytesError
	if errors.Is(err, ErrBodyTooLarge) || errors.As(err, &tooLarge) {
		return http.StatusRequestEntityTooLarge,
			errorBody{Code: int(errs.KindResourceExhausted), Message: msgTooLarge}, zerolog.NoLevel
	}
	e, ok := errs.As(err)
	var status int
	if ok {
		status, ok = statusByKind[e.Kind]
	}
	if ok && e.Kind != errs.KindInternal && e.Kind != errs.KindUnknown {
		level := zerolog.NoLevel
		if status >= 500 && status != http.StatusNotImplemented {
			level = zerolog.WarnLevel
		}
		return status, publicBody(int(e.Kind), e.ID, e.Message), level
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable,
			errorBody{Code: int(errs.KindUnavailable), Message: msgUnavailable}, zerolog.WarnLevel
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// The client went away; grpc-gateway answers codes.Canceled with 499.
		return 499, errorBody{Code: 1, Message: msgCanceled}, zerolog.DebugLevel
	}
	if DatabaseUnavailable(err) {
		// [faults] An outage is not a bug: 503 with the standard body, so
		// that clients and load balancers retry, and no stack or cause.
		return http.StatusServiceUnavailable,
			publicBody(int(errs.KindUnavailable), dbUnavailableID, msgDBUnavailable), zerolog.WarnLevel
	}
	code, id := int(errs.KindInternal), ""
	if ok {
		// Keep the stable ID of an errs.Internal or errs.Unknown error; it is
		// what an operator searches the logs for.
		code, id = int(e.Kind), e.ID
	}
	return http.StatusInternalServerError, publicBody(code, id, msgInternal), zerolog.ErrorLevel
}

// publicBody builds the error body; an empty id means no details.
func publicBody(code int, id, msg string) errorBody {
	msg = errs.Text(msg)
	if id == "" {
		return errorBody{Code: code, Message: msg}
	}
	return errorBody{
		Code:    code,
		Message: msg + " (" + id + ")",
		Details: []errorDetail{{Type: errorDetailType, ID: id, Message: msg}},
	}
}

// DatabaseUnavailable reports whether err (or its cause) says that the
// database cannot be reached, dropped the connection or is shutting down or
// starting up: a failed connect, a network error, a closed connection or
// pool, SQLSTATE class 08 (connection exception), 57P01-57P03 (admin or
// crash shutdown, cannot connect now), 53300 (too many connections) or
// 57014 (statement cancelled by statement_timeout). WriteError answers these
// with 503 instead of 500.
//
// The transport does not link the database driver: a server error is
// recognised by its SQLState method (pgconn.PgError has one), and the
// driver's connect and timeout errors, which carry no method to tell them
// by, by their type names.
func DatabaseUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pg sqlStater
	if errors.As(err, &pg) {
		switch code := pg.SQLState(); {
		case strings.HasPrefix(code, "08"), code == "57P01", code == "57P02", code == "57P03",
			code == "53300", code == "57014":
			return true
		}
		return false
	}
	if driverErrorNamed(err, "*pgconn.ConnectError", "*pgconn.errTimeout") {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	// pgx reports a connection that died under it, and pgxpool a closed
	// pool, only as text.
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "closed pool") ||
		strings.Contains(msg, "failed to connect") || strings.Contains(msg, "unexpected EOF")
}

// sqlStater is a database server error: its SQLSTATE code.
type sqlStater interface{ SQLState() string }

// driverErrorNamed reports whether err's chain holds an error of one of the
// named types (as %T prints them). It follows Unwrap() error and
// Unwrap() []error.
func driverErrorNamed(err error, names ...string) bool {
	if err == nil {
		return false
	}
	t := fmt.Sprintf("%T", err)
	for _, n := range names {
		if t == n {
			return true
		}
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return driverErrorNamed(u.Unwrap(), names...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if driverErrorNamed(e, names...) {
				return true
			}
		}
	}
	return false
}

// NotFoundHandler answers 404 with grpc-gateway's routing error body
// {"code":5,"message":"Not Found"}. It is chi's NotFound handler.
func NotFoundHandler(w http.ResponseWriter, r *http.Request) {
	if IsRPC(r) {
		writeRPCError(w, r, errs.Unimplemented("", "method "+r.URL.Path+" is not served"))
		return
	}
	writeJSONBody(w, http.StatusNotFound, errorBody{Code: int(errs.KindNotFound), Message: "Not Found"})
}

// MethodNotAllowedHandler answers 405 with {"code":12,"message":"Method Not
// Allowed"}, as ZITADEL's gateway does, and an Allow header when it runs
// inside a chi router. It is chi's MethodNotAllowed handler.
func MethodNotAllowedHandler(w http.ResponseWriter, r *http.Request) {
	if allow := allowedMethods(r); allow != "" {
		w.Header().Set("Allow", allow)
	}
	writeJSONBody(w, http.StatusMethodNotAllowed,
		errorBody{Code: int(errs.KindUnimplemented), Message: "Method Not Allowed"})
}
