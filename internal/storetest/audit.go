package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func testAudit(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org, other := MustOrg(t, s), MustOrg(t, s)
	ev := func(project, action string, when time.Time) *patchbay.AuditEvent {
		t.Helper()
		e := &patchbay.AuditEvent{
			ID: id(patchbay.PrefixAudit), OrgID: org.ID, ProjectID: project, ActorID: "mem_actor", ActorKey: "key_actor",
			Action: action, TargetID: "key_target", IP: "192.0.2.7", At: when,
		}
		mustOK(t, "AppendAudit", s.AppendAudit(ctx, e))
		return e
	}
	// Appended out of order: the list follows time.
	e2 := ev("pr_a", patchbay.ActionKeyRevoke, at(2))
	e1 := ev("pr_a", patchbay.ActionKeyCreate, at(1))
	e4 := ev("", patchbay.ActionMemberCreate, at(4))
	e3 := ev("pr_b", patchbay.ActionProjectCreate, at(3))
	mustOK(t, "AppendAudit(other org)", s.AppendAudit(ctx, &patchbay.AuditEvent{
		ID: id(patchbay.PrefixAudit), OrgID: other.ID, Action: patchbay.ActionKeyCreate, TargetID: "x", At: at(5),
	}))

	ids := func(es []*patchbay.AuditEvent) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	tests := []struct {
		name    string
		project string
		limit   int
		want    []*patchbay.AuditEvent
	}{
		{"org", "", 100, []*patchbay.AuditEvent{e4, e3, e2, e1}},
		{"org, limit 2", "", 2, []*patchbay.AuditEvent{e4, e3}},
		{"project", "pr_a", 100, []*patchbay.AuditEvent{e2, e1}},
		{"project, limit 1", "pr_a", 1, []*patchbay.AuditEvent{e2}},
		{"unknown project", "pr_none", 100, nil},
	}
	for _, tt := range tests {
		got, err := s.ListAudit(ctx, org.ID, tt.project, tt.limit)
		mustOK(t, "ListAudit: "+tt.name, err)
		wantIDs(t, "ListAudit: "+tt.name, ids(got), ids(tt.want))
		for i := range min(len(got), len(tt.want)) {
			g, w := *got[i], *tt.want[i]
			wantTime(t, "event At", g.At, w.At)
			g.At, w.At = time.Time{}, time.Time{}
			if g != w {
				t.Errorf("ListAudit: %s: event = %+v, want %+v", tt.name, g, w)
			}
		}
	}
}
