package secretbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func mustKeyring(t *testing.T, cur []byte, old ...[]byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(cur, old...)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return k
}

var aad = AAD{InstanceID: "inst1", IDPID: "idp1", Field: "clientSecret"}

func TestRoundTrip(t *testing.T) {
	k := mustKeyring(t, testKey(1))
	for _, pt := range []string{"", "s3cr3t", strings.Repeat("x", 5000), "ünïcödé"} {
		s, err := k.Seal(pt, aad)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if s.KeyID != k.CurrentID() || len(s.Nonce) != 12 {
			t.Fatalf("sealed = key %q nonce %d bytes", s.KeyID, len(s.Nonce))
		}
		if pt != "" && bytes.Contains(s.CT, []byte(pt)) {
			t.Fatal("ciphertext contains the plaintext")
		}
		got, err := k.Open(s, aad)
		if err != nil || got != pt {
			t.Fatalf("Open = %q, %v; want %q", got, err, pt)
		}
	}
}

func TestNoncesDiffer(t *testing.T) {
	k := mustKeyring(t, testKey(1))
	a, _ := k.Seal("same", aad)
	b, _ := k.Seal("same", aad)
	if bytes.Equal(a.Nonce, b.Nonce) || bytes.Equal(a.CT, b.CT) {
		t.Fatal("two seals of the same plaintext are identical")
	}
}

func TestAADMismatch(t *testing.T) {
	k := mustKeyring(t, testKey(1))
	s, _ := k.Seal("s3cr3t", aad)
	for name, other := range map[string]AAD{
		"instance": {InstanceID: "inst2", IDPID: "idp1", Field: "clientSecret"},
		"idp":      {InstanceID: "inst1", IDPID: "idp2", Field: "clientSecret"},
		"field":    {InstanceID: "inst1", IDPID: "idp1", Field: "bindPassword"},
		"shifted":  {InstanceID: "inst1i", IDPID: "dp1", Field: "clientSecret"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := k.Open(s, other); !errors.Is(err, ErrOpen) {
				t.Fatalf("Open with other AAD = %v, want ErrOpen", err)
			}
		})
	}
	if _, err := k.Seal("x", AAD{InstanceID: "i", Field: "f"}); !errors.Is(err, ErrAAD) {
		t.Fatalf("Seal with empty IdP ID = %v, want ErrAAD", err)
	}
}

func TestWrongKey(t *testing.T) {
	s, _ := mustKeyring(t, testKey(1)).Seal("s3cr3t", aad)
	other := mustKeyring(t, testKey(2))
	if _, err := other.Open(s, aad); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Open with unknown key = %v, want ErrUnknownKey", err)
	}
	// Same key ID but a different key: forged ID must still not open.
	s.KeyID = other.CurrentID()
	if _, err := other.Open(s, aad); !errors.Is(err, ErrOpen) {
		t.Fatalf("Open with wrong key = %v, want ErrOpen", err)
	}
}

func TestTamper(t *testing.T) {
	k := mustKeyring(t, testKey(1))
	s, _ := k.Seal("s3cr3t", aad)
	flip := func(b []byte, i int) []byte { c := bytes.Clone(b); c[i] ^= 1; return c }
	cases := map[string]Sealed{
		"ct first":  {KeyID: s.KeyID, Nonce: s.Nonce, CT: flip(s.CT, 0)},
		"tag last":  {KeyID: s.KeyID, Nonce: s.Nonce, CT: flip(s.CT, len(s.CT)-1)},
		"nonce":     {KeyID: s.KeyID, Nonce: flip(s.Nonce, 3), CT: s.CT},
		"truncated": {KeyID: s.KeyID, Nonce: s.Nonce, CT: s.CT[:len(s.CT)-1]},
	}
	for name, c := range cases {
		if _, err := k.Open(c, aad); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: Open = %v, want ErrOpen", name, err)
		}
	}
	if _, err := k.Open(Sealed{KeyID: s.KeyID, Nonce: s.Nonce[:5], CT: s.CT}, aad); !errors.Is(err, ErrMalformed) {
		t.Errorf("short nonce: Open = %v, want ErrMalformed", err)
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := testKey(1), testKey(2)
	before := mustKeyring(t, oldKey)
	s, _ := before.Seal("s3cr3t", aad)

	after := mustKeyring(t, newKey, oldKey)
	if got, err := after.Open(s, aad); err != nil || got != "s3cr3t" {
		t.Fatalf("old key after rotation: Open = %q, %v", got, err)
	}
	r, err := after.Reseal(s, aad)
	if err != nil {
		t.Fatalf("Reseal: %v", err)
	}
	if r.KeyID != after.CurrentID() || r.KeyID == s.KeyID {
		t.Fatalf("resealed key ID = %q, want current %q", r.KeyID, after.CurrentID())
	}
	// Once resealed, the old key can be dropped.
	if got, err := mustKeyring(t, newKey).Open(r, aad); err != nil || got != "s3cr3t" {
		t.Fatalf("resealed value with new key only: Open = %q, %v", got, err)
	}
	// Already current: returned unchanged.
	again, err := after.Reseal(r, aad)
	if err != nil || again.Text() != r.Text() {
		t.Fatalf("Reseal of a current value changed it (%v)", err)
	}
	if _, err := after.Reseal(s, AAD{InstanceID: "x", IDPID: "y", Field: "z"}); !errors.Is(err, ErrOpen) {
		t.Fatalf("Reseal with wrong AAD = %v, want ErrOpen", err)
	}
}

