package patchbay_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/keyring"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testdb"
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

func TestKeyEventsAreAudited(t *testing.T) {
	e := MustEnv(t)
	// Act through an organization key from a client address, as the API does.
	_, oraw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "admin"})
	p := e.MustAuth(e.auth, oraw)
	const ip = "203.0.113.9"
	pip := p.WithIP(ip)
	a := &pip
	if p.IP != "" {
		t.Fatalf("WithIP changed the cached principal's IP to %q", p.IP)
	}

	// expect checks that exactly the given (action, target) events were
	// recorded since before, each with the actor, IP and time.
	expect := func(what string, before []*patchbay.AuditEvent, actorID, actorKey, project string, want ...[2]string) {
		t.Helper()
		evs := e.newEvents(before)
		if len(evs) != len(want) {
			t.Errorf("%s: %d audit events, want %d: %+v", what, len(evs), len(want), evs)
			return
		}
		for _, w := range want {
			found := false
			for _, ev := range evs {
				if ev.Action != w[0] || ev.TargetID != w[1] {
					continue
				}
				found = true
				if ev.ActorID != actorID || ev.ActorKey != actorKey || ev.IP != ip || ev.OrgID != e.org.ID || ev.ProjectID != project || !ev.At.Equal(e.clock.Now()) {
					t.Errorf("%s: event %+v, want actor %q key %q ip %q project %q at %v", what, ev, actorID, actorKey, ip, project, e.clock.Now())
				}
			}
			if !found {
				t.Errorf("%s: no %s event for %s in %+v", what, w[0], w[1], evs)
			}
		}
	}

	before := e.MustAudit()
	k, _, err := e.svc.CreateAPIKey(e.ctx, a, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: e.project.ID, Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	expect("create", before, e.owner.ID, p.Credential.ID, e.project.ID, [2]string{patchbay.ActionKeyCreate, k.ID})

	e.clock.Advance(time.Second)
	before = e.MustAudit()
	nk, _, err := e.svc.RegenerateAPIKey(e.ctx, a, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	expect("regenerate", before, e.owner.ID, p.Credential.ID, e.project.ID, [2]string{patchbay.ActionKeyRegenerate, k.ID + " -> " + nk.ID})

	e.clock.Advance(time.Second)
	before = e.MustAudit()
	if _, err := e.svc.RevokeAPIKey(e.ctx, a, nk.ID); err != nil {
		t.Fatal(err)
	}
	expect("revoke", before, e.owner.ID, p.Credential.ID, e.project.ID, [2]string{patchbay.ActionKeyRevoke, nk.ID})

	e.clock.Advance(time.Second)
	k1, _ := e.MustProjectKey("one")
	k2, _ := e.MustProjectKey("two")
	before = e.MustAudit()
	rk, _, err := e.svc.RegenerateProjectKey(e.ctx, a, e.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	expect("regenerate project key", before, e.owner.ID, p.Credential.ID, e.project.ID,
		[2]string{patchbay.ActionKeyRevoke, k1.ID}, [2]string{patchbay.ActionKeyRevoke, k2.ID},
		[2]string{patchbay.ActionKeyRegenerate, rk.ID})

	e.clock.Advance(time.Second)
	before = e.MustAudit()
	cp, err := e.svc.CreateProject(e.ctx, a, "Second", true)
	if err != nil {
		t.Fatal(err)
	}
	expect("create project", before, e.owner.ID, p.Credential.ID, cp.Project.ID,
		[2]string{patchbay.ActionProjectCreate, cp.Project.ID}, [2]string{patchbay.ActionKeyCreate, cp.Key.ID})

	e.clock.Advance(time.Second)
	before = e.MustAudit()
	if err := e.svc.DeleteProject(e.ctx, a, cp.Project.ID); err != nil {
		t.Fatal(err)
	}
	expect("delete project", before, e.owner.ID, p.Credential.ID, cp.Project.ID,
		[2]string{patchbay.ActionKeyRevoke, cp.Key.ID}, [2]string{patchbay.ActionProjectDelete, cp.Project.ID})

	e.clock.Advance(time.Second)
	lk, leakRaw := e.MustProjectKey("leaky")
	before = e.MustAudit()
	if n, err := e.svc.RevokeLeakedKeys(e.ctx, []string{leakRaw}, ip); err != nil || n != 1 {
		t.Fatalf("RevokeLeakedKeys = %d, %v", n, err)
	}
	expect("leak report", before, "", "", e.project.ID, [2]string{patchbay.ActionKeyLeaked, lk.ID})

	e.clock.Advance(time.Second)
	before = e.MustAudit()
	term, _, err := e.svc.RotateKeyring(e.ctx, a, 10)
	if err != nil {
		t.Fatal(err)
	}
	expect("rotate keyring", before, e.owner.ID, p.Credential.ID, "", [2]string{patchbay.ActionKeyringRotate, fmt.Sprintf("term:%d", term)})

	e.clock.Advance(time.Second)
	before = e.MustAudit()
	m, err := e.svc.AddMember(e.ctx, a, "new@example.com", "New", patchbay.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	expect("add member", before, e.owner.ID, p.Credential.ID, "", [2]string{patchbay.ActionMemberCreate, m.ID})

	// ListAudit through the service returns the same events, newest first.
	evs, err := e.svc.ListAudit(e.ctx, a, "", 0)
	if err != nil || len(evs) == 0 || evs[0].Action != patchbay.ActionMemberCreate {
		t.Fatalf("ListAudit = %d events, %v; want the member event first", len(evs), err)
	}
	// The CLI acts with no key, from "cli".
	before = e.MustAudit()
	ck, _ := e.MustProjectKey("from the cli")
	if evs := e.newEvents(before); len(evs) != 1 || evs[0].ActorID != e.owner.ID || evs[0].ActorKey != "" || evs[0].IP != "cli" || evs[0].TargetID != ck.ID {
		t.Errorf("CLI key creation audited as %+v, want the owner, no key, from cli", evs)
	}
}

func TestRegenerateAPIKey(t *testing.T) {
	e := MustEnv(t)
	m := e.MustMember("member@example.com", patchbay.RoleMember)
	old, oldRaw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: e.project.ID, Name: "Deploy bot", Owner: &m.Member})
	e.MustAuth(e.auth, oldRaw) // cached

	admin := e.MustMember("admin@example.com", patchbay.RoleAdmin)
	e.clock.Advance(time.Minute)
	nk, tok, err := e.svc.RegenerateAPIKey(e.ctx, admin, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.MustReject(e.auth, oldRaw, "regenerated key")
	p := e.MustAuth(e.auth, tok.Secret.Reveal())
	if p.Credential.ID != nk.ID || nk.ID == old.ID {
		t.Fatalf("new key authenticates as %s; regenerated %s from %s", p.Credential.ID, nk.ID, old.ID)
	}
	if nk.Name != old.Name || nk.Kind != old.Kind || nk.ProjectID != old.ProjectID || nk.OrgID != old.OrgID {
		t.Errorf("new key %+v differs in name, kind or scope from %+v", nk, old)
	}
	if nk.CreatedBy != m.Member.ID || p.Member.ID != m.Member.ID {
		t.Errorf("new key acts as %s (created by %s), want the old key's owner %s", p.Member.ID, nk.CreatedBy, m.Member.ID)
	}
	got := e.MustGetKey(old.ID)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(e.clock.Now()) || got.RevokedBy != admin.Member.ID {
		t.Errorf("old key revoked at %v by %q, want %v by the admin", got.RevokedAt, got.RevokedBy, e.clock.Now())
	}

	_, _, err = e.svc.RegenerateAPIKey(e.ctx, admin, old.ID)
	wantCode(t, "RegenerateAPIKey(revoked)", err, patchbay.ECONFLICT)
	// The conflict changed nothing: the new key still works.
	e.MustAuth(e.auth, tok.Secret.Reveal())

	// Organization keys regenerate as organization keys.
	ok, okRaw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "org"})
	onk, otok, err := e.svc.RegenerateAPIKey(e.ctx, e.cli, ok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if onk.Kind != patchbay.KeyKindOrg || !strings.HasPrefix(otok.Secret.Reveal(), "oak_") || onk.ProjectID != "" {
		t.Errorf("regenerated org key = %+v", onk)
	}
	e.MustReject(e.auth, okRaw, "regenerated org key")
}

func TestRegenerateProjectKey(t *testing.T) {
	e := MustEnv(t)
	_, raw1 := e.MustProjectKey("first")
	e.clock.Advance(time.Second)
	_, raw2 := e.MustProjectKey("newest")
	_, orgRaw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "org"})
	cp, err := e.svc.CreateProject(e.ctx, e.cli, "Elsewhere", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{raw1, raw2, orgRaw, cp.Token.Secret.Reveal()} {
		e.MustAuth(e.auth, raw)
	}

	e.clock.Advance(time.Second)
	nk, tok, err := e.svc.RegenerateProjectKey(e.ctx, e.cli, e.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	if nk.Name != "newest" || nk.ProjectID != e.project.ID || nk.Kind != patchbay.KeyKindProject {
		t.Errorf("new key = %+v, want a project key named after the newest revoked one", nk)
	}
	e.MustReject(e.auth, raw1, "first project key")
	e.MustReject(e.auth, raw2, "second project key")
	e.MustAuth(e.auth, tok.Secret.Reveal())
	e.MustAuth(e.auth, orgRaw)                   // organization keys are not project keys
	e.MustAuth(e.auth, cp.Token.Secret.Reveal()) // nor are other projects' keys
	active, err := e.svc.ListAPIKeys(e.ctx, e.cli, patchbay.KeyQuery{ProjectID: e.project.ID, Kind: patchbay.KeyKindProject})
	if err != nil || len(active) != 1 || active[0].ID != nk.ID {
		t.Errorf("active project keys = %v, %v; want only the new one", active, err)
	}

	// A project without keys gets one named "default".
	bare, err := e.svc.CreateProject(e.ctx, e.cli, "Bare", false)
	if err != nil {
		t.Fatal(err)
	}
	bk, _, err := e.svc.RegenerateProjectKey(e.ctx, e.cli, bare.Project.ID)
	if err != nil || bk.Name != "default" {
		t.Errorf("RegenerateProjectKey(no keys) = %+v, %v; want a key named default", bk, err)
	}
	_, _, err = e.svc.RegenerateProjectKey(e.ctx, e.cli, "pr_nosuchproject")
	wantCode(t, "RegenerateProjectKey(unknown project)", err, patchbay.ENOTFOUND)
}

func TestDeleteProjectRevokesKeys(t *testing.T) {
	e := MustEnv(t)
	cp, err := e.svc.CreateProject(e.ctx, e.cli, "Doomed", true)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Key == nil || cp.Key.Name != "default" {
		t.Fatalf("CreateProject(withKey) key = %+v", cp.Key)
	}
	k2, raw2 := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: cp.Project.ID, Name: "second"})
	_, keepRaw := e.MustProjectKey("survivor")
	raw1 := cp.Token.Secret.Reveal()
	for _, raw := range []string{raw1, raw2, keepRaw} {
		e.MustAuth(e.auth, raw)
	}

	e.clock.Advance(time.Minute)
	if err := e.svc.DeleteProject(e.ctx, e.cli, cp.Project.ID); err != nil {
		t.Fatal(err)
	}
	e.MustReject(e.auth, raw1, "first key of the deleted project")
	e.MustReject(e.auth, raw2, "second key of the deleted project")
	e.MustAuth(e.auth, keepRaw)
	for _, id := range []string{cp.Key.ID, k2.ID} {
		if k := e.MustGetKey(id); k.RevokedAt == nil || !k.RevokedAt.Equal(e.clock.Now()) || k.RevokedBy != e.owner.ID {
			t.Errorf("key %s revoked at %v by %q", id, k.RevokedAt, k.RevokedBy)
		}
	}
	_, err = e.svc.Project(e.ctx, e.cli, cp.Project.ID)
	wantCode(t, "Project(deleted)", err, patchbay.ENOTFOUND)
	wantCode(t, "DeleteProject(again)", e.svc.DeleteProject(e.ctx, e.cli, cp.Project.ID), patchbay.ENOTFOUND)
	_, _, err = e.svc.CreateAPIKey(e.ctx, e.cli, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: cp.Project.ID, Name: "late"})
	wantCode(t, "CreateAPIKey(deleted project)", err, patchbay.ENOTFOUND)
}

