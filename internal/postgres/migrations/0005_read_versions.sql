-- Every organization's read version: a number that grows whenever anything
-- a read shows changes (keys, members, projects, auth configs, connected
-- accounts, sealed values). Surfaces keep rendered answers and reuse one
-- only while the version it was rendered at is still current, so a read
-- that finds it unchanged costs one primary-key lookup. Triggers keep it,
-- so no writer (any instance, an admin command) can forget.
--
-- The bumps are deferred constraint triggers: they run at commit, so the
-- version row is the last lock every writing transaction takes, held only
-- while it commits. Taken mid-transaction it would order against the
-- transaction's other row locks and let two writers deadlock.
CREATE TABLE read_versions (
    org_id TEXT PRIMARY KEY,
    v      BIGINT NOT NULL DEFAULT 0
);
INSERT INTO read_versions (org_id) SELECT id FROM organizations;

CREATE FUNCTION read_version_new_org() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO read_versions (org_id) VALUES (NEW.id) ON CONFLICT (org_id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER organizations_read_version AFTER INSERT ON organizations
    FOR EACH ROW EXECUTE FUNCTION read_version_new_org();

-- For rows that carry their organization.
CREATE FUNCTION read_version_bump_org() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE read_versions SET v = v + 1 WHERE org_id = OLD.org_id;
    ELSE
        UPDATE read_versions SET v = v + 1 WHERE org_id = NEW.org_id;
    END IF;
    RETURN NULL;
END $$;

-- For rows that carry their project.
CREATE FUNCTION read_version_bump_project() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE read_versions SET v = v + 1 WHERE org_id = (SELECT org_id FROM projects WHERE id = OLD.project_id);
    ELSE
        UPDATE read_versions SET v = v + 1 WHERE org_id = (SELECT org_id FROM projects WHERE id = NEW.project_id);
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER members_read_version AFTER INSERT OR UPDATE OR DELETE ON members
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION read_version_bump_org();

CREATE CONSTRAINT TRIGGER projects_read_version AFTER INSERT OR UPDATE OR DELETE ON projects
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION read_version_bump_org();

CREATE CONSTRAINT TRIGGER api_keys_read_version AFTER INSERT OR UPDATE OR DELETE ON api_keys
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION read_version_bump_org();

CREATE CONSTRAINT TRIGGER auth_configs_read_version AFTER INSERT OR UPDATE OR DELETE ON auth_configs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION read_version_bump_project();

CREATE CONSTRAINT TRIGGER connected_accounts_read_version AFTER INSERT OR UPDATE OR DELETE ON connected_accounts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION read_version_bump_project();

CREATE CONSTRAINT TRIGGER secrets_read_version AFTER INSERT OR UPDATE OR DELETE ON secrets
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION read_version_bump_project();
