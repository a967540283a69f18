-- 0001: initial schema. Times are INTEGER unix nanoseconds (UTC), NULL for
-- the zero time. Lists and maps are JSON text, NULL when empty.

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;

-- seq is the last change sequence handed out. It lives here rather than
-- being max(changes.seq) so that pruning old changes never reuses a number.
INSERT INTO meta (key, value) VALUES ('seq', 0);

CREATE TABLE orgs (
	id                TEXT PRIMARY KEY,
	name              TEXT NOT NULL UNIQUE,
	suffix            TEXT NOT NULL,
	created           INTEGER,
	custom_attributes TEXT
) WITHOUT ROWID;

CREATE TABLE users (
	id               TEXT PRIMARY KEY,
	org_id           TEXT NOT NULL REFERENCES orgs (id),
	login_key        TEXT NOT NULL,
	status           TEXT NOT NULL,
	type             TEXT NOT NULL,
	login            TEXT NOT NULL,
	email            TEXT NOT NULL,
	first_name       TEXT NOT NULL,
	last_name        TEXT NOT NULL,
	display_name     TEXT NOT NULL,
	nick_name        TEXT NOT NULL,
	title            TEXT NOT NULL,
	department       TEXT NOT NULL,
	organization     TEXT NOT NULL,
	mobile_phone     TEXT NOT NULL,
	primary_phone    TEXT NOT NULL,
	custom           TEXT,
	password_hash    TEXT NOT NULL,
	roles            TEXT,
	created          INTEGER,
	activated        INTEGER,
	status_changed   INTEGER,
	last_login       INTEGER,
	last_updated     INTEGER,
	password_changed INTEGER,
	UNIQUE (org_id, login_key)
);

CREATE TABLE groups (
	id                      TEXT PRIMARY KEY,
	org_id                  TEXT NOT NULL REFERENCES orgs (id),
	name_key                TEXT NOT NULL,
	name                    TEXT NOT NULL,
	description             TEXT NOT NULL,
	created                 INTEGER,
	last_updated            INTEGER,
	last_membership_updated INTEGER,
	UNIQUE (org_id, name_key)
);

-- Lets Memberships(org) walk groups in id order without a sort.
CREATE INDEX groups_by_org ON groups (org_id, id);

CREATE TABLE memberships (
	group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;

CREATE INDEX memberships_by_user ON memberships (user_id, group_id);

CREATE TABLE changes (
	seq    INTEGER PRIMARY KEY,
	org_id TEXT NOT NULL,
	kind   TEXT NOT NULL,
	id     TEXT NOT NULL,
	at     INTEGER NOT NULL
);