func TestRevokeLeakedKeys(t *testing.T) {
	e := MustEnv(t)
	a, rawA := e.MustProjectKey("a")
	b, rawB := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "b"})
	c, rawC := e.MustProjectKey("c")
	_, keepRaw := e.MustProjectKey("keep")
	if _, err := e.svc.RevokeAPIKey(e.ctx, e.cli, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{rawA, rawB, keepRaw} {
		e.MustAuth(e.auth, raw)
	}
	typo := []byte(rawA)
	typo[5] ^= 1
	unknown := MustGenerateKey(t, patchbay.KeyKindProject).Secret.Reveal()

	e.clock.Advance(time.Minute)
	n, err := e.svc.RevokeLeakedKeys(e.ctx, []string{
		"garbage", "", string(typo), unknown, rawC, // ignored
		"  " + rawA + "\n", rawB, rawA, // matched, with a duplicate
	}, "198.51.100.7")
	if err != nil || n != 2 {
		t.Fatalf("RevokeLeakedKeys = %d, %v; want 2, nil", n, err)
	}
	e.MustReject(e.auth, rawA, "leaked project key")
	e.MustReject(e.auth, rawB, "leaked org key")
	e.MustAuth(e.auth, keepRaw)
	for _, id := range []string{a.ID, b.ID} {
		if k := e.MustGetKey(id); k.RevokedBy != patchbay.RevokedByLeakReport || k.RevokedAt == nil || !k.RevokedAt.Equal(e.clock.Now()) {
			t.Errorf("key %s revoked by %q at %v, want %q at %v", id, k.RevokedBy, k.RevokedAt, patchbay.RevokedByLeakReport, e.clock.Now())
		}
	}
	if k := e.MustGetKey(c.ID); k.RevokedBy != e.owner.ID {
		t.Errorf("already revoked key now revoked by %q, want its first revocation kept", k.RevokedBy)
	}

	// Reporting again: nothing left to revoke, and no error.
	if n, err := e.svc.RevokeLeakedKeys(e.ctx, []string{rawA, rawB, rawC}, "198.51.100.7"); err != nil || n != 0 {
		t.Errorf("second report = %d, %v; want 0, nil", n, err)
	}
	full := make([]string, patchbay.MaxLeakedBatch)
	for i := range full {
		full[i] = "not-a-key"
	}
	if n, err := e.svc.RevokeLeakedKeys(e.ctx, full, "198.51.100.7"); err != nil || n != 0 {
		t.Errorf("full batch of garbage = %d, %v; want 0, nil", n, err)
	}
	_, err = e.svc.RevokeLeakedKeys(e.ctx, nil, "198.51.100.7")
	wantCode(t, "RevokeLeakedKeys(none)", err, patchbay.EINVALID)
	_, err = e.svc.RevokeLeakedKeys(e.ctx, []string{}, "198.51.100.7")
	wantCode(t, "RevokeLeakedKeys(empty)", err, patchbay.EINVALID)
	_, err = e.svc.RevokeLeakedKeys(e.ctx, append(full, keepRaw), "198.51.100.7")
	wantCode(t, "RevokeLeakedKeys(101)", err, patchbay.EINVALID)
	e.MustAuth(e.auth, keepRaw) // the oversized batch revoked nothing
}

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

