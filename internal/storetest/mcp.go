package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// testMCPServers: a configuration round-trips with its lists, is scoped
// by project (FindMCPServer alone is not), filters by name, toolkit and
// auth config with a total, pages by offset, updates and deletes once.
func testMCPServers(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	project, other := id(patchbay.PrefixProject), id(patchbay.PrefixProject)
	mk := func(name, projectID string, toolkits, acs []string, at time.Time) *patchbay.MCPServer {
		m := &patchbay.MCPServer{ID: id("mcp-"), OrgID: "org_x", ProjectID: projectID, Name: name, Toolkits: toolkits,
			AuthConfigIDs: acs, AllowedTools: []string{}, CreatedBy: "mem_x", CreatedAt: at, UpdatedAt: at}
		if err := s.CreateMCPServer(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a := mk("Alpha one", project, []string{"github"}, []string{"ac_1"}, now)
	a.AllowedTools = []string{"GITHUB_GET_A_REPOSITORY"}
	a.ManagedAuth = true
	a.UpdatedAt = now.Add(time.Minute)
	if err := s.UpdateMCPServer(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := mk("Beta two", project, []string{"slack", "github"}, []string{}, now.Add(time.Second))
	mk("Gamma", project, []string{"notion"}, []string{"ac_2"}, now.Add(2*time.Second))
	mk("Alpha elsewhere", other, []string{"github"}, nil, now)

	got, err := s.GetMCPServer(ctx, project, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != a.Name || got.OrgID != "org_x" || len(got.Toolkits) != 1 || got.Toolkits[0] != "github" || len(got.AuthConfigIDs) != 1 ||
		len(got.AllowedTools) != 1 || got.AllowedTools[0] != "GITHUB_GET_A_REPOSITORY" || !got.ManagedAuth || got.CreatedBy != "mem_x" ||
		!got.CreatedAt.Equal(now) || !got.UpdatedAt.Equal(now.Add(time.Minute)) {
		t.Errorf("GetMCPServer = %+v, want %+v", got, a)
	}
	if _, err := s.GetMCPServer(ctx, other, a.ID); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("another project's configuration: %v, want ENOTFOUND", err)
	}
	if f, err := s.FindMCPServer(ctx, a.ID); err != nil || f.ProjectID != project {
		t.Errorf("FindMCPServer = %+v, %v", f, err)
	}
	if g, _ := s.GetMCPServer(ctx, project, b.ID); g == nil || g.AllowedTools == nil || len(g.AuthConfigIDs) != 0 {
		t.Errorf("empty lists must come back empty, not nil: %+v", g)
	}

	names := func(l []*patchbay.MCPServer) []string {
		var out []string
		for _, m := range l {
			out = append(out, m.Name)
		}
		return out
	}
	for _, tc := range []struct {
		f     patchbay.MCPServerFilter
		want  []string
		total int
	}{
		{patchbay.MCPServerFilter{}, []string{"Alpha one", "Beta two", "Gamma"}, 3},
		{patchbay.MCPServerFilter{Name: "ALPHA"}, []string{"Alpha one"}, 1},
		{patchbay.MCPServerFilter{Toolkits: []string{"github"}}, []string{"Alpha one", "Beta two"}, 2},
		{patchbay.MCPServerFilter{Toolkits: []string{"notion", "slack"}}, []string{"Beta two", "Gamma"}, 2},
		{patchbay.MCPServerFilter{AuthConfigIDs: []string{"ac_2"}}, []string{"Gamma"}, 1},
		{patchbay.MCPServerFilter{Page: patchbay.Page{Limit: 2, Offset: 2}}, []string{"Gamma"}, 3},
		{patchbay.MCPServerFilter{Page: patchbay.Page{Limit: 2, Offset: 4}}, nil, 3},
		{patchbay.MCPServerFilter{Name: "100%"}, nil, 0},
	} {
		tc.f.ProjectID = project
		l, total, err := s.ListMCPServers(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(l); len(got) != len(tc.want) || total != tc.total || (len(got) > 0 && got[0] != tc.want[0]) || (len(got) > 1 && got[len(got)-1] != tc.want[len(tc.want)-1]) {
			t.Errorf("ListMCPServers(%+v) = %v (total %d), want %v (total %d)", tc.f, got, total, tc.want, tc.total)
		}
	}

	if err := s.DeleteMCPServer(ctx, project, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMCPServer(ctx, project, a.ID); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("second delete: %v, want ENOTFOUND", err)
	}
	if _, err := s.FindMCPServer(ctx, a.ID); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("a deleted configuration is found: %v", err)
	}
	if err := s.UpdateMCPServer(ctx, b); err != nil {
		t.Fatal(err)
	}
	b.ProjectID = other
	if err := s.UpdateMCPServer(ctx, b); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("updating through another project: %v, want ENOTFOUND", err)
	}
}

// testToolRouterSessions: a session round-trips with its toolkits, is
// scoped by project and deleted once.
func testToolRouterSessions(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	project, other := id(patchbay.PrefixProject), id(patchbay.PrefixProject)
	ts := &patchbay.ToolRouterSession{ID: id(patchbay.PrefixToolRouter), OrgID: "org_x", ProjectID: project, UserID: "alice",
		Toolkits: []string{"github", "slack"}, ManageConnections: true, CreatedBy: "mem_x", CreatedAt: now}
	if err := s.CreateToolRouterSession(ctx, ts); err != nil {
		t.Fatal(err)
	}
	empty := &patchbay.ToolRouterSession{ID: id(patchbay.PrefixToolRouter), OrgID: "org_x", ProjectID: project, UserID: "bob", CreatedAt: now}
	if err := s.CreateToolRouterSession(ctx, empty); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetToolRouterSession(ctx, project, ts.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != "alice" || got.OrgID != "org_x" || len(got.Toolkits) != 2 || got.Toolkits[1] != "slack" || !got.ManageConnections ||
		got.CreatedBy != "mem_x" || !got.CreatedAt.Equal(now) {
		t.Errorf("GetToolRouterSession = %+v, want %+v", got, ts)
	}
	if g, err := s.GetToolRouterSession(ctx, project, empty.ID); err != nil || g.Toolkits == nil || len(g.Toolkits) != 0 || g.ManageConnections {
		t.Errorf("a session without toolkits = %+v, %v", g, err)
	}
	if _, err := s.GetToolRouterSession(ctx, other, ts.ID); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("another project's session: %v, want ENOTFOUND", err)
	}
	if err := s.DeleteToolRouterSession(ctx, other, ts.ID); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("deleting through another project: %v, want ENOTFOUND", err)
	}
	if err := s.DeleteToolRouterSession(ctx, project, ts.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetToolRouterSession(ctx, project, ts.ID); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("a deleted session: %v, want ENOTFOUND", err)
	}
}
