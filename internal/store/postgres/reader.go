package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dirgate/dirgate/internal/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// reader implements store.Reader over one transaction. pgx prepares each
// statement once per connection and keeps it (its statement cache), so a
// 100k-row import parses its INSERT once.
type reader struct {
	ctx context.Context
	tx  pgx.Tx
}

func (r *reader) queryRow(q string, args ...any) pgx.Row { return r.tx.QueryRow(r.ctx, q, args...) }

func (r *reader) Seq() (uint64, error) {
	var seq uint64
	if err := r.queryRow(`SELECT value FROM meta WHERE key = 'seq'`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("postgres: read seq: %w", err)
	}
	return seq, nil
}

// scanner is a pgx.Row or pgx.Rows.
type scanner interface{ Scan(...any) error }

// queryAll runs q and scans every row of its result with scan.
func queryAll[T any](r *reader, what string, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := r.tx.Query(r.ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return out, nil
}

// ids runs q, which selects one text column, with arg.
func (r *reader) ids(what, q, arg string) ([]string, error) {
	return queryAll(r, what, func(sc scanner) (id string, err error) {
		err = sc.Scan(&id)
		return id, err
	}, q, arg)
}

// notFound wraps store.ErrNotFound for no row, or passes other errors
// through.
func notFound(err error, what, key string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s %q: %w", what, key, store.ErrNotFound)
	}
	return fmt.Errorf("postgres: %s %q: %w", what, key, err)
}

// mapErr adds store.ErrConflict to unique violations and
// store.ErrNotFound to foreign key violations. The writes are built not
// to cause either (the package comment says why), so this is for the
// defence: such an error still aborts the transaction.
func mapErr(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case "23505": // unique_violation
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case "23503": // foreign_key_violation
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return err
}

// --- encoding

// ts is t as a timestamptz argument: NULL for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// fromTS is a scanned timestamptz in UTC, the zero time for NULL.
func fromTS(v pgtype.Timestamptz) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return v.Time.UTC()
}

// list is l as a text[] argument: NULL when empty, so that nil and empty
// read back alike (as nil).
func list(l []string) any {
	if len(l) == 0 {
		return nil
	}
	return l
}

// blob is b as a bytea argument: NULL when empty, like list.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// nullIfEmpty is s, or NULL for "".
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
