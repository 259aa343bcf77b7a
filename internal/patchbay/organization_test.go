package patchbay_test

import (
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func TestBootstrapIsIdempotent(t *testing.T) {
	e := MustEnv(t)
	for range 3 {
		org, created, err := e.svc.Bootstrap(e.ctx, "someone-else@example.com")
		if err != nil || created || org.ID != e.org.ID {
			t.Fatalf("Bootstrap again = %+v, %v, %v; want the same org, not created", org, created, err)
		}
	}
	ms, err := e.st.ListMembers(e.ctx, e.org.ID)
	if err != nil || len(ms) != 1 || ms[0].Email != "owner@example.com" || ms[0].Role != patchbay.RoleOwner {
		t.Errorf("members after repeated Bootstrap = %v, %v", ms, err)
	}
	ps, err := e.st.ListProjects(e.ctx, e.org.ID, "", 100)
	if err != nil || len(ps) != 1 {
		t.Errorf("projects after repeated Bootstrap = %d, %v", len(ps), err)
	}
}
