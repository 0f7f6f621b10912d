package command

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/idledger/idledger/errs"
)

// The request rules shared by every command: protoc-gen-validate's length
// rule, with its messages, and the wrapping of an embedded message's error.

// validLen checks a string's length in runes like protoc-gen-validate,
// with its message. max 0 means no upper bound.
func validLen(field, v string, min, max int) error {
	if strings.ContainsRune(v, 0) {
		return errs.InvalidArgument("", "invalid "+field+": value must not contain NUL characters")
	}
	n := utf8.RuneCountInString(v)
	if n >= min && (max == 0 || n <= max) {
		return nil
	}
	var rule string
	switch {
	case max == 0:
		rule = fmt.Sprintf("value length must be at least %d runes", min)
	case min == 0:
		rule = fmt.Sprintf("value length must be at most %d runes", max)
	default:
		rule = fmt.Sprintf("value length must be between %d and %d runes, inclusive", min, max)
	}
	return errs.InvalidArgument("", "invalid "+field+": "+rule)
}

// embedded wraps a nested message's validation error the way
// protoc-gen-validate reports it.
func embedded(field string, err error) error {
	if err == nil {
		return nil
	}
	e, ok := errs.As(err)
	if !ok {
		return err
	}
	return errs.InvalidArgument("", "invalid "+field+": embedded message failed validation | caused by: "+e.Message)
}

// pgvLength is protoc-gen-validate's message for a string length rule.
func pgvLength(field, value string, min, max int) error {
	if n := utf8.RuneCountInString(value); n < min || n > max {
		return errs.InvalidArgument("", fmt.Sprintf("invalid %s: value length must be between %d and %d runes, inclusive", field, min, max))
	}
	return nil
}
