-- MCP server configurations (Composio's custom MCP servers): the toolkits,
-- auth configs and allowed tools (JSON arrays of strings) an MCP client
-- gets. The key that signs a configuration's per-user URLs is sealed in
-- secrets under (project, configuration, 'mcp_url_key').
CREATE TABLE mcp_servers (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    name            TEXT NOT NULL,
    toolkits        TEXT NOT NULL DEFAULT '[]',
    auth_config_ids TEXT NOT NULL DEFAULT '[]',
    allowed_tools   TEXT NOT NULL DEFAULT '[]',
    managed_auth    BOOLEAN NOT NULL DEFAULT false,
    created_by      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX mcp_servers_project ON mcp_servers (project_id, created_at, id);
-- Configurations are read on every MCP request from a cache kept under the
-- organization's read version (0005): every change to one bumps it, at
-- commit like the other bumps.
CREATE CONSTRAINT TRIGGER mcp_servers_read_version AFTER INSERT OR UPDATE OR DELETE ON mcp_servers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION read_version_bump_org();

-- Tool router sessions (composio.create): a user, the toolkits enabled
-- (a JSON array; empty for the toolkits the user has connected), whether
-- unconnected toolkits get a connect link. Their MCP endpoint is
-- /tool_router/{id}/mcp.
CREATE TABLE tool_router_sessions (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL,
    project_id         TEXT NOT NULL,
    user_id            TEXT NOT NULL,
    toolkits           TEXT NOT NULL DEFAULT '[]',
    manage_connections BOOLEAN NOT NULL DEFAULT true,
    created_by         TEXT NOT NULL DEFAULT '',
    created_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX tool_router_sessions_project ON tool_router_sessions (project_id, created_at, id);
