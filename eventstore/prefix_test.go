package eventstore

import (
	"slices"
	"strings"
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

func TestLikePatternsDropCoveredPrefixes(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"user.", "user.human.externalidp.", "user.removed", "org.", "org.removed", "idp.", "org."}, "idp.% org.% user.%"},
		{[]string{"a_b.*", "a_b.c", "a_bc"}, `a\_b.% a\_bc%`},
		{[]string{"session.added", "session.", "sessions"}, "session.% sessions%"},
	} {
		if got := strings.Join(LikePatterns(c.in), " "); got != c.want {
			t.Errorf("LikePatterns(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
