package sqlite

import (
	"database/sql"
	"fmt"

	"github.com/dirgate/dirgate/internal/store"
)

// Directory integrations and their links (migration 0009).

const integrationCols = `id, org_id, name, name_key, kind, is_default, settings, owned, secret, state, created, last_updated`

func scanIntegration(sc scanner) (*store.Integration, error) {
	var in store.Integration
	var t [2]sql.NullInt64
	var owned []byte
	if err := sc.Scan(&in.ID, &in.OrgID, &in.Name, &in.NameKey, &in.Kind, &in.Default, &in.Settings, &owned, &in.Secret, &in.State, &t[0], &t[1]); err != nil {
		return nil, err
	}
	if err := unmarshal(owned, &in.Owned); err != nil {
		return nil, fmt.Errorf("integration %s owned: %w", in.ID, err)
	}
	in.Created, in.LastUpdated = fromNanos(t[0]), fromNanos(t[1])
	return &in, nil
}

func integrationArgs(in *store.Integration) ([]any, error) {
	created, err := nanos(in.Created)
	if err != nil {
		return nil, err
	}
	updated, err := nanos(in.LastUpdated)
	if err != nil {
		return nil, err
	}
	owned, err := marshal(len(in.Owned), in.Owned)
	if err != nil {
		return nil, err
	}
	return []any{in.ID, in.OrgID, in.Name, in.NameKey, in.Kind, in.Default, blob(in.Settings), owned, in.Secret, blob(in.State), created, updated}, nil
}

