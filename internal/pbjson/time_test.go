package pbjson

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"10s", 10 * time.Second, "10s"},
		{"0s", 0, "0s"},
		{"1.5s", 1500 * time.Millisecond, "1.500s"},
		{"0.000001s", time.Microsecond, "0.000001s"},
		{"0.000000001s", 1, "0.000000001s"},
		{"-0.25s", -250 * time.Millisecond, "-0.250s"},
		{"3600.000s", time.Hour, "3600s"},
		// protojson's grammar: a sign, and either part of the number may be
		// left out (the LDAP timeout once rejected these three).
		{".5s", 500 * time.Millisecond, "0.500s"},
		{"+1s", time.Second, "1s"},
		{"1.s", time.Second, "1s"},
		{"-.25s", -250 * time.Millisecond, "-0.250s"},
	} {
		var d Duration
		if err := json.Unmarshal([]byte(`"`+c.in+`"`), &d); err != nil || time.Duration(d) != c.want {
			t.Errorf("parse %q = %v, %v; want %v", c.in, time.Duration(d), err, c.want)
		}
		out, _ := json.Marshal(d)
		if string(out) != `"`+c.out+`"` {
			t.Errorf("format %v = %s, want %q", c.want, out, c.out)
		}
	}
	for _, bad := range []string{`"10"`, `"s"`, `"01s"`, `"1.0000000001s"`, `"++1s"`, `"1e3s"`, `"1m"`, `"99999999999s"`, `10`} {
		var d Duration
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("parse %s accepted as %v", bad, time.Duration(d))
		}
	}
}
