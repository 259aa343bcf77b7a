package patchbay_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/keyring"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// wantCode fails the test unless err carries code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := patchbay.ErrorCode(err); got != code {
		t.Errorf("%s: error = %v (code %q), want code %q", what, err, got, code)
	}
}

// newEvents returns the audit events recorded since before was listed.
func (e *env) newEvents(before []*patchbay.AuditEvent) []*patchbay.AuditEvent {
	e.t.Helper()
	seen := map[string]bool{}
	for _, ev := range before {
		seen[ev.ID] = true
	}
	var out []*patchbay.AuditEvent
	for _, ev := range e.MustAudit() {
		if !seen[ev.ID] {
			out = append(out, ev)
		}
	}
	return out
}

// MustOtherOrg creates a second organization with its own owner and project,
// straight in the store (Bootstrap makes only the first).
func (e *env) MustOtherOrg() (patchbay.Actor, *patchbay.Project) {
	e.t.Helper()
	now := e.clock.Now()
	org := &patchbay.Organization{ID: "org_other0000000000", Name: "Other", CreatedAt: now}
	owner := &patchbay.Member{ID: "mem_other0000000000", OrgID: org.ID, Email: "owner@other.example", Name: "Other owner", Role: patchbay.RoleOwner, CreatedAt: now}
	if err := e.st.CreateOrganization(e.ctx, org); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.CreateMember(e.ctx, owner); err != nil {
		e.t.Fatal(err)
	}
	a := patchbay.Actor{Member: *owner, IP: "192.0.2.66"}
	cp, err := e.svc.CreateProject(e.ctx, a, org.ID, "Other project", false)
	if err != nil {
		e.t.Fatal(err)
	}
	return a, cp.Project
}

func TestMemberRoleIsForbidden(t *testing.T) {
	e := MustEnv(t)
	k, raw := e.MustProjectKey("ci")
	m := e.MustMember("member@example.com", patchbay.RoleMember)
	before := e.MustAudit()

	_, _, err := e.svc.CreateAPIKey(e.ctx, m, patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: e.org.ID, ProjectID: e.project.ID, Name: "mine"})
	wantCode(t, "CreateAPIKey", err, patchbay.EFORBIDDEN)
	_, _, err = e.svc.CreateAPIKey(e.ctx, m, patchbay.NewKey{Kind: patchbay.KeyKindOrg, OrgID: e.org.ID, Name: "mine"})
	wantCode(t, "CreateAPIKey(org)", err, patchbay.EFORBIDDEN)
	_, err = e.svc.RevokeAPIKey(e.ctx, m, e.org.ID, e.project.ID, k.ID)
	wantCode(t, "RevokeAPIKey", err, patchbay.EFORBIDDEN)
	_, _, err = e.svc.RegenerateAPIKey(e.ctx, m, e.org.ID, e.project.ID, k.ID)
	wantCode(t, "RegenerateAPIKey", err, patchbay.EFORBIDDEN)
	_, _, err = e.svc.RegenerateProjectKey(e.ctx, m, e.org.ID, e.project.ID)
	wantCode(t, "RegenerateProjectKey", err, patchbay.EFORBIDDEN)
	_, err = e.svc.CreateProject(e.ctx, m, e.org.ID, "mine", true)
	wantCode(t, "CreateProject", err, patchbay.EFORBIDDEN)
	wantCode(t, "DeleteProject", e.svc.DeleteProject(e.ctx, m, e.org.ID, e.project.ID), patchbay.EFORBIDDEN)
	_, err = e.svc.AddMember(e.ctx, m, e.org.ID, "friend@example.com", "Friend", patchbay.RoleOwner)
	wantCode(t, "AddMember", err, patchbay.EFORBIDDEN)
	_, err = e.svc.ListAudit(e.ctx, m, e.org.ID, "", 10)
	wantCode(t, "ListAudit", err, patchbay.EFORBIDDEN)
	if err != nil && !strings.Contains(patchbay.ErrorMessage(err), "member") {
		t.Errorf("forbidden message %q does not name the role", patchbay.ErrorMessage(err))
	}

	keys, err := e.svc.ListAPIKeys(e.ctx, m, patchbay.KeyFilter{OrgID: e.org.ID})
	if err != nil || len(keys) != 1 || keys[0].ID != k.ID {
		t.Errorf("ListAPIKeys as member = %v, %v; want the one key", keys, err)
	}
	// Nothing changed: the key works, the project lives, nothing audited.
	e.MustAuth(e.auth, raw)
	if _, err := e.svc.Project(e.ctx, m, e.project.ID); err != nil {
		t.Errorf("project after forbidden delete: %v", err)
	}
	if evs := e.newEvents(before); len(evs) != 0 {
		t.Errorf("forbidden calls wrote %d audit events", len(evs))
	}

	// A key owned by a member acts with the member's role.
	_, mraw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, OrgID: e.org.ID, Name: "member's", Owner: &m.Member})
	p := e.MustAuth(e.auth, mraw)
	if p.Member.ID != m.Member.ID || p.Member.Role != patchbay.RoleMember {
		t.Fatalf("member's key authenticates as %+v", p.Member)
	}
	_, _, err = e.svc.CreateAPIKey(e.ctx, patchbay.ActorFrom(p, "203.0.113.5"), patchbay.NewKey{Kind: patchbay.KeyKindOrg, OrgID: e.org.ID, Name: "escalate"})
	wantCode(t, "CreateAPIKey with a member's key", err, patchbay.EFORBIDDEN)
}

