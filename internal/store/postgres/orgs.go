package postgres

import (
	"fmt"
	"time"

	"github.com/dirgate/dirgate/internal/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

const orgCols = `id, name, suffix, created, custom_attributes, mfa_separator, self_service, ldap_settings`

func scanOrg(sc scanner) (*store.Org, error) {
	var o store.Org
	var created pgtype.Timestamptz
	var self *[]string // nil for NULL, the default set
	var ldapSettings *string
	if err := sc.Scan(&o.ID, &o.Name, &o.Suffix, &created, &o.CustomAttributes, &o.MFASeparator, &self, &ldapSettings); err != nil {
		return nil, err
	}
	if ldapSettings != nil {
		var err error
		if o.LDAP, err = store.UnmarshalLDAPSettings([]byte(*ldapSettings)); err != nil {
			return nil, fmt.Errorf("org %s ldap_settings: %w", o.ID, err)
		}
	}
	o.Created = fromTS(created)
	if self != nil {
		o.SelfServiceAttributes = append([]string{}, *self...) // empty, not nil, for '{}'
	}
	return &o, nil
}

// orgArgs returns o's columns in orgCols order. self_service keeps nil
// (NULL: the default set) apart from empty ('{}': nothing editable).
func orgArgs(o *store.Org) []any {
	var self any
	if o.SelfServiceAttributes != nil {
		self = append([]string{}, o.SelfServiceAttributes...)
	}
	var ldapSettings any
	if b := store.MarshalLDAPSettings(o.LDAP); b != nil {
		ldapSettings = string(b)
	}
	return []any{o.ID, o.Name, o.Suffix, ts(o.Created), list(o.CustomAttributes), o.MFASeparator, self, ldapSettings}
}

func (r *reader) Org(id string) (*store.Org, error) {
	o, err := scanOrg(r.queryRow(`SELECT `+orgCols+` FROM orgs WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "org", id)
	}
	return o, nil
}

func (r *reader) OrgByName(name string) (*store.Org, error) {
	o, err := scanOrg(r.queryRow(`SELECT `+orgCols+` FROM orgs WHERE name = $1`, name))
	if err != nil {
		return nil, notFound(err, "org", name)
	}
	return o, nil
}

// Orgs returns every org, ordered by name.
func (r *reader) Orgs() ([]*store.Org, error) {
	return queryAll(r, "orgs", scanOrg, `SELECT `+orgCols+` FROM orgs ORDER BY name`)
}

var (
	createOrg = recorded(`INSERT INTO orgs (`+orgCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT DO NOTHING RETURNING id AS org_id`, 8)
	updateOrg = recorded(`UPDATE orgs SET name = $2, suffix = $3, created = $4, custom_attributes = $5,
		mfa_separator = $6, self_service = $7, ldap_settings = $8
		WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM orgs o WHERE o.name = $2 AND o.id <> $1)
		RETURNING id AS org_id`, 8)
	deleteOrg = recorded(`DELETE FROM orgs WHERE id = $1 RETURNING id AS org_id`, 1)
)

func (t *tx) CreateOrg(o *store.Org) error {
	ok, err := t.write("create org "+o.Name, createOrg, store.KindOrg, o.ID, orgArgs(o)...)
	if err == nil && !ok {
		err = fmt.Errorf("postgres: create org %q (%s): %w", o.Name, o.ID, store.ErrConflict)
	}
	return err
}

func (t *tx) UpdateOrg(o *store.Org) error {
	ok, err := t.write("update org "+o.ID, updateOrg, store.KindOrg, o.ID, orgArgs(o)...)
	if err == nil && !ok {
		err = t.orgWhy(o.ID)
	}
	return err
}

// orgWhy explains why UpdateOrg wrote nothing: the org is missing, or
// its new name is taken.
func (t *tx) orgWhy(id string) error {
	var ok bool
	if err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM orgs WHERE id = $1)`, id).Scan(&ok); err != nil {
		return t.fail(fmt.Errorf("postgres: update org %q: %w", id, err))
	}
	if !ok {
		return fmt.Errorf("postgres: update org %q: %w", id, store.ErrNotFound)
	}
	return fmt.Errorf("postgres: update org %q: name taken: %w", id, store.ErrConflict)
}

// deleteOrgContents are the statements that empty an org before it goes,
// children first. Memberships, factors, logins, tokens and links of its
// users and groups would go with them (ON DELETE CASCADE); deleting them
// by org first is one statement each instead of one per user.
var deleteOrgContents = []string{
	`DELETE FROM memberships WHERE group_id IN (SELECT id FROM groups WHERE org_id = $1)`,
	// Links never cross orgs: each is a link of its parent's org.
	`DELETE FROM group_links WHERE parent_id IN (SELECT id FROM groups WHERE org_id = $1)`,
	`DELETE FROM factors WHERE org_id = $1`,
	`DELETE FROM api_tokens WHERE org_id = $1`,
	`DELETE FROM policies WHERE org_id = $1`,
	`DELETE FROM integrations WHERE org_id = $1`, // and their links
	`DELETE FROM posix_counters WHERE org_id = $1`,
	`DELETE FROM users WHERE org_id = $1`,
	`DELETE FROM groups WHERE org_id = $1`,
}

// DeleteOrg sends the org's deletes in one batch: one round trip.
func (t *tx) DeleteOrg(id string) error {
	b := &pgx.Batch{}
	for _, q := range deleteOrgContents {
		b.Queue(q, id)
	}
	b.Queue(deleteOrg, id, t.seq+1, string(store.KindOrg), id, time.Now())
	res := t.tx.SendBatch(t.ctx, b)
	for range deleteOrgContents {
		if _, err := res.Exec(); err != nil {
			res.Close()
			return t.fail(fmt.Errorf("postgres: delete org %q: %w", id, mapErr(err)))
		}
	}
	tag, err := res.Exec()
	if cerr := res.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return t.fail(fmt.Errorf("postgres: delete org %q: %w", id, mapErr(err)))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete org %q: %w", id, store.ErrNotFound)
	}
	t.seq++
	return nil
}
