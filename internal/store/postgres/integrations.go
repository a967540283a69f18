package postgres

import (
	"errors"
	"fmt"

	"github.com/dirgate/dirgate/internal/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Directory integrations and their links.

const integrationCols = `id, org_id, name, name_key, kind, is_default, settings, owned, secret, state, created, last_updated`

func scanIntegration(sc scanner) (*store.Integration, error) {
	var in store.Integration
	var t [2]pgtype.Timestamptz
	if err := sc.Scan(&in.ID, &in.OrgID, &in.Name, &in.NameKey, &in.Kind, &in.Default, &in.Settings, &in.Owned,
		&in.Secret, &in.State, &t[0], &t[1]); err != nil {
		return nil, err
	}
	in.Created, in.LastUpdated = fromTS(t[0]), fromTS(t[1])
	return &in, nil
}

func integrationArgs(in *store.Integration) []any {
	return []any{in.ID, in.OrgID, in.Name, in.NameKey, in.Kind, in.Default, blob(in.Settings), list(in.Owned),
		in.Secret, blob(in.State), ts(in.Created), ts(in.LastUpdated)}
}

func (r *reader) Integration(id string) (*store.Integration, error) {
	in, err := scanIntegration(r.queryRow(`SELECT `+integrationCols+` FROM integrations WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "integration", id)
	}
	return in, nil
}

func (r *reader) Integrations(orgID string) ([]*store.Integration, error) {
	return queryAll(r, "integrations", scanIntegration,
		`SELECT `+integrationCols+` FROM integrations WHERE org_id = $1 ORDER BY name_key`, orgID)
}

func scanLink(sc scanner) (store.SyncLink, error) {
	var l store.SyncLink
	err := sc.Scan(&l.IntegrationID, &l.ExternalID, &l.LocalID)
	return l, err
}

func (r *reader) SyncUsers(integrationID string) ([]store.SyncLink, error) {
	return queryAll(r, "sync users", scanLink,
		`SELECT integration_id, external_id, user_id FROM sync_users WHERE integration_id = $1 ORDER BY external_id`, integrationID)
}

func (r *reader) SyncGroups(integrationID string) ([]store.SyncLink, error) {
	return queryAll(r, "sync groups", scanLink,
		`SELECT integration_id, external_id, group_id FROM sync_groups WHERE integration_id = $1 ORDER BY external_id`, integrationID)
}

func (r *reader) UserIntegration(userID string) (string, error) {
	var id string
	err := r.queryRow(`SELECT integration_id FROM sync_users WHERE user_id = $1`, userID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("postgres: integration of user %q: %w", userID, err)
	}
	return id, nil
}

var (
	createIntegration = recorded(`INSERT INTO integrations (`+integrationCols+`)
		SELECT `+params(1, 12)+` WHERE EXISTS (SELECT 1 FROM orgs WHERE id = $2)
		ON CONFLICT DO NOTHING RETURNING org_id`, 12)
	updateIntegration = recorded(`UPDATE integrations SET name = $3, name_key = $4, kind = $5, is_default = $6,
		settings = $7, owned = $8, secret = $9, state = $10, created = $11, last_updated = $12
		WHERE id = $1 AND org_id = $2
			AND NOT EXISTS (SELECT 1 FROM integrations o WHERE o.org_id = $2 AND o.name_key = $4 AND o.id <> $1)
		RETURNING org_id`, 12)
	// deleteIntegration: its links go with it, its users and groups stay.
	deleteIntegration = recorded(`DELETE FROM integrations WHERE id = $1 RETURNING org_id`, 1)
)

func (t *tx) CreateIntegration(in *store.Integration) error {
	return t.create("integration", createIntegration, store.KindIntegration, in.ID, in.OrgID, integrationArgs(in))
}

// UpdateIntegration replaces the integration; it cannot move to another
// org.
func (t *tx) UpdateIntegration(in *store.Integration) error {
	return t.update("integrations", "integration", updateIntegration, store.KindIntegration, in.ID, in.OrgID, integrationArgs(in))
}

func (t *tx) DeleteIntegration(id string) error {
	return t.remove("integration", deleteIntegration, store.KindIntegration, id)
}

// linkTable is what differs between the links of users and of groups.
type linkTable struct {
	what               string // "user" or "group"
	check, put, delete string // statements
}

func newLinkTable(what, table, col, local string) linkTable {
	return linkTable{
		what: what,
		// check reads, for link (integration $1, external id $2, local id
		// $3): the integration's org, the local record's, and whether the
		// local record is linked elsewhere.
		check: `SELECT (SELECT org_id FROM integrations WHERE id = $1), (SELECT org_id FROM ` + local + ` WHERE id = $3),
			EXISTS (SELECT 1 FROM ` + table + ` WHERE ` + col + ` = $3 AND (integration_id <> $1 OR external_id <> $2))`,
		put: recorded(`INSERT INTO `+table+` (integration_id, external_id, `+col+`) VALUES ($1, $2, $3)
			ON CONFLICT (integration_id, external_id) DO UPDATE SET `+col+` = excluded.`+col+`
			RETURNING (SELECT org_id FROM integrations WHERE id = $1) AS org_id`, 3),
		delete: recorded(`DELETE FROM `+table+` WHERE integration_id = $1 AND external_id = $2
			RETURNING (SELECT org_id FROM integrations WHERE id = $1) AS org_id`, 2),
	}
}

var (
	userLinks  = newLinkTable("user", "sync_users", "user_id", "users")
	groupLinks = newLinkTable("group", "sync_groups", "group_id", "groups")
)

func (t *tx) PutSyncUser(l store.SyncLink) error  { return t.putLink(userLinks, l) }
func (t *tx) PutSyncGroup(l store.SyncLink) error { return t.putLink(groupLinks, l) }

// putLink links l.LocalID (in the integration's org) to the
// integration's external id, replacing that external id's link. It
// checks first, so a refused link changes nothing.
func (t *tx) putLink(lt linkTable, l store.SyncLink) error {
	var orgID, localOrg *string
	var elsewhere bool
	if err := t.queryRow(lt.check, l.IntegrationID, l.ExternalID, l.LocalID).Scan(&orgID, &localOrg, &elsewhere); err != nil {
		return t.fail(fmt.Errorf("postgres: link %q: %w", l.ExternalID, err))
	}
	switch {
	case orgID == nil:
		return fmt.Errorf("postgres: link %q: integration %q: %w", l.ExternalID, l.IntegrationID, store.ErrNotFound)
	case localOrg == nil:
		return fmt.Errorf("postgres: link %q: %s %q: %w", l.ExternalID, lt.what, l.LocalID, store.ErrNotFound)
	case *localOrg != *orgID:
		return fmt.Errorf("postgres: link %s %q to integration %q of another org: %w", lt.what, l.LocalID, l.IntegrationID, store.ErrNotFound)
	case elsewhere:
		return fmt.Errorf("postgres: link %q: %s %q is linked already: %w", l.ExternalID, lt.what, l.LocalID, store.ErrConflict)
	}
	_, err := t.write("link "+l.ExternalID, lt.put, store.KindIntegration, l.IntegrationID, l.IntegrationID, l.ExternalID, l.LocalID)
	return err
}

func (t *tx) DeleteSyncUser(integrationID, externalID string) (bool, error) {
	return t.write("unlink "+externalID, userLinks.delete, store.KindIntegration, integrationID, integrationID, externalID)
}

func (t *tx) DeleteSyncGroup(integrationID, externalID string) (bool, error) {
	return t.write("unlink "+externalID, groupLinks.delete, store.KindIntegration, integrationID, integrationID, externalID)
}
