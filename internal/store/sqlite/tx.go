package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/store"

	"modernc.org/sqlite"
)

// reader implements store.Reader over one SQL transaction. It prepares
// each statement once per transaction, so a 100k-row import compiles its
// INSERTs once.
type reader struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts map[string]*sql.Stmt // closed with the transaction
}

func (r *reader) stmt(q string) (*sql.Stmt, error) {
	if s, ok := r.stmts[q]; ok {
		return s, nil
	}
	s, err := r.tx.PrepareContext(r.ctx, q)
	if err != nil {
		return nil, err
	}
	if r.stmts == nil {
		r.stmts = make(map[string]*sql.Stmt)
	}
	r.stmts[q] = s
	return s, nil
}

func (r *reader) queryRow(q string, args ...any) *sql.Row {
	s, err := r.stmt(q)
	if err != nil {
		// sql.Row has no error constructor; QueryRow on the tx reports it.
		return r.tx.QueryRowContext(r.ctx, q, args...)
	}
	return s.QueryRowContext(r.ctx, args...)
}

func (r *reader) query(q string, args ...any) (*sql.Rows, error) {
	s, err := r.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(r.ctx, args...)
}

func (r *reader) exec(q string, args ...any) (sql.Result, error) {
	s, err := r.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(r.ctx, args...)
}

// notFound wraps store.ErrNotFound, or passes other errors through.
func notFound(err error, what, key string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s %q: %w", what, key, store.ErrNotFound)
	}
	return fmt.Errorf("sqlite: %s %q: %w", what, key, err)
}

func (r *reader) Seq() (uint64, error) {
	var seq uint64
	if err := r.queryRow(`SELECT value FROM meta WHERE key = 'seq'`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("sqlite: read seq: %w", err)
	}
	return seq, nil
}

// --- orgs

const orgCols = `id, name, suffix, created, custom_attributes, mfa_separator, self_service, ldap_settings`

func scanOrg(sc scanner) (*store.Org, error) {
	var o store.Org
	var created sql.NullInt64
	var attrs, self, ldapSettings []byte
	if err := sc.Scan(&o.ID, &o.Name, &o.Suffix, &created, &attrs, &o.MFASeparator, &self, &ldapSettings); err != nil {
		return nil, err
	}
	var err error
	if o.LDAP, err = store.UnmarshalLDAPSettings(ldapSettings); err != nil {
		return nil, fmt.Errorf("org %s ldap_settings: %w", o.ID, err)
	}
	o.Created = fromNanos(created)
	if err := unmarshal(attrs, &o.CustomAttributes); err != nil {
		return nil, fmt.Errorf("org %s custom_attributes: %w", o.ID, err)
	}
	if err := unmarshal(self, &o.SelfServiceAttributes); err != nil {
		return nil, fmt.Errorf("org %s self_service: %w", o.ID, err)
	}
	return &o, nil
}

