-- 0002: sign-on security (issue 5): per-user authentication state,
-- enrolled factors, sign-on and password policies, and the system log.
-- Same conventions as 0001: times are INTEGER unix nanoseconds (UTC), NULL
-- for the zero time; lists are JSON text, NULL when empty; documents are
-- BLOBs, NULL when empty.

-- Existing users start with no failed sign-ins and no password history.
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_failed_login INTEGER;
ALTER TABLE users ADD COLUMN password_history TEXT;

-- org_id is the user's org (CreateFactor checks it), kept here so that a
-- change can name the org without a join.
CREATE TABLE factors (
	id           TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL REFERENCES orgs (id),
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	type         TEXT NOT NULL,
	status       TEXT NOT NULL,
	secret       TEXT NOT NULL,
	last_step    INTEGER NOT NULL,
	created      INTEGER,
	activated    INTEGER,
	last_updated INTEGER
);

-- Factors(user) in order without a sort; also serves the cascade.
CREATE INDEX factors_by_user ON factors (user_id, created, id);

CREATE TABLE policies (
	id           TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL REFERENCES orgs (id),
	kind         TEXT NOT NULL,
	name         TEXT NOT NULL,
	name_key     TEXT NOT NULL,
	priority     INTEGER NOT NULL,
	doc          BLOB,
	created      INTEGER,
	last_updated INTEGER,
	UNIQUE (org_id, kind, name_key)
);

-- The system log. seq is the rowid; AUTOINCREMENT keeps it from ever
-- going back, even after PruneEvents removed the newest rows, so a reader
-- following the log with AfterSeq never misses an event. No foreign key to
-- orgs: org_id is "" for events of no org.
CREATE TABLE events (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	uuid       TEXT NOT NULL UNIQUE,
	published  INTEGER NOT NULL,
	org_id     TEXT NOT NULL,
	event_type TEXT NOT NULL,
	outcome    TEXT NOT NULL,
	actor_id   TEXT NOT NULL,
	target_id  TEXT NOT NULL,
	doc        BLOB
);

CREATE INDEX events_by_org ON events (org_id, seq);
CREATE INDEX events_by_org_published ON events (org_id, published);
CREATE INDEX events_by_org_type ON events (org_id, event_type, seq);
