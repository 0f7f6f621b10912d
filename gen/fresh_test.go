package gen_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// protocVersion is the one line of generated code that names the protoc
// that ran; it differs between machines and says nothing of the code.
var protocVersion = regexp.MustCompile(`(?m)^// \tprotoc +v.*$`)

// TestGeneratedCodeIsFresh regenerates gen/ from proto/ into a
// temporary directory and compares it, file by file, with the committed code.
func TestGeneratedCodeIsFresh(t *testing.T) {
	if _, err := exec.LookPath("protoc"); err != nil {
		t.Skip("protoc is not installed (apt-get install protobuf-compiler libprotobuf-dev); .ci/run installs it")
	}
	if _, err := os.Stat("/usr/include/google/protobuf/timestamp.proto"); err != nil {
		t.Skip("the well-known .proto files are not installed (apt-get install libprotobuf-dev); .ci/run installs them")
	}
	out := t.TempDir()
	if b, err := exec.Command("../scripts/protogen", "--out", out).CombinedOutput(); err != nil {
		t.Fatalf("scripts/protogen: %v\n%s", err, b)
	}
	want, got := generated(t, out), generated(t, ".")
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("gen/%s is missing: run scripts/protogen", name)
		case !bytes.Equal(protocVersion.ReplaceAll(g, nil), protocVersion.ReplaceAll(w, nil)):
			t.Errorf("gen/%s is stale: run scripts/protogen", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("gen/%s is not generated from proto/: remove it, or run scripts/protogen", name)
		}
	}
}

// generated reads the generated files under dir: every directory's files,
// by path relative to dir (gen's own doc.go and this test are not).
func generated(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() {
			for name, b := range tree(t, filepath.Join(dir, e.Name())) {
				files[filepath.Join(e.Name(), name)] = b
			}
		}
	}
	return files
}

// tree reads every file under dir, by path relative to dir.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		files[strings.TrimPrefix(p, dir+string(filepath.Separator))] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
