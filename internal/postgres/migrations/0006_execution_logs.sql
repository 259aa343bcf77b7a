-- One row per tool execution or proxied call, written in batches off the
-- request path. Payloads are redacted before they get here and never hold
-- a connection's credentials. Listed newest first within a project.
CREATE TABLE execution_logs (
    id                   TEXT PRIMARY KEY,
    project_id           TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    tool                 TEXT NOT NULL DEFAULT '',
    toolkit              TEXT NOT NULL,
    connected_account_id TEXT NOT NULL DEFAULT '',
    user_id              TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL CHECK (status IN ('success', 'failed')),
    message              TEXT NOT NULL DEFAULT '',
    upstream_status      INTEGER NOT NULL DEFAULT 0,
    duration_us          BIGINT NOT NULL,
    request              TEXT,
    response             TEXT,
    at                   TIMESTAMP NOT NULL
);
CREATE INDEX execution_logs_project_at ON execution_logs (project_id, at, id);
-- Retention deletes by age across projects.
CREATE INDEX execution_logs_at ON execution_logs (at);
