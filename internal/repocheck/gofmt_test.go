package repocheck

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGofmt fails when a Go file of the repository is not gofmt-formatted.
func TestGofmt(t *testing.T) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	gofmt := filepath.Join(strings.TrimSpace(string(goroot)), "bin", "gofmt")
	out, err := exec.Command(gofmt, "-l", filepath.Join(root, "internal"), filepath.Join(root, "cmd"), filepath.Join(root, "client"), filepath.Join(root, "bench"), filepath.Join(root, "compat")).CombinedOutput()
	if err != nil {
		t.Fatalf("gofmt: %v\n%s", err, out)
	}
	if files := strings.TrimSpace(string(out)); files != "" {
		t.Errorf("files not gofmt-formatted (run gofmt -w):\n%s", files)
	}
}
