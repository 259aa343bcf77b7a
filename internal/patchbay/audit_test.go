package patchbay_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// auditing checks the audit records of a principal's changes in the
// default project.
type auditing struct {
	e *env
	p *patchbay.Principal
}

// auditAsMember returns an auditing for a member-role member acting through a
// project key from a client address: the records must name the member,
// not the owner who made the key.
func (e *env) auditAsMember() auditing {
	e.t.Helper()
	m := e.MustMember("builder@example.com", patchbay.RoleMember)
	return auditing{e, e.MustProjectPrincipal(&m.Member, e.project.ID)}
}

// one runs change and checks that it wrote exactly one record, of action
// on target, by the principal, now.
func (a auditing) one(what, action string, change func() (target string, err error)) {
	a.e.t.Helper()
	a.e.clock.Advance(time.Second)
	before := a.e.MustAudit()
	target, err := change()
	if err != nil {
		a.e.t.Fatalf("%s: %v", what, err)
	}
	evs := a.e.newEvents(before)
	if len(evs) != 1 {
		a.e.t.Errorf("%s: %d audit records, want exactly one %s: %+v", what, len(evs), action, evs)
		return
	}
	ev, p := evs[0], a.p
	if ev.Action != action || ev.TargetID != target {
		a.e.t.Errorf("%s: recorded %s on %s, want %s on %s", what, ev.Action, ev.TargetID, action, target)
	}
	if ev.ActorID != p.Member.ID || ev.ActorKey != p.Credential.ID || ev.IP != p.IP || ev.OrgID != p.OrgID || ev.ProjectID != p.ProjectID || !ev.At.Equal(a.e.clock.Now()) {
		a.e.t.Errorf("%s: record %+v, want actor %s through %s from %s in %s/%s at %v", what, ev, p.Member.ID, p.Credential.ID, p.IP, p.OrgID, p.ProjectID, a.e.clock.Now())
	}
}

// none runs change, checks that it failed with code, and that it wrote no
// audit record.
func (a auditing) none(what, code string, change func() error) {
	a.e.t.Helper()
	before := a.e.MustAudit()
	wantCode(a.e.t, what, change(), code)
	if evs := a.e.newEvents(before); len(evs) != 0 {
		a.e.t.Errorf("%s: wrote %d audit records: %+v", what, len(evs), evs)
	}
}

// unchanged runs a call that changes nothing and checks that it succeeded
// and wrote no audit record.
func (a auditing) unchanged(what string, call func() error) {
	a.e.t.Helper()
	before := a.e.MustAudit()
	if err := call(); err != nil {
		a.e.t.Errorf("%s: %v", what, err)
	}
	if evs := a.e.newEvents(before); len(evs) != 0 {
		a.e.t.Errorf("%s changed nothing but wrote %d audit records: %+v", what, len(evs), evs)
	}
}

