package postgres

import (
	"fmt"
	"strings"

	"github.com/dirgate/dirgate/internal/store"

	"github.com/jackc/pgx/v5/pgtype"
)

const userCols = `id, org_id, login_key, status, type,
	login, email, first_name, last_name, display_name, nick_name, title,
	department, organization, mobile_phone, primary_phone, custom,
	password_hash, roles,
	created, activated, status_changed, last_login, last_updated, password_changed,
	failed_logins, last_failed_login, password_history, uid_number`

// userSelect selects users (as u) in userCols order, with the last login
// from user_logins when it has one (RecordLogins).
const userSelect = `SELECT u.id, u.org_id, u.login_key, u.status, u.type,
	u.login, u.email, u.first_name, u.last_name, u.display_name, u.nick_name, u.title,
	u.department, u.organization, u.mobile_phone, u.primary_phone, u.custom,
	u.password_hash, u.roles,
	u.created, u.activated, u.status_changed, COALESCE(l.at, u.last_login), u.last_updated, u.password_changed,
	u.failed_logins, u.last_failed_login, u.password_history, u.uid_number
	FROM users u LEFT JOIN user_logins l ON l.user_id = u.id`

func scanUser(sc scanner) (*store.User, error) {
	u := new(store.User)
	p := &u.Profile
	var t [7]pgtype.Timestamptz
	err := sc.Scan(&u.ID, &u.OrgID, &u.LoginKey, &u.Status, &u.Type,
		&p.Login, &p.Email, &p.FirstName, &p.LastName, &p.DisplayName, &p.NickName, &p.Title,
		&p.Department, &p.Organization, &p.MobilePhone, &p.PrimaryPhone, &p.Custom,
		&u.PasswordHash, &u.Roles,
		&t[0], &t[1], &t[2], &t[3], &t[4], &t[5],
		&u.FailedLogins, &t[6], &u.PasswordHistory, &u.UIDNumber)
	if err != nil {
		return nil, err
	}
	u.Created, u.Activated, u.StatusChanged = fromTS(t[0]), fromTS(t[1]), fromTS(t[2])
	u.LastLogin, u.LastUpdated, u.PasswordChanged = fromTS(t[3]), fromTS(t[4]), fromTS(t[5])
	u.LastFailedLogin = fromTS(t[6])
	return u, nil
}

// userArgs returns u's columns in userCols order.
func userArgs(u *store.User) []any {
	p := &u.Profile
	var custom any // jsonb; NULL when empty
	if len(p.Custom) > 0 {
		custom = p.Custom
	}
	return []any{u.ID, u.OrgID, u.LoginKey, u.Status, u.Type,
		p.Login, p.Email, p.FirstName, p.LastName, p.DisplayName, p.NickName, p.Title,
		p.Department, p.Organization, p.MobilePhone, p.PrimaryPhone, custom,
		u.PasswordHash, list(u.Roles),
		ts(u.Created), ts(u.Activated), ts(u.StatusChanged), ts(u.LastLogin), ts(u.LastUpdated), ts(u.PasswordChanged),
		u.FailedLogins, ts(u.LastFailedLogin), list(u.PasswordHistory), u.UIDNumber}
}

func (r *reader) User(id string) (*store.User, error) {
	u, err := scanUser(r.queryRow(userSelect+` WHERE u.id = $1`, id))
	if err != nil {
		return nil, notFound(err, "user", id)
	}
	return u, nil
}

func (r *reader) UserByLogin(orgID, loginKey string) (*store.User, error) {
	u, err := scanUser(r.queryRow(userSelect+` WHERE u.org_id = $1 AND u.login_key = $2`, orgID, loginKey))
	if err != nil {
		return nil, notFound(err, "user", loginKey)
	}
	return u, nil
}

// Users walks the (org_id, login_key) unique index: no sort.
func (r *reader) Users(orgID string) ([]*store.User, error) {
	return queryAll(r, "users", scanUser, userSelect+` WHERE u.org_id = $1 ORDER BY u.login_key`, orgID)
}

// UsersPage walks users_by_org_id.
func (r *reader) UsersPage(orgID, afterID string, limit int) ([]*store.User, error) {
	if limit <= 0 {
		return nil, nil
	}
	return queryAll(r, "users page", scanUser,
		userSelect+` WHERE u.org_id = $1 AND u.id > $2 ORDER BY u.id LIMIT $3`, orgID, afterID, limit)
}

