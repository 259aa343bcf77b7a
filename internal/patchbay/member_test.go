package patchbay_test

import (
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func TestMemberRoleIsForbidden(t *testing.T) {
	e := MustEnv(t)
	k, raw := e.MustProjectKey("ci")
	m := e.MustMember("member@example.com", patchbay.RoleMember)
	before := e.MustAudit()

	_, _, err := e.svc.CreateAPIKey(e.ctx, m, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: e.project.ID, Name: "mine"})
	wantCode(t, "CreateAPIKey", err, patchbay.EFORBIDDEN)
	_, _, err = e.svc.CreateAPIKey(e.ctx, m, patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "mine"})
	wantCode(t, "CreateAPIKey(org)", err, patchbay.EFORBIDDEN)
	_, err = e.svc.RevokeAPIKey(e.ctx, m, k.ID)
	wantCode(t, "RevokeAPIKey", err, patchbay.EFORBIDDEN)
	_, err = e.svc.RevokeAPIKey(e.ctx, m, m.Credential.ID)
	wantCode(t, "RevokeAPIKey(its own key)", err, patchbay.EFORBIDDEN)
	_, _, err = e.svc.RegenerateAPIKey(e.ctx, m, k.ID)
	wantCode(t, "RegenerateAPIKey", err, patchbay.EFORBIDDEN)
	_, _, err = e.svc.RegenerateProjectKey(e.ctx, m, e.project.ID)
	wantCode(t, "RegenerateProjectKey", err, patchbay.EFORBIDDEN)
	_, err = e.svc.CreateProject(e.ctx, m, "mine", true)
	wantCode(t, "CreateProject", err, patchbay.EFORBIDDEN)
	wantCode(t, "DeleteProject", e.svc.DeleteProject(e.ctx, m, e.project.ID), patchbay.EFORBIDDEN)
	_, err = e.svc.WebhookSecret(e.ctx, m, e.project.ID)
	wantCode(t, "WebhookSecret", err, patchbay.EFORBIDDEN)
	_, err = e.svc.AddMember(e.ctx, m, "friend@example.com", "Friend", patchbay.RoleOwner)
	wantCode(t, "AddMember", err, patchbay.EFORBIDDEN)
	_, _, err = e.svc.RotateKeyring(e.ctx, m, 10)
	wantCode(t, "RotateKeyring", err, patchbay.EFORBIDDEN)
	_, err = e.svc.ListAudit(e.ctx, m, "", 10)
	wantCode(t, "ListAudit", err, patchbay.EFORBIDDEN)
	if err != nil && !strings.Contains(patchbay.ErrorMessage(err), "member") {
		t.Errorf("forbidden message %q does not name the role", patchbay.ErrorMessage(err))
	}

	keys, err := e.svc.ListAPIKeys(e.ctx, m, patchbay.KeyQuery{Kind: patchbay.KeyKindProject})
	if err != nil || len(keys) != 1 || keys[0].ID != k.ID {
		t.Errorf("ListAPIKeys as member = %v, %v; want the one project key", keys, err)
	}
	// Nothing changed: the key works, the project lives, the keyring did
	// not rotate, the member was not added, nothing audited.
	e.MustAuth(e.auth, raw)
	if _, err := e.svc.Project(e.ctx, m, e.project.ID); err != nil {
		t.Errorf("project after forbidden delete: %v", err)
	}
	if got := e.kr.ActiveTerm(); got != 1 {
		t.Errorf("active key term %d after a forbidden rotation, want 1", got)
	}
	if _, err := e.svc.MemberByEmail(e.ctx, m, "friend@example.com"); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("MemberByEmail(friend) = %v, want ENOTFOUND after a forbidden AddMember", err)
	}
	if evs := e.newEvents(before); len(evs) != 0 {
		t.Errorf("forbidden calls wrote %d audit events", len(evs))
	}

	// A key owned by a member acts with the member's role.
	_, mraw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "member's", Owner: &m.Member})
	p := e.MustAuth(e.auth, mraw)
	if p.Member.ID != m.Member.ID || p.Member.Role != patchbay.RoleMember {
		t.Fatalf("member's key authenticates as %+v", p.Member)
	}
	pip := p.WithIP("203.0.113.5")
	_, _, err = e.svc.CreateAPIKey(e.ctx, &pip, patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "escalate"})
	wantCode(t, "CreateAPIKey with a member's key", err, patchbay.EFORBIDDEN)

	// What members may do: build with patchbay in their project.
	mp := e.MustProjectPrincipal(&m.Member, e.project.ID)
	ac, err := e.svc.CreateAuthConfig(e.ctx, mp, patchbay.NewAuthConfig{Toolkit: "widget", Managed: true})
	if err != nil {
		t.Fatalf("CreateAuthConfig as member: %v", err)
	}
	ca, err := e.svc.Connect(e.ctx, mp, patchbay.NewConnection{AuthConfigID: ac.ID, UserID: "u1", Values: map[string]any{"api_key": widgetKey}})
	if err != nil {
		t.Fatalf("Connect as member: %v", err)
	}
	if cas, n, err := e.svc.ListConnectedAccounts(e.ctx, mp, patchbay.ConnectionFilter{}, false); err != nil || n != 1 || cas[0].ID != ca.ID {
		t.Errorf("ListConnectedAccounts as member = %v, %d, %v; want the one account", cas, n, err)
	}
}

