-- A project may keep its execution logs' payloads out of the database:
-- only what ran, for whom, how it ended and how long it took.
ALTER TABLE projects ADD COLUMN omit_log_payloads BOOLEAN NOT NULL DEFAULT false;
