-- 0004: POSIX numbers (RFC 2307bis accounts and groups), as the SQLite
-- store's 0012 keeps them: a user's uidNumber and a group's gidNumber, 0
-- when it has none, unique per org among the numbers that are set; and
-- per org and kind ('uid', 'gid') the counter Tx.NextPOSIXNumber
-- allocates from, the next number it would consider. The counter only
-- moves forward, so a number is never handed out twice, even after its
-- user or group is gone; the org takes its counters with it.
ALTER TABLE users ADD COLUMN uid_number bigint NOT NULL DEFAULT 0;
ALTER TABLE groups ADD COLUMN gid_number bigint NOT NULL DEFAULT 0;

CREATE UNIQUE INDEX users_by_uid_number ON users (org_id, uid_number) WHERE uid_number > 0;
CREATE UNIQUE INDEX groups_by_gid_number ON groups (org_id, gid_number) WHERE gid_number > 0;

CREATE TABLE posix_counters (
	org_id text COLLATE "C" NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	kind   text COLLATE "C" NOT NULL,
	next   bigint NOT NULL,
	PRIMARY KEY (org_id, kind)
);
