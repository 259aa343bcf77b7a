package patchbay_test

import (
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func TestNamesAreValidated(t *testing.T) {
	e := MustEnv(t)
	bad := map[string]string{
		"empty":        "",
		"spaces":       "   ",
		"whitespace":   " \t\n\r ",
		"129 chars":    strings.Repeat("a", 129),
		"129 runes":    strings.Repeat("é", 129),
		"invalid utf8": "ok\xff",
	}
	for what, name := range bad {
		_, _, err := e.svc.CreateAPIKey(e.ctx, e.cli, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: e.project.ID, Name: name})
		wantCode(t, "CreateAPIKey name "+what, err, patchbay.EINVALID)
		_, err = e.svc.CreateProject(e.ctx, e.cli, name, true)
		wantCode(t, "CreateProject name "+what, err, patchbay.EINVALID)
	}
	keys, err := e.svc.ListAPIKeys(e.ctx, e.cli, patchbay.KeyQuery{IncludeRevoked: true})
	if err != nil || len(keys) != 0 {
		t.Errorf("invalid names created %d keys (%v)", len(keys), err)
	}
	ps, err := e.st.ListProjects(e.ctx, e.org.ID, "", 100)
	if err != nil || len(ps) != 1 {
		t.Errorf("invalid names created %d projects (%v)", len(ps)-1, err)
	}

	good := map[string]string{
		"128 chars":  strings.Repeat("a", 128),
		"128 runes":  strings.Repeat("é", 128),
		"padded":     "  Deploy bot  ",
		"one letter": "x",
	}
	for what, name := range good {
		k, _, err := e.svc.CreateAPIKey(e.ctx, e.cli, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: e.project.ID, Name: name})
		if err != nil {
			t.Errorf("CreateAPIKey name %s: %v", what, err)
			continue
		}
		if k.Name != strings.TrimSpace(name) {
			t.Errorf("CreateAPIKey name %s stored as %q", what, k.Name)
		}
		cp, err := e.svc.CreateProject(e.ctx, e.cli, name, false)
		if err != nil || cp.Project.Name != strings.TrimSpace(name) {
			t.Errorf("CreateProject name %s = %v, %v", what, cp, err)
		}
	}

	// Other malformed requests.
	_, _, err = e.svc.CreateAPIKey(e.ctx, e.cli, patchbay.NewKey{Kind: patchbay.KeyKindProject, Name: "no project"})
	wantCode(t, "project key without project", err, patchbay.EINVALID)
	_, _, err = e.svc.CreateAPIKey(e.ctx, e.cli, patchbay.NewKey{Kind: patchbay.KeyKindOrg, ProjectID: e.project.ID, Name: "org with project"})
	wantCode(t, "org key with project", err, patchbay.EINVALID)
	_, _, err = e.svc.CreateAPIKey(e.ctx, e.cli, patchbay.NewKey{Kind: "user", Name: "user"})
	wantCode(t, "unknown kind", err, patchbay.EINVALID)
}
