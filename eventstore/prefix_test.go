package eventstore

import (
	"slices"
	"testing"
)

func TestCoveringPrefixes(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"user.", "user.pat.added", "idp.", "user.removed", "org.removed", "org."}, []string{"user.", "idp.", "org."}},
		{[]string{"user.pat.added", "user.pat.added"}, []string{"user.pat.added"}},
		{[]string{"user.*", "user.human.added"}, []string{"user."}},
		{[]string{"org.removed", "org.added"}, []string{"org.removed", "org.added"}},
		// a prefix, not a word: "user" covers "users."
		{[]string{"users.x", "user"}, []string{"user"}},
	} {
		if got := coveringPrefixes(c.in); !slices.Equal(got, c.want) {
			t.Errorf("coveringPrefixes(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