func TestAdminMay(t *testing.T) {
	e := MustEnv(t)
	a := e.MustMember("admin@example.com", patchbay.RoleAdmin)

	k, tok, err := e.svc.CreateAPIKey(e.ctx, a, patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: e.org.ID, ProjectID: e.project.ID, Name: "ci"})
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	if p := e.MustAuth(e.auth, tok.Secret.Reveal()); p.Member.ID != a.Member.ID {
		t.Errorf("admin's key acts as %s, want the admin", p.Member.ID)
	}
	nk, ntok, err := e.svc.RegenerateAPIKey(e.ctx, a, e.org.ID, e.project.ID, k.ID)
	if err != nil {
		t.Fatalf("RegenerateAPIKey: %v", err)
	}
	if _, err := e.svc.RevokeAPIKey(e.ctx, a, e.org.ID, e.project.ID, nk.ID); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	e.MustReject(e.auth, ntok.Secret.Reveal(), "revoked by admin")
	if _, _, err := e.svc.RegenerateProjectKey(e.ctx, a, e.org.ID, e.project.ID); err != nil {
		t.Fatalf("RegenerateProjectKey: %v", err)
	}
	cp, err := e.svc.CreateProject(e.ctx, a, e.org.ID, "Admin's", true)
	if err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	if err := e.svc.DeleteProject(e.ctx, a, e.org.ID, cp.Project.ID); err != nil {
		t.Fatalf("DeleteProject: %v", err)
	}
	if _, err := e.svc.ListAPIKeys(e.ctx, a, patchbay.KeyFilter{OrgID: e.org.ID}); err != nil {
		t.Fatalf("ListAPIKeys: %v", err)
	}
	if _, err := e.svc.ListAudit(e.ctx, a, e.org.ID, "", 10); err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
}

