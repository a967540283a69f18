package postgres

import (
	"context"
	"fmt"

	"github.com/dirgate/dirgate/internal/store"

	"github.com/jackc/pgx/v5"
)

// Transactions and the change feed.

// lockSeq takes the writer lock (the package comment explains it) and
// reads the change sequence. After waiting for the lock, FOR UPDATE reads
// the row as the last holder committed it.
const lockSeq = `SELECT value FROM meta WHERE key = 'seq' FOR UPDATE`

// Update runs fn in a write transaction, holding the writer lock from its
// first statement to commit. fn must not call Update itself (or
// RecordLogins, RecordTokenUses): those would wait for the lock fn holds.
func (s *Store) update(ctx context.Context, fn func(store.Tx) error) error {
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	done := false
	defer func() {
		// Also runs while a panic from fn unwinds: the panic goes on, the
		// transaction ends and its connection goes back to the pool.
		if !done {
			pgTx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	t := &tx{reader: reader{ctx: ctx, tx: pgTx}}
	if err := pgTx.QueryRow(ctx, lockSeq).Scan(&t.seq); err != nil {
		return fmt.Errorf("postgres: lock seq: %w", err)
	}
	start := t.seq
	if err := fn(t); err != nil {
		return err
	}
	if t.err != nil {
		// fn ignored a failed statement, which aborted the transaction.
		return t.err
	}
	if t.seq != start {
		// The notification goes out at commit, to every node's Wake.
		if _, err := pgTx.Exec(ctx, `WITH u AS (UPDATE meta SET value = $1 WHERE key = 'seq' RETURNING value)
			SELECT pg_notify('`+notifyChannel+`', value::text) FROM u`, t.seq); err != nil {
			return fmt.Errorf("postgres: write seq: %w", err)
		}
	}
	done = true
	if err := pgTx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", mapErr(err))
	}
	return nil
}

// View runs fn in a read-only REPEATABLE READ transaction: one snapshot
// throughout, taken at its first statement.
func (s *Store) view(ctx context.Context, fn func(store.Reader) error) error {
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	defer pgTx.Rollback(context.WithoutCancel(ctx))
	return fn(&reader{ctx: ctx, tx: pgTx})
}

// Seq returns the last change sequence number.
func (s *Store) seq(ctx context.Context) (uint64, error) {
	var seq uint64
	if err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'seq'`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("postgres: read seq: %w", err)
	}
	return seq, nil
}

// ChangesSince returns up to limit changes after since, oldest first; a
// limit <= 0 means no limit.
func (s *Store) changesSince(ctx context.Context, since uint64, limit int) ([]store.Change, error) {
	var lim any // NULL: no limit
	if limit > 0 {
		lim = limit
	}
	rows, err := s.pool.Query(ctx,
		`SELECT seq, org_id, kind, id, at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2`, since, lim)
	if err != nil {
		return nil, fmt.Errorf("postgres: changes: %w", err)
	}
	defer rows.Close()
	var out []store.Change
	for rows.Next() {
		var c store.Change
		var kind string
		if err := rows.Scan(&c.Seq, &c.OrgID, &kind, &c.ID, &c.At); err != nil {
			return nil, fmt.Errorf("postgres: changes: %w", err)
		}
		c.Kind, c.At = store.Kind(kind), c.At.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: changes: %w", err)
	}
	return out, nil
}
