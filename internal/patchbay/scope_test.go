package patchbay_test

import (
	"slices"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// TestProjectKeyReachesOnlyItsProject: a principal bound to project A
// finds nothing of project B (ENOTFOUND, as if it did not exist), changes
// nothing there, and its listings hold nothing of B.
func TestProjectKeyReachesOnlyItsProject(t *testing.T) {
	e := MustEnv(t)
	b, err := e.svc.CreateProject(e.ctx, e.cli, "B", true)
	if err != nil {
		t.Fatal(err)
	}
	pa := e.MustProjectPrincipal(e.owner, e.project.ID)
	pb := e.MustProjectPrincipal(e.owner, b.Project.ID)
	acB := e.MustAuthConfig(pb)
	caB := e.MustConnect(pb, acB.ID, "user-b")
	kB, rawB := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: b.Project.ID, Name: "b"})
	acA := e.MustAuthConfig(pa)
	before := e.MustAudit()

	name := "stolen"
	calls := map[string]error{}
	_, calls["AuthConfig"] = e.svc.AuthConfig(e.ctx, pa, acB.ID)
	_, calls["UpdateAuthConfig"] = e.svc.UpdateAuthConfig(e.ctx, pa, acB.ID, patchbay.AuthConfigUpdate{Name: &name})
	_, calls["SetAuthConfigDisabled"] = e.svc.SetAuthConfigDisabled(e.ctx, pa, acB.ID, true)
	calls["DeleteAuthConfig"] = e.svc.DeleteAuthConfig(e.ctx, pa, acB.ID)
	_, calls["Connect"] = e.svc.Connect(e.ctx, pa, patchbay.NewConnection{AuthConfigID: acB.ID, UserID: "intruder", Values: map[string]any{"api_key": widgetKey}})
	_, calls["ConnectedAccount"] = e.svc.ConnectedAccount(e.ctx, pa, caB.ID)
	_, calls["SetConnectionDisabled"] = e.svc.SetConnectionDisabled(e.ctx, pa, caB.ID, true)
	_, calls["Reinitiate"] = e.svc.Reinitiate(e.ctx, pa, caB.ID, map[string]any{"api_key": "wk-stolen"})
	_, calls["RefreshConnection"] = e.svc.RefreshConnection(e.ctx, pa, caB.ID, true)
	_, calls["RefreshConnection(no validation)"] = e.svc.RefreshConnection(e.ctx, pa, caB.ID, false)
	_, _, calls["RevokeConnection"] = e.svc.RevokeConnection(e.ctx, pa, caB.ID)
	calls["DeleteConnection"] = e.svc.DeleteConnection(e.ctx, pa, caB.ID)
	_, calls["RevokeAPIKey"] = e.svc.RevokeAPIKey(e.ctx, pa, kB.ID)
	_, _, calls["RegenerateAPIKey"] = e.svc.RegenerateAPIKey(e.ctx, pa, kB.ID)
	_, _, calls["RegenerateProjectKey"] = e.svc.RegenerateProjectKey(e.ctx, pa, b.Project.ID)
	_, _, calls["CreateAPIKey"] = e.svc.CreateAPIKey(e.ctx, pa, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: b.Project.ID, Name: "x"})
	_, calls["ListAPIKeys"] = e.svc.ListAPIKeys(e.ctx, pa, patchbay.KeyQuery{ProjectID: b.Project.ID})
	_, calls["ListAudit"] = e.svc.ListAudit(e.ctx, pa, b.Project.ID, 10)
	_, calls["Project"] = e.svc.Project(e.ctx, pa, b.Project.ID)
	_, calls["WebhookSecret"] = e.svc.WebhookSecret(e.ctx, pa, b.Project.ID)
	calls["DeleteProject"] = e.svc.DeleteProject(e.ctx, pa, b.Project.ID)
	// And A's records through B's key, the other way round.
	_, calls["AuthConfig(A from B)"] = e.svc.AuthConfig(e.ctx, pb, acA.ID)
	for name, err := range calls {
		wantCode(t, name+" of project B from A's key", err, patchbay.ENOTFOUND)
	}

	// A's listings hold nothing of B.
	acs, n, err := e.svc.ListAuthConfigs(e.ctx, pa, patchbay.AuthConfigFilter{ShowDisabled: true})
	if err != nil || n != 1 || len(acs) != 1 || acs[0].ID != acA.ID {
		t.Errorf("ListAuthConfigs(A) = %v, %d, %v; want only A's", acs, n, err)
	}
	cas, n, err := e.svc.ListConnectedAccounts(e.ctx, pa, patchbay.ConnectionFilter{IDs: []string{caB.ID}}, true)
	if err != nil || n != 0 || len(cas) != 0 {
		t.Errorf("ListConnectedAccounts(A, B's id) = %v, %d, %v; want none", cas, n, err)
	}
	cas, n, err = e.svc.ListConnectedAccounts(e.ctx, pa, patchbay.ConnectionFilter{UserIDs: []string{"user-b"}}, false)
	if err != nil || n != 0 || len(cas) != 0 {
		t.Errorf("ListConnectedAccounts(A, B's user) = %v, %d, %v; want none", cas, n, err)
	}
	keys, err := e.svc.ListAPIKeys(e.ctx, pa, patchbay.KeyQuery{IncludeRevoked: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ProjectID != e.project.ID {
			t.Errorf("ListAPIKeys(A) lists %s of project %q", k.ID, k.ProjectID)
		}
	}
	evs, err := e.svc.ListAudit(e.ctx, pa, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.ProjectID != e.project.ID {
			t.Errorf("ListAudit(A) lists %s of project %q", ev.Action, ev.ProjectID)
		}
	}
	_, _, err = e.svc.ListProjects(e.ctx, pa, "", 10)
	wantCode(t, "ListProjects with a project key", err, patchbay.EFORBIDDEN)

	// Nothing of B changed, and nothing was audited.
	if evs := e.newEvents(before); len(evs) != 0 {
		t.Errorf("refused calls wrote %d audit records: %+v", len(evs), evs)
	}
	if got, err := e.svc.AuthConfig(e.ctx, pb, acB.ID); err != nil || got.Name != acB.Name || got.Disabled || got.Connections != 1 {
		t.Errorf("B's auth config after A's attempts = %+v, %v; want it unchanged with its one account", got, err)
	}
	if got, err := e.svc.ConnectedAccount(e.ctx, pb, caB.ID); err != nil || got.Status != patchbay.StatusActive || got.Disabled || got.Credentials["api_key"] != patchbay.MaskValue(widgetKey) {
		t.Errorf("B's account after A's attempts = %+v, %v; want it ACTIVE with its credentials", got, err)
	}
	if _, n, _ := e.svc.ListConnectedAccounts(e.ctx, pb, patchbay.ConnectionFilter{}, false); n != 1 {
		t.Errorf("B has %d accounts, want its one (A's connect through B's auth config must not land in B)", n)
	}
	e.MustAuth(e.auth, rawB)
	if _, err := e.svc.Project(e.ctx, pb, b.Project.ID); err != nil {
		t.Errorf("project B after A's delete: %v", err)
	}
}

