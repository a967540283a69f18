-- 0006: API tokens (REST API, issue 7), and users in id order per org for
-- the API's cursor paging. A token is its secret's SHA-256 (hash); it acts
-- as its user, so it goes with the user. An installation token (the orgs
-- API) has neither org nor user: both NULL.
CREATE TABLE api_tokens (
	id        TEXT PRIMARY KEY,
	org_id    TEXT REFERENCES orgs (id),
	user_id   TEXT REFERENCES users (id) ON DELETE CASCADE,
	name      TEXT NOT NULL,
	hash      TEXT NOT NULL UNIQUE,
	created   INTEGER,
	last_used INTEGER
);

CREATE INDEX api_tokens_by_org ON api_tokens (org_id, created, id);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);
CREATE INDEX users_by_org_id ON users (org_id, id);
