package patchbay_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// permissions lists every Permission constant. Adding one to policy.go
// without adding it here, to Policy and to policyCalls fails the tests
// below.
var permissions = []patchbay.Permission{
	patchbay.ViewProjects, patchbay.ManageProjects,
	patchbay.ViewAPIKeys, patchbay.ManageAPIKeys,
	patchbay.ViewMembers, patchbay.ManageMembers,
	patchbay.ViewAudit,
	patchbay.ViewAuthConfigs, patchbay.ManageAuthConfigs,
	patchbay.ViewConnections, patchbay.ManageConnections,
	patchbay.ViewMCPServers, patchbay.ManageMCPServers,
	patchbay.ManageKeyring,
	patchbay.ExecuteTools,
}

var roles = []patchbay.Role{patchbay.RoleOwner, patchbay.RoleAdmin, patchbay.RoleMember}

func TestPolicyNamesEveryPermission(t *testing.T) {
	for _, perm := range permissions {
		rs, ok := patchbay.Policy[perm]
		if !ok {
			t.Errorf("Policy has no entry for %s: nobody may do it", perm)
			continue
		}
		if !slices.Contains(rs, patchbay.RoleOwner) {
			t.Errorf("Policy[%s] = %v: owners may do everything", perm, rs)
		}
		for _, r := range rs {
			if !r.Valid() {
				t.Errorf("Policy[%s] names unknown role %q", perm, r)
			}
		}
	}
	if len(patchbay.Policy) != len(permissions) {
		t.Errorf("Policy has %d permissions, the test lists %d: add the new one to permissions", len(patchbay.Policy), len(permissions))
	}
	for _, perm := range permissions {
		if _, ok := policyCalls[perm]; !ok {
			t.Errorf("no Service call exercises %s: add it to policyCalls", perm)
		}
	}
	if got := patchbay.Allows("intern", patchbay.ViewProjects); got {
		t.Error("Allows(unknown role) = true")
	}
}

// TestPolicyPoints pins what the issue promised: members build (configure
// auth, connect users, read), owners and admins administer, only owners
// hold the keyring.
func TestPolicyPoints(t *testing.T) {
	for _, c := range []struct {
		role patchbay.Role
		perm patchbay.Permission
		want bool
	}{
		{patchbay.RoleMember, patchbay.ManageAPIKeys, false},
		{patchbay.RoleMember, patchbay.ViewAudit, false},
		{patchbay.RoleMember, patchbay.ManageMembers, false},
		{patchbay.RoleMember, patchbay.ManageProjects, false},
		{patchbay.RoleMember, patchbay.ManageKeyring, false},
		{patchbay.RoleMember, patchbay.ManageConnections, true},
		{patchbay.RoleMember, patchbay.ManageAuthConfigs, true},
		{patchbay.RoleMember, patchbay.ViewConnections, true},
		{patchbay.RoleMember, patchbay.ViewAPIKeys, true},
		{patchbay.RoleAdmin, patchbay.ManageKeyring, false},
		{patchbay.RoleAdmin, patchbay.ManageAPIKeys, true},
		{patchbay.RoleAdmin, patchbay.ViewAudit, true},
		{patchbay.RoleOwner, patchbay.ManageKeyring, true},
	} {
		if got := patchbay.Allows(c.role, c.perm); got != c.want {
			t.Errorf("Allows(%s, %s) = %v, want %v", c.role, c.perm, got, c.want)
		}
	}
}

// actingAs is one member acting through a key of the default project and
// through an organization key.
type actingAs struct {
	project, org *patchbay.Principal
}

// policyCall prepares one Service call made as w (fixtures are made by
// the owner first) and returns the call.
type policyCall struct {
	name    string
	prepare func(e *env, w actingAs) func() error
}

// fixtures are records the owner makes for the calls to act on.
type fixtures struct {
	owner *patchbay.Principal // the owner, through a default project key
	n     int
}

