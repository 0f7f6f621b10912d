package gateway_test

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/idledger/idledger/api/gateway"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no proxy", "203.0.113.5:4321", nil, "203.0.113.5"},
		{"untrusted peer's header is ignored", "203.0.113.5:4321", []string{"1.2.3.4"}, "203.0.113.5"},
		{"trusted proxy", "10.1.2.3:80", []string{"198.51.100.9"}, "198.51.100.9"},
		{"client forges a hop before the proxy", "10.1.2.3:80", []string{"6.6.6.6, 198.51.100.9"}, "198.51.100.9"},
		{"chain of trusted proxies", "10.1.2.3:80", []string{"198.51.100.9, 10.9.9.9"}, "198.51.100.9"},
		{"several headers", "10.1.2.3:80", []string{"6.6.6.6", "198.51.100.9, 10.0.0.2"}, "198.51.100.9"},
		{"all hops trusted", "10.1.2.3:80", []string{"10.0.0.7, 10.0.0.8"}, "10.0.0.7"},
		{"garbage from the client", "10.1.2.3:80", []string{"not-an-ip"}, "10.1.2.3"},
		{"garbage behind a good hop", "10.1.2.3:80", []string{"x, 10.0.0.5"}, "10.0.0.5"},
		{"hop with port", "10.1.2.3:80", []string{"198.51.100.9:5555"}, "198.51.100.9"},
		{"ipv6 hop with port", "10.1.2.3:80", []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"ipv6 trusted peer", "[::1]:8080", []string{"2001:db8::2"}, "2001:db8::2"},
		{"ipv4-mapped peer", "[::ffff:10.0.0.1]:80", []string{"198.51.100.9"}, "198.51.100.9"},
		{"empty header", "10.1.2.3:80", []string{""}, "10.1.2.3"},
		{"unparsable remote", "pipe", []string{"1.2.3.4"}, "pipe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := gateway.ClientIP(r, trusted); got != tc.want {
				t.Errorf("ClientIP = %q, want %q", got, tc.want)
			}
			if tc.remote == "203.0.113.5:4321" {
				if got := gateway.ClientIP(r, nil); got != "203.0.113.5" {
					t.Errorf("no trusted proxies: %q", got)
				}
			}
		})
	}
}
