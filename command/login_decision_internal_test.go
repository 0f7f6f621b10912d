package command

import "testing"

func TestMaskLoginName(t *testing.T) {
	for in, want := range map[string]string{
		"jane@example.com": "j***@example.com", "jane": "j***", "": "***", "@example.com": "***@example.com",
		"émile@example.com": "é***@example.com",
	} {
		if got := maskLoginName(in); got != want {
			t.Errorf("maskLoginName(%q) = %q, want %q", in, got, want)
		}
	}
}