func TestNewKeyring(t *testing.T) {
	if _, err := NewKeyring(make([]byte, 16)); err == nil {
		t.Error("16-byte current key accepted")
	}
	if _, err := NewKeyring(testKey(1), make([]byte, 31)); err == nil {
		t.Error("31-byte old key accepted")
	}
	k := mustKeyring(t, testKey(1), testKey(1), testKey(2), testKey(2))
	if len(k.set.Load().old) != 1 {
		t.Errorf("duplicates kept: %d old keys", len(k.set.Load().old))
	}
	if id := KeyID(testKey(1)); len(id) != 8 || strings.Trim(id, "0123456789abcdef") != "" {
		t.Errorf("KeyID = %q, want 8 hex characters", id)
	}
}

func TestSealedForms(t *testing.T) {
	k := mustKeyring(t, testKey(1))
	s, _ := k.Seal("s3cr3t", aad)

	for _, out := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %s", s, s, s), fmt.Sprintf("%#v", s)} {
		if strings.Contains(out, s.KeyID) || !strings.Contains(out, "[encrypted]") {
			t.Errorf("printed form %q", out)
		}
	}

	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]string
	if err := json.Unmarshal(js, &obj); err != nil || obj["keyId"] != s.KeyID || obj["nonce"] == "" || obj["ct"] == "" || len(obj) != 3 {
		t.Fatalf("JSON form = %s (%v)", js, err)
	}
	var back Sealed
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Open(back, aad); err != nil || got != "s3cr3t" {
		t.Fatalf("JSON round trip: Open = %q, %v", got, err)
	}

	text := s.Text()
	if !strings.HasPrefix(text, "v1:"+s.KeyID+":") {
		t.Fatalf("text form = %q", text)
	}
	parsed, err := ParseSealed(text)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.Open(parsed, aad); err != nil || got != "s3cr3t" {
		t.Fatalf("text round trip: Open = %q, %v", got, err)
	}
	quoted, _ := json.Marshal(text)
	var fromString Sealed
	if err := json.Unmarshal(quoted, &fromString); err != nil || fromString.Text() != text {
		t.Fatalf("JSON string form: %v", err)
	}
	for _, bad := range []string{"", "s3cr3t", "v2:a:b:c", "v1::AAAA:AAAA", "v1:id:!!:AA", "v1:id:AA:AA:AA"} {
		if _, err := ParseSealed(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseSealed(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestParseMasterKey(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789ABCDEF")
	bin := testKey(0xfb) // encodes with '+'/'/' or '-'/'_' characters
	cases := []struct {
		name string
		in   string
		want []byte
	}{
		{"std base64", base64.StdEncoding.EncodeToString(bin), bin},
		{"raw std base64", base64.RawStdEncoding.EncodeToString(bin), bin},
		{"url base64", base64.URLEncoding.EncodeToString(bin), bin},
		{"raw url base64", base64.RawURLEncoding.EncodeToString(bin), bin},
		{"32 raw characters", string(raw), raw},
		{"trailing newline", base64.StdEncoding.EncodeToString(bin) + "\n", bin},
		{"raw with newline", string(raw) + "\r\n", raw},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseMasterKey(c.in)
			if err != nil || !bytes.Equal(got, c.want) {
				t.Fatalf("ParseMasterKey = %x, %v; want %x", got, err, c.want)
			}
		})
	}
	for _, bad := range []string{
		"", "\n", "short",
		string(raw[:31]), string(raw) + "x",
		base64.StdEncoding.EncodeToString(make([]byte, 16)),
		base64.StdEncoding.EncodeToString(make([]byte, 33)),
	} {
		_, err := ParseMasterKey(bad)
		if err == nil {
			t.Errorf("ParseMasterKey(%q) accepted", bad)
			continue
		}
		if bad != "" && strings.Contains(err.Error(), strings.TrimSpace(bad)) && strings.TrimSpace(bad) != "" {
			t.Errorf("error %q echoes the key", err)
		}
	}
}

// TestReplaceAndRefresh: a keyring swaps its keys at once for every caller,
// asks its refresh hook before each seal and when a value names a key it
// lacks, and a failed Replace leaves it as it was.
func TestReplaceAndRefresh(t *testing.T) {
	k := mustKeyring(t, testKey(1))
	aad := AAD{InstanceID: "i", IDPID: "p", Field: "f"}
	underOne, err := k.Seal("s1", aad)
	if err != nil {
		t.Fatal(err)
	}
	other := mustKeyring(t, testKey(2), testKey(1))
	underTwo, err := other.Seal("s2", aad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open(underTwo, aad); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("open under an unloaded key: %v", err)
	}
	calls := 0
	k.OnRefresh(func() {
		calls++
		if err := k.Replace(testKey(2), testKey(1)); err != nil {
			t.Error(err)
		}
	})
	if got, err := k.Open(underTwo, aad); err != nil || got != "s2" {
		t.Fatalf("open after refresh: %q %v", got, err)
	}
	if got, err := k.Open(underOne, aad); err != nil || got != "s1" {
		t.Fatalf("old key after refresh: %q %v", got, err)
	}
	s, err := k.Seal("s3", aad)
	if err != nil || s.KeyID != KeyID(testKey(2)) || calls < 2 {
		t.Fatalf("seal after refresh: key %s, %d refreshes, %v", s.KeyID, calls, err)
	}
	if err := k.Replace(make([]byte, 5)); err == nil || k.CurrentID() != KeyID(testKey(2)) {
		t.Fatalf("bad Replace changed the keyring: %v, current %s", err, k.CurrentID())
	}
	if ids := k.IDs(); len(ids) != 2 || ids[0] != KeyID(testKey(2)) {
		t.Fatalf("IDs = %v", ids)
	}
}
