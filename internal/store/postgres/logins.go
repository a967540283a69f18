package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// RecordLogins sets the users' last logins, without a change, in one
// statement: an upsert into user_logins (reads prefer it to
// users.last_login) of the users that exist; unknown ids are left out.
func (s *Store) recordLogins(ctx context.Context, at map[string]time.Time) error {
	return s.recordTimes(ctx, "login", `INSERT INTO user_logins (user_id, at)
		SELECT v.id, v.at FROM unnest($1::text[], $2::timestamptz[]) AS v (id, at) JOIN users u ON u.id = v.id
		ON CONFLICT (user_id) DO UPDATE SET at = excluded.at`, at)
}

// recordTimes runs q with the ids of at and their times (two arrays, in
// id order) in a transaction that holds the writer lock but records no
// change. The lock is what SQLite's single writer gives too: a user or
// token cannot go between the statement's look-up and its write (which
// would fail a foreign key), and the rows are never locked in another
// order than an Update's deletes lock them (which could deadlock).
func (s *Store) recordTimes(ctx context.Context, what, q string, at map[string]time.Time) error {
	if len(at) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(at))
	times := make([]time.Time, len(ids))
	for i, id := range ids {
		times[i] = at[id]
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(t pgx.Tx) error {
		if _, err := t.Exec(ctx, lockSeq); err != nil {
			return err
		}
		_, err := t.Exec(ctx, q, ids, times)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: record %ss: %w", what, err)
	}
	return nil
}
