package repocheck

import (
	"encoding/json"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/patchbay-dev/patchbay"

// rules lists, for each package (or package prefix ending in "/"), the
// non-standard imports its non-test code may have. Keep in step with
// ARCHITECTURE.md: this test is how that document stays true.
var rules = map[string][]string{
	"internal/patchbay":    {},
	"internal/config":      {},
	"internal/logging":     {"internal/patchbay"},
	"internal/keyring":     {"internal/patchbay"},
	"internal/sqlstore":    {"internal/patchbay"},
	"internal/sqlite":      {"internal/patchbay", "internal/sqlstore", "modernc.org/sqlite"},
	"internal/postgres":    {"internal/patchbay", "internal/sqlstore", "github.com/jackc/pgx/v5"},
	"internal/catalog":     {"internal/patchbay", "github.com/santhosh-tekuri/jsonschema/v6"},
	"internal/outbound":    {"internal/patchbay", "golang.org/x/oauth2"},
	"internal/password":    {"internal/patchbay", "golang.org/x/crypto/bcrypt"},
	"internal/httpserver":  {"internal/patchbay", "golang.org/x/time/rate", "github.com/prometheus/client_golang"},
	"internal/httpapi":     {"internal/patchbay", "internal/httpserver"},
	"internal/dashboard":   {"internal/patchbay", "internal/httpserver"},
	"internal/mcp":         {"internal/patchbay", "internal/httpserver", "github.com/modelcontextprotocol/go-sdk"},
	"internal/app":         {"internal/", "github.com/prometheus/client_golang"},
	"internal/storetest":   {"internal/patchbay"},
	"internal/testdb":      {"internal/sqlite", "internal/postgres", "github.com/jackc/pgx/v5"},
	"internal/testserver":  {"internal/"},
	"internal/testoauth":   {"github.com/go-oauth2/oauth2/v4"},
	"internal/testbrowser": {"github.com/chromedp/chromedp"},
	"internal/repocheck":   {},
	"client":               {},
	"cmd/patchbay":         {"internal/app", "internal/config", "internal/logging", "internal/patchbay"},
}

// stores are the packages that reach a database. Only the assembly and the
// stores themselves (and test-only packages) import them: every surface and
// admin command goes through the Service.
var stores = []string{"internal/sqlstore", "internal/sqlite", "internal/postgres"}

var mayImportStores = []string{"internal/app", "internal/sqlite", "internal/postgres", "internal/testdb", "internal/testserver", "internal/storetest"}

// testOnlyModules are third-party modules only tests (and test-only
// packages) may import: the OAuth2 authorization server the OAuth flow is
// tested against.
var testOnlyModules = []string{"github.com/go-oauth2/oauth2/v4"}

// testOnly packages may be imported only from tests.
var testOnly = []string{"internal/testdb", "internal/storetest", "internal/testserver", "internal/testoauth", "internal/testbrowser"}

type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Standard     bool
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func isStd(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}

func allowed(rule []string, imp string) bool {
	rel := strings.TrimPrefix(imp, module+"/")
	for _, a := range rule {
		if rel == a || strings.HasSuffix(a, "/") && strings.HasPrefix(rel, a) || imp == a || strings.HasPrefix(imp, a+"/") ||
			strings.HasSuffix(a, "/") && strings.HasPrefix(imp, a) {
			return true
		}
	}
	return false
}

func ruleFor(rel string) ([]string, bool) {
	for p := rel; p != "." && p != ""; p = path.Dir(p) {
		if r, ok := rules[p]; ok {
			return r, true
		}
	}
	return nil, false
}

func TestImportRules(t *testing.T) {
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		if strings.HasPrefix(rel, "bench") || strings.HasPrefix(rel, "compat") {
			continue // test-only packages: they exercise everything
		}
		rule, ok := ruleFor(rel)
		if !ok {
			t.Errorf("package %s has no import rule: add it to ARCHITECTURE.md and to rules in this test", rel)
			continue
		}
		for _, imp := range p.Imports {
			if isStd(imp) {
				continue
			}
			for _, m := range testOnlyModules {
				if (imp == m || strings.HasPrefix(imp, m+"/")) && !slices.Contains(testOnly, rel) {
					t.Errorf("%s imports %s, which only tests may use", rel, imp)
				}
			}
			if !allowed(rule, imp) {
				t.Errorf("%s imports %s, which ARCHITECTURE.md does not allow", rel, imp)
			}
			for _, st := range stores {
				if imp == module+"/"+st && !slices.Contains(mayImportStores, rel) {
					t.Errorf("%s imports the store %s: only internal/app wires stores; surfaces and commands use the Service", rel, st)
				}
			}
			for _, to := range testOnly {
				if imp == module+"/"+to && !slices.Contains(testOnly, rel) {
					t.Errorf("%s imports the test-only package %s from non-test code", rel, to)
				}
			}
		}
	}
}

// TestRulesFireOnViolation makes sure the checker is not vacuous.
func TestRulesFireOnViolation(t *testing.T) {
	if allowed(rules["internal/patchbay"], module+"/internal/sqlite") {
		t.Error("the domain may not import a concrete store, but the rule allows it")
	}
	if allowed(rules["internal/httpapi"], module+"/internal/sqlite") {
		t.Error("httpapi may not import a concrete store, but the rule allows it")
	}
	if allowed(rules["cmd/patchbay"], module+"/internal/sqlite") {
		t.Error("cmd/patchbay may not reach a store (it uses the Service through internal/app), but the rule allows it")
	}
	if !allowed(rules["internal/app"], module+"/internal/sqlite") {
		t.Error("internal/app wires the stores, but the rule forbids it")
	}
	if allowed(rules["internal/httpserver"], module+"/internal/httpapi") {
		t.Error("the shared plumbing may not import a surface, but the rule allows it")
	}
}
