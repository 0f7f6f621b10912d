package authbind

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idledger/idledger/secretbox"
)

func keyring(t *testing.T, b byte) *secretbox.Keyring {
	t.Helper()
	k, err := secretbox.NewKeyring(bytes.Repeat([]byte{b}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// with is a request that carries the cookies h set.
func with(h http.Header) *http.Request {
	r := httptest.NewRequest("GET", "/ui/v2/login/login", nil)
	for _, c := range (&http.Response{Header: h}).Cookies() {
		r.AddCookie(c)
	}
	return r
}

// TestBindAndBound: an ID bound in a browser is bound there only: not
// without the cookie, not for another instance or keyring, not once the
// cookie is tampered with; the latest five IDs are kept; Secure follows
// --external-secure.
func TestBindAndBound(t *testing.T) {
	keys := keyring(t, 1)
	r := httptest.NewRequest("GET", "/oauth/v2/authorize", nil)
	for _, id := range []string{"V2_1", "V2_2", "V2_3", "V2_4", "V2_5", "V2_6"} {
		h := http.Header{}
		if err := Bind(h, r, keys, "inst", id, false); err != nil {
			t.Fatal(err)
		}
		r = with(h)
	}
	for id, want := range map[string]bool{"V2_1": false, "V2_2": true, "V2_6": true, "V2_7": false, "": false} {
		if got := Bound(r, keys, "inst", id); got != want {
			t.Errorf("Bound(%q) = %v, want %v", id, got, want)
		}
	}
	if Bound(r, keys, "other", "V2_6") || Bound(r, keyring(t, 2), "inst", "V2_6") {
		t.Fatal("bound for another instance or keyring")
	}
	if Bound(httptest.NewRequest("GET", "/", nil), keys, "inst", "V2_6") {
		t.Fatal("bound without the cookie")
	}
	c, _ := r.Cookie(Cookie)
	tampered := httptest.NewRequest("GET", "/", nil)
	tampered.AddCookie(&http.Cookie{Name: Cookie, Value: c.Value[:len(c.Value)-2] + "AA"})
	if Bound(tampered, keys, "inst", "V2_6") {
		t.Fatal("bound with a tampered cookie")
	}
	h := http.Header{}
	if err := Bind(h, r, keys, "inst", "V2_7", true); err != nil {
		t.Fatal(err)
	}
	set := h.Get("Set-Cookie")
	for _, want := range []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(set, want) {
			t.Errorf("cookie %q lacks %q", set, want)
		}
	}
	if len(set) > 1024 || strings.Contains(set, "V2_") {
		t.Errorf("cookie too large or in clear: %q", set)
	}
}