func TestAuthConfigChangesAreAudited(t *testing.T) {
	e := MustEnv(t)
	a := e.auditAsMember()
	p := a.p
	var ac *patchbay.AuthConfigView
	a.one("create", patchbay.ActionAuthConfigCreate, func() (string, error) {
		var err error
		ac, err = e.svc.CreateAuthConfig(e.ctx, p, patchbay.NewAuthConfig{Toolkit: "acme", Mode: patchbay.AuthAPIKey, Credentials: map[string]any{"client_secret": "acme-secret-0123456789"}})
		if err != nil {
			return "", err
		}
		return ac.ID, nil
	})
	if ac.CreatedBy != p.Member.ID {
		t.Errorf("auth config created by %q, want the member", ac.CreatedBy)
	}
	a.one("update", patchbay.ActionAuthConfigUpdate, func() (string, error) {
		name := "Renamed"
		_, err := e.svc.UpdateAuthConfig(e.ctx, p, ac.ID, patchbay.AuthConfigUpdate{Name: &name, Credentials: map[string]any{"client_secret": "acme-secret-rotated-000"}})
		return ac.ID, err
	})
	a.one("disable", patchbay.ActionAuthConfigDisable, func() (string, error) {
		_, err := e.svc.SetAuthConfigDisabled(e.ctx, p, ac.ID, true)
		return ac.ID, err
	})
	a.one("enable", patchbay.ActionAuthConfigEnable, func() (string, error) {
		_, err := e.svc.SetAuthConfigDisabled(e.ctx, p, ac.ID, false)
		return ac.ID, err
	})
	a.unchanged("enable again", func() error {
		got, err := e.svc.SetAuthConfigDisabled(e.ctx, p, ac.ID, false)
		if err == nil && got.Disabled {
			err = errors.New("enabling an enabled auth config disabled it")
		}
		return err
	})
	var found *patchbay.AuthConfigView
	a.one("find or create (creates)", patchbay.ActionAuthConfigCreate, func() (string, error) {
		v, created, err := e.svc.FindOrCreateAuthConfig(e.ctx, p, "widget", "")
		if err == nil && !created {
			err = errors.New("found an auth config in a project that had none for widget")
		}
		found = v
		return v.ID, err
	})
	a.unchanged("find or create (finds)", func() error {
		v, created, err := e.svc.FindOrCreateAuthConfig(e.ctx, p, "widget", patchbay.AuthAPIKey)
		if err == nil && (created || v.ID != found.ID) {
			err = errors.New("did not find the auth config made before")
		}
		return err
	})
	a.unchanged("read", func() error {
		if _, err := e.svc.AuthConfig(e.ctx, p, ac.ID); err != nil {
			return err
		}
		_, _, err := e.svc.ListAuthConfigs(e.ctx, p, patchbay.AuthConfigFilter{})
		return err
	})
	// Deleting one with accounts is one change: the accounts go with it.
	e.MustConnect(p, found.ID, "u1")
	e.MustConnect(p, found.ID, "u2")
	a.one("delete with accounts", patchbay.ActionAuthConfigDelete, func() (string, error) {
		return found.ID, e.svc.DeleteAuthConfig(e.ctx, p, found.ID)
	})
	a.one("delete", patchbay.ActionAuthConfigDelete, func() (string, error) {
		return ac.ID, e.svc.DeleteAuthConfig(e.ctx, p, ac.ID)
	})
}

func TestFailedAuthConfigChangesAreNotAudited(t *testing.T) {
	e := MustEnv(t)
	a := e.auditAsMember()
	p := a.p
	ac := e.MustAuthConfig(p)
	long := strings.Repeat("x", 129)
	a.none("create, unknown toolkit", patchbay.EINVALID, func() error {
		_, err := e.svc.CreateAuthConfig(e.ctx, p, patchbay.NewAuthConfig{Toolkit: "nosuch", Managed: true})
		return err
	})
	a.none("create, unknown scheme", patchbay.EINVALID, func() error {
		_, err := e.svc.CreateAuthConfig(e.ctx, p, patchbay.NewAuthConfig{Toolkit: "widget", Mode: patchbay.AuthOAuth2})
		return err
	})
	a.none("create, missing credentials", patchbay.EINVALID, func() error {
		_, err := e.svc.CreateAuthConfig(e.ctx, p, patchbay.NewAuthConfig{Toolkit: "acme", Mode: patchbay.AuthAPIKey})
		return err
	})
	a.none("create, long name", patchbay.EINVALID, func() error {
		_, err := e.svc.CreateAuthConfig(e.ctx, p, patchbay.NewAuthConfig{Toolkit: "widget", Managed: true, Name: long})
		return err
	})
	a.none("update, long name", patchbay.EINVALID, func() error {
		_, err := e.svc.UpdateAuthConfig(e.ctx, p, ac.ID, patchbay.AuthConfigUpdate{Name: &long})
		return err
	})
	a.none("update, bad credentials", patchbay.EINVALID, func() error {
		_, err := e.svc.UpdateAuthConfig(e.ctx, p, ac.ID, patchbay.AuthConfigUpdate{Credentials: map[string]any{"nosuch": "x"}})
		return err
	})
	a.none("update, unknown", patchbay.ENOTFOUND, func() error {
		name := "x"
		_, err := e.svc.UpdateAuthConfig(e.ctx, p, "ac_nosuch", patchbay.AuthConfigUpdate{Name: &name})
		return err
	})
	a.none("disable, unknown", patchbay.ENOTFOUND, func() error {
		_, err := e.svc.SetAuthConfigDisabled(e.ctx, p, "ac_nosuch", true)
		return err
	})
	a.none("delete, unknown", patchbay.ENOTFOUND, func() error { return e.svc.DeleteAuthConfig(e.ctx, p, "ac_nosuch") })
	if got, err := e.svc.AuthConfig(e.ctx, p, ac.ID); err != nil || got.Name != ac.Name || got.Disabled {
		t.Errorf("auth config after failed changes = %+v, %v; want it unchanged", got, err)
	}
	if acs, n, err := e.svc.ListAuthConfigs(e.ctx, p, patchbay.AuthConfigFilter{ShowDisabled: true}); err != nil || n != 1 || len(acs) != 1 {
		t.Errorf("ListAuthConfigs after failed creates = %d, %v; want the one", n, err)
	}
}