// TestOrgPrincipalReachesOnlyItsOrg: a principal spanning the organization
// (the CLI) reaches each of its projects by ID, but no project of another
// organization; and it needs a project for project-scoped records.
func TestOrgPrincipalReachesOnlyItsOrg(t *testing.T) {
	e := MustEnv(t)
	b, err := e.svc.CreateProject(e.ctx, e.cli, "B", false)
	if err != nil {
		t.Fatal(err)
	}
	otherCLI, otherProject := e.MustOtherOrg()
	_, otherRaw := func() (*patchbay.KeyRecord, string) {
		k, tok, err := e.svc.CreateAPIKey(e.ctx, otherCLI, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: otherProject.ID, Name: "theirs"})
		if err != nil {
			t.Fatal(err)
		}
		return k, tok.Secret.Reveal()
	}()

	// Its own organization's projects, named.
	for _, pr := range []*patchbay.Project{e.project, b.Project} {
		if v, err := e.svc.Project(e.ctx, e.cli, pr.ID); err != nil || v.Project.ID != pr.ID || v.OwnerEmail != "owner@example.com" {
			t.Errorf("Project(%s) = %+v, %v", pr.Name, v, err)
		}
		k, _, err := e.svc.CreateAPIKey(e.ctx, e.cli, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: pr.ID, Name: "cli"})
		if err != nil || k.ProjectID != pr.ID {
			t.Fatalf("CreateAPIKey(%s) = %+v, %v", pr.Name, k, err)
		}
		keys, err := e.svc.ListAPIKeys(e.ctx, e.cli, patchbay.KeyQuery{ProjectID: pr.ID})
		if err != nil || len(keys) != 1 || keys[0].ID != k.ID {
			t.Errorf("ListAPIKeys(%s) = %v, %v; want the key just made", pr.Name, keys, err)
		}
		evs, err := e.svc.ListAudit(e.ctx, e.cli, pr.ID, 1000)
		if err != nil || !slices.ContainsFunc(evs, func(ev *patchbay.AuditEvent) bool { return ev.TargetID == k.ID }) {
			t.Errorf("ListAudit(%s) = %v, %v; want the key's creation among them", pr.Name, evs, err)
		}
		for _, ev := range evs {
			if ev.ProjectID != pr.ID {
				t.Errorf("ListAudit(%s) lists an event of project %q", pr.Name, ev.ProjectID)
			}
		}
		if _, err := e.svc.WebhookSecret(e.ctx, e.cli, pr.ID); err != nil {
			t.Errorf("WebhookSecret(%s): %v", pr.Name, err)
		}
		if _, err := e.svc.RevokeAPIKey(e.ctx, e.cli, k.ID); err != nil {
			t.Errorf("RevokeAPIKey(%s's key): %v", pr.Name, err)
		}
	}
	ps, _, err := e.svc.ListProjects(e.ctx, e.cli, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range ps {
		ids = append(ids, v.Project.ID)
	}
	if len(ids) != 2 || !slices.Contains(ids, e.project.ID) || !slices.Contains(ids, b.Project.ID) {
		t.Errorf("ListProjects = %v, want exactly A and B", ids)
	}

	// Another organization's project, named: as if it did not exist.
	before := e.MustAudit()
	calls := map[string]error{}
	_, calls["Project"] = e.svc.Project(e.ctx, e.cli, otherProject.ID)
	_, _, calls["CreateAPIKey"] = e.svc.CreateAPIKey(e.ctx, e.cli, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: otherProject.ID, Name: "x"})
	_, calls["ListAPIKeys"] = e.svc.ListAPIKeys(e.ctx, e.cli, patchbay.KeyQuery{ProjectID: otherProject.ID})
	_, calls["ListAudit"] = e.svc.ListAudit(e.ctx, e.cli, otherProject.ID, 10)
	_, calls["WebhookSecret"] = e.svc.WebhookSecret(e.ctx, e.cli, otherProject.ID)
	_, _, calls["RegenerateProjectKey"] = e.svc.RegenerateProjectKey(e.ctx, e.cli, otherProject.ID)
	calls["DeleteProject"] = e.svc.DeleteProject(e.ctx, e.cli, otherProject.ID)
	// And the other way round.
	_, calls["Project(B from the other org)"] = e.svc.Project(e.ctx, otherCLI, b.Project.ID)
	_, calls["ListAPIKeys(B from the other org)"] = e.svc.ListAPIKeys(e.ctx, otherCLI, patchbay.KeyQuery{ProjectID: b.Project.ID})
	calls["DeleteProject(B from the other org)"] = e.svc.DeleteProject(e.ctx, otherCLI, b.Project.ID)
	for name, err := range calls {
		wantCode(t, name, err, patchbay.ENOTFOUND)
	}
	if evs := e.newEvents(before); len(evs) != 0 {
		t.Errorf("refused calls wrote %d audit records: %+v", len(evs), evs)
	}
	e.MustAuth(e.auth, otherRaw) // the other organization's key still works
	if _, err := e.svc.Project(e.ctx, otherCLI, otherProject.ID); err != nil {
		t.Errorf("the other organization's project after the attempts: %v", err)
	}

	// Auth configs and connected accounts belong to a project: an
	// organization-wide principal must act through a project key.
	_, err = e.svc.CreateAuthConfig(e.ctx, e.cli, patchbay.NewAuthConfig{Toolkit: "widget", Managed: true})
	wantCode(t, "CreateAuthConfig from the CLI", err, patchbay.EINVALID)
	_, _, err = e.svc.ListConnectedAccounts(e.ctx, e.cli, patchbay.ConnectionFilter{}, false)
	wantCode(t, "ListConnectedAccounts from the CLI", err, patchbay.EINVALID)
}

