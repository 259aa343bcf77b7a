package repocheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w+)\(f \*testing\.F\)`)

// TestFuzzShort runs every fuzz target of the repository for
// PATCHBAY_FUZZTIME each (e.g. 3s), beyond the seed corpus that plain
// `go test` replays. It is opt-in: building the fuzz binaries takes minutes,
// most of a plain `go test ./...`. Without PATCHBAY_FUZZTIME it skips, also
// under CI, whose script sets it in a step of its own (.ci/run).
func TestFuzzShort(t *testing.T) {
	fuzztime := os.Getenv("PATCHBAY_FUZZTIME")
	if fuzztime == "" {
		t.Skip("fuzzing is opt-in: set PATCHBAY_FUZZTIME (e.g. PATCHBAY_FUZZTIME=3s go test -run TestFuzzShort ./internal/repocheck/)")
	}
	if testing.Short() {
		t.Skip("fuzzing skipped with -short")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range fuzzFunc.FindAllSubmatch(src, -1) {
			name, dir := string(m[1]), "./"+mustRel(t, root, filepath.Dir(p))
			found++
			t.Run(name, func(t *testing.T) {
				out, err := fuzz(root, dir, name, fuzztime)
				if err != nil && spuriousDeadline(out) {
					// The go command sometimes reports its own fuzzing
					// deadline as a failure, with no failing input: once
					// more, and a second such report fails.
					t.Logf("fuzzing %s ended on the deadline with no failing input; running it again", name)
					out, err = fuzz(root, dir, name, fuzztime)
				}
				if err != nil {
					t.Fatalf("fuzzing %s in %s failed: %v\n%s", name, dir, err, out)
				}
			})
		}
		return nil
	})
	if found == 0 {
		t.Fatal("no fuzz targets found; the suite promises some")
	}
}

// fuzz runs one fuzz target in dir for fuzztime.
func fuzz(root, dir, name, fuzztime string) ([]byte, error) {
	cmd := exec.Command("go", "test", "-run=^$", "-fuzz=^"+name+"$", "-fuzztime="+fuzztime, dir)
	cmd.Dir = root
	return cmd.CombinedOutput()
}

// spuriousDeadline reports whether a failed fuzzing run failed only on the
// fuzzing deadline: the go command's "context deadline exceeded", and no
// failing input written.
func spuriousDeadline(out []byte) bool {
	s := string(out)
	return strings.Contains(s, "context deadline exceeded") && !strings.Contains(s, "Failing input written")
}

func mustRel(t *testing.T, base, p string) string {
	rel, err := filepath.Rel(base, p)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(rel)
}