func (r *reader) Org(id string) (*store.Org, error) {
	o, err := scanOrg(r.queryRow(`SELECT `+orgCols+` FROM orgs WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "org", id)
	}
	return o, nil
}

func (r *reader) OrgByName(name string) (*store.Org, error) {
	o, err := scanOrg(r.queryRow(`SELECT `+orgCols+` FROM orgs WHERE name = ?`, name))
	if err != nil {
		return nil, notFound(err, "org", name)
	}
	return o, nil
}

// Orgs returns every org, ordered by name.
func (r *reader) Orgs() ([]*store.Org, error) {
	return queryAll(r, "orgs", scanOrg, `SELECT `+orgCols+` FROM orgs ORDER BY name`)
}

// --- users

const userCols = `id, org_id, login_key, status, type,
	login, email, first_name, last_name, display_name, nick_name, title,
	department, organization, mobile_phone, primary_phone, custom,
	password_hash, roles,
	created, activated, status_changed, last_login, last_updated, password_changed,
	failed_logins, last_failed_login, password_history, uid_number`

// userRow selects a user as one JSON array of its userCols (rowjson.go
// explains why), with the last login from user_logins when it has one
// (migration 0005).
var userRow = `json_array(` + strings.Replace(userCols, ", last_login,",
	", COALESCE((SELECT at FROM user_logins WHERE user_id = users.id), last_login),", 1) + `)`

func scanUser(sc scanner) (*store.User, error) {
	var row string
	if err := sc.Scan(&row); err != nil {
		return nil, err
	}
	u := new(store.User)
	if err := decodeUser(row, u); err != nil {
		return nil, err
	}
	return u, nil
}

// decodeUser decodes a userRow into u. u's strings share row's memory.
func decodeUser(row string, u *store.User) error {
	d := newRowJSON(row)
	p := &u.Profile
	u.ID = d.str()
	u.OrgID = d.str()
	u.LoginKey = d.str()
	u.Status = d.str()
	u.Type = d.str()
	p.Login = d.str()
	p.Email = d.str()
	p.FirstName = d.str()
	p.LastName = d.str()
	p.DisplayName = d.str()
	p.NickName = d.str()
	p.Title = d.str()
	p.Department = d.str()
	p.Organization = d.str()
	p.MobilePhone = d.str()
	p.PrimaryPhone = d.str()
	custom, _ := d.nullStr()
	u.PasswordHash = d.str()
	roles, _ := d.nullStr()
	u.Created = rowTime(&d)
	u.Activated = rowTime(&d)
	u.StatusChanged = rowTime(&d)
	u.LastLogin = rowTime(&d)
	u.LastUpdated = rowTime(&d)
	u.PasswordChanged = rowTime(&d)
	u.FailedLogins = int(d.integer())
	u.LastFailedLogin = rowTime(&d)
	history, _ := d.nullStr()
	u.UIDNumber = d.integer()
	if err := d.end(); err != nil {
		return fmt.Errorf("user %s: %w", u.ID, err)
	}
	if err := unmarshalString(custom, &p.Custom); err != nil {
		return fmt.Errorf("user %s custom: %w", u.ID, err)
	}
	if err := unmarshalString(roles, &u.Roles); err != nil {
		return fmt.Errorf("user %s roles: %w", u.ID, err)
	}
	if err := unmarshalString(history, &u.PasswordHistory); err != nil {
		return fmt.Errorf("user %s password_history: %w", u.ID, err)
	}
	return nil
}

// rowTime reads a time column (nullable INTEGER, as nanos writes it).
func rowTime(d *rowJSON) time.Time {
	n, ok := d.nullInt()
	if !ok {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// userArgs returns u's columns in userCols order.
func userArgs(u *store.User) ([]any, error) {
	p := &u.Profile
	custom, err := marshal(len(p.Custom), p.Custom)
	if err != nil {
		return nil, err
	}
	roles, err := marshal(len(u.Roles), u.Roles)
	if err != nil {
		return nil, err
	}
	history, err := marshal(len(u.PasswordHistory), u.PasswordHistory)
	if err != nil {
		return nil, err
	}
	var t [7]any
	for i, v := range [7]time.Time{u.Created, u.Activated, u.StatusChanged, u.LastLogin, u.LastUpdated, u.PasswordChanged, u.LastFailedLogin} {
		if t[i], err = nanos(v); err != nil {
			return nil, err
		}
	}
	return []any{u.ID, u.OrgID, u.LoginKey, u.Status, u.Type,
		p.Login, p.Email, p.FirstName, p.LastName, p.DisplayName, p.NickName, p.Title,
		p.Department, p.Organization, p.MobilePhone, p.PrimaryPhone, custom,
		u.PasswordHash, roles,
		t[0], t[1], t[2], t[3], t[4], t[5],
		u.FailedLogins, t[6], history, u.UIDNumber}, nil
}

func (r *reader) User(id string) (*store.User, error) {
	u, err := scanUser(r.queryRow(`SELECT `+userRow+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "user", id)
	}
	return u, nil
}

func (r *reader) UserByLogin(orgID, loginKey string) (*store.User, error) {
	u, err := scanUser(r.queryRow(`SELECT `+userRow+` FROM users WHERE org_id = ? AND login_key = ?`, orgID, loginKey))
	if err != nil {
		return nil, notFound(err, "user", loginKey)
	}
	return u, nil
}

// usersPerAlloc is how many users Users allocates at once: one allocation
// of about 32 KiB instead of 64 (a User is some 500 bytes). A chunk is
// freed when none of its users is referenced any more.
const usersPerAlloc = 64

// usersPerBatch is how many rows Users hands its decoder at once.
const usersPerBatch = 256

// Users decodes the rows on a second goroutine while this one steps the
// query: on two cores, SQLite's work (most of it) and the decoding with
// its allocations overlap. The decoder keeps the rows' order.
func (r *reader) Users(orgID string) ([]*store.User, error) {
	rows, err := r.query(`SELECT `+userRow+` FROM users WHERE org_id = ? ORDER BY login_key`, orgID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: users: %w", err)
	}
	defer rows.Close()
	batches := make(chan []string, 4)
	decoded := make(chan struct{})
	var users []*store.User
	var decodeErr error // users and decodeErr are the decoder's until decoded closes
	go func() {
		defer close(decoded)
		var chunk []store.User
		for batch := range batches {
			for _, row := range batch {
				if decodeErr != nil {
					break // drain the rest
				}
				if len(chunk) == 0 {
					chunk = make([]store.User, usersPerAlloc)
				}
				u := &chunk[0]
				chunk = chunk[1:]
				if decodeErr = decodeUser(row, u); decodeErr == nil {
					users = append(users, u)
				}
			}
		}
	}()
	err = func() error {
		defer close(batches) // also if the driver panics: the decoder ends
		var row string
		batch := make([]string, 0, usersPerBatch)
		for rows.Next() {
			if err := rows.Scan(&row); err != nil {
				return err
			}
			if batch = append(batch, row); len(batch) == usersPerBatch {
				batches <- batch
				batch = make([]string, 0, usersPerBatch)
			}
		}
		if len(batch) > 0 {
			batches <- batch
		}
		return rows.Err()
	}()
	<-decoded
	if err == nil {
		err = decodeErr
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: users: %w", err)
	}
	return users, nil
}

// UsersPage walks users_by_org_id (migration 0006).
func (r *reader) UsersPage(orgID, afterID string, limit int) ([]*store.User, error) {
	if limit <= 0 {
		return nil, nil
	}
	return queryAll(r, "users page", scanUser,
		`SELECT `+userRow+` FROM users WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`, orgID, afterID, limit)
}

// UsersPageWhere is UsersPage for the users with the status ("": any)
// whose login, email, first name or last name begins with prefix ("":
// any), without case as strings.EqualFold compares (directory's q). It
// is one statement
// however few users match: the filter picks the ids in a scan of the
// table in storage order, and the page's rows are then read by id. The
// scan reads every org's rows; a walk of users_by_org_id would read only
// the org's, but look each up at random, some 8 times slower for an org
// of 100,000 (an index of the searched columns would avoid both).
func (r *reader) UsersPageWhere(orgID, afterID string, limit int, status, prefix string) ([]*store.User, error) {
	if status == "" && prefix == "" {
		return r.UsersPage(orgID, afterID, limit)
	}
	if limit <= 0 {
		return nil, nil
	}
	where, args := "", []any{orgID, afterID}
	if status != "" {
		where += ` AND status = ?`
		args = append(args, status)
	}
	if prefix != "" {
		// Blobs: a text argument reaches a Go function cut at its first NUL.
		match, arg := `dirgate_has_prefix_fold(CAST(%s AS BLOB), ?)`, any([]byte(prefix))
		if printableASCII(prefix) {
			// For a printable ASCII prefix, LIKE (which folds ASCII
			// letters only) selects what EqualFold does: the runes that
			// fold to ASCII letters (KELVIN SIGN, LONG S) take more bytes,
			// so the prefix's length of a value holding one never
			// matches. LIKE is some 2.5 times faster than a Go function.
			match, arg = `%s LIKE ? ESCAPE '\'`, likeEscaper.Replace(prefix)+"%"
		}
		var ors []string
		for _, col := range [...]string{"login", "email", "first_name", "last_name"} {
			ors = append(ors, fmt.Sprintf(match, col))
			args = append(args, arg)
		}
		where += ` AND (` + strings.Join(ors, " OR ") + `)`
	}
	return queryAll(r, "users page", scanUser, `SELECT `+userRow+` FROM users WHERE id IN (
		SELECT id FROM users NOT INDEXED WHERE org_id = ? AND id > ?`+where+` ORDER BY id LIMIT ?) ORDER BY id`,
		append(args, limit)...)
}

