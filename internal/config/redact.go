package config

import (
	"net/url"
	"regexp"
	"strings"
)

const passwordMask = "xxxxx"

var (
	// password=... and sslpassword=... in keyword/value strings, quoted or not.
	kvPassword = regexp.MustCompile(`(?i)(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)`)
	// password=... and sslpassword=... in a URL query.
	urlPassword = regexp.MustCompile(`(?i)([?&](?:ssl)?password=)[^&#]*`)
	// user:password@ of a URL that net/url refuses; over-masks rather than leaks.
	brokenUserinfo = regexp.MustCompile(`^([a-z]+://[^:@/]*:).*@`)
)

// RedactDatabaseURL replaces the password of a connection string with
// "xxxxx", wherever libpq syntax lets one appear: the URL user info, the
// password and sslpassword query parameters, or keyword/value pairs.
// An empty string stays empty.
func RedactDatabaseURL(s string) string {
	if !strings.HasPrefix(s, "postgres://") && !strings.HasPrefix(s, "postgresql://") {
		return kvPassword.ReplaceAllString(s, "${1}"+passwordMask)
	}
	if u, err := url.Parse(s); err == nil {
		if u.RawQuery != "" {
			// Prefix "&" so that the first parameter matches like the others.
			u.RawQuery = urlPassword.ReplaceAllString("&"+u.RawQuery, "${1}"+passwordMask)[1:]
		}
		return u.Redacted()
	}
	s = brokenUserinfo.ReplaceAllString(s, "${1}"+passwordMask+"@")
	return urlPassword.ReplaceAllString(s, "${1}"+passwordMask)
}
