-- The organization owner is looked up on every project read: one index
-- descent instead of a scan of the member list.
CREATE INDEX members_role ON members (org_id, role, created_at, id);
-- Connection counts per auth config are taken within a project.
CREATE INDEX connected_accounts_project_auth_config ON connected_accounts (project_id, auth_config_id);
