package audit_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/idledger/idledger/audit"
)

func TestRedactPayload(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"no secrets unchanged", `{"name":"x","n":12345678901234567890}`, `{"name":"x","n":12345678901234567890}`},
		{"secret field by name", `{"config":{"clientSecret":"plain","clientId":"c"}}`, `{"config":{"clientId":"c","clientSecret":"[encrypted]"}}`},
		{"bind password and private key", `{"config":{"bindPassword":"p","privateKey":"k"}}`, `{"config":{"bindPassword":"[encrypted]","privateKey":"[encrypted]"}}`},
		{"empty secret stays empty", `{"config":{"clientSecret":""}}`, `{"config":{"clientSecret":""}}`},
		{"sealed text anywhere", `{"other":["v1:key1:bm9uY2U:Y3Q"]}`, `{"other":["[encrypted]"]}`},
		{"sealed object anywhere", `{"x":{"keyId":"k","nonce":"bg==","ct":"Yw=="}}`, `{"x":"[encrypted]"}`},
		{"client secret hash", `{"appId":"1","clientId":"2","hashedSecret":"$argon2id$v=19$x"}`, `{"appId":"1","clientId":"2","hashedSecret":"[encrypted]"}`},
		{"password hash", `{"encodedHash":"$argon2id$v=19$x"}`, `{"encodedHash":"[encrypted]"}`},
		{"not json", `{"clientSecret":`, `"[encrypted]"`},
		{"html not escaped", `{"clientSecret":"a","u":"<b>&"}`, `{"clientSecret":"[encrypted]","u":"<b>&"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(audit.RedactPayload(json.RawMessage(tc.in)))
			if got != tc.want {
				t.Errorf("RedactPayload(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
	if s := audit.Summary(json.RawMessage(`{"config":{"clientSecret":"plain"},"name":"A B"}`)); s != `config.clientSecret=[encrypted] name="A B"` {
		t.Errorf("summary = %q", s)
	}
	long := audit.Summary(json.RawMessage(`{"name":"` + strings.Repeat("x", 300) + `"}`))
	if n := len([]rune(long)); n != 100 || !strings.HasSuffix(long, "…") {
		t.Errorf("long summary has %d runes: %q", n, long)
	}
}
