package errs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"Errors.Token.Invalid":                     "Token is invalid",
		"Errors.IAM.LoginPolicy.IDP.AlreadyExists": "Identity provider already exists",
		`Errors.Member.InvalidRole: "X"`:           `The role is invalid: "X"`,
		"Errors.Nope":                              "Errors.Nope",
		"User could not be found":                  "User could not be found",
		"invalid X: value length must be between 1 and 200 runes, inclusive": "invalid X: value length must be between 1 and 200 runes, inclusive",
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEveryRaisedKeyHasText: no error key that the code raises reaches a
// client raw. It reads every non-test Go file of the module.
func TestEveryRaisedKeyHasText(t *testing.T) {
	key := regexp.MustCompile(`"(Errors\.[A-Za-z.]+)`)
	n := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, "text.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range key.FindAllSubmatch(src, -1) {
			n++
			if k := string(m[1]); Text(k) == k {
				t.Errorf("%s: error key %s has no text in the catalogue", path, k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no error keys found: the walk read nothing")
	}
}