func TestConnectionChangesAreAudited(t *testing.T) {
	e := MustEnv(t)
	a := e.auditAsMember()
	p := a.p
	ac := e.MustAuthConfig(p)
	var ca *patchbay.ConnectedAccount
	a.one("connect", patchbay.ActionConnectionCreate, func() (string, error) {
		var err error
		ca, err = e.svc.Connect(e.ctx, p, patchbay.NewConnection{AuthConfigID: ac.ID, UserID: "u1", Values: map[string]any{"api_key": widgetKey}, Validate: true})
		if err != nil {
			return "", err
		}
		return ca.ID, nil
	})
	if ca.Status != patchbay.StatusActive {
		t.Errorf("validated connection status %s, want ACTIVE", ca.Status)
	}
	e.checker.set("401 Unauthorized", nil)
	a.one("connect, rejected by the app", patchbay.ActionConnectionCreate, func() (string, error) {
		failed, err := e.svc.Connect(e.ctx, p, patchbay.NewConnection{AuthConfigID: ac.ID, UserID: "u2", Values: map[string]any{"api_key": widgetKey}, Validate: true})
		if err == nil && failed.Status != patchbay.StatusFailed {
			err = errors.New("rejected credentials did not make the account FAILED")
		}
		if err != nil {
			return "", err
		}
		return failed.ID, nil
	})
	e.checker.set("", nil)
	a.one("disable", patchbay.ActionConnectionDisable, func() (string, error) {
		_, err := e.svc.SetConnectionDisabled(e.ctx, p, ca.ID, true)
		return ca.ID, err
	})
	a.one("enable", patchbay.ActionConnectionEnable, func() (string, error) {
		_, err := e.svc.SetConnectionDisabled(e.ctx, p, ca.ID, false)
		return ca.ID, err
	})
	a.one("reinitiate", patchbay.ActionConnectionReinitiate, func() (string, error) {
		_, err := e.svc.Reinitiate(e.ctx, p, ca.ID, map[string]any{"api_key": widgetKey + "-new"})
		return ca.ID, err
	})
	a.unchanged("refresh without validation", func() error {
		_, err := e.svc.RefreshConnection(e.ctx, p, ca.ID, false)
		return err
	})
	e.checker.set("key expired", nil)
	a.one("refresh with validation", patchbay.ActionConnectionRefresh, func() (string, error) {
		got, err := e.svc.RefreshConnection(e.ctx, p, ca.ID, true)
		if err == nil && (got.Status != patchbay.StatusFailed || got.StatusReason != "key expired") {
			err = errors.New("refresh did not follow the app's answer")
		}
		return ca.ID, err
	})
	e.checker.set("", nil)
	a.one("refresh with validation, accepted again", patchbay.ActionConnectionRefresh, func() (string, error) {
		got, err := e.svc.RefreshConnection(e.ctx, p, ca.ID, true)
		if err == nil && got.Status != patchbay.StatusActive {
			err = errors.New("refresh did not make the account ACTIVE again")
		}
		return ca.ID, err
	})
	a.unchanged("read", func() error {
		if _, err := e.svc.ConnectedAccount(e.ctx, p, ca.ID); err != nil {
			return err
		}
		_, _, err := e.svc.ListConnectedAccounts(e.ctx, p, patchbay.ConnectionFilter{}, true)
		return err
	})
	a.one("revoke", patchbay.ActionConnectionRevoke, func() (string, error) {
		_, erased, err := e.svc.RevokeConnection(e.ctx, p, ca.ID)
		if err == nil && len(erased) != 1 {
			err = errors.New("revoke erased no credentials")
		}
		return ca.ID, err
	})
	a.unchanged("enable an enabled account", func() error {
		got, err := e.svc.SetConnectionDisabled(e.ctx, p, ca.ID, false)
		if err == nil && got.Disabled {
			err = errors.New("enabling an enabled account disabled it")
		}
		return err
	})
	a.unchanged("revoke again", func() error {
		got, erased, err := e.svc.RevokeConnection(e.ctx, p, ca.ID)
		if err == nil && (len(erased) != 0 || got.Status != patchbay.StatusRevoked) {
			err = errors.New("a second revoke erased something or changed the status")
		}
		return err
	})
	a.unchanged("refresh a revoked account", func() error {
		got, err := e.svc.RefreshConnection(e.ctx, p, ca.ID, true)
		if err == nil && got.Status != patchbay.StatusRevoked {
			err = errors.New("refresh brought a revoked account back")
		}
		return err
	})
	a.one("delete", patchbay.ActionConnectionDelete, func() (string, error) {
		return ca.ID, e.svc.DeleteConnection(e.ctx, p, ca.ID)
	})
}

