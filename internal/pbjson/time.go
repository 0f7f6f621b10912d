package pbjson

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Timestamp is a google.protobuf.Timestamp: RFC 3339 in UTC with a "Z" and
// 0, 3, 6 or 9 fractional digits, exactly as protojson writes it. Tag fields
// `json:",omitzero"` so that the zero time is left out.
type Timestamp time.Time

// Time returns t as a time.Time.
func (t Timestamp) Time() time.Time { return time.Time(t) }

// IsZero reports whether t is the zero time; `omitzero` uses it.
func (t Timestamp) IsZero() bool { return time.Time(t).IsZero() }

// String returns t in its JSON form, without quotes.
func (t Timestamp) String() string {
	s, err := formatTimestamp(time.Time(t))
	if err != nil {
		return time.Time(t).String()
	}
	return s
}

// MarshalJSON writes t in protojson's form. It fails for years outside
// 0001 to 9999, which protojson cannot represent either.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	s, err := formatTimestamp(time.Time(t))
	if err != nil {
		return nil, err
	}
	return strconv.AppendQuote(nil, s), nil
}

// UnmarshalJSON reads an RFC 3339 string with any offset and at most 9
// fractional digits, and stores it in UTC; null leaves t unchanged. Any other
// input is a *json.UnmarshalTypeError.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s, ok := plainString(b)
	if !ok {
		return typeError(b, reflect.TypeFor[Timestamp]())
	}
	if i := strings.LastIndexByte(s, '.'); i >= 0 && fracDigits(s[i+1:]) > 9 {
		return typeError(b, reflect.TypeFor[Timestamp]())
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || v.UTC().Year() < 1 || v.UTC().Year() > 9999 {
		return typeError(b, reflect.TypeFor[Timestamp]())
	}
	*t = Timestamp(v.UTC())
	return nil
}

// InvalidValueReason says what a Timestamp field expects; decoders use it
// in their error messages.
func (Timestamp) InvalidValueReason() string {
	return `expected an RFC 3339 timestamp such as "2024-11-05T10:32:11.412Z"`
}

func formatTimestamp(t time.Time) (string, error) {
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return "", fmt.Errorf("pbjson: timestamp year %d outside 0001 to 9999", y)
	}
	s := t.Format("2006-01-02T15:04:05.000000000")
	return trimNanos(s) + "Z", nil
}

// trimNanos drops trailing groups of three zeros from a ".nnnnnnnnn" suffix,
// and the dot when nothing remains, leaving 0, 3, 6 or 9 digits.
func trimNanos(s string) string {
	s = strings.TrimSuffix(s, "000")
	s = strings.TrimSuffix(s, "000")
	return strings.TrimSuffix(s, ".000")
}

// fracDigits counts the leading digits of s.
func fracDigits(s string) int {
	n := 0
	for n < len(s) && '0' <= s[n] && s[n] <= '9' {
		n++
	}
	return n
}

// Duration is a google.protobuf.Duration: a string of seconds with 0, 3, 6 or
// 9 fractional digits and an "s" suffix, as protojson writes it ("10s",
// "1.500s", "0.000000001s").
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String returns d in its JSON form, without quotes.
func (d Duration) String() string { return formatDuration(time.Duration(d)) }

// MarshalJSON writes d in protojson's form.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, formatDuration(time.Duration(d))), nil
}

// UnmarshalJSON reads protojson's form: an optional sign, seconds, at most 9
// fractional digits, then "s" ("1s", "1.5s", ".5s", "-2s"); null leaves d
// unchanged. Values outside time.Duration's range, and any other input, are
// a *json.UnmarshalTypeError.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s, ok := plainString(b)
	if !ok {
		return typeError(b, reflect.TypeFor[Duration]())
	}
	v, ok := parseDuration(s)
	if !ok {
		return typeError(b, reflect.TypeFor[Duration]())
	}
	*d = Duration(v)
	return nil
}

// InvalidValueReason says what a Duration field expects.
func (Duration) InvalidValueReason() string {
	return `expected a duration in seconds such as "10s" or "1.5s"`
}

func formatDuration(d time.Duration) string {
	u := uint64(d)
	sign := ""
	if d < 0 {
		sign, u = "-", -u // two's complement: exact even for math.MinInt64
	}
	s := fmt.Sprintf("%s%d.%09d", sign, u/1e9, u%1e9)
	return trimNanos(s) + "s"
}

// parseDuration parses protojson's duration grammar:
// [+-] (0 | [1-9][0-9]* | empty) [. [0-9]{0,9}] s, with at least the integer
// part or the dot present.
func parseDuration(s string) (time.Duration, bool) {
	s, ok := strings.CutSuffix(s, "s")
	if !ok || s == "" {
		return 0, false
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && !hasDot {
		return 0, false
	}
	if fracDigits(intPart) != len(intPart) || len(intPart) > 1 && intPart[0] == '0' {
		return 0, false
	}
	if fracDigits(frac) != len(frac) || len(frac) > 9 {
		return 0, false
	}
	var secs, nanos uint64
	if intPart != "" {
		var err error
		if secs, err = strconv.ParseUint(intPart, 10, 64); err != nil {
			return 0, false
		}
	}
	if frac != "" {
		nanos, _ = strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	limit := uint64(1<<63 - 1) // the largest time.Duration
	if neg {
		limit++ // math.MinInt64 has one more
	}
	if secs > limit/1e9 || secs*1e9 > limit-nanos {
		return 0, false
	}
	total := secs*1e9 + nanos
	if neg {
		return time.Duration(-total), true // wraps to MinInt64 exactly when total is 1<<63
	}
	return time.Duration(total), true
}

// plainString returns the content of a JSON string without escapes. Values
// of these types never need escapes, so one is treated as invalid.
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	s := string(b[1 : len(b)-1])
	return s, !strings.ContainsRune(s, '\\')
}