func TestAdminMay(t *testing.T) {
	e := MustEnv(t)
	a := e.MustMember("admin@example.com", patchbay.RoleAdmin)

	k, tok, err := e.svc.CreateAPIKey(e.ctx, a, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: e.project.ID, Name: "ci"})
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	if k.Creator == nil || k.Creator.ID != a.Member.ID {
		t.Errorf("CreateAPIKey creator = %+v, want the admin", k.Creator)
	}
	if p := e.MustAuth(e.auth, tok.Secret.Reveal()); p.Member.ID != a.Member.ID {
		t.Errorf("admin's key acts as %s, want the admin", p.Member.ID)
	}
	nk, ntok, err := e.svc.RegenerateAPIKey(e.ctx, a, k.ID)
	if err != nil {
		t.Fatalf("RegenerateAPIKey: %v", err)
	}
	if _, err := e.svc.RevokeAPIKey(e.ctx, a, nk.ID); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	e.MustReject(e.auth, ntok.Secret.Reveal(), "revoked by admin")
	if _, _, err := e.svc.RegenerateProjectKey(e.ctx, a, e.project.ID); err != nil {
		t.Fatalf("RegenerateProjectKey: %v", err)
	}
	cp, err := e.svc.CreateProject(e.ctx, a, "Admin's", true)
	if err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	if err := e.svc.DeleteProject(e.ctx, a, cp.Project.ID); err != nil {
		t.Fatalf("DeleteProject: %v", err)
	}
	if _, err := e.svc.ListAPIKeys(e.ctx, a, patchbay.KeyQuery{}); err != nil {
		t.Fatalf("ListAPIKeys: %v", err)
	}
	if _, err := e.svc.ListAudit(e.ctx, a, "", 10); err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	if _, err := e.svc.AddMember(e.ctx, a, "friend@example.com", "Friend", patchbay.RoleMember); err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	// Only owners hold the keyring.
	before := e.MustAudit()
	_, _, err = e.svc.RotateKeyring(e.ctx, a, 10)
	wantCode(t, "RotateKeyring as admin", err, patchbay.EFORBIDDEN)
	_, _, err = e.svc.KeyringStatus(e.ctx, a)
	wantCode(t, "KeyringStatus as admin", err, patchbay.EFORBIDDEN)
	if got := e.kr.ActiveTerm(); got != 1 {
		t.Errorf("active key term %d after an admin's rotation, want 1", got)
	}
	if evs := e.newEvents(before); len(evs) != 0 {
		t.Errorf("forbidden rotation wrote %d audit events", len(evs))
	}
}
