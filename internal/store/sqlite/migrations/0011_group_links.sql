-- 0011: nested groups: a group in another (store.GroupLink). The child's
-- members are, through it, the parent's. The directory keeps the links
-- within one org and free of cycles; the store refuses only a group in
-- itself. Deleting either group drops the link.
CREATE TABLE group_links (
	parent_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	child_id  TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
	PRIMARY KEY (parent_id, child_id)
) WITHOUT ROWID;

-- ParentGroups and DeleteGroup find the groups a group is in.
CREATE INDEX group_links_by_child ON group_links (child_id, parent_id);