func (e *env) fx() *fixtures {
	if e.fix == nil {
		e.fix = &fixtures{owner: e.MustProjectPrincipal(e.owner, e.project.ID)}
	}
	return e.fix
}

// next returns a fresh suffix for names.
func (f *fixtures) next() string {
	f.n++
	return fmt.Sprint(f.n)
}

func (e *env) freshProject() *patchbay.Project {
	e.t.Helper()
	cp, err := e.svc.CreateProject(e.ctx, e.cli, "fixture "+e.fx().next(), false)
	if err != nil {
		e.t.Fatal(err)
	}
	return cp.Project
}

func (e *env) freshKey() *patchbay.KeyRecord {
	e.t.Helper()
	k, _ := e.MustProjectKey("fixture " + e.fx().next())
	return k
}

func (e *env) freshAuthConfig() *patchbay.AuthConfigView { return e.MustAuthConfig(e.fx().owner) }

func (e *env) freshMCPServer() *patchbay.MCPServer {
	e.t.Helper()
	m, err := e.svc.CreateMCPServer(e.ctx, e.fx().owner, patchbay.NewMCPServer{Name: "server " + e.fx().next(), Toolkits: []string{"widget"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) freshConnection() *patchbay.ConnectedAccount {
	e.t.Helper()
	return e.MustConnect(e.fx().owner, e.freshAuthConfig().ID, "user "+e.fx().next())
}

// policyCalls exercise every Permission through the Service methods that
// need it.
var policyCalls = map[patchbay.Permission][]policyCall{
	patchbay.ViewProjects: {
		{"Project", func(e *env, w actingAs) func() error {
			return func() error { _, err := e.svc.Project(e.ctx, w.project, w.project.ProjectID); return err }
		}},
		{"ListProjects", func(e *env, w actingAs) func() error {
			return func() error { _, _, err := e.svc.ListProjects(e.ctx, w.org, "", 10); return err }
		}},
	},
	patchbay.ManageProjects: {
		{"CreateProject", func(e *env, w actingAs) func() error {
			return func() error { _, err := e.svc.CreateProject(e.ctx, w.org, "new "+e.fx().next(), true); return err }
		}},
		{"DeleteProject", func(e *env, w actingAs) func() error {
			pr := e.freshProject()
			return func() error { return e.svc.DeleteProject(e.ctx, w.org, pr.ID) }
		}},
		{"WebhookSecret", func(e *env, w actingAs) func() error {
			return func() error { _, err := e.svc.WebhookSecret(e.ctx, w.project, ""); return err }
		}},
	},
	patchbay.ViewAPIKeys: {
		{"ListAPIKeys(project)", func(e *env, w actingAs) func() error {
			return func() error { _, err := e.svc.ListAPIKeys(e.ctx, w.project, patchbay.KeyQuery{}); return err }
		}},
		{"ListAPIKeys(org)", func(e *env, w actingAs) func() error {
			return func() error {
				_, err := e.svc.ListAPIKeys(e.ctx, w.org, patchbay.KeyQuery{IncludeRevoked: true})
				return err
			}
		}},
	},
	patchbay.ManageAPIKeys: {
		{"CreateAPIKey(project)", func(e *env, w actingAs) func() error {
			return func() error {
				_, _, err := e.svc.CreateAPIKey(e.ctx, w.project, patchbay.NewKey{Kind: patchbay.KeyKindProject, Name: "new"})
				return err
			}
		}},
		{"CreateAPIKey(org)", func(e *env, w actingAs) func() error {
			return func() error {
				_, _, err := e.svc.CreateAPIKey(e.ctx, w.org, patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "new"})
				return err
			}
		}},
		{"RevokeAPIKey", func(e *env, w actingAs) func() error {
			k := e.freshKey()
			return func() error { _, err := e.svc.RevokeAPIKey(e.ctx, w.project, k.ID); return err }
		}},
		{"RegenerateAPIKey", func(e *env, w actingAs) func() error {
			k := e.freshKey()
			return func() error { _, _, err := e.svc.RegenerateAPIKey(e.ctx, w.org, k.ID); return err }
		}},
		{"RegenerateProjectKey", func(e *env, w actingAs) func() error {
			pr := e.freshProject()
			return func() error { _, _, err := e.svc.RegenerateProjectKey(e.ctx, w.org, pr.ID); return err }
		}},
	},
	patchbay.ViewMembers: {
		{"ListMembers", func(e *env, w actingAs) func() error {
			return func() error { _, err := e.svc.ListMembers(e.ctx, w.org); return err }
		}},
		{"MemberByEmail", func(e *env, w actingAs) func() error {
			return func() error { _, err := e.svc.MemberByEmail(e.ctx, w.project, "OWNER@example.com"); return err }
		}},
	},
	patchbay.ManageMembers: {
		{"AddMember", func(e *env, w actingAs) func() error {
			return func() error {
				_, err := e.svc.AddMember(e.ctx, w.org, "new"+e.fx().next()+"@example.com", "New", patchbay.RoleMember)
				return err
			}
		}},
	},
	patchbay.ViewAudit: {
		{"ListAudit(org)", func(e *env, w actingAs) func() error {
			return func() error { _, err := e.svc.ListAudit(e.ctx, w.org, "", 10); return err }
		}},
		{"ListAudit(project)", func(e *env, w actingAs) func() error {
			return func() error { _, err := e.svc.ListAudit(e.ctx, w.project, "", 10); return err }
		}},
	},
	patchbay.ViewAuthConfigs: {
		{"AuthConfig", func(e *env, w actingAs) func() error {
			ac := e.freshAuthConfig()
			return func() error { _, err := e.svc.AuthConfig(e.ctx, w.project, ac.ID); return err }
		}},
		{"ListAuthConfigs", func(e *env, w actingAs) func() error {
			return func() error {
				_, _, err := e.svc.ListAuthConfigs(e.ctx, w.project, patchbay.AuthConfigFilter{})
				return err
			}
		}},
	},
	patchbay.ManageAuthConfigs: {
		{"CreateAuthConfig", func(e *env, w actingAs) func() error {
			return func() error {
				_, err := e.svc.CreateAuthConfig(e.ctx, w.project, patchbay.NewAuthConfig{Toolkit: "widget", Mode: patchbay.AuthAPIKey})
				return err
			}
		}},
		{"FindOrCreateAuthConfig", func(e *env, w actingAs) func() error {
			return func() error { _, _, err := e.svc.FindOrCreateAuthConfig(e.ctx, w.project, "widget", ""); return err }
		}},
		{"UpdateAuthConfig", func(e *env, w actingAs) func() error {
			ac := e.freshAuthConfig()
			name := "renamed"
			return func() error {
				_, err := e.svc.UpdateAuthConfig(e.ctx, w.project, ac.ID, patchbay.AuthConfigUpdate{Name: &name})
				return err
			}
		}},
		{"SetAuthConfigDisabled", func(e *env, w actingAs) func() error {
			ac := e.freshAuthConfig()
			return func() error { _, err := e.svc.SetAuthConfigDisabled(e.ctx, w.project, ac.ID, true); return err }
		}},
		{"DeleteAuthConfig", func(e *env, w actingAs) func() error {
			ac := e.freshAuthConfig()
			return func() error { return e.svc.DeleteAuthConfig(e.ctx, w.project, ac.ID) }
		}},
	},
	patchbay.ViewConnections: {
		{"ConnectedAccount", func(e *env, w actingAs) func() error {
			ca := e.freshConnection()
			return func() error { _, err := e.svc.ConnectedAccount(e.ctx, w.project, ca.ID); return err }
		}},
		{"ListConnectedAccounts", func(e *env, w actingAs) func() error {
			return func() error {
				_, _, err := e.svc.ListConnectedAccounts(e.ctx, w.project, patchbay.ConnectionFilter{}, true)
				return err
			}
		}},
	},
	patchbay.ManageConnections: {
		{"Connect", func(e *env, w actingAs) func() error {
			ac := e.freshAuthConfig()
			return func() error {
				_, err := e.svc.Connect(e.ctx, w.project, patchbay.NewConnection{AuthConfigID: ac.ID, UserID: "u", Values: map[string]any{"api_key": widgetKey}})
				return err
			}
		}},
		{"SetConnectionDisabled", func(e *env, w actingAs) func() error {
			ca := e.freshConnection()
			return func() error { _, err := e.svc.SetConnectionDisabled(e.ctx, w.project, ca.ID, true); return err }
		}},
		{"Reinitiate", func(e *env, w actingAs) func() error {
			ca := e.freshConnection()
			return func() error {
				_, err := e.svc.Reinitiate(e.ctx, w.project, ca.ID, map[string]any{"api_key": widgetKey + "2"})
				return err
			}
		}},
		{"RefreshConnection", func(e *env, w actingAs) func() error {
			ca := e.freshConnection()
			return func() error { _, err := e.svc.RefreshConnection(e.ctx, w.project, ca.ID, true); return err }
		}},
		{"RevokeConnection", func(e *env, w actingAs) func() error {
			ca := e.freshConnection()
			return func() error { _, _, err := e.svc.RevokeConnection(e.ctx, w.project, ca.ID); return err }
		}},
		{"DeleteConnection", func(e *env, w actingAs) func() error {
			ca := e.freshConnection()
			return func() error { return e.svc.DeleteConnection(e.ctx, w.project, ca.ID) }
		}},
	},
	patchbay.ExecuteTools: {
		{"ExecuteTool", func(e *env, w actingAs) func() error {
			ca := e.freshConnection()
			return func() error {
				_, err := e.svc.ExecuteTool(e.ctx, w.project, patchbay.ToolCall{Tool: "WIDGET_GET_WIDGET", ConnectedAccountID: ca.ID, Arguments: map[string]any{"id": "w1"}})
				return err
			}
		}},
		{"Proxy", func(e *env, w actingAs) func() error {
			ca := e.freshConnection()
			return func() error {
				_, err := e.svc.Proxy(e.ctx, w.project, patchbay.ProxyCall{ConnectedAccountID: ca.ID, Endpoint: "/me", Method: "GET"})
				return err
			}
		}},
	},
	patchbay.ViewMCPServers: {
		{"GetMCPServer", func(e *env, w actingAs) func() error {
			m := e.freshMCPServer()
			return func() error { _, err := e.svc.GetMCPServer(e.ctx, w.project, m.ID); return err }
		}},
		{"ListMCPServers", func(e *env, w actingAs) func() error {
			return func() error {
				_, _, err := e.svc.ListMCPServers(e.ctx, w.project, patchbay.MCPServerFilter{})
				return err
			}
		}},
	},
	patchbay.ManageMCPServers: {
		{"CreateMCPServer", func(e *env, w actingAs) func() error {
			return func() error {
				_, err := e.svc.CreateMCPServer(e.ctx, w.project, patchbay.NewMCPServer{Name: "server " + e.fx().next(), Toolkits: []string{"widget"}})
				return err
			}
		}},
		{"UpdateMCPServer", func(e *env, w actingAs) func() error {
			m := e.freshMCPServer()
			return func() error {
				_, err := e.svc.UpdateMCPServer(e.ctx, w.project, m.ID, patchbay.MCPServerPatch{AllowedTools: &[]string{"WIDGET_GET_WIDGET"}})
				return err
			}
		}},
		{"GenerateMCPURLs", func(e *env, w actingAs) func() error {
			m := e.freshMCPServer()
			return func() error {
				_, err := e.svc.GenerateMCPURLs(e.ctx, w.project, m.ID, []string{"u"}, false, "http://pb.test")
				return err
			}
		}},
		{"DeleteMCPServer", func(e *env, w actingAs) func() error {
			m := e.freshMCPServer()
			return func() error { return e.svc.DeleteMCPServer(e.ctx, w.project, m.ID) }
		}},
	},
	patchbay.ManageKeyring: {
		{"RotateKeyring", func(e *env, w actingAs) func() error {
			return func() error { _, _, err := e.svc.RotateKeyring(e.ctx, w.org, 100); return err }
		}},
		{"KeyringStatus", func(e *env, w actingAs) func() error {
			return func() error { _, _, err := e.svc.KeyringStatus(e.ctx, w.project); return err }
		}},
	},
}

// TestPolicyHoldsThroughTheService makes every call of every permission as
// an owner, an admin and a member, each through a project key and an
// organization key of its own, and checks that the Service allows exactly
// what Policy says: an allowed call succeeds, a refused one is EFORBIDDEN
// and writes no audit record.
func TestPolicyHoldsThroughTheService(t *testing.T) {
	e := MustEnv(t)
	as := map[patchbay.Role]actingAs{}
	for _, role := range roles {
		m := e.owner
		if role != patchbay.RoleOwner {
			p := e.MustMember(string(role)+"@example.com", role)
			m = &p.Member
		}
		as[role] = actingAs{
			project: e.MustProjectPrincipal(m, e.project.ID),
			org:     e.MustKeyPrincipal(patchbay.NewKey{Kind: patchbay.KeyKindOrg, Name: "org key of " + m.Email, Owner: m}),
		}
	}
	for _, perm := range permissions {
		for _, c := range policyCalls[perm] {
			for _, role := range roles {
				t.Run(fmt.Sprintf("%s/%s/%s", perm, c.name, role), func(t *testing.T) {
					call := c.prepare(e, as[role])
					before := e.MustAudit()
					err := call()
					if patchbay.Allows(role, perm) {
						if err != nil {
							t.Errorf("%s as %s: %v; Policy allows %s", c.name, role, err, perm)
						}
						return
					}
					wantCode(t, c.name+" as "+string(role), err, patchbay.EFORBIDDEN)
					if evs := e.newEvents(before); len(evs) != 0 {
						t.Errorf("refused %s as %s wrote %d audit records: %+v", c.name, role, len(evs), evs)
					}
				})
			}
		}
	}
}

// TestNoPrincipalMayNothing: a missing principal is unauthenticated, and
// patchbay's own principal (leak reports) may do nothing a member does.
func TestNoPrincipalMayNothing(t *testing.T) {
	e := MustEnv(t)
	system := &patchbay.Principal{Credential: patchbay.Credential{Kind: patchbay.CredentialSystem}, OrgID: e.org.ID, ProjectID: e.project.ID}
	for _, c := range []struct {
		who  *patchbay.Principal
		code string
	}{{nil, patchbay.EUNAUTHORIZED}, {system, patchbay.EFORBIDDEN}} {
		_, err := e.svc.Project(e.ctx, c.who, e.project.ID)
		wantCode(t, "Project", err, c.code)
		_, _, err = e.svc.CreateAPIKey(e.ctx, c.who, patchbay.NewKey{Kind: patchbay.KeyKindProject, Name: "x"})
		wantCode(t, "CreateAPIKey", err, c.code)
		_, err = e.svc.CreateAuthConfig(e.ctx, c.who, patchbay.NewAuthConfig{Toolkit: "widget", Managed: true})
		wantCode(t, "CreateAuthConfig", err, c.code)
		_, _, err = e.svc.RotateKeyring(e.ctx, c.who, 1)
		wantCode(t, "RotateKeyring", err, c.code)
	}
	_, err := e.svc.Toolkits(nil)
	wantCode(t, "Toolkits(nil)", err, patchbay.EUNAUTHORIZED)
}
