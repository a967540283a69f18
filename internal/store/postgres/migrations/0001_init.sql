-- 0001: the schema, as the SQLite backend's migrations 0001-0009 left
-- theirs, in PostgreSQL's terms (store/sqlite/migrations explains each
-- table). The differences, and why:
--
--   - Times are timestamptz (microseconds; the store keeps at least
--     milliseconds), NULL for the zero time. Lists are text[], maps jsonb,
--     documents bytea; each NULL when empty, except orgs.self_service,
--     where NULL (the default set) and '{}' (nothing) differ.
--   - Every text column is COLLATE "C": the store orders and compares
--     byte-wise, as Go's < does, whatever the database's locale.
--   - The foreign keys to users, groups and integrations cascade: they
--     are always enforced here, so a delete leans on them instead of
--     deleting the dependants one table at a time.
--   - The system log is a table with a row per event; event_counts is the
--     same as SQLite's. (SQLite packs events into pages because a row
--     cost it 15-20 µs of CPU; PostgreSQL writes a batch with one
--     statement, and several nodes append to it at once.)
--   - NULL sorts last in PostgreSQL: the orderings by created say NULLS
--     FIRST, as the zero time is the earliest.

-- seq is the last change sequence number handed out, event_seq the last
-- event Seq: counters, so that pruning never reuses a number. Update locks
-- the seq row for its whole transaction (postgres.go explains why).
CREATE TABLE meta (
	key   text COLLATE "C" PRIMARY KEY,
	value bigint NOT NULL
);
INSERT INTO meta (key, value) VALUES ('seq', 0), ('event_seq', 0);

CREATE TABLE orgs (
	id                text COLLATE "C" PRIMARY KEY,
	name              text COLLATE "C" NOT NULL UNIQUE,
	suffix            text COLLATE "C" NOT NULL,
	created           timestamptz,
	custom_attributes text[] COLLATE "C",
	mfa_separator     text COLLATE "C" NOT NULL DEFAULT '',
	self_service      text[] COLLATE "C"
);

CREATE TABLE users (
	id                text COLLATE "C" PRIMARY KEY,
	org_id            text COLLATE "C" NOT NULL REFERENCES orgs (id),
	login_key         text COLLATE "C" NOT NULL,
	status            text COLLATE "C" NOT NULL,
	type              text COLLATE "C" NOT NULL,
	login             text COLLATE "C" NOT NULL,
	email             text COLLATE "C" NOT NULL,
	first_name        text COLLATE "C" NOT NULL,
	last_name         text COLLATE "C" NOT NULL,
	display_name      text COLLATE "C" NOT NULL,
	nick_name         text COLLATE "C" NOT NULL,
	title             text COLLATE "C" NOT NULL,
	department        text COLLATE "C" NOT NULL,
	organization      text COLLATE "C" NOT NULL,
	mobile_phone      text COLLATE "C" NOT NULL,
	primary_phone     text COLLATE "C" NOT NULL,
	custom            jsonb,
	password_hash     text COLLATE "C" NOT NULL,
	roles             text[] COLLATE "C",
	created           timestamptz,
	activated         timestamptz,
	status_changed    timestamptz,
	last_login        timestamptz,
	last_updated      timestamptz,
	password_changed  timestamptz,
	failed_logins     bigint NOT NULL DEFAULT 0,
	last_failed_login timestamptz,
	password_history  text[] COLLATE "C",
	UNIQUE (org_id, login_key)
);

-- The REST API's cursor paging (UsersPage), in id order per org.
CREATE INDEX users_by_org_id ON users (org_id, id);

-- Last logins, apart from users (RecordLogins writes them every few
-- seconds; as updates of users rows each would write a new version of a
-- wide row and of its index entries). Reads prefer this table's value.
CREATE TABLE user_logins (
	user_id text COLLATE "C" PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	at      timestamptz NOT NULL
);

CREATE TABLE groups (
	id                      text COLLATE "C" PRIMARY KEY,
	org_id                  text COLLATE "C" NOT NULL REFERENCES orgs (id),
	name_key                text COLLATE "C" NOT NULL,
	name                    text COLLATE "C" NOT NULL,
	description             text COLLATE "C" NOT NULL,
	created                 timestamptz,
	last_updated            timestamptz,
	last_membership_updated timestamptz,
	UNIQUE (org_id, name_key)
);

-- Memberships(org) walks an org's groups in id order.
CREATE INDEX groups_by_org ON groups (org_id, id);

CREATE TABLE memberships (
	group_id text COLLATE "C" NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	user_id  text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
);

CREATE INDEX memberships_by_user ON memberships (user_id, group_id);

