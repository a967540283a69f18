package postgres

import (
	"fmt"
	"time"

	"github.com/dirgate/dirgate/internal/store"

	"github.com/jackc/pgx/v5/pgtype"
)

// Groups and memberships, read and written like users (users.go).

const groupCols = `id, org_id, name_key, name, description, created, last_updated, last_membership_updated, gid_number`

func scanGroup(sc scanner) (*store.Group, error) {
	var g store.Group
	var t [3]pgtype.Timestamptz
	if err := sc.Scan(&g.ID, &g.OrgID, &g.NameKey, &g.Name, &g.Description, &t[0], &t[1], &t[2], &g.GIDNumber); err != nil {
		return nil, err
	}
	g.Created, g.LastUpdated, g.LastMembershipUpdated = fromTS(t[0]), fromTS(t[1]), fromTS(t[2])
	return &g, nil
}

func groupArgs(g *store.Group) []any {
	return []any{g.ID, g.OrgID, g.NameKey, g.Name, g.Description, ts(g.Created), ts(g.LastUpdated), ts(g.LastMembershipUpdated), g.GIDNumber}
}

func (r *reader) Group(id string) (*store.Group, error) {
	g, err := scanGroup(r.queryRow(`SELECT `+groupCols+` FROM groups WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "group", id)
	}
	return g, nil
}

func (r *reader) GroupByName(orgID, nameKey string) (*store.Group, error) {
	g, err := scanGroup(r.queryRow(`SELECT `+groupCols+` FROM groups WHERE org_id = $1 AND name_key = $2`, orgID, nameKey))
	if err != nil {
		return nil, notFound(err, "group", nameKey)
	}
	return g, nil
}

func (r *reader) Groups(orgID string) ([]*store.Group, error) {
	return queryAll(r, "groups", scanGroup, `SELECT `+groupCols+` FROM groups WHERE org_id = $1 ORDER BY name_key`, orgID)
}

// Memberships walks groups_by_org and each group's part of the
// memberships key, both in id order.
func (r *reader) Memberships(orgID string) ([]store.Membership, error) {
	return queryAll(r, "memberships", func(sc scanner) (m store.Membership, err error) {
		err = sc.Scan(&m.GroupID, &m.UserID)
		return m, err
	}, `SELECT m.group_id, m.user_id FROM groups g JOIN memberships m ON m.group_id = g.id
		WHERE g.org_id = $1 ORDER BY m.group_id, m.user_id`, orgID)
}

func (r *reader) GroupMembers(groupID string) ([]string, error) {
	return r.ids("members", `SELECT user_id FROM memberships WHERE group_id = $1 ORDER BY user_id`, groupID)
}

func (r *reader) UserGroups(userID string) ([]string, error) {
	return r.ids("groups of user", `SELECT group_id FROM memberships WHERE user_id = $1 ORDER BY group_id`, userID)
}

// GroupLinks walks groups_by_org and each group's part of the
// group_links key (links never cross orgs, so the parent's org is the
// link's).
func (r *reader) GroupLinks(orgID string) ([]store.GroupLink, error) {
	return queryAll(r, "group links", func(sc scanner) (l store.GroupLink, err error) {
		err = sc.Scan(&l.ParentID, &l.ChildID)
		return l, err
	}, `SELECT l.parent_id, l.child_id FROM groups g JOIN group_links l ON l.parent_id = g.id
		WHERE g.org_id = $1 ORDER BY l.parent_id, l.child_id`, orgID)
}

func (r *reader) ChildGroups(groupID string) ([]string, error) {
	return r.ids("child groups", `SELECT child_id FROM group_links WHERE parent_id = $1 ORDER BY child_id`, groupID)
}

// ParentGroups walks group_links_by_child.
func (r *reader) ParentGroups(groupID string) ([]string, error) {
	return r.ids("parent groups", `SELECT parent_id FROM group_links WHERE child_id = $1 ORDER BY parent_id`, groupID)
}

var (
	// createGroup writes nothing for a missing org or a taken id, name
	// or gidNumber.
	createGroup = recorded(`INSERT INTO groups (`+groupCols+`)
		SELECT `+params(1, 9)+` WHERE EXISTS (SELECT 1 FROM orgs WHERE id = $2)
		ON CONFLICT DO NOTHING RETURNING org_id`, 9)
	updateGroup = recorded(`UPDATE groups SET name_key = $3, name = $4, description = $5,
		created = $6, last_updated = $7, last_membership_updated = $8, gid_number = $9
		WHERE id = $1 AND org_id = $2
			AND NOT EXISTS (SELECT 1 FROM groups o WHERE o.org_id = $2 AND o.name_key = $3 AND o.id <> $1)
			AND NOT EXISTS (SELECT 1 FROM groups o WHERE o.org_id = $2 AND $9::bigint > 0 AND o.gid_number = $9 AND o.id <> $1)
		RETURNING org_id`, 9)
	// deleteGroup deletes group $1 (its memberships, group links and
	// integration link go with it) and records its change, seq $2 of
	// kind $3, and one of kind $4 for each group it was in, seqs $2+1, …
	// in the parents' id order, all at $5. Every part of the statement
	// sees one snapshot, so p still finds the links the cascade removes.
	deleteGroup = `WITH d AS (DELETE FROM groups WHERE id = $1 RETURNING org_id),
		p AS (SELECT parent_id, row_number() OVER (ORDER BY parent_id) AS n FROM group_links WHERE child_id = $1)
		INSERT INTO changes (seq, org_id, kind, id, at)
		SELECT $2::bigint, d.org_id, $3::text, $1::text, $5::timestamptz FROM d
		UNION ALL
		SELECT $2::bigint + p.n, d.org_id, $4::text, p.parent_id, $5::timestamptz FROM d, p`
	// addMember writes nothing when the group or the user is missing, or
	// the membership is there already.
	addMember = recorded(`INSERT INTO memberships (group_id, user_id)
		SELECT g.id, u.id FROM groups g, users u WHERE g.id = $1 AND u.id = $2
		ON CONFLICT DO NOTHING RETURNING (SELECT org_id FROM groups WHERE id = $1) AS org_id`, 2)
	removeMember = recorded(`DELETE FROM memberships WHERE group_id = $1 AND user_id = $2
		RETURNING (SELECT org_id FROM groups WHERE id = $1) AS org_id`, 2)
	// addGroupLink writes nothing when a group is missing, the child is
	// of another org, or the link is there already (a group in itself
	// never gets here).
	addGroupLink = recorded(`INSERT INTO group_links (parent_id, child_id)
		SELECT p.id, c.id FROM groups p JOIN groups c ON c.org_id = p.org_id WHERE p.id = $1 AND c.id = $2
		ON CONFLICT DO NOTHING RETURNING (SELECT org_id FROM groups WHERE id = $1) AS org_id`, 2)
	removeGroupLink = recorded(`DELETE FROM group_links WHERE parent_id = $1 AND child_id = $2
		RETURNING (SELECT org_id FROM groups WHERE id = $1) AS org_id`, 2)
)

func (t *tx) CreateGroup(g *store.Group) error {
	return t.create("group", createGroup, store.KindGroup, g.ID, g.OrgID, groupArgs(g))
}

// UpdateGroup replaces the group; a group cannot move to another org.
func (t *tx) UpdateGroup(g *store.Group) error {
	return t.update("groups", "group", updateGroup, store.KindGroup, g.ID, g.OrgID, groupArgs(g))
}

// DeleteGroup records the group's change, then a KindGroupLink change
// for each group it was in, in id order: one statement (deleteGroup).
func (t *tx) DeleteGroup(id string) error {
	tag, err := t.tx.Exec(t.ctx, deleteGroup, id, t.seq+1, string(store.KindGroup), string(store.KindGroupLink), time.Now())
	if err != nil {
		return t.fail(fmt.Errorf("postgres: delete group %s: %w", id, mapErr(err)))
	}
	n := tag.RowsAffected()
	if n == 0 {
		return fmt.Errorf("postgres: delete group %q: %w", id, store.ErrNotFound)
	}
	t.seq += uint64(n)
	return nil
}

// AddMember fails with store.ErrNotFound if the group or the user is
// missing.
func (t *tx) AddMember(groupID, userID string) (bool, error) {
	ok, err := t.write("add member", addMember, store.KindMembership, groupID, groupID, userID)
	if err != nil || ok {
		return ok, err
	}
	var group, user bool
	if err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM groups WHERE id = $1), EXISTS (SELECT 1 FROM users WHERE id = $2)`,
		groupID, userID).Scan(&group, &user); err != nil {
		return false, t.fail(fmt.Errorf("postgres: add user %q to group %q: %w", userID, groupID, err))
	}
	switch {
	case !group:
		return false, fmt.Errorf("postgres: add user %q to group %q: group: %w", userID, groupID, store.ErrNotFound)
	case !user:
		return false, fmt.Errorf("postgres: add user %q to group %q: user: %w", userID, groupID, store.ErrNotFound)
	}
	return false, nil // a member already
}

// RemoveMember reports false, with no error, when there was no such
// membership (whether or not the group and user exist).
func (t *tx) RemoveMember(groupID, userID string) (bool, error) {
	return t.write("remove member", removeMember, store.KindMembership, groupID, groupID, userID)
}

// AddGroupLink puts group childID in group parentID: a group in itself is
// store.ErrConflict; a missing group, or a child of another org,
// store.ErrNotFound.
func (t *tx) AddGroupLink(parentID, childID string) (bool, error) {
	what := fmt.Sprintf("add group %q to group %q", childID, parentID)
	if parentID == childID {
		return false, fmt.Errorf("postgres: %s: group %q in itself: %w", what, parentID, store.ErrConflict)
	}
	ok, err := t.write(what, addGroupLink, store.KindGroupLink, parentID, parentID, childID)
	if err != nil || ok {
		return ok, err
	}
	return false, t.linkWhy(what, parentID, childID) // nil: linked already
}

// RemoveGroupLink takes group childID out of group parentID; it reports
// false, with no error, when the child was not in the parent, and fails
// as AddGroupLink does otherwise.
func (t *tx) RemoveGroupLink(parentID, childID string) (bool, error) {
	what := fmt.Sprintf("remove group %q from group %q", childID, parentID)
	if parentID == childID {
		return false, fmt.Errorf("postgres: %s: group %q in itself: %w", what, parentID, store.ErrConflict)
	}
	ok, err := t.write(what, removeGroupLink, store.KindGroupLink, parentID, parentID, childID)
	if err != nil || ok {
		return ok, err
	}
	return false, t.linkWhy(what, parentID, childID) // nil: not linked
}

// linkWhy explains why a write of a group link wrote nothing: the parent
// or the child is missing, or the child is of another org
// (store.ErrNotFound); nil when both groups are there, in one org.
func (t *tx) linkWhy(what, parentID, childID string) error {
	var parentOrg, childOrg *string
	if err := t.queryRow(`SELECT (SELECT org_id FROM groups WHERE id = $1), (SELECT org_id FROM groups WHERE id = $2)`,
		parentID, childID).Scan(&parentOrg, &childOrg); err != nil {
		return t.fail(fmt.Errorf("postgres: %s: %w", what, err))
	}
	switch {
	case parentOrg == nil:
		return fmt.Errorf("postgres: %s: group %q: %w", what, parentID, store.ErrNotFound)
	case childOrg == nil:
		return fmt.Errorf("postgres: %s: group %q: %w", what, childID, store.ErrNotFound)
	case *childOrg != *parentOrg:
		return fmt.Errorf("postgres: %s: group %q in org %q: %w", what, childID, *parentOrg, store.ErrNotFound)
	}
	return nil
}
