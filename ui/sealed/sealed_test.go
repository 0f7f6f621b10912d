package sealed_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idledger/idledger/secretbox"
	"github.com/idledger/idledger/ui/sealed"
)

type payload struct {
	IDs []string `json:"ids"`
}

func keyring(t *testing.T, b byte) *secretbox.Keyring {
	t.Helper()
	k, err := secretbox.NewKeyring(bytes.Repeat([]byte{b}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func request(name, value string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: name, Value: value})
	return r
}

// A sealed value reads back only with its keys, under its AAD, unaltered.
func TestReadValue(t *testing.T) {
	keys, aad := keyring(t, 1), secretbox.AAD{InstanceID: "i1", IDPID: "hosted-login", Field: "test"}
	v, err := sealed.Value(keys, aad, payload{IDs: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(v, `"a"`) || strings.Contains(v, "ids") {
		t.Fatalf("the value is readable without the key: %s", v)
	}
	var got payload
	if !sealed.Read(request("c", v), "c", keys, aad, &got) || len(got.IDs) != 2 || got.IDs[1] != "b" {
		t.Fatalf("read back %+v", got)
	}
	flipped := []byte(v)
	flipped[len(flipped)/2] ^= 1
	other := aad
	other.InstanceID = "i2"
	for name, tc := range map[string]struct {
		r    *http.Request
		keys *secretbox.Keyring
		aad  secretbox.AAD
	}{
		"missing":       {httptest.NewRequest(http.MethodGet, "/", nil), keys, aad},
		"another name":  {request("d", v), keys, aad},
		"tampered":      {request("c", string(flipped)), keys, aad},
		"another AAD":   {request("c", v), keys, other},
		"another key":   {request("c", v), keyring(t, 2), aad},
		"not base64":    {request("c", "%%%"), keys, aad},
		"too long":      {request("c", strings.Repeat("A", 5000)), keys, aad},
		"not the value": {request("c", "AAAA"), keys, aad},
	} {
		var p payload
		if sealed.Read(tc.r, "c", tc.keys, tc.aad, &p) {
			t.Errorf("%s: read %+v", name, p)
		}
	}
}
