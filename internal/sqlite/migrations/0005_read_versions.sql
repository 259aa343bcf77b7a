-- Every organization's read version: a number that grows whenever anything
-- a read shows changes (keys, members, projects, auth configs, connected
-- accounts, sealed values). Surfaces keep rendered answers and reuse one
-- only while the version it was rendered at is still current, so a read
-- that finds it unchanged costs one primary-key lookup. Triggers keep it,
-- so no writer (a server, another instance, an admin command) can forget.
CREATE TABLE read_versions (
    org_id TEXT PRIMARY KEY,
    v      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO read_versions (org_id) SELECT id FROM organizations;
CREATE TRIGGER organizations_read_version AFTER INSERT ON organizations BEGIN
    INSERT INTO read_versions (org_id) VALUES (NEW.id) ON CONFLICT (org_id) DO NOTHING;
END;
CREATE TRIGGER members_insert_read_version AFTER INSERT ON members BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = NEW.org_id;
END;
CREATE TRIGGER members_update_read_version AFTER UPDATE ON members BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = NEW.org_id;
END;
CREATE TRIGGER members_delete_read_version AFTER DELETE ON members BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = OLD.org_id;
END;
CREATE TRIGGER projects_insert_read_version AFTER INSERT ON projects BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = NEW.org_id;
END;
CREATE TRIGGER projects_update_read_version AFTER UPDATE ON projects BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = NEW.org_id;
END;
CREATE TRIGGER projects_delete_read_version AFTER DELETE ON projects BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = OLD.org_id;
END;
CREATE TRIGGER api_keys_insert_read_version AFTER INSERT ON api_keys BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = NEW.org_id;
END;
CREATE TRIGGER api_keys_update_read_version AFTER UPDATE ON api_keys BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = NEW.org_id;
END;
CREATE TRIGGER api_keys_delete_read_version AFTER DELETE ON api_keys BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = OLD.org_id;
END;
CREATE TRIGGER auth_configs_insert_read_version AFTER INSERT ON auth_configs BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = (SELECT org_id FROM projects WHERE id = NEW.project_id);
END;
CREATE TRIGGER auth_configs_update_read_version AFTER UPDATE ON auth_configs BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = (SELECT org_id FROM projects WHERE id = NEW.project_id);
END;
CREATE TRIGGER auth_configs_delete_read_version AFTER DELETE ON auth_configs BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = (SELECT org_id FROM projects WHERE id = OLD.project_id);
END;
CREATE TRIGGER connected_accounts_insert_read_version AFTER INSERT ON connected_accounts BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = (SELECT org_id FROM projects WHERE id = NEW.project_id);
END;
CREATE TRIGGER connected_accounts_update_read_version AFTER UPDATE ON connected_accounts BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = (SELECT org_id FROM projects WHERE id = NEW.project_id);
END;
CREATE TRIGGER connected_accounts_delete_read_version AFTER DELETE ON connected_accounts BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = (SELECT org_id FROM projects WHERE id = OLD.project_id);
END;
CREATE TRIGGER secrets_insert_read_version AFTER INSERT ON secrets BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = (SELECT org_id FROM projects WHERE id = NEW.project_id);
END;
CREATE TRIGGER secrets_update_read_version AFTER UPDATE ON secrets BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = (SELECT org_id FROM projects WHERE id = NEW.project_id);
END;
CREATE TRIGGER secrets_delete_read_version AFTER DELETE ON secrets BEGIN
    UPDATE read_versions SET v = v + 1 WHERE org_id = (SELECT org_id FROM projects WHERE id = OLD.project_id);
END;
