-- Dashboard sign-in: members' password hashes (bcrypt; "" until a member
-- sets one through an invite), sessions and one-time invites. Sessions and
-- invites are stored by the SHA-256 of their tokens, never the tokens.
ALTER TABLE members ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    member_id  TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE TABLE invites (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX members_email ON members (email_lower);
