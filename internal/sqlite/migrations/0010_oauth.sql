-- OAuth2 connections in progress: the connect link and the state it
-- issued, both stored as SHA-256 hashes; the PKCE verifier is sealed in
-- secrets under (project, account, 'oauth_code_verifier').
CREATE TABLE oauth_flows (
    account_id       TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL,
    org_id           TEXT NOT NULL,
    actor_id         TEXT NOT NULL,
    actor_key        TEXT NOT NULL,
    link_hash        TEXT NOT NULL UNIQUE,
    link_expires_at  TIMESTAMP NOT NULL,
    state_hash       TEXT UNIQUE,
    state_expires_at TIMESTAMP,
    callback_url     TEXT NOT NULL,
    redirect_uri     TEXT NOT NULL,
    used_at          TIMESTAMP,
    created_at       TIMESTAMP NOT NULL
);