func TestProjectWebhookSecretIsSealed(t *testing.T) {
	e := MustEnv(t)
	cp, err := e.svc.CreateProject(e.ctx, e.cli, "Hooks", false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.svc.WebhookSecret(e.ctx, e.cli, cp.Project.ID)
	if err != nil || !strings.HasPrefix(s.Reveal(), "whsec_") {
		t.Fatalf("WebhookSecret = %v, %v", s, err)
	}
	ref := patchbay.SecretRef{ProjectID: cp.Project.ID, Record: cp.Project.ID, Field: patchbay.FieldWebhookSecret}
	st, err := e.st.GetSecret(e.ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(st.Sealed), s.Reveal()) {
		t.Fatal("the stored value holds the plaintext")
	}
	if term, err := keyring.Term(st.Sealed); err != nil || term != st.Term {
		t.Errorf("stored term %d, ciphertext term %d (%v)", st.Term, term, err)
	}
	// Another project's secret does not open under this project's ref.
	if _, err := e.kr.Open(patchbay.SecretRef{ProjectID: e.project.ID, Record: e.project.ID, Field: patchbay.FieldWebhookSecret}, st.Sealed); err == nil {
		t.Error("a project's webhook secret opened under another project's ref")
	}
}

// refreshingSealer is a keyring whose Seal sees a rotation made by another
// instance right after it sealed: the race between Seal and ActiveTerm.
type refreshingSealer struct{ *keyring.Keyring }

func (s refreshingSealer) Seal(ref patchbay.SecretRef, p patchbay.Secret) (patchbay.Sealed, error) {
	sealed, err := s.Keyring.Seal(ref, p)
	if err != nil {
		return nil, err
	}
	return sealed, s.Keyring.Refresh(context.Background())
}

// TestStoredTermMatchesCiphertext: a rotation that lands while a value is
// sealed must not leave a row claiming a newer term than sealed it, or
// re-encryption would never move it off the old term.
func TestStoredTermMatchesCiphertext(t *testing.T) {
	creators := map[string]func(e *env) patchbay.SecretRef{
		"webhook secret": func(e *env) patchbay.SecretRef {
			cp, err := e.svc.CreateProject(e.ctx, e.cli, "Racy", false)
			if err != nil {
				e.t.Fatal(err)
			}
			return patchbay.SecretRef{ProjectID: cp.Project.ID, Record: cp.Project.ID, Field: patchbay.FieldWebhookSecret}
		},
		"auth config credentials": func(e *env) patchbay.SecretRef {
			p := e.MustProjectPrincipal(e.owner, e.project.ID)
			ac, err := e.svc.CreateAuthConfig(e.ctx, p, patchbay.NewAuthConfig{
				Toolkit: "acme", Mode: patchbay.AuthAPIKey, Credentials: map[string]any{"client_secret": "s3cr3t"},
			})
			if err != nil {
				e.t.Fatal(err)
			}
			return patchbay.CredentialsRef(e.project.ID, ac.ID)
		},
	}
	for name, create := range creators {
		t.Run(name, func(t *testing.T) {
			e := MustEnvWith(t, testdb.SQLite(t), func(e *env, cfg *patchbay.Config) {
				cfg.Sealer = refreshingSealer{e.kr}
			})
			// Another instance (same root key) rotates; e.kr has not loaded
			// the new term yet, and loads it right after its next Seal.
			other, err := keyring.Open(e.ctx, e.st, e.rootKey, rand.Reader, e.clock.Now)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := other.Rotate(e.ctx); err != nil {
				t.Fatal(err)
			}
			if e.kr.ActiveTerm() != 1 {
				t.Fatalf("active term %d, want 1 before refresh", e.kr.ActiveTerm())
			}
			ref := create(e)
			st, err := e.st.GetSecret(e.ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			term, err := keyring.Term(st.Sealed)
			if err != nil {
				t.Fatal(err)
			}
			if st.Term > term {
				t.Fatalf("row claims term %d, but the value is sealed under term %d", st.Term, term)
			}
			want, err := e.kr.Open(ref, st.Sealed)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.kr.Reencrypt(e.ctx, e.st, 10); err != nil {
				t.Fatal(err)
			}
			st, err = e.st.GetSecret(e.ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if term, _ := keyring.Term(st.Sealed); term != 2 || st.Term != 2 {
				t.Fatalf("after Reencrypt: row term %d, ciphertext term %d; want 2", st.Term, term)
			}
			if got, err := e.kr.Open(ref, st.Sealed); err != nil || got.Reveal() != want.Reveal() {
				t.Fatalf("after Reencrypt: Open = %v, %v", got, err)
			}
		})
	}
}

// failingLookupStore fails the store lookup of one key hash, once set.
type failingLookupStore struct {
	patchbay.Store
	fail [32]byte
}

func (s *failingLookupStore) LookupAPIKey(ctx context.Context, hash [32]byte) (*patchbay.APIKey, *patchbay.Member, error) {
	if hash == s.fail {
		return nil, nil, patchbay.Errorf(patchbay.EUNAVAILABLE, "database unavailable")
	}
	return s.Store.LookupAPIKey(ctx, hash)
}

// TestRevokeLeakedKeysEvictsOnError: when a report fails part-way, the keys
// it already revoked are evicted all the same; their revocation committed.
func TestRevokeLeakedKeysEvictsOnError(t *testing.T) {
	failing := &failingLookupStore{}
	e := MustEnvWith(t, testdb.SQLite(t), func(e *env, cfg *patchbay.Config) {
		failing.Store = e.st
		cfg.Store = failing
	})
	a, rawA := e.MustProjectKey("a")
	_, rawB := e.MustProjectKey("b")
	e.MustAuth(e.auth, rawA)
	e.MustAuth(e.auth, rawB) // cached: the failing lookup below is the report's
	tokB, err := patchbay.ParseKey(rawB)
	if err != nil {
		t.Fatal(err)
	}
	failing.fail = tokB.Hash()
	if _, err := e.svc.RevokeLeakedKeys(e.ctx, []string{rawA, rawB}, "198.51.100.7"); patchbay.ErrorCode(err) != patchbay.EUNAVAILABLE {
		t.Fatalf("RevokeLeakedKeys = %v, want the store's error", err)
	}
	if !e.MustGetKey(a.ID).Revoked() {
		t.Fatal("the first key was not revoked")
	}
	e.MustReject(e.auth, rawA, "key revoked by a report that failed later")
	e.MustAuth(e.auth, rawB)
}