CREATE TABLE changes (
	seq    bigint PRIMARY KEY,
	org_id text COLLATE "C" NOT NULL,
	kind   text COLLATE "C" NOT NULL,
	id     text COLLATE "C" NOT NULL,
	at     timestamptz NOT NULL
);

CREATE TABLE factors (
	id           text COLLATE "C" PRIMARY KEY,
	org_id       text COLLATE "C" NOT NULL REFERENCES orgs (id),
	user_id      text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	type         text COLLATE "C" NOT NULL,
	status       text COLLATE "C" NOT NULL,
	secret       text COLLATE "C" NOT NULL,
	last_step    bigint NOT NULL,
	created      timestamptz,
	activated    timestamptz,
	last_updated timestamptz
);

-- Factors(user) in order without a sort; also serves the cascade.
CREATE INDEX factors_by_user ON factors (user_id, created NULLS FIRST, id);
-- DeleteOrg, and the foreign key's check when an org goes.
CREATE INDEX factors_by_org ON factors (org_id);

CREATE TABLE policies (
	id           text COLLATE "C" PRIMARY KEY,
	org_id       text COLLATE "C" NOT NULL REFERENCES orgs (id),
	kind         text COLLATE "C" NOT NULL,
	name         text COLLATE "C" NOT NULL,
	name_key     text COLLATE "C" NOT NULL,
	priority     bigint NOT NULL,
	doc          bytea,
	created      timestamptz,
	last_updated timestamptz,
	UNIQUE (org_id, kind, name_key)
);

-- An installation token (the orgs API) has neither org nor user.
CREATE TABLE api_tokens (
	id        text COLLATE "C" PRIMARY KEY,
	org_id    text COLLATE "C" REFERENCES orgs (id),
	user_id   text COLLATE "C" REFERENCES users (id) ON DELETE CASCADE,
	name      text COLLATE "C" NOT NULL,
	hash      text COLLATE "C" NOT NULL UNIQUE,
	created   timestamptz,
	last_used timestamptz
);

CREATE INDEX api_tokens_by_org ON api_tokens (org_id, created NULLS FIRST, id);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

CREATE TABLE integrations (
	id           text COLLATE "C" PRIMARY KEY,
	org_id       text COLLATE "C" NOT NULL REFERENCES orgs (id),
	name_key     text COLLATE "C" NOT NULL,
	name         text COLLATE "C" NOT NULL,
	kind         text COLLATE "C" NOT NULL,
	is_default   boolean NOT NULL DEFAULT false,
	settings     bytea,
	owned        text[] COLLATE "C",
	secret       text COLLATE "C" NOT NULL DEFAULT '',
	state        bytea,
	created      timestamptz,
	last_updated timestamptz,
	UNIQUE (org_id, name_key)
);

CREATE TABLE sync_users (
	integration_id text COLLATE "C" NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
	external_id    text COLLATE "C" NOT NULL,
	user_id        text COLLATE "C" NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (integration_id, external_id)
);

CREATE TABLE sync_groups (
	integration_id text COLLATE "C" NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
	external_id    text COLLATE "C" NOT NULL,
	group_id       text COLLATE "C" NOT NULL UNIQUE REFERENCES groups (id) ON DELETE CASCADE,
	PRIMARY KEY (integration_id, external_id)
);

-- The system log. No foreign key to orgs: org_id is '' for events of no
-- org, and the log keeps a deleted org's events.
CREATE TABLE events (
	seq        bigint PRIMARY KEY,
	uuid       text COLLATE "C" NOT NULL UNIQUE,
	published  timestamptz NOT NULL,
	org_id     text COLLATE "C" NOT NULL,
	event_type text COLLATE "C" NOT NULL,
	outcome    text COLLATE "C" NOT NULL,
	actor_id   text COLLATE "C" NOT NULL,
	target_id  text COLLATE "C" NOT NULL,
	doc        bytea
);

-- Following and paging an org's log, of any type or of one.
CREATE INDEX events_by_org ON events (org_id, seq);
CREATE INDEX events_by_org_type ON events (org_id, event_type, seq);
-- PruneEvents, and queries bounded in time.
CREATE INDEX events_by_published ON events (published);

-- How many events of each org, type and outcome the log holds per minute
-- (unix seconds / 60, rounded down), for EventCounts.
CREATE TABLE event_counts (
	org_id     text COLLATE "C" NOT NULL,
	event_type text COLLATE "C" NOT NULL,
	minute     bigint NOT NULL,
	outcome    text COLLATE "C" NOT NULL,
	n          bigint NOT NULL,
	PRIMARY KEY (org_id, event_type, minute, outcome)
);
