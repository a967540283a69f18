package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/dirgate/dirgate/internal/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// tx implements store.Tx. seq is the last sequence number handed out in
// this transaction; Update writes it to meta once, before commit.
type tx struct {
	reader
	seq uint64
	// err is the first statement that failed: PostgreSQL aborted the
	// transaction with it, so Update refuses to commit even if fn
	// ignored it.
	err error
}

// Seq includes the changes made so far in this transaction.
func (t *tx) Seq() (uint64, error) { return t.seq, nil }

// fail records err if a statement failed with it (the transaction is then
// aborted) or it is anything but the store's conflict and not-found
// outcomes, and returns it.
func (t *tx) fail(err error) error {
	var pgErr *pgconn.PgError
	if t.err == nil && (errors.As(err, &pgErr) || !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound)) {
		t.err = err
	}
	return err
}

// notFound is reader.notFound, recording a failure other than no row.
func (t *tx) notFound(err error, what, key string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(err, what, key)
	}
	return t.fail(notFound(err, what, key))
}

// recorded wraps stmt, a data-modifying statement with n arguments that
// returns a column org_id for the row it wrote (or no row), so that the
// same statement records the change in that org: one round trip per
// write. The change's seq, kind, id and time are arguments n+1 to n+4,
// which tx.write appends.
func recorded(stmt string, n int) string {
	return fmt.Sprintf(`WITH w AS (%s)
		INSERT INTO changes (seq, org_id, kind, id, at) SELECT $%d, w.org_id, $%d, $%d, $%d FROM w`,
		stmt, n+1, n+2, n+3, n+4)
}

// write runs q (built by recorded) with args and the change's, and
// reports whether it wrote a row; what names the write in errors.
func (t *tx) write(what, q string, kind store.Kind, id string, args ...any) (bool, error) {
	tag, err := t.tx.Exec(t.ctx, q, append(args, t.seq+1, string(kind), id, time.Now())...)
	if err != nil {
		return false, t.fail(fmt.Errorf("postgres: %s: %w", what, mapErr(err)))
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	t.seq++
	return true, nil
}

// create runs q, an insert of record id of kind into org orgID (built by
// recorded) that checks the org, and explains a refusal with
// parentOrTaken.
func (t *tx) create(what, q string, kind store.Kind, id, orgID string, args []any) error {
	ok, err := t.write("create "+what+" "+id, q, kind, id, args...)
	if err == nil && !ok {
		err = t.parentOrTaken(what, id, orgID)
	}
	return err
}

// update runs q, an update of record id of table in org orgID (built by
// recorded) that checks the unique keys it changes, and explains a
// refusal with why.
func (t *tx) update(table, what, q string, kind store.Kind, id, orgID string, args []any) error {
	ok, err := t.write("update "+what+" "+id, q, kind, id, args...)
	if err == nil && !ok {
		err = t.why(table, what, id, orgID)
	}
	return err
}

// remove runs q, a delete of record id of kind (built by recorded, its
// argument the id), and fails with store.ErrNotFound when there was none.
func (t *tx) remove(what, q string, kind store.Kind, id string) error {
	ok, err := t.write("delete "+what+" "+id, q, kind, id, id)
	if err == nil && !ok {
		err = fmt.Errorf("postgres: delete %s %q: %w", what, id, store.ErrNotFound)
	}
	return err
}

// userInOrg explains why a write of record id that checked that user
// userID is in org orgID wrote nothing: the user is not there
// (store.ErrNotFound), else the id or another unique key is taken
// (store.ErrConflict).
func (t *tx) userInOrg(what, id, userID, orgID string) error {
	var ok bool
	if err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND org_id = $2)`, userID, orgID).Scan(&ok); err != nil {
		return t.fail(fmt.Errorf("postgres: create %s %q: %w", what, id, err))
	}
	if !ok {
		return fmt.Errorf("postgres: create %s %q: user %q in org %q: %w", what, id, userID, orgID, store.ErrNotFound)
	}
	return fmt.Errorf("postgres: create %s %q: %w", what, id, store.ErrConflict)
}

// why explains why a write of the record id of table, in org orgID,
// wrote nothing when it checked the record's unique keys too: the record
// is missing (store.ErrNotFound), belongs to another org (it cannot
// move), or a key is taken (store.ErrConflict).
func (t *tx) why(table, what, id, orgID string) error {
	var stored string
	if err := t.queryRow(`SELECT org_id FROM `+table+` WHERE id = $1`, id).Scan(&stored); err != nil {
		return t.notFound(err, what, id)
	}
	if stored != orgID {
		return fmt.Errorf("postgres: update %s %q: cannot move it from org %q to %q", what, id, stored, orgID)
	}
	return fmt.Errorf("postgres: update %s %q: %w", what, id, store.ErrConflict)
}

// parentOrTaken explains why an insert into org orgID that checked the
// org wrote nothing: the org is missing (store.ErrNotFound), else a key
// is taken (store.ErrConflict).
func (t *tx) parentOrTaken(what, id, orgID string) error {
	var ok bool
	if err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM orgs WHERE id = $1)`, orgID).Scan(&ok); err != nil {
		return t.fail(fmt.Errorf("postgres: create %s %q: %w", what, id, err))
	}
	if !ok {
		return fmt.Errorf("postgres: create %s %q: org %q: %w", what, id, orgID, store.ErrNotFound)
	}
	return fmt.Errorf("postgres: create %s %q: %w", what, id, store.ErrConflict)
}