// GroupUsers returns the users of a group ordered by id: GroupMembers and
// User for each, in one statement.
func (r *reader) GroupUsers(groupID string) ([]*store.User, error) {
	return queryAll(r, "group users", scanUser,
		`SELECT `+userRow+` FROM users WHERE id IN (SELECT user_id FROM memberships WHERE group_id = ?) ORDER BY id`, groupID)
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// dirgate_has_prefix_fold(s, prefix), of two blobs, is UsersPageWhere's
// match for a prefix beyond printable ASCII: s begins with prefix,
// without case as bytes.EqualFold compares prefix's length of s.
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("dirgate_has_prefix_fold", 2,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			s, _ := args[0].([]byte)
			p, _ := args[1].([]byte)
			return len(s) >= len(p) && bytes.EqualFold(s[:len(p)], p), nil
		})
}

// UserCounts walks users_by_org_id (migration 0006).
func (r *reader) UserCounts(orgID string) (map[string]int, error) {
	rows, err := r.query(`SELECT status, count(*) FROM users WHERE org_id = ? GROUP BY status`, orgID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: user counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("sqlite: user counts: %w", err)
		}
		out[status] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: user counts: %w", err)
	}
	return out, nil
}

// --- groups

const groupCols = `id, org_id, name_key, name, description, created, last_updated, last_membership_updated, gid_number`