func TestFailedConnectionChangesAreNotAudited(t *testing.T) {
	e := MustEnv(t)
	a := e.auditAsMember()
	p := a.p
	ac := e.MustAuthConfig(p)
	ca := e.MustConnect(p, ac.ID, "u1")
	disabled := e.MustAuthConfig(p)
	if _, err := e.svc.SetAuthConfigDisabled(e.ctx, p, disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	connect := func(n patchbay.NewConnection) func() error {
		return func() error { _, err := e.svc.Connect(e.ctx, p, n); return err }
	}
	key := map[string]any{"api_key": widgetKey}
	a.none("connect, missing field", patchbay.EINVALID, connect(patchbay.NewConnection{AuthConfigID: ac.ID, UserID: "u"}))
	a.none("connect, unknown field", patchbay.EINVALID, connect(patchbay.NewConnection{AuthConfigID: ac.ID, UserID: "u", Values: map[string]any{"api_key": widgetKey, "nosuch": "x"}}))
	a.none("connect, no user", patchbay.EINVALID, connect(patchbay.NewConnection{AuthConfigID: ac.ID, Values: key}))
	a.none("connect, wrong scheme", patchbay.EINVALID, connect(patchbay.NewConnection{AuthConfigID: ac.ID, UserID: "u", Mode: patchbay.AuthBearerToken, Values: key}))
	a.none("connect, disabled auth config", patchbay.EINVALID, connect(patchbay.NewConnection{AuthConfigID: disabled.ID, UserID: "u", Values: key}))
	a.none("connect, unknown auth config", patchbay.ENOTFOUND, connect(patchbay.NewConnection{AuthConfigID: "ac_nosuch", UserID: "u", Values: key}))
	a.none("connect, exclusive, user has one", patchbay.ECONFLICT, connect(patchbay.NewConnection{AuthConfigID: ac.ID, UserID: "u1", Values: key, Exclusive: true}))
	e.checker.set("", errors.New("connection refused"))
	a.none("connect, the app does not answer", patchbay.EUNAVAILABLE, connect(patchbay.NewConnection{AuthConfigID: ac.ID, UserID: "u", Values: key, Validate: true}))
	a.none("refresh, the app does not answer", patchbay.EUNAVAILABLE, func() error {
		_, err := e.svc.RefreshConnection(e.ctx, p, ca.ID, true)
		return err
	})
	e.checker.set("", nil)
	a.none("reinitiate, bad fields", patchbay.EINVALID, func() error {
		_, err := e.svc.Reinitiate(e.ctx, p, ca.ID, map[string]any{"nosuch": "x"})
		return err
	})
	a.none("disable, unknown", patchbay.ENOTFOUND, func() error {
		_, err := e.svc.SetConnectionDisabled(e.ctx, p, "ca_nosuch", true)
		return err
	})
	a.none("reinitiate, unknown", patchbay.ENOTFOUND, func() error {
		_, err := e.svc.Reinitiate(e.ctx, p, "ca_nosuch", key)
		return err
	})
	a.none("refresh, unknown", patchbay.ENOTFOUND, func() error {
		_, err := e.svc.RefreshConnection(e.ctx, p, "ca_nosuch", true)
		return err
	})
	a.none("revoke, unknown", patchbay.ENOTFOUND, func() error {
		_, _, err := e.svc.RevokeConnection(e.ctx, p, "ca_nosuch")
		return err
	})
	a.none("delete, unknown", patchbay.ENOTFOUND, func() error { return e.svc.DeleteConnection(e.ctx, p, "ca_nosuch") })

	// Nothing changed: still one account, ACTIVE, with its first key.
	cas, n, err := e.svc.ListConnectedAccounts(e.ctx, p, patchbay.ConnectionFilter{}, true)
	if err != nil || n != 1 || cas[0].ID != ca.ID || cas[0].Status != patchbay.StatusActive || cas[0].Credentials["api_key"] != patchbay.MaskValue(widgetKey) {
		t.Errorf("accounts after failed changes = %+v, %d, %v; want the one, unchanged", cas, n, err)
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
