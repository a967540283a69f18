package postgres

import (
	"fmt"

	"github.com/dirgate/dirgate/internal/store"

	"github.com/jackc/pgx/v5/pgtype"
)

// Groups and memberships, read and written like users (users.go).

const groupCols = `id, org_id, name_key, name, description, created, last_updated, last_membership_updated`

func scanGroup(sc scanner) (*store.Group, error) {
	var g store.Group
	var t [3]pgtype.Timestamptz
	if err := sc.Scan(&g.ID, &g.OrgID, &g.NameKey, &g.Name, &g.Description, &t[0], &t[1], &t[2]); err != nil {
		return nil, err
	}
	g.Created, g.LastUpdated, g.LastMembershipUpdated = fromTS(t[0]), fromTS(t[1]), fromTS(t[2])
	return &g, nil
}

func groupArgs(g *store.Group) []any {
	return []any{g.ID, g.OrgID, g.NameKey, g.Name, g.Description, ts(g.Created), ts(g.LastUpdated), ts(g.LastMembershipUpdated)}
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

var (
	createGroup = recorded(`INSERT INTO groups (`+groupCols+`)
		SELECT `+params(1, 8)+` WHERE EXISTS (SELECT 1 FROM orgs WHERE id = $2)
		ON CONFLICT DO NOTHING RETURNING org_id`, 8)
	updateGroup = recorded(`UPDATE groups SET name_key = $3, name = $4, description = $5,
		created = $6, last_updated = $7, last_membership_updated = $8
		WHERE id = $1 AND org_id = $2
			AND NOT EXISTS (SELECT 1 FROM groups o WHERE o.org_id = $2 AND o.name_key = $3 AND o.id <> $1)
		RETURNING org_id`, 8)
	// deleteGroup: its memberships and link go with it.
	deleteGroup = recorded(`DELETE FROM groups WHERE id = $1 RETURNING org_id`, 1)
	// addMember writes nothing when the group or the user is missing, or
	// the membership is there already.
	addMember = recorded(`INSERT INTO memberships (group_id, user_id)
		SELECT g.id, u.id FROM groups g, users u WHERE g.id = $1 AND u.id = $2
		ON CONFLICT DO NOTHING RETURNING (SELECT org_id FROM groups WHERE id = $1) AS org_id`, 2)
	removeMember = recorded(`DELETE FROM memberships WHERE group_id = $1 AND user_id = $2
		RETURNING (SELECT org_id FROM groups WHERE id = $1) AS org_id`, 2)
)

func (t *tx) CreateGroup(g *store.Group) error {
	return t.create("group", createGroup, store.KindGroup, g.ID, g.OrgID, groupArgs(g))
}

// UpdateGroup replaces the group; a group cannot move to another org.
func (t *tx) UpdateGroup(g *store.Group) error {
	return t.update("groups", "group", updateGroup, store.KindGroup, g.ID, g.OrgID, groupArgs(g))
}

func (t *tx) DeleteGroup(id string) error { return t.remove("group", deleteGroup, store.KindGroup, id) }

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
