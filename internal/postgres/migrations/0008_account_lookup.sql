-- A tool call finds the user's account among the project's by user, newest
-- first, with the id as the tie-break: with id in the index the planner
-- need not prefer the project-wide index (which walks every account of the
-- project to filter by user) just to avoid a sort.
DROP INDEX connected_accounts_user;
CREATE INDEX connected_accounts_user ON connected_accounts (project_id, user_id, created_at, id);
