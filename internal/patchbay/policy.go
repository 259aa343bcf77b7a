package patchbay

import "strings"

// Permission is something a principal may be allowed to do.
type Permission string

const (
	ViewProjects      Permission = "project.view"
	ManageProjects    Permission = "project.manage" // create, delete, regenerate a project's key
	ViewAPIKeys       Permission = "api_key.view"
	ManageAPIKeys     Permission = "api_key.manage" // create, revoke, regenerate
	ViewMembers       Permission = "member.view"
	ManageMembers     Permission = "member.manage"
	ViewAudit         Permission = "audit.view"
	ViewAuthConfigs   Permission = "auth_config.view"
	ManageAuthConfigs Permission = "auth_config.manage" // create, update, enable, disable, delete
	ViewConnections   Permission = "connected_account.view"
	ManageConnections Permission = "connected_account.manage" // connect, enable, disable, refresh, revoke, delete
	ViewMCPServers    Permission = "mcp_server.view"
	ManageMCPServers  Permission = "mcp_server.manage" // create, update, delete, generate URLs
	ManageKeyring     Permission = "keyring.manage"
	ExecuteTools      Permission = "tool.execute" // run tools and the proxy for the project's users
)

// Policy is who may do what: the only such table. Members build with
// patchbay (they connect users, configure auth, read everything but the
// audit log); owners and admins also administer it (keys, members,
// projects, audit). Only owners rotate the keyring.
var Policy = map[Permission][]Role{
	ViewProjects:      {RoleOwner, RoleAdmin, RoleMember},
	ManageProjects:    {RoleOwner, RoleAdmin},
	ViewAPIKeys:       {RoleOwner, RoleAdmin, RoleMember},
	ManageAPIKeys:     {RoleOwner, RoleAdmin},
	ViewMembers:       {RoleOwner, RoleAdmin, RoleMember},
	ManageMembers:     {RoleOwner, RoleAdmin},
	ViewAudit:         {RoleOwner, RoleAdmin},
	ViewAuthConfigs:   {RoleOwner, RoleAdmin, RoleMember},
	ManageAuthConfigs: {RoleOwner, RoleAdmin, RoleMember},
	ViewConnections:   {RoleOwner, RoleAdmin, RoleMember},
	ManageConnections: {RoleOwner, RoleAdmin, RoleMember},
	ViewMCPServers:    {RoleOwner, RoleAdmin, RoleMember},
	ManageMCPServers:  {RoleOwner, RoleAdmin, RoleMember},
	ManageKeyring:     {RoleOwner},
	ExecuteTools:      {RoleOwner, RoleAdmin, RoleMember},
}

// Allows reports whether role may do perm.
func Allows(role Role, perm Permission) bool {
	for _, r := range Policy[perm] {
		if r == role {
			return true
		}
	}
	return false
}

var errNoPrincipal = Errorf(EUNAUTHORIZED, "Not authenticated.")

// authorize checks that p may do perm. It does not check a project: see
// projectScope.
func authorize(p *Principal, perm Permission) error {
	if p == nil {
		return errNoPrincipal
	}
	if p.Credential.Kind == CredentialSystem {
		return Errorf(EFORBIDDEN, "patchbay itself may not do this.")
	}
	if !Allows(p.Role(), perm) {
		roles := make([]string, 0, 3)
		for _, r := range Policy[perm] {
			roles = append(roles, string(r)+"s")
		}
		return Errorf(EFORBIDDEN, "Only %s may do this; your role is %s.", strings.Join(roles, " and "), p.Role())
	}
	return nil
}
