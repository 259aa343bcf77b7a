-- The organization owner is looked up on every project read: one index
-- descent instead of a scan of the member list.
CREATE INDEX members_role ON members (org_id, role, created_at, id);
-- Connection counts per auth config are taken within a project.
CREATE INDEX connected_accounts_project_auth_config ON connected_accounts (project_id, auth_config_id);
-- How many accounts connect through each auth config, kept in the
-- transaction that adds or removes one, so listings and auth config reads
-- need not count index entries on every request.
CREATE TABLE connection_counts (
    project_id     TEXT NOT NULL,
    auth_config_id TEXT NOT NULL,
    n              BIGINT NOT NULL,
    PRIMARY KEY (project_id, auth_config_id)
);
INSERT INTO connection_counts (project_id, auth_config_id, n)
    SELECT project_id, auth_config_id, count(*) FROM connected_accounts GROUP BY project_id, auth_config_id;
-- Key listings order by (created_at, id): with id in the index, no sort.
DROP INDEX api_keys_scope;
CREATE INDEX api_keys_scope ON api_keys (org_id, project_id, created_at, id);