func scanGroup(sc scanner) (*store.Group, error) {
	var g store.Group
	var t [3]sql.NullInt64
	if err := sc.Scan(&g.ID, &g.OrgID, &g.NameKey, &g.Name, &g.Description, &t[0], &t[1], &t[2], &g.GIDNumber); err != nil {
		return nil, err
	}
	g.Created, g.LastUpdated, g.LastMembershipUpdated = fromNanos(t[0]), fromNanos(t[1]), fromNanos(t[2])
	return &g, nil
}

func (r *reader) Group(id string) (*store.Group, error) {
	g, err := scanGroup(r.queryRow(`SELECT `+groupCols+` FROM groups WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "group", id)
	}
	return g, nil
}

func (r *reader) GroupByName(orgID, nameKey string) (*store.Group, error) {
	g, err := scanGroup(r.queryRow(`SELECT `+groupCols+` FROM groups WHERE org_id = ? AND name_key = ?`, orgID, nameKey))
	if err != nil {
		return nil, notFound(err, "group", nameKey)
	}
	return g, nil
}

func (r *reader) Groups(orgID string) ([]*store.Group, error) {
	return queryAll(r, "groups", scanGroup, `SELECT `+groupCols+` FROM groups WHERE org_id = ? ORDER BY name_key`, orgID)
}

// --- memberships

// Memberships reads a row per group, its members as one JSON array
// (rowjson.go), ordered by g.id (equal to m.group_id) so that SQLite walks
// groups_by_org in order instead of sorting. The members come in the
// order SQLite scans the memberships key, which is user id order, but SQL
// does not promise it: they are sorted here if not (an ORDER BY inside
// the aggregate costs SQLite a sort per group). The memberships of a
// group share its id and the array's memory.
func (r *reader) Memberships(orgID string) ([]store.Membership, error) {
	rows, err := r.query(`SELECT g.id, json_group_array(m.user_id)
		FROM groups g JOIN memberships m ON m.group_id = g.id
		WHERE g.org_id = ? GROUP BY g.id ORDER BY g.id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: memberships: %w", err)
	}
	defer rows.Close()
	var groups []string
	var ends []int // groups[i]'s members are users[ends[i-1]:ends[i]]
	var users []string
	var groupID, row string
	for rows.Next() {
		if err := rows.Scan(&groupID, &row); err != nil {
			return nil, fmt.Errorf("sqlite: memberships: %w", err)
		}
		start := len(users)
		d := newRowJSON(row)
		if users, err = d.strs(users); err != nil {
			return nil, fmt.Errorf("sqlite: memberships of group %s: %w", groupID, err)
		}
		if members := users[start:]; !slices.IsSorted(members) {
			slices.Sort(members)
		}
		groups = append(groups, groupID)
		ends = append(ends, len(users))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: memberships: %w", err)
	}
	if len(users) == 0 {
		return nil, nil
	}
	out := make([]store.Membership, len(users))
	start := 0
	for i, g := range groups {
		for j := start; j < ends[i]; j++ {
			out[j] = store.Membership{GroupID: g, UserID: users[j]}
		}
		start = ends[i]
	}
	return out, nil
}

func (r *reader) GroupMembers(groupID string) ([]string, error) {
	return r.ids("members", `SELECT user_id FROM memberships WHERE group_id = ? ORDER BY user_id`, groupID)
}

func (r *reader) UserGroups(userID string) ([]string, error) {
	return r.ids("groups of user", `SELECT group_id FROM memberships WHERE user_id = ? ORDER BY group_id`, userID)
}

// --- group links (migration 0011)

// GroupLinks walks groups_by_org in id order and each group's part of
// the group_links key (links never cross orgs, so the parent's org is
// the link's).
func (r *reader) GroupLinks(orgID string) ([]store.GroupLink, error) {
	return queryAll(r, "group links", func(sc scanner) (l store.GroupLink, err error) {
		err = sc.Scan(&l.ParentID, &l.ChildID)
		return l, err
	}, `SELECT l.parent_id, l.child_id FROM groups g JOIN group_links l ON l.parent_id = g.id
		WHERE g.org_id = ? ORDER BY l.parent_id, l.child_id`, orgID)
}

func (r *reader) ChildGroups(groupID string) ([]string, error) {
	return r.ids("child groups", `SELECT child_id FROM group_links WHERE parent_id = ? ORDER BY child_id`, groupID)
}

// ParentGroups walks group_links_by_child.
func (r *reader) ParentGroups(groupID string) ([]string, error) {
	return r.ids("parent groups", `SELECT parent_id FROM group_links WHERE child_id = ? ORDER BY parent_id`, groupID)
}

// ids runs q, which selects one text column, with arg.
func (r *reader) ids(what, q, arg string) ([]string, error) {
	return queryAll(r, what, func(sc scanner) (id string, err error) {
		err = sc.Scan(&id)
		return id, err
	}, q, arg)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// queryAll runs q and scans every row of its result with scan.
func queryAll[T any](r *reader, what string, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := r.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return out, nil
}

// tx implements store.Tx. seq is the last sequence number handed out in
// this transaction; Update writes it to meta once, before commit.
type tx struct {
	reader
	seq uint64
	// err is set when a write failed in a way other than a conflict or a
	// missing key (which leave the transaction as it was): Update then
	// refuses to commit even if fn ignored the error.
	err error
}

// Seq includes the changes made so far in this transaction.
func (t *tx) Seq() (uint64, error) { return t.seq, nil }

// fail records err if it may have left the transaction half written.
func (t *tx) fail(err error) error {
	if t.err == nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
		t.err = err
	}
	return err
}

// record writes the change row for one write.
func (t *tx) record(orgID string, kind store.Kind, id string) error {
	_, err := t.exec(`INSERT INTO changes (seq, org_id, kind, id, at) VALUES (?, ?, ?, ?, ?)`,
		t.seq+1, orgID, string(kind), id, time.Now().UnixNano())
	if err != nil {
		return t.fail(fmt.Errorf("sqlite: record change: %w", err))
	}
	t.seq++
	return nil
}

func (t *tx) CreateOrg(o *store.Org) error {
	attrs, err := marshal(len(o.CustomAttributes), o.CustomAttributes)
	if err != nil {
		return err
	}
	created, err := nanos(o.Created)
	if err != nil {
		return err
	}
	if _, err := t.exec(`INSERT INTO orgs (`+orgCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		o.ID, o.Name, o.Suffix, created, attrs, o.MFASeparator, selfService(o), ldapSettings(o)); err != nil {
		return t.fail(fmt.Errorf("sqlite: create org %q: %w", o.Name, mapErr(err)))
	}
	return t.record(o.ID, store.KindOrg, o.ID)
}

func (t *tx) UpdateOrg(o *store.Org) error {
	attrs, err := marshal(len(o.CustomAttributes), o.CustomAttributes)
	if err != nil {
		return err
	}
	created, err := nanos(o.Created)
	if err != nil {
		return err
	}
	res, err := t.exec(`UPDATE orgs SET name = ?, suffix = ?, created = ?, custom_attributes = ?, mfa_separator = ?, self_service = ?, ldap_settings = ? WHERE id = ?`,
		o.Name, o.Suffix, created, attrs, o.MFASeparator, selfService(o), ldapSettings(o), o.ID)
	if err != nil {
		return t.fail(fmt.Errorf("sqlite: update org %q: %w", o.ID, mapErr(err)))
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.fail(err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: update org %q: %w", o.ID, store.ErrNotFound)
	}
	return t.record(o.ID, store.KindOrg, o.ID)
}

// selfService is the self_service column of o: NULL for the default
// (nil), else a JSON array, "[]" when users may edit nothing.
func selfService(o *store.Org) any {
	if o.SelfServiceAttributes == nil {
		return nil
	}
	b, _ := json.Marshal(o.SelfServiceAttributes) // a []string always marshals
	return string(b)
}

// ldapSettings is the ldap_settings column of o: NULL for Okta's
// behaviour, else a JSON object.
func ldapSettings(o *store.Org) any {
	if b := store.MarshalLDAPSettings(o.LDAP); b != nil {
		return string(b)
	}
	return nil
}

func (t *tx) DeleteOrg(id string) error {
	// Children first; memberships, factors, logins and user tokens go
	// with their users and groups (ON DELETE CASCADE).
	for _, q := range []string{
		`DELETE FROM memberships WHERE group_id IN (SELECT id FROM groups WHERE org_id = ?)`,
		// Links never cross orgs: each is a link of its parent's org.
		`DELETE FROM group_links WHERE parent_id IN (SELECT id FROM groups WHERE org_id = ?)`,
		`DELETE FROM factors WHERE org_id = ?`,
		`DELETE FROM api_tokens WHERE org_id = ?`,
		`DELETE FROM policies WHERE org_id = ?`,
		`DELETE FROM sync_users WHERE integration_id IN (SELECT id FROM integrations WHERE org_id = ?)`,
		`DELETE FROM sync_groups WHERE integration_id IN (SELECT id FROM integrations WHERE org_id = ?)`,
		`DELETE FROM integrations WHERE org_id = ?`,
		`DELETE FROM posix_counters WHERE org_id = ?`,
		`DELETE FROM users WHERE org_id = ?`,
		`DELETE FROM groups WHERE org_id = ?`,
	} {
		if _, err := t.exec(q, id); err != nil {
			return t.fail(fmt.Errorf("sqlite: delete org %q: %w", id, err))
		}
	}
	res, err := t.exec(`DELETE FROM orgs WHERE id = ?`, id)
	if err != nil {
		return t.fail(fmt.Errorf("sqlite: delete org %q: %w", id, err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.fail(err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: delete org %q: %w", id, store.ErrNotFound)
	}
	return t.record(id, store.KindOrg, id)
}

func (t *tx) CreateUser(u *store.User) error {
	args, err := userArgs(u)
	if err != nil {
		return fmt.Errorf("sqlite: create user %q: %w", u.ID, err)
	}
	if _, err := t.exec(`INSERT INTO users (`+userCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
		// A foreign key failure here means the org is missing; a unique
		// one, a taken id, login or uidNumber.
		return t.fail(fmt.Errorf("sqlite: create user %q in org %q: %w", u.ID, u.OrgID, mapErr(err)))
	}
	return t.record(u.OrgID, store.KindUser, u.ID)
}

// UpdateUser replaces the user; a user cannot move to another org.
func (t *tx) UpdateUser(u *store.User) error {
	args, err := userArgs(u)
	if err != nil {
		return fmt.Errorf("sqlite: update user %q: %w", u.ID, err)
	}
	res, err := t.exec(`UPDATE users SET login_key = ?3, status = ?4, type = ?5,
		login = ?6, email = ?7, first_name = ?8, last_name = ?9, display_name = ?10, nick_name = ?11, title = ?12,
		department = ?13, organization = ?14, mobile_phone = ?15, primary_phone = ?16, custom = ?17,
		password_hash = ?18, roles = ?19,
		created = ?20, activated = ?21, status_changed = ?22, last_login = ?23, last_updated = ?24, password_changed = ?25,
		failed_logins = ?26, last_failed_login = ?27, password_history = ?28, uid_number = ?29
		WHERE id = ?1 AND org_id = ?2`, args...)
	if err != nil {
		return t.fail(fmt.Errorf("sqlite: update user %q: %w", u.ID, mapErr(err)))
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.fail(err)
	} else if n == 0 {
		return t.moved("users", "user", u.ID, u.OrgID)
	}
	return t.record(u.OrgID, store.KindUser, u.ID)
}

// moved explains why an update keyed by id and org changed no row.
func (t *tx) moved(table, what, id, orgID string) error {
	var stored string
	err := t.queryRow(`SELECT org_id FROM `+table+` WHERE id = ?`, id).Scan(&stored)
	if err != nil {
		return notFound(err, what, id)
	}
	return fmt.Errorf("sqlite: update %s %q: cannot move it from org %q to %q", what, id, stored, orgID)
}

// DeleteUser removes the user, its memberships, factors and link (the
// foreign keys would cascade; deleting explicitly does not depend on them).
func (t *tx) DeleteUser(id string) error {
	if _, err := t.exec(`DELETE FROM memberships WHERE user_id = ?`, id); err != nil {
		return t.fail(fmt.Errorf("sqlite: delete user %q: %w", id, err))
	}
	if _, err := t.exec(`DELETE FROM factors WHERE user_id = ?`, id); err != nil {
		return t.fail(fmt.Errorf("sqlite: delete user %q: %w", id, err))
	}
	if _, err := t.exec(`DELETE FROM sync_users WHERE user_id = ?`, id); err != nil {
		return t.fail(fmt.Errorf("sqlite: delete user %q: %w", id, err))
	}
	var orgID string
	if err := t.queryRow(`DELETE FROM users WHERE id = ? RETURNING org_id`, id).Scan(&orgID); err != nil {
		return t.fail(notFound(err, "user", id))
	}
	return t.record(orgID, store.KindUser, id)
}

func groupArgs(g *store.Group) ([]any, error) {
	var ts [3]any
	var err error
	for i, v := range [3]time.Time{g.Created, g.LastUpdated, g.LastMembershipUpdated} {
		if ts[i], err = nanos(v); err != nil {
			return nil, err
		}
	}
	return []any{g.ID, g.OrgID, g.NameKey, g.Name, g.Description, ts[0], ts[1], ts[2], g.GIDNumber}, nil
}

func (t *tx) CreateGroup(g *store.Group) error {
	args, err := groupArgs(g)
	if err != nil {
		return fmt.Errorf("sqlite: create group %q: %w", g.ID, err)
	}
	if _, err := t.exec(`INSERT INTO groups (`+groupCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
		return t.fail(fmt.Errorf("sqlite: create group %q in org %q: %w", g.ID, g.OrgID, mapErr(err)))
	}
	return t.record(g.OrgID, store.KindGroup, g.ID)
}

// UpdateGroup replaces the group; a group cannot move to another org.
func (t *tx) UpdateGroup(g *store.Group) error {
	args, err := groupArgs(g)
	if err != nil {
		return fmt.Errorf("sqlite: update group %q: %w", g.ID, err)
	}
	res, err := t.exec(`UPDATE groups SET name_key = ?3, name = ?4, description = ?5,
		created = ?6, last_updated = ?7, last_membership_updated = ?8, gid_number = ?9 WHERE id = ?1 AND org_id = ?2`, args...)
	if err != nil {
		return t.fail(fmt.Errorf("sqlite: update group %q: %w", g.ID, mapErr(err)))
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.fail(err)
	} else if n == 0 {
		return t.moved("groups", "group", g.ID, g.OrgID)
	}
	return t.record(g.OrgID, store.KindGroup, g.ID)
}

// DeleteGroup removes the group, its memberships, its links to other
// groups (as parent and as child) and its integration link, and records
// the group's change, then a KindGroupLink change for each group it was
// in, in id order.
func (t *tx) DeleteGroup(id string) error {
	parents, err := t.ParentGroups(id)
	if err != nil {
		return t.fail(fmt.Errorf("sqlite: delete group %q: %w", id, err))
	}
	for _, q := range []string{
		`DELETE FROM memberships WHERE group_id = ?`,
		`DELETE FROM group_links WHERE parent_id = ?`,
		`DELETE FROM group_links WHERE child_id = ?`,
		`DELETE FROM sync_groups WHERE group_id = ?`,
	} {
		if _, err := t.exec(q, id); err != nil {
			return t.fail(fmt.Errorf("sqlite: delete group %q: %w", id, err))
		}
	}
	var orgID string
	if err := t.queryRow(`DELETE FROM groups WHERE id = ? RETURNING org_id`, id).Scan(&orgID); err != nil {
		return t.fail(notFound(err, "group", id))
	}
	if err := t.record(orgID, store.KindGroup, id); err != nil {
		return err
	}
	for _, p := range parents {
		if err := t.record(orgID, store.KindGroupLink, p); err != nil {
			return err
		}
	}
	return nil
}

// AddMember fails with store.ErrNotFound if the group or the user is missing.
func (t *tx) AddMember(groupID, userID string) (bool, error) {
	var orgID string
	if err := t.queryRow(`SELECT org_id FROM groups WHERE id = ?`, groupID).Scan(&orgID); err != nil {
		return false, t.fail(notFound(err, "group", groupID))
	}
	res, err := t.exec(`INSERT INTO memberships (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, groupID, userID)
	if err != nil {
		// The group exists, so a foreign key failure means the user is missing.
		return false, t.fail(fmt.Errorf("sqlite: add user %q to group %q: %w", userID, groupID, mapErr(err)))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, t.fail(err)
	}
	if n == 0 {
		return false, nil
	}
	return true, t.record(orgID, store.KindMembership, groupID)
}

// RemoveMember reports false, with no error, when there was no such
// membership (whether or not the group and user exist).
func (t *tx) RemoveMember(groupID, userID string) (bool, error) {
	var orgID string
	err := t.queryRow(`DELETE FROM memberships WHERE group_id = ? AND user_id = ?
		RETURNING (SELECT g.org_id FROM groups g WHERE g.id = memberships.group_id)`, groupID, userID).Scan(&orgID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, t.fail(fmt.Errorf("sqlite: remove user %q from group %q: %w", userID, groupID, err))
	}
	return true, t.record(orgID, store.KindMembership, groupID)
}

// linkOrg checks a group link's groups for AddGroupLink and
// RemoveGroupLink (what names the write in errors) and returns their
// org: a group in itself is store.ErrConflict; a missing parent, a
// missing child and a child of another org are store.ErrNotFound.
func (t *tx) linkOrg(what, parentID, childID string) (string, error) {
	if parentID == childID {
		return "", fmt.Errorf("sqlite: %s: group %q in itself: %w", what, parentID, store.ErrConflict)
	}
	var parentOrg, childOrg sql.NullString
	if err := t.queryRow(`SELECT (SELECT org_id FROM groups WHERE id = ?1), (SELECT org_id FROM groups WHERE id = ?2)`,
		parentID, childID).Scan(&parentOrg, &childOrg); err != nil {
		return "", t.fail(fmt.Errorf("sqlite: %s: %w", what, err))
	}
	switch {
	case !parentOrg.Valid:
		return "", fmt.Errorf("sqlite: %s: group %q: %w", what, parentID, store.ErrNotFound)
	case !childOrg.Valid:
		return "", fmt.Errorf("sqlite: %s: group %q: %w", what, childID, store.ErrNotFound)
	case childOrg.String != parentOrg.String:
		return "", fmt.Errorf("sqlite: %s: group %q in org %q: %w", what, childID, parentOrg.String, store.ErrNotFound)
	}
	return parentOrg.String, nil
}

// AddGroupLink puts group childID in group parentID; linkOrg says when
// it fails.
func (t *tx) AddGroupLink(parentID, childID string) (bool, error) {
	what := fmt.Sprintf("add group %q to group %q", childID, parentID)
	orgID, err := t.linkOrg(what, parentID, childID)
	if err != nil {
		return false, err
	}
	res, err := t.exec(`INSERT INTO group_links (parent_id, child_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, parentID, childID)
	if err != nil {
		return false, t.fail(fmt.Errorf("sqlite: %s: %w", what, mapErr(err)))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, t.fail(err)
	}
	if n == 0 {
		return false, nil // linked already
	}
	return true, t.record(orgID, store.KindGroupLink, parentID)
}

// RemoveGroupLink takes group childID out of group parentID; it reports
// false, with no error, when the child was not in the parent, and fails
// as AddGroupLink does (linkOrg) otherwise.
func (t *tx) RemoveGroupLink(parentID, childID string) (bool, error) {
	what := fmt.Sprintf("remove group %q from group %q", childID, parentID)
	if parentID == childID {
		_, err := t.linkOrg(what, parentID, childID)
		return false, err
	}
	var orgID string
	err := t.queryRow(`DELETE FROM group_links WHERE parent_id = ? AND child_id = ?
		RETURNING (SELECT g.org_id FROM groups g WHERE g.id = group_links.parent_id)`, parentID, childID).Scan(&orgID)
	if errors.Is(err, sql.ErrNoRows) {
		// No such link: say why if a group is missing or of another org.
		_, err := t.linkOrg(what, parentID, childID)
		return false, err
	}
	if err != nil {
		return false, t.fail(fmt.Errorf("sqlite: %s: %w", what, err))
	}
	return true, t.record(orgID, store.KindGroupLink, parentID)
}

// --- encoding

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// nanos encodes t as UTC unix nanoseconds, the zero time as NULL. Times
// outside 1677..2262 cannot be stored.
func nanos(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return nil, fmt.Errorf("time %s out of range", t)
	}
	return t.UnixNano(), nil
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// marshal encodes v as JSON text, or NULL when it is empty, so that nil
// and empty read back alike (as nil).
func marshal(n int, v any) (any, error) {
	if n == 0 {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// unmarshalString is unmarshal of a string.
func unmarshalString(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

func unmarshal(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}
