-- 0005: last logins in a table of their own. They are written for every
-- user who signed in since the last flush (every few seconds); as updates
-- of users rows, spread over the whole users table, a flush at a sign-in
-- peak rewrote most of its pages. These rows are small, so a flush touches
-- few pages. users.last_login stays as the value a user record was written
-- with; reads prefer this table's.
CREATE TABLE user_logins (
	user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	at      INTEGER NOT NULL
) WITHOUT ROWID;
