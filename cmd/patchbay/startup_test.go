package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMalformedRootKeyCreatesNothing: a malformed root key, given directly
// or in a file, is refused by serve and by an admin command before the data
// dir, the database or its revocation counter exist; a data dir that exists
// but is empty stays empty.
func TestMalformedRootKeyCreatesNothing(t *testing.T) {
	t.Parallel()
	badFile := filepath.Join(t.TempDir(), "root.key")
	if err := os.WriteFile(badFile, []byte("not-a-root-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys := []struct {
		name string
		env  env
		want string
	}{
		{"PATCHBAY_ROOT_KEY", env{"PATCHBAY_ROOT_KEY": strings.Repeat("ab", 31)}, "PATCHBAY_ROOT_KEY: root key must be 32 bytes"},
		{"PATCHBAY_ROOT_KEY_FILE", env{"PATCHBAY_ROOT_KEY_FILE": badFile}, "root key file " + badFile + ": root key must be 32 bytes"},
	}
	commands := [][]string{{"serve"}, {"keys", "list"}}
	for _, k := range keys {
		for _, args := range commands {
			for _, exists := range []bool{false, true} {
				parent := t.TempDir()
				dir := filepath.Join(parent, "data")
				if exists {
					if err := os.Mkdir(dir, 0o700); err != nil {
						t.Fatal(err)
					}
				}
				e := k.env.with("PATCHBAY_DATA_DIR", dir, "PATCHBAY_ADDR", "127.0.0.1:0")
				r := runCLI(t, e, args...)
				what := strings.Join(args, " ") + " with a malformed " + k.name
				if r.code != exitError || !strings.Contains(r.stderr, k.want) {
					t.Errorf("%s: exit %d, stderr %q; want exit 1 and %q", what, r.code, r.stderr, k.want)
				}
				if exists {
					if es := dirEntries(t, dir); es != nil {
						t.Errorf("%s: created %v in the existing data dir", what, es)
					}
				} else if es := dirEntries(t, parent); es != nil {
					t.Errorf("%s: created %v next to a missing data dir", what, es)
				}
			}
		}
	}
}