func (r *reader) Integration(id string) (*store.Integration, error) {
	in, err := scanIntegration(r.queryRow(`SELECT `+integrationCols+` FROM integrations WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "integration", id)
	}
	return in, nil
}

func (r *reader) Integrations(orgID string) ([]*store.Integration, error) {
	return queryAll(r, "integrations", scanIntegration,
		`SELECT `+integrationCols+` FROM integrations WHERE org_id = ? ORDER BY name_key`, orgID)
}

func scanLink(sc scanner) (store.SyncLink, error) {
	var l store.SyncLink
	err := sc.Scan(&l.IntegrationID, &l.ExternalID, &l.LocalID)
	return l, err
}

func (r *reader) SyncUsers(integrationID string) ([]store.SyncLink, error) {
	return queryAll(r, "sync users", scanLink,
		`SELECT integration_id, external_id, user_id FROM sync_users WHERE integration_id = ? ORDER BY external_id`, integrationID)
}

func (r *reader) SyncGroups(integrationID string) ([]store.SyncLink, error) {
	return queryAll(r, "sync groups", scanLink,
		`SELECT integration_id, external_id, group_id FROM sync_groups WHERE integration_id = ? ORDER BY external_id`, integrationID)
}

func (r *reader) UserIntegration(userID string) (string, error) {
	var id string
	err := r.queryRow(`SELECT integration_id FROM sync_users WHERE user_id = ?`, userID).Scan(&id)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: integration of user %q: %w", userID, err)
	}
	return id, nil
}

func (t *tx) CreateIntegration(in *store.Integration) error {
	args, err := integrationArgs(in)
	if err != nil {
		return fmt.Errorf("sqlite: create integration %q: %w", in.ID, err)
	}
	if _, err := t.exec(`INSERT INTO integrations (`+integrationCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
		return t.fail(fmt.Errorf("sqlite: create integration %q in org %q: %w", in.Name, in.OrgID, mapErr(err)))
	}
	return t.record(in.OrgID, store.KindIntegration, in.ID)
}

// UpdateIntegration replaces the integration; it cannot move to another
// org.
func (t *tx) UpdateIntegration(in *store.Integration) error {
	args, err := integrationArgs(in)
	if err != nil {
		return fmt.Errorf("sqlite: update integration %q: %w", in.ID, err)
	}
	res, err := t.exec(`UPDATE integrations SET name = ?3, name_key = ?4, kind = ?5, is_default = ?6, settings = ?7,
		owned = ?8, secret = ?9, state = ?10, created = ?11, last_updated = ?12 WHERE id = ?1 AND org_id = ?2`, args...)
	if err != nil {
		return t.fail(fmt.Errorf("sqlite: update integration %q: %w", in.ID, mapErr(err)))
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.fail(err)
	} else if n == 0 {
		return t.moved("integrations", "integration", in.ID, in.OrgID)
	}
	return t.record(in.OrgID, store.KindIntegration, in.ID)
}

func (t *tx) DeleteIntegration(id string) error {
	for _, q := range []string{`DELETE FROM sync_users WHERE integration_id = ?`, `DELETE FROM sync_groups WHERE integration_id = ?`} {
		if _, err := t.exec(q, id); err != nil {
			return t.fail(fmt.Errorf("sqlite: delete integration %q: %w", id, err))
		}
	}
	var orgID string
	if err := t.queryRow(`DELETE FROM integrations WHERE id = ? RETURNING org_id`, id).Scan(&orgID); err != nil {
		return t.fail(notFound(err, "integration", id))
	}
	return t.record(orgID, store.KindIntegration, id)
}

func (t *tx) PutSyncUser(l store.SyncLink) error {
	return t.putLink("sync_users", "user_id", "users", l)
}

func (t *tx) PutSyncGroup(l store.SyncLink) error {
	return t.putLink("sync_groups", "group_id", "groups", l)
}

// putLink links l.LocalID (a row of table local, in the integration's
// org) to the integration's external id.
func (t *tx) putLink(table, col, local string, l store.SyncLink) error {
	var orgID, localOrg string
	if err := t.queryRow(`SELECT org_id FROM integrations WHERE id = ?`, l.IntegrationID).Scan(&orgID); err != nil {
		return t.fail(notFound(err, "integration", l.IntegrationID))
	}
	if err := t.queryRow(`SELECT org_id FROM `+local+` WHERE id = ?`, l.LocalID).Scan(&localOrg); err != nil {
		return t.fail(notFound(err, local[:len(local)-1], l.LocalID))
	}
	if localOrg != orgID {
		return fmt.Errorf("sqlite: link %s %q to integration %q of another org: %w", local[:len(local)-1], l.LocalID, l.IntegrationID, store.ErrNotFound)
	}
	if _, err := t.exec(`DELETE FROM `+table+` WHERE integration_id = ? AND external_id = ?`, l.IntegrationID, l.ExternalID); err != nil {
		return t.fail(fmt.Errorf("sqlite: link %q: %w", l.ExternalID, err))
	}
	if _, err := t.exec(`INSERT INTO `+table+` (integration_id, external_id, `+col+`) VALUES (?, ?, ?)`,
		l.IntegrationID, l.ExternalID, l.LocalID); err != nil {
		return t.fail(fmt.Errorf("sqlite: link %q to %q: %w", l.ExternalID, l.LocalID, mapErr(err)))
	}
	return t.record(orgID, store.KindIntegration, l.IntegrationID)
}

func (t *tx) DeleteSyncUser(integrationID, externalID string) (bool, error) {
	return t.deleteLink("sync_users", integrationID, externalID)
}

func (t *tx) DeleteSyncGroup(integrationID, externalID string) (bool, error) {
	return t.deleteLink("sync_groups", integrationID, externalID)
}

func (t *tx) deleteLink(table, integrationID, externalID string) (bool, error) {
	var orgID string
	err := t.queryRow(`SELECT org_id FROM integrations WHERE id = ?`, integrationID).Scan(&orgID)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, t.fail(fmt.Errorf("sqlite: unlink %q: %w", externalID, err))
	}
	res, err := t.exec(`DELETE FROM `+table+` WHERE integration_id = ? AND external_id = ?`, integrationID, externalID)
	if err != nil {
		return false, t.fail(fmt.Errorf("sqlite: unlink %q: %w", externalID, err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, t.fail(err)
	}
	if n == 0 {
		return false, nil
	}
	return true, t.record(orgID, store.KindIntegration, integrationID)
}
