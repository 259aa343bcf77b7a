-- The instances that cache verified API keys (servers running a Watcher),
-- and the fence a revoke waits on before it returns (internal/postgres/
-- fence.go explains the protocol). An instance trusts its cache only while
-- its lease, renewed through its listener, is fresh; lease_expires_at is in
-- database time. acked_token is the highest fence token whose notification
-- the instance had handled (every revocation notified before it evicted).
CREATE TABLE instances (
    id               TEXT PRIMARY KEY,
    lease_expires_at TIMESTAMPTZ NOT NULL,
    acked_token      BIGINT NOT NULL DEFAULT 0,
    started_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

-- Fence tokens: drawn by a revoke after its revocation committed, and by
-- every heartbeat. A token drawn later than another was drawn after that
-- one's revocation committed, so acknowledging it covers the other too.
CREATE SEQUENCE fence_tokens;
