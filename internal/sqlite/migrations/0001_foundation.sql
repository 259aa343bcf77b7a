CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE members (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    email       TEXT NOT NULL,
    email_lower TEXT NOT NULL,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (org_id, email_lower)
);

CREATE TABLE projects (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    name       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX projects_org ON projects (org_id, created_at, id);

-- lookup is the first 8 bytes of hash as an integer: in SQLite it is the
-- rowid, so verifying a key is one B-tree descent however many keys exist.
CREATE TABLE api_keys (
    lookup       INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL CHECK (kind IN ('project', 'org')),
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    project_id   TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,
    created_by   TEXT NOT NULL REFERENCES members (id),
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP,
    revoked_by   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX api_keys_scope ON api_keys (org_id, project_id, created_at);

-- Every revocation, in order: watchers on other connections and processes
-- read it to evict exactly the keys revoked since they last looked.
CREATE TABLE key_revocations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id     TEXT NOT NULL,
    revoked_at TIMESTAMP NOT NULL
);

CREATE TABLE audit_events (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    project_id TEXT NOT NULL DEFAULT '',
    actor_id   TEXT NOT NULL DEFAULT '',
    actor_key  TEXT NOT NULL DEFAULT '',
    action     TEXT NOT NULL,
    target_id  TEXT NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    at         TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_org ON audit_events (org_id, at);

CREATE TABLE key_terms (
    term       INTEGER PRIMARY KEY,
    wrapped    BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE secrets (
    project_id TEXT NOT NULL,
    record     TEXT NOT NULL,
    field      TEXT NOT NULL,
    term       INTEGER NOT NULL,
    sealed     BLOB NOT NULL,
    PRIMARY KEY (project_id, record, field)
);
CREATE INDEX secrets_term ON secrets (term);
