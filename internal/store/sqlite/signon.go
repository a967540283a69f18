package sqlite

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// Factors and policies: read and written like users and groups (tx.go).

// --- factors

const factorCols = `id, org_id, user_id, type, status, secret, last_step, created, activated, last_updated`

func scanFactor(sc scanner) (*store.Factor, error) {
	var f store.Factor
	var t [3]sql.NullInt64
	if err := sc.Scan(&f.ID, &f.OrgID, &f.UserID, &f.Type, &f.Status, &f.Secret, &f.LastStep, &t[0], &t[1], &t[2]); err != nil {
		return nil, err
	}
	f.Created, f.Activated, f.LastUpdated = fromNanos(t[0]), fromNanos(t[1]), fromNanos(t[2])
	return &f, nil
}

// factorArgs returns f's columns in factorCols order.
func factorArgs(f *store.Factor) ([]any, error) {
	var ts [3]any
	var err error
	for i, v := range [3]time.Time{f.Created, f.Activated, f.LastUpdated} {
		if ts[i], err = nanos(v); err != nil {
			return nil, err
		}
	}
	return []any{f.ID, f.OrgID, f.UserID, f.Type, f.Status, f.Secret, f.LastStep, ts[0], ts[1], ts[2]}, nil
}

func (r *reader) Factor(id string) (*store.Factor, error) {
	f, err := scanFactor(r.queryRow(`SELECT `+factorCols+` FROM factors WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "factor", id)
	}
	return f, nil
}

// Factors walks factors_by_user: no sort. The zero Created (NULL) sorts
// first, as the zero time is the earliest.
func (r *reader) Factors(userID string) ([]*store.Factor, error) {
	return queryAll(r, "factors", scanFactor,
		`SELECT `+factorCols+` FROM factors WHERE user_id = ? ORDER BY created, id`, userID)
}

// CreateFactor fails with store.ErrNotFound when the user does not exist
// or belongs to another org than f.OrgID.
func (t *tx) CreateFactor(f *store.Factor) error {
	args, err := factorArgs(f)
	if err != nil {
		return fmt.Errorf("sqlite: create factor %q: %w", f.ID, err)
	}
	var orgID string
	if err := t.queryRow(`SELECT org_id FROM users WHERE id = ?`, f.UserID).Scan(&orgID); err != nil {
		return t.fail(notFound(err, "user", f.UserID))
	}
	if orgID != f.OrgID {
		return fmt.Errorf("sqlite: create factor %q: user %q in org %q: %w", f.ID, f.UserID, f.OrgID, store.ErrNotFound)
	}
	if _, err := t.exec(`INSERT INTO factors (`+factorCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
		return t.fail(fmt.Errorf("sqlite: create factor %q of user %q: %w", f.ID, f.UserID, mapErr(err)))
	}
	return t.record(f.OrgID, store.KindFactor, f.ID)
}

// UpdateFactor replaces the factor; a factor cannot move to another user
// (or org).
func (t *tx) UpdateFactor(f *store.Factor) error {
	args, err := factorArgs(f)
	if err != nil {
		return fmt.Errorf("sqlite: update factor %q: %w", f.ID, err)
	}
	res, err := t.exec(`UPDATE factors SET type = ?4, status = ?5, secret = ?6, last_step = ?7,
		created = ?8, activated = ?9, last_updated = ?10 WHERE id = ?1 AND org_id = ?2 AND user_id = ?3`, args...)
	if err != nil {
		return t.fail(fmt.Errorf("sqlite: update factor %q: %w", f.ID, mapErr(err)))
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.fail(err)
	} else if n == 0 {
		var orgID, userID string
		err := t.queryRow(`SELECT org_id, user_id FROM factors WHERE id = ?`, f.ID).Scan(&orgID, &userID)
		if err != nil {
			return t.fail(notFound(err, "factor", f.ID))
		}
		return fmt.Errorf("sqlite: update factor %q: cannot move it from user %q of org %q to user %q of org %q",
			f.ID, userID, orgID, f.UserID, f.OrgID)
	}
	return t.record(f.OrgID, store.KindFactor, f.ID)
}

func (t *tx) DeleteFactor(id string) error {
	var orgID string
	if err := t.queryRow(`DELETE FROM factors WHERE id = ? RETURNING org_id`, id).Scan(&orgID); err != nil {
		return t.fail(notFound(err, "factor", id))
	}
	return t.record(orgID, store.KindFactor, id)
}

// --- policies

const policyCols = `id, org_id, kind, name, name_key, priority, doc, created, last_updated`

func scanPolicy(sc scanner) (*store.Policy, error) {
	var p store.Policy
	var t [2]sql.NullInt64
	if err := sc.Scan(&p.ID, &p.OrgID, &p.Kind, &p.Name, &p.NameKey, &p.Priority, &p.Doc, &t[0], &t[1]); err != nil {
		return nil, err
	}
	p.Created, p.LastUpdated = fromNanos(t[0]), fromNanos(t[1])
	return &p, nil
}

// policyArgs returns p's columns in policyCols order.
func policyArgs(p *store.Policy) ([]any, error) {
	created, err := nanos(p.Created)
	if err != nil {
		return nil, err
	}
	updated, err := nanos(p.LastUpdated)
	if err != nil {
		return nil, err
	}
	return []any{p.ID, p.OrgID, p.Kind, p.Name, p.NameKey, p.Priority, blob(p.Doc), created, updated}, nil
}

func (r *reader) Policy(id string) (*store.Policy, error) {
	p, err := scanPolicy(r.queryRow(`SELECT `+policyCols+` FROM policies WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "policy", id)
	}
	return p, nil
}

// Policies sorts: an org has a handful.
func (r *reader) Policies(orgID string) ([]*store.Policy, error) {
	return queryAll(r, "policies", scanPolicy,
		`SELECT `+policyCols+` FROM policies WHERE org_id = ? ORDER BY kind, priority, name_key`, orgID)
}

func (t *tx) CreatePolicy(p *store.Policy) error {
	args, err := policyArgs(p)
	if err != nil {
		return fmt.Errorf("sqlite: create policy %q: %w", p.ID, err)
	}
	if _, err := t.exec(`INSERT INTO policies (`+policyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
		// A foreign key failure here means the org is missing.
		return t.fail(fmt.Errorf("sqlite: create %s policy %q in org %q: %w", p.Kind, p.Name, p.OrgID, mapErr(err)))
	}
	return t.record(p.OrgID, store.KindPolicy, p.ID)
}

// UpdatePolicy replaces the policy; a policy cannot move to another org.
func (t *tx) UpdatePolicy(p *store.Policy) error {
	args, err := policyArgs(p)
	if err != nil {
		return fmt.Errorf("sqlite: update policy %q: %w", p.ID, err)
	}
	res, err := t.exec(`UPDATE policies SET kind = ?3, name = ?4, name_key = ?5, priority = ?6, doc = ?7,
		created = ?8, last_updated = ?9 WHERE id = ?1 AND org_id = ?2`, args...)
	if err != nil {
		return t.fail(fmt.Errorf("sqlite: update policy %q: %w", p.ID, mapErr(err)))
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.fail(err)
	} else if n == 0 {
		return t.moved("policies", "policy", p.ID, p.OrgID)
	}
	return t.record(p.OrgID, store.KindPolicy, p.ID)
}

func (t *tx) DeletePolicy(id string) error {
	var orgID string
	if err := t.queryRow(`DELETE FROM policies WHERE id = ? RETURNING org_id`, id).Scan(&orgID); err != nil {
		return t.fail(notFound(err, "policy", id))
	}
	return t.record(orgID, store.KindPolicy, id)
}

// blob passes a document to SQLite: NULL when empty, so that nil and
// empty read back alike (as nil).
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
