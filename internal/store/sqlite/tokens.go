package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// API tokens (migration 0006), read and written like factors (signon.go).

const tokenCols = `id, org_id, user_id, name, hash, created, last_used`

func scanToken(sc scanner) (*store.Token, error) {
	var t store.Token
	var org, user sql.NullString // NULL for an installation token
	var ts [2]sql.NullInt64
	if err := sc.Scan(&t.ID, &org, &user, &t.Name, &t.Hash, &ts[0], &ts[1]); err != nil {
		return nil, err
	}
	t.OrgID, t.UserID = org.String, user.String
	t.Created, t.LastUsed = fromNanos(ts[0]), fromNanos(ts[1])
	return &t, nil
}

// nullIfEmpty is s, or NULL for "".
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (r *reader) Token(id string) (*store.Token, error) {
	t, err := scanToken(r.queryRow(`SELECT `+tokenCols+` FROM api_tokens WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "token", id)
	}
	return t, nil
}

func (r *reader) TokenByHash(hash string) (*store.Token, error) {
	t, err := scanToken(r.queryRow(`SELECT `+tokenCols+` FROM api_tokens WHERE hash = ?`, hash))
	if err != nil {
		return nil, notFound(err, "token", "with that hash")
	}
	return t, nil
}

func (r *reader) Tokens(orgID string) ([]*store.Token, error) {
	if orgID == "" {
		return queryAll(r, "tokens", scanToken,
			`SELECT `+tokenCols+` FROM api_tokens WHERE org_id IS NULL ORDER BY created, id`)
	}
	return queryAll(r, "tokens", scanToken,
		`SELECT `+tokenCols+` FROM api_tokens WHERE org_id = ? ORDER BY created, id`, orgID)
}

// CreateToken fails with store.ErrNotFound when the user does not exist
// or belongs to another org than t.OrgID.
func (t *tx) CreateToken(tok *store.Token) error {
	var ts [2]any
	var err error
	for i, v := range [2]time.Time{tok.Created, tok.LastUsed} {
		if ts[i], err = nanos(v); err != nil {
			return fmt.Errorf("sqlite: create token %q: %w", tok.ID, err)
		}
	}
	if (tok.OrgID == "") != (tok.UserID == "") {
		return fmt.Errorf("sqlite: create token %q: an org token has an org and a user, an installation token neither", tok.ID)
	}
	if tok.UserID != "" {
		var orgID string
		if err := t.queryRow(`SELECT org_id FROM users WHERE id = ?`, tok.UserID).Scan(&orgID); err != nil {
			return t.fail(notFound(err, "user", tok.UserID))
		}
		if orgID != tok.OrgID {
			return fmt.Errorf("sqlite: create token %q: user %q in org %q: %w", tok.ID, tok.UserID, tok.OrgID, store.ErrNotFound)
		}
	}
	if _, err := t.exec(`INSERT INTO api_tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		tok.ID, nullIfEmpty(tok.OrgID), nullIfEmpty(tok.UserID), tok.Name, tok.Hash, ts[0], ts[1]); err != nil {
		return t.fail(fmt.Errorf("sqlite: create token %q: %w", tok.ID, mapErr(err)))
	}
	return t.record(tok.OrgID, store.KindToken, tok.ID)
}

func (t *tx) DeleteToken(id string) error {
	var orgID sql.NullString
	if err := t.queryRow(`DELETE FROM api_tokens WHERE id = ? RETURNING org_id`, id).Scan(&orgID); err != nil {
		return t.fail(notFound(err, "token", id))
	}
	return t.record(orgID.String, store.KindToken, id)
}

// RecordTokenUses sets the tokens' last use in one write transaction,
// without a change.
func (s *Store) RecordTokenUses(ctx context.Context, at map[string]time.Time) (err error) {
	defer func() { err = fullErr(err) }()
	return s.recordTimes(ctx, "token use", `UPDATE api_tokens SET last_used = ? WHERE id = ?`, at)
}
