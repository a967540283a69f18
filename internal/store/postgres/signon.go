package postgres

import (
	"fmt"

	"github.com/dirgate/dirgate/internal/store"

	"github.com/jackc/pgx/v5/pgtype"
)

// Factors and policies: read and written like users and groups.

// --- factors

const factorCols = `id, org_id, user_id, type, status, secret, last_step, created, activated, last_updated`

func scanFactor(sc scanner) (*store.Factor, error) {
	var f store.Factor
	var t [3]pgtype.Timestamptz
	if err := sc.Scan(&f.ID, &f.OrgID, &f.UserID, &f.Type, &f.Status, &f.Secret, &f.LastStep, &t[0], &t[1], &t[2]); err != nil {
		return nil, err
	}
	f.Created, f.Activated, f.LastUpdated = fromTS(t[0]), fromTS(t[1]), fromTS(t[2])
	return &f, nil
}

func factorArgs(f *store.Factor) []any {
	return []any{f.ID, f.OrgID, f.UserID, f.Type, f.Status, f.Secret, f.LastStep, ts(f.Created), ts(f.Activated), ts(f.LastUpdated)}
}

func (r *reader) Factor(id string) (*store.Factor, error) {
	f, err := scanFactor(r.queryRow(`SELECT `+factorCols+` FROM factors WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "factor", id)
	}
	return f, nil
}

// Factors walks factors_by_user: no sort. The zero Created (NULL) sorts
// first, as the zero time is the earliest.
func (r *reader) Factors(userID string) ([]*store.Factor, error) {
	return queryAll(r, "factors", scanFactor,
		`SELECT `+factorCols+` FROM factors WHERE user_id = $1 ORDER BY created NULLS FIRST, id`, userID)
}

var (
	// createFactor checks that the user is in the factor's org.
	createFactor = recorded(`INSERT INTO factors (`+factorCols+`)
		SELECT `+params(1, 10)+` WHERE EXISTS (SELECT 1 FROM users WHERE id = $3 AND org_id = $2)
		ON CONFLICT DO NOTHING RETURNING org_id`, 10)
	updateFactor = recorded(`UPDATE factors SET type = $4, status = $5, secret = $6, last_step = $7,
		created = $8, activated = $9, last_updated = $10
		WHERE id = $1 AND org_id = $2 AND user_id = $3 RETURNING org_id`, 10)
	deleteFactor = recorded(`DELETE FROM factors WHERE id = $1 RETURNING org_id`, 1)
)

// CreateFactor fails with store.ErrNotFound when the user does not exist
// or belongs to another org than f.OrgID.
func (t *tx) CreateFactor(f *store.Factor) error {
	ok, err := t.write("create factor "+f.ID, createFactor, store.KindFactor, f.ID, factorArgs(f)...)
	if err == nil && !ok {
		err = t.userInOrg("factor", f.ID, f.UserID, f.OrgID)
	}
	return err
}

// UpdateFactor replaces the factor; a factor cannot move to another user
// (or org).
func (t *tx) UpdateFactor(f *store.Factor) error {
	ok, err := t.write("update factor "+f.ID, updateFactor, store.KindFactor, f.ID, factorArgs(f)...)
	if err != nil || ok {
		return err
	}
	var orgID, userID string
	if err := t.queryRow(`SELECT org_id, user_id FROM factors WHERE id = $1`, f.ID).Scan(&orgID, &userID); err != nil {
		return t.notFound(err, "factor", f.ID)
	}
	return fmt.Errorf("postgres: update factor %q: cannot move it from user %q of org %q to user %q of org %q",
		f.ID, userID, orgID, f.UserID, f.OrgID)
}

func (t *tx) DeleteFactor(id string) error {
	return t.remove("factor", deleteFactor, store.KindFactor, id)
}

// --- policies

const policyCols = `id, org_id, kind, name, name_key, priority, doc, created, last_updated`

func scanPolicy(sc scanner) (*store.Policy, error) {
	var p store.Policy
	var t [2]pgtype.Timestamptz
	if err := sc.Scan(&p.ID, &p.OrgID, &p.Kind, &p.Name, &p.NameKey, &p.Priority, &p.Doc, &t[0], &t[1]); err != nil {
		return nil, err
	}
	p.Created, p.LastUpdated = fromTS(t[0]), fromTS(t[1])
	return &p, nil
}

func policyArgs(p *store.Policy) []any {
	return []any{p.ID, p.OrgID, p.Kind, p.Name, p.NameKey, p.Priority, blob(p.Doc), ts(p.Created), ts(p.LastUpdated)}
}

func (r *reader) Policy(id string) (*store.Policy, error) {
	p, err := scanPolicy(r.queryRow(`SELECT `+policyCols+` FROM policies WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "policy", id)
	}
	return p, nil
}

// Policies sorts: an org has a handful.
func (r *reader) Policies(orgID string) ([]*store.Policy, error) {
	return queryAll(r, "policies", scanPolicy,
		`SELECT `+policyCols+` FROM policies WHERE org_id = $1 ORDER BY kind, priority, name_key`, orgID)
}

var (
	createPolicy = recorded(`INSERT INTO policies (`+policyCols+`)
		SELECT `+params(1, 9)+` WHERE EXISTS (SELECT 1 FROM orgs WHERE id = $2)
		ON CONFLICT DO NOTHING RETURNING org_id`, 9)
	updatePolicy = recorded(`UPDATE policies SET kind = $3, name = $4, name_key = $5, priority = $6, doc = $7,
		created = $8, last_updated = $9
		WHERE id = $1 AND org_id = $2 AND NOT EXISTS (SELECT 1 FROM policies o
			WHERE o.org_id = $2 AND o.kind = $3 AND o.name_key = $5 AND o.id <> $1)
		RETURNING org_id`, 9)
	deletePolicy = recorded(`DELETE FROM policies WHERE id = $1 RETURNING org_id`, 1)
)

func (t *tx) CreatePolicy(p *store.Policy) error {
	return t.create("policy", createPolicy, store.KindPolicy, p.ID, p.OrgID, policyArgs(p))
}

// UpdatePolicy replaces the policy; a policy cannot move to another org.
func (t *tx) UpdatePolicy(p *store.Policy) error {
	return t.update("policies", "policy", updatePolicy, store.KindPolicy, p.ID, p.OrgID, policyArgs(p))
}

func (t *tx) DeletePolicy(id string) error {
	return t.remove("policy", deletePolicy, store.KindPolicy, id)
}
