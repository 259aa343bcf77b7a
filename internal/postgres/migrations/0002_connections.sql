CREATE TABLE auth_configs (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    toolkit    TEXT NOT NULL,
    name       TEXT NOT NULL,
    mode       TEXT NOT NULL,
    managed    BOOLEAN NOT NULL DEFAULT false,
    disabled   BOOLEAN NOT NULL DEFAULT false,
    settings   TEXT NOT NULL DEFAULT '{}',
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX auth_configs_project ON auth_configs (project_id, created_at, id);

CREATE TABLE connected_accounts (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL,
    auth_config_id TEXT NOT NULL REFERENCES auth_configs (id) ON DELETE CASCADE,
    toolkit        TEXT NOT NULL,
    mode           TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    status         TEXT NOT NULL,
    status_reason  TEXT NOT NULL DEFAULT '',
    disabled       BOOLEAN NOT NULL DEFAULT false,
    alias          TEXT NOT NULL DEFAULT '',
    labels         TEXT NOT NULL DEFAULT '[]',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX connected_accounts_project ON connected_accounts (project_id, created_at, id);
CREATE INDEX connected_accounts_user ON connected_accounts (project_id, user_id, created_at);
CREATE INDEX connected_accounts_auth_config ON connected_accounts (auth_config_id);
