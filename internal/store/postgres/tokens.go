package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/dirgate/dirgate/internal/store"

	"github.com/jackc/pgx/v5/pgtype"
)

// API tokens, read and written like factors (signon.go).

const tokenCols = `id, org_id, user_id, name, hash, created, last_used`

func scanToken(sc scanner) (*store.Token, error) {
	var t store.Token
	var org, user *string // NULL for an installation token
	var ts [2]pgtype.Timestamptz
	if err := sc.Scan(&t.ID, &org, &user, &t.Name, &t.Hash, &ts[0], &ts[1]); err != nil {
		return nil, err
	}
	if org != nil {
		t.OrgID = *org
	}
	if user != nil {
		t.UserID = *user
	}
	t.Created, t.LastUsed = fromTS(ts[0]), fromTS(ts[1])
	return &t, nil
}

func (r *reader) Token(id string) (*store.Token, error) {
	t, err := scanToken(r.queryRow(`SELECT `+tokenCols+` FROM api_tokens WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "token", id)
	}
	return t, nil
}

func (r *reader) TokenByHash(hash string) (*store.Token, error) {
	t, err := scanToken(r.queryRow(`SELECT `+tokenCols+` FROM api_tokens WHERE hash = $1`, hash))
	if err != nil {
		return nil, notFound(err, "token", "with that hash")
	}
	return t, nil
}

// Tokens walks api_tokens_by_org; orgID "" lists the installation tokens.
func (r *reader) Tokens(orgID string) ([]*store.Token, error) {
	if orgID == "" {
		return queryAll(r, "tokens", scanToken,
			`SELECT `+tokenCols+` FROM api_tokens WHERE org_id IS NULL ORDER BY created NULLS FIRST, id`)
	}
	return queryAll(r, "tokens", scanToken,
		`SELECT `+tokenCols+` FROM api_tokens WHERE org_id = $1 ORDER BY created NULLS FIRST, id`, orgID)
}

var (
	// createToken checks that the user is in the token's org (an
	// installation token has neither).
	createToken = recorded(`INSERT INTO api_tokens (`+tokenCols+`)
		SELECT `+params(1, 7)+` WHERE $3::text IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = $3 AND org_id = $2)
		ON CONFLICT DO NOTHING RETURNING coalesce(org_id, '') AS org_id`, 7)
	deleteToken = recorded(`DELETE FROM api_tokens WHERE id = $1 RETURNING coalesce(org_id, '') AS org_id`, 1)
)

// CreateToken fails with store.ErrNotFound when the user does not exist
// or belongs to another org than tok.OrgID.
func (t *tx) CreateToken(tok *store.Token) error {
	if (tok.OrgID == "") != (tok.UserID == "") {
		return fmt.Errorf("postgres: create token %q: an org token has an org and a user, an installation token neither", tok.ID)
	}
	ok, err := t.write("create token "+tok.ID, createToken, store.KindToken, tok.ID,
		tok.ID, nullIfEmpty(tok.OrgID), nullIfEmpty(tok.UserID), tok.Name, tok.Hash, ts(tok.Created), ts(tok.LastUsed))
	switch {
	case err != nil || ok:
		return err
	case tok.UserID != "":
		return t.userInOrg("token", tok.ID, tok.UserID, tok.OrgID)
	}
	return fmt.Errorf("postgres: create token %q: id or hash taken: %w", tok.ID, store.ErrConflict)
}

func (t *tx) DeleteToken(id string) error { return t.remove("token", deleteToken, store.KindToken, id) }

// RecordTokenUses sets the tokens' last use in one write transaction,
// without a change.
func (s *Store) recordTokenUses(ctx context.Context, at map[string]time.Time) error {
	return s.recordTimes(ctx, "token use", `UPDATE api_tokens t SET last_used = v.at
		FROM unnest($1::text[], $2::timestamptz[]) AS v (id, at) WHERE t.id = v.id`, at)
}