// UsersPageWhere walks users_by_org_id from afterID and filters, so it
// reads the org's users up to the page's last (all of them when few
// match). The prefix test is prefixFold's.
func (r *reader) UsersPageWhere(orgID, afterID string, limit int, status, prefix string) ([]*store.User, error) {
	if status == "" && prefix == "" {
		return r.UsersPage(orgID, afterID, limit)
	}
	if limit <= 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString(userSelect + ` WHERE u.org_id = $1 AND u.id > $2`)
	args := []any{orgID, afterID}
	if status != "" {
		args = append(args, status)
		fmt.Fprintf(&b, ` AND u.status = $%d`, len(args))
	}
	if prefix != "" {
		f, ok := newPrefixFold(prefix)
		if !ok {
			return nil, nil // no stored value can begin with it
		}
		n := len(args)
		args = append(args, f.runes, f.bytes, f.from, f.to, f.folded)
		var ors []string
		for _, col := range [...]string{"u.login", "u.email", "u.first_name", "u.last_name"} {
			ors = append(ors, fmt.Sprintf(`(octet_length(left(%[1]s, $%[2]d)) = $%[3]d AND translate(left(%[1]s, $%[2]d), $%[4]d, $%[5]d) = $%[6]d)`,
				col, n+1, n+2, n+3, n+4, n+5))
		}
		b.WriteString(` AND (` + strings.Join(ors, " OR ") + `)`)
	}
	args = append(args, limit)
	fmt.Fprintf(&b, ` ORDER BY u.id LIMIT $%d`, len(args))
	return queryAll(r, "users page", scanUser, b.String(), args...)
}

// GroupUsers returns the users of a group ordered by id, in one
// statement.
func (r *reader) GroupUsers(groupID string) ([]*store.User, error) {
	return queryAll(r, "group users", scanUser,
		userSelect+` WHERE u.id IN (SELECT user_id FROM memberships WHERE group_id = $1) ORDER BY u.id`, groupID)
}

// UserCounts walks users_by_org_id.
func (r *reader) UserCounts(orgID string) (map[string]int, error) {
	type count struct {
		status string
		n      int
	}
	counts, err := queryAll(r, "user counts", func(sc scanner) (c count, err error) {
		err = sc.Scan(&c.status, &c.n)
		return c, err
	}, `SELECT status, count(*) FROM users WHERE org_id = $1 GROUP BY status`, orgID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(counts))
	for _, c := range counts {
		out[c.status] = c.n
	}
	return out, nil
}

var (
	// createUser checks the org in the same statement: a missing one
	// writes nothing instead of failing the foreign key (and the
	// transaction with it); a taken id, login or uidNumber (any unique
	// index) writes nothing either.
	createUser = recorded(`INSERT INTO users (`+userCols+`)
		SELECT `+params(1, 29)+` WHERE EXISTS (SELECT 1 FROM orgs WHERE id = $2)
		ON CONFLICT DO NOTHING RETURNING org_id`, 29)
	// updateUser keeps the user in its org and checks that the new login
	// and uidNumber are free.
	updateUser = recorded(`UPDATE users SET login_key = $3, status = $4, type = $5,
		login = $6, email = $7, first_name = $8, last_name = $9, display_name = $10, nick_name = $11, title = $12,
		department = $13, organization = $14, mobile_phone = $15, primary_phone = $16, custom = $17,
		password_hash = $18, roles = $19,
		created = $20, activated = $21, status_changed = $22, last_login = $23, last_updated = $24, password_changed = $25,
		failed_logins = $26, last_failed_login = $27, password_history = $28, uid_number = $29
		WHERE id = $1 AND org_id = $2
			AND NOT EXISTS (SELECT 1 FROM users o WHERE o.org_id = $2 AND o.login_key = $3 AND o.id <> $1)
			AND NOT EXISTS (SELECT 1 FROM users o WHERE o.org_id = $2 AND $29::bigint > 0 AND o.uid_number = $29 AND o.id <> $1)
		RETURNING org_id`, 29)
	// deleteUser: its memberships, factors, last login, tokens and link
	// go with it (ON DELETE CASCADE).
	deleteUser = recorded(`DELETE FROM users WHERE id = $1 RETURNING org_id`, 1)
)

func (t *tx) CreateUser(u *store.User) error {
	return t.create("user", createUser, store.KindUser, u.ID, u.OrgID, userArgs(u))
}

// UpdateUser replaces the user; a user cannot move to another org.
func (t *tx) UpdateUser(u *store.User) error {
	return t.update("users", "user", updateUser, store.KindUser, u.ID, u.OrgID, userArgs(u))
}

func (t *tx) DeleteUser(id string) error { return t.remove("user", deleteUser, store.KindUser, id) }

// params is "$from, …, $to".
func params(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		if i > from {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", i)
	}
	return b.String()
}
