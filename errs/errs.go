package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error. The numeric value is the gRPC status code that
// ZITADEL's gateway puts into the "code" field of its error body.
type Kind int

const (
	KindUnknown            Kind = 2
	KindInvalidArgument    Kind = 3
	KindDeadlineExceeded   Kind = 4
	KindNotFound           Kind = 5
	KindAlreadyExists      Kind = 6
	KindPermissionDenied   Kind = 7
	KindResourceExhausted  Kind = 8
	KindFailedPrecondition Kind = 9
	KindAborted            Kind = 10
	KindUnimplemented      Kind = 12
	KindInternal           Kind = 13
	KindUnavailable        Kind = 14
	KindUnauthenticated    Kind = 16
)

func (k Kind) String() string {
	switch k {
	case KindInvalidArgument:
		return "InvalidArgument"
	case KindDeadlineExceeded:
		return "DeadlineExceeded"
	case KindNotFound:
		return "NotFound"
	case KindAlreadyExists:
		return "AlreadyExists"
	case KindPermissionDenied:
		return "PermissionDenied"
	case KindResourceExhausted:
		return "ResourceExhausted"
	case KindFailedPrecondition:
		return "FailedPrecondition"
	case KindAborted:
		return "Aborted"
	case KindUnimplemented:
		return "Unimplemented"
	case KindInternal:
		return "Internal"
	case KindUnavailable:
		return "Unavailable"
	case KindUnauthenticated:
		return "Unauthenticated"
	}
	return "Unknown"
}

// Error is a domain error with a kind, a stable ID and a human message.
// ID may be empty for validation errors, which ZITADEL sends without details.
type Error struct {
	Kind    Kind
	ID      string
	Message string
	Cause   error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.ID != "" {
		msg = fmt.Sprintf("%s (%s)", msg, e.ID)
	}
	if e.Cause != nil {
		return msg + ": " + e.Cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Cause }

// Is lets errors.Is match on kind and ID: errors.Is(err, &Error{Kind: k, ID: id}).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return (t.Kind == 0 || t.Kind == e.Kind) && (t.ID == "" || t.ID == e.ID)
}

// WithCause returns a copy of e that wraps cause.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.Cause = cause
	return &c
}

func New(kind Kind, id, message string) *Error {
	return &Error{Kind: kind, ID: id, Message: message}
}

func InvalidArgument(id, message string) *Error { return New(KindInvalidArgument, id, message) }
func FailedPrecondition(id, message string) *Error {
	return New(KindFailedPrecondition, id, message)
}
func NotFound(id, message string) *Error      { return New(KindNotFound, id, message) }
func AlreadyExists(id, message string) *Error { return New(KindAlreadyExists, id, message) }
func PermissionDenied(id, message string) *Error {
	return New(KindPermissionDenied, id, message)
}
func Unauthenticated(id, message string) *Error { return New(KindUnauthenticated, id, message) }
func Aborted(id, message string) *Error         { return New(KindAborted, id, message) }
func Unimplemented(id, message string) *Error   { return New(KindUnimplemented, id, message) }
func Unavailable(id, message string) *Error     { return New(KindUnavailable, id, message) }
func ResourceExhausted(id, message string) *Error {
	return New(KindResourceExhausted, id, message)
}

// Internal wraps an unexpected cause. Its message is generic on purpose: the
// HTTP layer logs the cause once and never sends it to the client.
func Internal(id string, cause error) *Error {
	return &Error{Kind: KindInternal, ID: id, Message: "Internal error", Cause: cause}
}

// KindOf returns the kind of err, or KindUnknown when err carries none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}

// As returns the *Error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