func TestOtherOrganizationIsNotFound(t *testing.T) {
	e := MustEnv(t)
	k, raw := e.MustProjectKey("ci")
	other, otherProject := e.MustOtherOrg()
	before := e.MustAudit()

	// Naming the first organization.
	_, _, err := e.svc.CreateAPIKey(e.ctx, other, patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: e.org.ID, ProjectID: e.project.ID, Name: "x"})
	wantCode(t, "CreateAPIKey", err, patchbay.ENOTFOUND)
	_, err = e.svc.RevokeAPIKey(e.ctx, other, e.org.ID, "", k.ID)
	wantCode(t, "RevokeAPIKey", err, patchbay.ENOTFOUND)
	_, _, err = e.svc.RegenerateAPIKey(e.ctx, other, e.org.ID, "", k.ID)
	wantCode(t, "RegenerateAPIKey", err, patchbay.ENOTFOUND)
	_, _, err = e.svc.RegenerateProjectKey(e.ctx, other, e.org.ID, e.project.ID)
	wantCode(t, "RegenerateProjectKey", err, patchbay.ENOTFOUND)
	_, err = e.svc.CreateProject(e.ctx, other, e.org.ID, "x", false)
	wantCode(t, "CreateProject", err, patchbay.ENOTFOUND)
	wantCode(t, "DeleteProject", e.svc.DeleteProject(e.ctx, other, e.org.ID, e.project.ID), patchbay.ENOTFOUND)
	_, err = e.svc.ListAPIKeys(e.ctx, other, patchbay.KeyFilter{OrgID: e.org.ID})
	wantCode(t, "ListAPIKeys", err, patchbay.ENOTFOUND)
	_, err = e.svc.ListAudit(e.ctx, other, e.org.ID, "", 10)
	wantCode(t, "ListAudit", err, patchbay.ENOTFOUND)
	_, err = e.svc.AddMember(e.ctx, other, e.org.ID, "x@example.com", "X", patchbay.RoleOwner)
	wantCode(t, "AddMember", err, patchbay.ENOTFOUND)

	// Naming its own organization but the first one's records.
	oo := other.Member.OrgID
	_, err = e.svc.RevokeAPIKey(e.ctx, other, oo, "", k.ID)
	wantCode(t, "RevokeAPIKey(own org, foreign key)", err, patchbay.ENOTFOUND)
	_, _, err = e.svc.RegenerateAPIKey(e.ctx, other, oo, "", k.ID)
	wantCode(t, "RegenerateAPIKey(own org, foreign key)", err, patchbay.ENOTFOUND)
	_, _, err = e.svc.RegenerateProjectKey(e.ctx, other, oo, e.project.ID)
	wantCode(t, "RegenerateProjectKey(own org, foreign project)", err, patchbay.ENOTFOUND)
	wantCode(t, "DeleteProject(own org, foreign project)", e.svc.DeleteProject(e.ctx, other, oo, e.project.ID), patchbay.ENOTFOUND)
	_, _, err = e.svc.CreateAPIKey(e.ctx, other, patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: oo, ProjectID: e.project.ID, Name: "x"})
	wantCode(t, "CreateAPIKey(own org, foreign project)", err, patchbay.ENOTFOUND)
	_, _, err = e.svc.CreateAPIKey(e.ctx, other, patchbay.NewKey{Kind: patchbay.KeyKindOrg, OrgID: oo, Name: "x", Owner: e.owner})
	wantCode(t, "CreateAPIKey(own org, foreign owner)", err, patchbay.ENOTFOUND)
	_, err = e.svc.Project(e.ctx, other, e.project.ID)
	wantCode(t, "Project(foreign)", err, patchbay.ENOTFOUND)

	// Within one organization, a key of one project is unknown to another.
	_, err = e.svc.RevokeAPIKey(e.ctx, e.actor, e.org.ID, "pr_nosuchproject", k.ID)
	wantCode(t, "RevokeAPIKey(wrong project)", err, patchbay.ENOTFOUND)
	_, err = e.svc.RevokeAPIKey(e.ctx, e.actor, e.org.ID, "", "key_nosuchkey")
	wantCode(t, "RevokeAPIKey(unknown)", err, patchbay.ENOTFOUND)
	_, _, err = e.svc.RegenerateAPIKey(e.ctx, e.actor, e.org.ID, "", "key_nosuchkey")
	wantCode(t, "RegenerateAPIKey(unknown)", err, patchbay.ENOTFOUND)
	_, err = e.svc.Project(e.ctx, e.actor, otherProject.ID)
	wantCode(t, "Project(the other org's, from the first)", err, patchbay.ENOTFOUND)

	e.MustAuth(e.auth, raw)
	if evs := e.newEvents(before); len(evs) != 0 {
		t.Errorf("refused calls wrote %d audit events", len(evs))
	}
}