func TestOtherOrganizationIsNotFound(t *testing.T) {
	e := MustEnv(t)
	k, raw := e.MustProjectKey("ci")
	other, otherProject := e.MustOtherOrg()
	before := e.MustAudit()

	// The other organization's owner, naming the first one's records.
	_, _, err := e.svc.CreateAPIKey(e.ctx, other, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: e.project.ID, Name: "x"})
	wantCode(t, "CreateAPIKey(foreign project)", err, patchbay.ENOTFOUND)
	_, err = e.svc.RevokeAPIKey(e.ctx, other, k.ID)
	wantCode(t, "RevokeAPIKey(foreign key)", err, patchbay.ENOTFOUND)
	_, _, err = e.svc.RegenerateAPIKey(e.ctx, other, k.ID)
	wantCode(t, "RegenerateAPIKey(foreign key)", err, patchbay.ENOTFOUND)
	_, _, err = e.svc.RegenerateProjectKey(e.ctx, other, e.project.ID)
	wantCode(t, "RegenerateProjectKey(foreign project)", err, patchbay.ENOTFOUND)
	wantCode(t, "DeleteProject(foreign project)", e.svc.DeleteProject(e.ctx, other, e.project.ID), patchbay.ENOTFOUND)
	_, err = e.svc.ListAPIKeys(e.ctx, other, patchbay.KeyQuery{ProjectID: e.project.ID})
	wantCode(t, "ListAPIKeys(foreign project)", err, patchbay.ENOTFOUND)
	_, err = e.svc.ListAudit(e.ctx, other, e.project.ID, 10)
	wantCode(t, "ListAudit(foreign project)", err, patchbay.ENOTFOUND)
	_, err = e.svc.WebhookSecret(e.ctx, other, e.project.ID)
	wantCode(t, "WebhookSecret(foreign project)", err, patchbay.ENOTFOUND)
	_, _, err = e.svc.CreateAPIKey(e.ctx, other, patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "x", Owner: e.owner})
	wantCode(t, "CreateAPIKey(foreign owner)", err, patchbay.ENOTFOUND)
	_, err = e.svc.Project(e.ctx, other, e.project.ID)
	wantCode(t, "Project(foreign)", err, patchbay.ENOTFOUND)
	// Its own listings hold nothing of the first organization.
	if keys, err := e.svc.ListAPIKeys(e.ctx, other, patchbay.KeyQuery{IncludeRevoked: true}); err != nil || len(keys) != 0 {
		t.Errorf("ListAPIKeys(own org) = %v, %v; want none", keys, err)
	}
	if ps, _, err := e.svc.ListProjects(e.ctx, other, "", 50); err != nil || len(ps) != 1 || ps[0].Project.ID != otherProject.ID {
		t.Errorf("ListProjects(own org) = %v, %v; want only its own project", ps, err)
	}
	if ms, err := e.svc.ListMembers(e.ctx, other); err != nil || len(ms) != 1 || ms[0].ID != other.Member.ID {
		t.Errorf("ListMembers(own org) = %v, %v; want only its owner", ms, err)
	}
	if evs, err := e.svc.ListAudit(e.ctx, other, "", 1000); err != nil || len(evs) != 1 || evs[0].TargetID != otherProject.ID {
		t.Errorf("ListAudit(own org) = %v, %v; want only its project's creation", evs, err)
	}

	if evs := e.newEvents(before); len(evs) != 0 {
		t.Errorf("refused calls from the other organization wrote %d audit events", len(evs))
	}

	// Within one organization, a key of one project is unknown to another.
	cp, err := e.svc.CreateProject(e.ctx, e.cli, "Second", false)
	if err != nil {
		t.Fatal(err)
	}
	second := e.MustProjectPrincipal(e.owner, cp.Project.ID)
	before = e.MustAudit()
	_, err = e.svc.RevokeAPIKey(e.ctx, second, k.ID)
	wantCode(t, "RevokeAPIKey(another project's key)", err, patchbay.ENOTFOUND)
	_, err = e.svc.RevokeAPIKey(e.ctx, e.cli, "key_nosuchkey")
	wantCode(t, "RevokeAPIKey(unknown)", err, patchbay.ENOTFOUND)
	_, _, err = e.svc.RegenerateAPIKey(e.ctx, e.cli, "key_nosuchkey")
	wantCode(t, "RegenerateAPIKey(unknown)", err, patchbay.ENOTFOUND)
	_, err = e.svc.Project(e.ctx, e.cli, otherProject.ID)
	wantCode(t, "Project(the other org's, from the first)", err, patchbay.ENOTFOUND)

	e.MustAuth(e.auth, raw)
	if evs := e.newEvents(before); len(evs) != 0 {
		t.Errorf("refused calls wrote %d audit events", len(evs))
	}
}
