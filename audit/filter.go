package audit

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/query"
)

// Output formats of List.
const (
	FormatTable = "table"
	FormatJSONL = "jsonl"
)

// ListOptions are the filters and output settings of `events list`
// (DESIGN.md §1). Times and positions are kept as typed on the command line
// and parsed by Filter, so that every bad value gets the same clear error.
type ListOptions struct {
	Instance       string
	AggregateTypes []string // repeatable; also comma-separated
	AggregateIDs   []string // repeatable; also comma-separated
	Types          []string // repeatable event type prefixes
	Creator        string
	Since          string // RFC 3339, inclusive
	Until          string // RFC 3339, exclusive
	AfterPosition  string // a global position; resolved with CursorAt
	Limit          int    // 0: no limit
	Format         string // FormatTable (default) or FormatJSONL
	Follow         bool   // keep streaming new events until ctx ends
}

// BindListFlags defines the `events list` flags on fs and returns the
// options they fill when fs is parsed.
func BindListFlags(fs *flag.FlagSet) *ListOptions {
	o := &ListOptions{Format: FormatTable}
	fs.StringVar(&o.Instance, "instance", "", "only events of this instance ID")
	fs.Var((*listValue)(&o.AggregateTypes), "aggregate-type", "only this aggregate type: instance, org, user, idp, login_policy (repeatable)")
	fs.Var((*listValue)(&o.AggregateIDs), "aggregate-id", "only this aggregate ID (repeatable)")
	fs.Var((*listValue)(&o.Types), "type", "only event types starting with this prefix, e.g. idp. (repeatable)")
	fs.StringVar(&o.Creator, "creator", "", "only events created by this user ID")
	fs.StringVar(&o.Since, "since", "", "only events created at or after this RFC 3339 time")
	fs.StringVar(&o.Until, "until", "", "only events created before this RFC 3339 time")
	fs.StringVar(&o.AfterPosition, "after-position", "", "only events after the event at this global position, in the gap-free order")
	fs.IntVar(&o.Limit, "limit", 0, "print at most this many events (0: all)")
	fs.StringVar(&o.Format, "format", FormatTable, "output format: table or jsonl")
	fs.BoolVar(&o.Follow, "follow", false, "keep printing new events as they are committed, until interrupted")
	return o
}

// listValue is a repeatable flag that also splits on commas.
type listValue []string

func (l *listValue) String() string { return strings.Join(*l, ",") }

func (l *listValue) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// Search validates the options and returns the search of the event log
// they describe; the position is resolved when the search runs. Event types
// are prefixes. Errors: errs.InvalidArgument for a malformed time, position,
// type, limit or format.
func (o *ListOptions) Search() (query.EventSearch, error) {
	s := query.EventSearch{
		InstanceID:     strings.TrimSpace(o.Instance),
		AggregateTypes: o.AggregateTypes,
		AggregateIDs:   o.AggregateIDs,
		Creator:        strings.TrimSpace(o.Creator),
		Limit:          o.Limit,
	}
	var err error
	if s.TypePrefixes, err = ParseTypes(o.Types); err != nil {
		return s, err
	}
	if s.Since, err = ParseTime("since", o.Since); err != nil {
		return s, err
	}
	if s.Until, err = ParseTime("until", o.Until); err != nil {
		return s, err
	}
	if !s.Since.IsZero() && !s.Until.IsZero() && !s.Since.Before(s.Until) {
		return s, errs.InvalidArgument("AUDIT-Rng01", "--since must be before --until")
	}
	if o.Limit < 0 {
		return s, errs.InvalidArgument("AUDIT-Lim01", "--limit must not be negative")
	}
	switch o.Format {
	case "", FormatTable, FormatJSONL:
	default:
		return s, errs.InvalidArgument("AUDIT-Fmt01", fmt.Sprintf("unknown --format %q (want table or jsonl)", o.Format))
	}
	if s.AfterPosition, err = ParsePosition(o.AfterPosition); err != nil {
		return s, err
	}
	return s, nil
}

// ParseTime reads an RFC 3339 time (fractions allowed) for the named flag;
// "" is the zero time. Errors: errs.InvalidArgument.
func ParseTime(name, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, errs.InvalidArgument("AUDIT-Time1",
			fmt.Sprintf("--%s: %q is not an RFC 3339 time such as 2024-11-05T10:32:11Z", name, s))
	}
	return t.UTC(), nil
}

// ParsePosition reads a global position; "" is 0 (the start of the log).
// Errors: errs.InvalidArgument for anything but a non-negative integer.
func ParsePosition(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	p, err := strconv.ParseInt(s, 10, 64)
	if err != nil || p < 0 {
		return 0, errs.InvalidArgument("AUDIT-Pos01", fmt.Sprintf("position %q is not a non-negative integer", s))
	}
	return p, nil
}

// maxTypeLen bounds an event type prefix; real types are far shorter.
const maxTypeLen = 200

// ParseTypes checks event type prefixes: dotted lower-case names, optionally
// ending in "." or "*" ("idp.", "idp.*" and "idp.added" all work).
// Errors: errs.InvalidArgument naming the bad prefix.
func ParseTypes(types []string) ([]string, error) {
	var out []string
	for _, t := range types {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !validType(t) {
			return nil, errs.InvalidArgument("AUDIT-Type1",
				fmt.Sprintf("event type %q is not a dotted name such as idp.added or a prefix such as idp.", t))
		}
		if t = strings.TrimSuffix(t, "*"); t != "" { // "*" alone filters nothing
			out = append(out, t)
		}
	}
	return out, nil
}

func validType(t string) bool {
	if len(t) > maxTypeLen {
		return false
	}
	body := strings.TrimSuffix(t, "*")
	if body == "" {
		return t == "*"
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c == '.' || c == '_' || c == '-' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