func TestKeyEventsAreAudited(t *testing.T) {
	e := MustEnv(t)
	// Act through an organization key from a client address, as the API does.
	_, oraw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, OrgID: e.org.ID, Name: "admin"})
	p := e.MustAuth(e.auth, oraw)
	const ip = "203.0.113.9"
	a := patchbay.ActorFrom(p, ip)

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
	k, _, err := e.svc.CreateAPIKey(e.ctx, a, patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: e.org.ID, ProjectID: e.project.ID, Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	expect("create", before, e.owner.ID, p.Key.ID, e.project.ID, [2]string{patchbay.ActionKeyCreate, k.ID})

	e.clock.Advance(time.Second)
	before = e.MustAudit()
	nk, _, err := e.svc.RegenerateAPIKey(e.ctx, a, e.org.ID, e.project.ID, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	expect("regenerate", before, e.owner.ID, p.Key.ID, e.project.ID, [2]string{patchbay.ActionKeyRegenerate, k.ID + " -> " + nk.ID})

	e.clock.Advance(time.Second)
	before = e.MustAudit()
	if _, err := e.svc.RevokeAPIKey(e.ctx, a, e.org.ID, e.project.ID, nk.ID); err != nil {
		t.Fatal(err)
	}
	expect("revoke", before, e.owner.ID, p.Key.ID, e.project.ID, [2]string{patchbay.ActionKeyRevoke, nk.ID})

	e.clock.Advance(time.Second)
	k1, _ := e.MustProjectKey("one")
	k2, _ := e.MustProjectKey("two")
	before = e.MustAudit()
	rk, _, err := e.svc.RegenerateProjectKey(e.ctx, a, e.org.ID, e.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	expect("regenerate project key", before, e.owner.ID, p.Key.ID, e.project.ID,
		[2]string{patchbay.ActionKeyRevoke, k1.ID}, [2]string{patchbay.ActionKeyRevoke, k2.ID},
		[2]string{patchbay.ActionKeyRegenerate, rk.ID})

	e.clock.Advance(time.Second)
	before = e.MustAudit()
	cp, err := e.svc.CreateProject(e.ctx, a, e.org.ID, "Second", true)
	if err != nil {
		t.Fatal(err)
	}
	expect("create project", before, e.owner.ID, p.Key.ID, cp.Project.ID,
		[2]string{patchbay.ActionProjectCreate, cp.Project.ID}, [2]string{patchbay.ActionKeyCreate, cp.Key.ID})

	e.clock.Advance(time.Second)
	before = e.MustAudit()
	if err := e.svc.DeleteProject(e.ctx, a, e.org.ID, cp.Project.ID); err != nil {
		t.Fatal(err)
	}
	expect("delete project", before, e.owner.ID, p.Key.ID, cp.Project.ID,
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
	m, err := e.svc.AddMember(e.ctx, a, e.org.ID, "new@example.com", "New", patchbay.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	expect("add member", before, e.owner.ID, p.Key.ID, "", [2]string{patchbay.ActionMemberCreate, m.ID})

	// ListAudit through the service returns the same events, newest first.
	evs, err := e.svc.ListAudit(e.ctx, a, e.org.ID, "", 0)
	if err != nil || len(evs) == 0 || evs[0].Action != patchbay.ActionMemberCreate {
		t.Fatalf("ListAudit = %d events, %v; want the member event first", len(evs), err)
	}
}

func TestRegenerateAPIKey(t *testing.T) {
	e := MustEnv(t)
	m := e.MustMember("member@example.com", patchbay.RoleMember)
	old, oldRaw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: e.org.ID, ProjectID: e.project.ID, Name: "Deploy bot", Owner: &m.Member})
	e.MustAuth(e.auth, oldRaw) // cached

	admin := e.MustMember("admin@example.com", patchbay.RoleAdmin)
	e.clock.Advance(time.Minute)
	nk, tok, err := e.svc.RegenerateAPIKey(e.ctx, admin, e.org.ID, e.project.ID, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.MustReject(e.auth, oldRaw, "regenerated key")
	p := e.MustAuth(e.auth, tok.Secret.Reveal())
	if p.Key.ID != nk.ID || nk.ID == old.ID {
		t.Fatalf("new key authenticates as %s; regenerated %s from %s", p.Key.ID, nk.ID, old.ID)
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

	_, _, err = e.svc.RegenerateAPIKey(e.ctx, admin, e.org.ID, e.project.ID, old.ID)
	wantCode(t, "RegenerateAPIKey(revoked)", err, patchbay.ECONFLICT)
	// The conflict changed nothing: the new key still works.
	e.MustAuth(e.auth, tok.Secret.Reveal())

	// Organization keys regenerate as organization keys.
	ok, okRaw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, OrgID: e.org.ID, Name: "org"})
	onk, otok, err := e.svc.RegenerateAPIKey(e.ctx, e.actor, e.org.ID, "", ok.ID)
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
	_, orgRaw := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, OrgID: e.org.ID, Name: "org"})
	cp, err := e.svc.CreateProject(e.ctx, e.actor, e.org.ID, "Elsewhere", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{raw1, raw2, orgRaw, cp.Token.Secret.Reveal()} {
		e.MustAuth(e.auth, raw)
	}

	e.clock.Advance(time.Second)
	nk, tok, err := e.svc.RegenerateProjectKey(e.ctx, e.actor, e.org.ID, e.project.ID)
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
	active, err := e.svc.ListAPIKeys(e.ctx, e.actor, patchbay.KeyFilter{OrgID: e.org.ID, ProjectID: e.project.ID, Kind: patchbay.KeyKindProject})
	if err != nil || len(active) != 1 || active[0].ID != nk.ID {
		t.Errorf("active project keys = %v, %v; want only the new one", active, err)
	}

	// A project without keys gets one named "default".
	bare, err := e.svc.CreateProject(e.ctx, e.actor, e.org.ID, "Bare", false)
	if err != nil {
		t.Fatal(err)
	}
	bk, _, err := e.svc.RegenerateProjectKey(e.ctx, e.actor, e.org.ID, bare.Project.ID)
	if err != nil || bk.Name != "default" {
		t.Errorf("RegenerateProjectKey(no keys) = %+v, %v; want a key named default", bk, err)
	}
	_, _, err = e.svc.RegenerateProjectKey(e.ctx, e.actor, e.org.ID, "pr_nosuchproject")
	wantCode(t, "RegenerateProjectKey(unknown project)", err, patchbay.ENOTFOUND)
}

func TestDeleteProjectRevokesKeys(t *testing.T) {
	e := MustEnv(t)
	cp, err := e.svc.CreateProject(e.ctx, e.actor, e.org.ID, "Doomed", true)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Key == nil || cp.Key.Name != "default" {
		t.Fatalf("CreateProject(withKey) key = %+v", cp.Key)
	}
	k2, raw2 := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: e.org.ID, ProjectID: cp.Project.ID, Name: "second"})
	_, keepRaw := e.MustProjectKey("survivor")
	raw1 := cp.Token.Secret.Reveal()
	for _, raw := range []string{raw1, raw2, keepRaw} {
		e.MustAuth(e.auth, raw)
	}

	e.clock.Advance(time.Minute)
	if err := e.svc.DeleteProject(e.ctx, e.actor, e.org.ID, cp.Project.ID); err != nil {
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
	_, err = e.svc.Project(e.ctx, e.actor, cp.Project.ID)
	wantCode(t, "Project(deleted)", err, patchbay.ENOTFOUND)
	wantCode(t, "DeleteProject(again)", e.svc.DeleteProject(e.ctx, e.actor, e.org.ID, cp.Project.ID), patchbay.ENOTFOUND)
	_, _, err = e.svc.CreateAPIKey(e.ctx, e.actor, patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: e.org.ID, ProjectID: cp.Project.ID, Name: "late"})
	wantCode(t, "CreateAPIKey(deleted project)", err, patchbay.ENOTFOUND)
}

