-- 0009: directory integrations (issue 9): an org's LDAP/AD sources, with
-- their connector settings (JSON), the profile attributes they own (JSON
-- array: read-only in dirgate), the sealed bind secret and the state of
-- their last run (JSON), and which users and groups each one brought in
-- (by the source's id for them). A user or group belongs to one
-- integration at most; deleting it (or the integration) drops the link.
CREATE TABLE integrations (
	id           TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL REFERENCES orgs (id),
	name_key     TEXT NOT NULL,
	name         TEXT NOT NULL,
	kind         TEXT NOT NULL,
	is_default   INTEGER NOT NULL DEFAULT 0,
	settings     TEXT,
	owned        TEXT,
	secret       TEXT NOT NULL DEFAULT '',
	state        TEXT,
	created      INTEGER,
	last_updated INTEGER,
	UNIQUE (org_id, name_key)
);

CREATE TABLE sync_users (
	integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
	external_id    TEXT NOT NULL,
	user_id        TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (integration_id, external_id)
) WITHOUT ROWID;

CREATE TABLE sync_groups (
	integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
	external_id    TEXT NOT NULL,
	group_id       TEXT NOT NULL UNIQUE REFERENCES groups (id) ON DELETE CASCADE,
	PRIMARY KEY (integration_id, external_id)
) WITHOUT ROWID;
