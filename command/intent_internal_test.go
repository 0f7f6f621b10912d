package command

import (
	"strings"
	"testing"

	"github.com/idledger/idledger/errs"
)

// TestIntentRequestLengths: an intent's ID must be 1 to 200 runes and its
// token at most 200 (runes, not bytes), each refused with PGV's message
// naming the request's field.
func TestIntentRequestLengths(t *testing.T) {
	const req = "RetrieveIdentityProviderIntentRequest"
	for _, tt := range []struct {
		id, token, want string
	}{
		{"i", "", ""},
		{strings.Repeat("é", 200), strings.Repeat("é", 200), ""},
		{"", "t", "invalid " + req + ".IdpIntentId: value length must be between 1 and 200 runes, inclusive"},
		{strings.Repeat("a", 201), "t", "invalid " + req + ".IdpIntentId: value length must be between 1 and 200 runes, inclusive"},
		{"i", strings.Repeat("é", 201), "invalid " + req + ".IdpIntentToken: value length must be between 0 and 200 runes, inclusive"},
	} {
		err := intentRequestLengths(req, tt.id, tt.token)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("id %d runes, token %d runes: %v", len([]rune(tt.id)), len([]rune(tt.token)), err)
		case tt.want != "" && (errs.KindOf(err) != errs.KindInvalidArgument || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("id %d runes, token %d runes: %v, want %q", len([]rune(tt.id)), len([]rune(tt.token)), err, tt.want)
		}
	}
}