func TestRevokeLeakedKeys(t *testing.T) {
	e := MustEnv(t)
	a, rawA := e.MustProjectKey("a")
	b, rawB := e.MustKey(patchbay.NewKey{Kind: patchbay.KeyKindOrg, OrgID: e.org.ID, Name: "b"})
	c, rawC := e.MustProjectKey("c")
	_, keepRaw := e.MustProjectKey("keep")
	if _, err := e.svc.RevokeAPIKey(e.ctx, e.actor, e.org.ID, "", c.ID); err != nil {
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
		_, _, err := e.svc.CreateAPIKey(e.ctx, e.actor, patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: e.org.ID, ProjectID: e.project.ID, Name: name})
		wantCode(t, "CreateAPIKey name "+what, err, patchbay.EINVALID)
		_, err = e.svc.CreateProject(e.ctx, e.actor, e.org.ID, name, true)
		wantCode(t, "CreateProject name "+what, err, patchbay.EINVALID)
	}
	keys, err := e.svc.ListAPIKeys(e.ctx, e.actor, patchbay.KeyFilter{OrgID: e.org.ID, IncludeRevoked: true})
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
		k, _, err := e.svc.CreateAPIKey(e.ctx, e.actor, patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: e.org.ID, ProjectID: e.project.ID, Name: name})
		if err != nil {
			t.Errorf("CreateAPIKey name %s: %v", what, err)
			continue
		}
		if k.Name != strings.TrimSpace(name) {
			t.Errorf("CreateAPIKey name %s stored as %q", what, k.Name)
		}
		cp, err := e.svc.CreateProject(e.ctx, e.actor, e.org.ID, name, false)
		if err != nil || cp.Project.Name != strings.TrimSpace(name) {
			t.Errorf("CreateProject name %s = %v, %v", what, cp, err)
		}
	}

	// Other malformed requests.
	_, _, err = e.svc.CreateAPIKey(e.ctx, e.actor, patchbay.NewKey{Kind: patchbay.KeyKindProject, OrgID: e.org.ID, Name: "no project"})
	wantCode(t, "project key without project", err, patchbay.EINVALID)
	_, _, err = e.svc.CreateAPIKey(e.ctx, e.actor, patchbay.NewKey{Kind: patchbay.KeyKindOrg, OrgID: e.org.ID, ProjectID: e.project.ID, Name: "org with project"})
	wantCode(t, "org key with project", err, patchbay.EINVALID)
	_, _, err = e.svc.CreateAPIKey(e.ctx, e.actor, patchbay.NewKey{Kind: "user", OrgID: e.org.ID, Name: "user"})
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
	cp, err := e.svc.CreateProject(e.ctx, e.actor, e.org.ID, "Hooks", false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.svc.WebhookSecret(e.ctx, cp.Project)
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

// catalog is a one-toolkit Catalog.
type catalog struct{ tk *patchbay.Toolkit }

func (c catalog) Toolkit(slug string) (*patchbay.Toolkit, bool) { return c.tk, slug == c.tk.Slug }
func (c catalog) Toolkits() []*patchbay.Toolkit                 { return []*patchbay.Toolkit{c.tk} }

var acme = &patchbay.Toolkit{Slug: "acme", Name: "Acme", AuthSchemes: []patchbay.AuthScheme{{
	Mode:   patchbay.AuthAPIKey,
	Fields: []patchbay.Field{{Name: "client_secret", Type: "string", Required: true, Secret: true, Scope: patchbay.ScopeAuthConfig}},
}}}

// TestStoredTermMatchesCiphertext: a rotation that lands while a value is
// sealed must not leave a row claiming a newer term than sealed it, or
// re-encryption would never move it off the old term.
func TestStoredTermMatchesCiphertext(t *testing.T) {
	creators := map[string]func(e *env) patchbay.SecretRef{
		"webhook secret": func(e *env) patchbay.SecretRef {
			cp, err := e.svc.CreateProject(e.ctx, e.actor, e.org.ID, "Racy", false)
			if err != nil {
				e.t.Fatal(err)
			}
			return patchbay.SecretRef{ProjectID: cp.Project.ID, Record: cp.Project.ID, Field: patchbay.FieldWebhookSecret}
		},
		"auth config credentials": func(e *env) patchbay.SecretRef {
			e.svc.Catalog = catalog{acme}
			ac, err := e.svc.CreateAuthConfig(e.ctx, e.actor, e.project.ID, patchbay.NewAuthConfig{
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
			e := MustEnv(t)
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
			e.svc.Sealer = refreshingSealer{e.kr}
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

// failingLookupStore fails the store lookup of one key hash.
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
	e := MustEnv(t)
	a, rawA := e.MustProjectKey("a")
	_, rawB := e.MustProjectKey("b")
	e.MustAuth(e.auth, rawA)
	e.MustAuth(e.auth, rawB)
	tokB, err := patchbay.ParseKey(rawB)
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Store = &failingLookupStore{Store: e.st, fail: tokB.Hash()}
	if _, err := e.svc.RevokeLeakedKeys(e.ctx, []string{rawA, rawB}, "198.51.100.7"); patchbay.ErrorCode(err) != patchbay.EUNAVAILABLE {
		t.Fatalf("RevokeLeakedKeys = %v, want the store's error", err)
	}
	if !e.MustGetKey(a.ID).Revoked() {
		t.Fatal("the first key was not revoked")
	}
	e.MustReject(e.auth, rawA, "key revoked by a report that failed later")
	e.MustAuth(e.auth, rawB)
}
