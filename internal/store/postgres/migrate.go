package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/dirgate/dirgate/internal/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Schema migrations: the SQL files of migrations/, numbered 0001, 0002,
// …, applied in order, as the SQLite backend's are. schema_version has a
// row for each version applied.

//go:embed migrations/*.sql
var migrationFS embed.FS

type migration = store.Migration

// migrateLock is the key of the advisory lock that migrations hold, so
// that of several nodes starting at once one migrates and the others
// wait, then find the schema up to date. ("dirgate" and 1, in bytes.)
const migrateLock int64 = 0x64697267617465_01

// migrations returns the embedded migrations (store.ReadMigrations).
func migrations() ([]migration, error) { return store.ReadMigrations(migrationFS, "migrations/*.sql") }

// migrate applies the migrations of ms newer than the database's schema
// version in one transaction, under the advisory lock: PostgreSQL's DDL
// is transactional, so a failed step leaves the schema as it was, and a
// node that waited for the lock sees the finished schema (each statement
// at READ COMMITTED sees what committed before it). Open passes every
// embedded migration; tests pass a prefix to make the database an older
// dirgate would have left.
func migrate(ctx context.Context, pool *pgxpool.Pool, ms []migration) error {
	latest := len(ms)
	t, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer t.Rollback(ctx)
	if _, err := t.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	if _, err := t.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version integer PRIMARY KEY,
		applied timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := t.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: read schema_version: %w", err)
	}
	if current > latest {
		return fmt.Errorf("%w: the database is at schema version %d, this dirgate knows versions up to %d",
			store.ErrNewerSchema, current, latest)
	}
	if current == latest {
		return nil // the transaction only read: rolling back is the same
	}
	for _, m := range ms[current:] {
		// No arguments: pgx sends the file as one simple query, so it may
		// hold several statements.
		if _, err := t.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
		if _, err := t.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, m.Version); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
	}
	if err := t.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
