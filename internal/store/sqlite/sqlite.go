// Package sqlite is the embedded store backend: one SQLite database file,
// through the pure-Go modernc.org/sqlite driver (no cgo).
//
// Several processes may share the file (a running server and the CLI):
// the database is in WAL mode, so readers never block the writer, and
// writers take the write lock up front (BEGIN IMMEDIATE) and wait for it
// for up to Options.BusyTimeout instead of failing with SQLITE_BUSY.
// Within one process writes queue on a single connection, so they never
// contend for the lock with each other.
//
// Durability: synchronous=FULL, so a commit is fsynced before Update
// returns, as the store contract requires ("when Update returns nil
// everything fn wrote is durable"). With WAL, NORMAL would survive a
// process crash but could lose the last commits on power loss or an OS
// crash; one fsync per transaction (not per row) is cheap enough.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/store"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Options tune a Store. The zero value is usable.
type Options struct {
	// BusyTimeout is how long a write waits for another process holding
	// the write lock (for example an import run from the CLI) before it
	// fails. Default 10s.
	BusyTimeout time.Duration
	// MaxReaders caps concurrent read connections (View, Seq,
	// ChangesSince). Default max(4, GOMAXPROCS).
	MaxReaders int
}

// Store is a store.Store over one SQLite database file.
type Store struct {
	w *sql.DB // one connection: writes, in BEGIN IMMEDIATE transactions
	r *sql.DB // read-only connections

	ev         *eventStmts // the writer's statements of AppendEvents
	pageBytes  int         // bytes of events (before coding) that close a page
	pruneBatch int         // events deleted per PruneEvents transaction
}

var _ store.Store = (*Store)(nil)

// Open opens or creates the database at path and brings its schema up to
// date. It fails with an error wrapping store.ErrNewerSchema when the file
// was written by a newer dirgate.
func Open(path string, opts Options) (*Store, error) {
	if path == "" || strings.Contains(path, "?") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		// The driver reads DSN parameters after '?', and two pools need a
		// real file to share.
		return nil, fmt.Errorf("sqlite: unsupported database path %q", path)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 10 * time.Second
	}
	if opts.MaxReaders <= 0 {
		opts.MaxReaders = max(4, runtime.GOMAXPROCS(0))
	}
	// The database holds password hashes: create it private (SQLite gives
	// its -wal and -shm files the same mode).
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	common := "_busy_timeout=" + strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10) +
		"&_foreign_keys=1&_synchronous=FULL"

	// The writer's page cache holds the indexes a flush of last logins
	// walks (users' id index and user_logins: some 8 MB at 100,000
	// users); SQLite's default of 2 MB made each of those writes a read.
	w, err := sql.Open("sqlite", path+"?"+common+"&_journal_mode=WAL&_txlock=immediate&_pragma=cache_size(-16384)")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	ctx := context.Background()
	if err := checkWAL(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ms, err := migrations()
	if err == nil {
		err = migrate(ctx, w, ms)
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	r, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(opts.MaxReaders)
	r.SetMaxIdleConns(opts.MaxReaders)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ev, err := prepareEventStmts(ctx, w)
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return &Store{w: w, r: r, ev: ev, pageBytes: defaultPageBytes, pruneBatch: defaultPruneBatch}, nil
}

// checkWAL fails if the file system refused WAL mode (SQLite then keeps
// the old mode silently), since sharing the file with readers depends on it.
func checkWAL(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	return nil
}

// Close releases both connection pools.
func (s *Store) Close() error {
	return errors.Join(s.ev.close(), s.r.Close(), s.w.Close())
}

// Check runs PRAGMA integrity_check and returns an error listing the
// problems it reports.
func (s *Store) Check(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("sqlite: integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("sqlite: integrity check: %w", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: integrity check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("sqlite: integrity check failed: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Update runs fn in a write transaction. fn must not call Update itself:
// writes of one process share one connection, so that would deadlock.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) (err error) {
	defer func() { err = fullErr(err) }()
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", mapErr(err))
	}
	done := false
	defer func() {
		// Also runs while a panic from fn unwinds: the panic goes on, the
		// transaction and its connection do not leak.
		if !done {
			sqlTx.Rollback()
		}
	}()
	t := &tx{reader: reader{ctx: ctx, tx: sqlTx}}
	if err := sqlTx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'seq'`).Scan(&t.seq); err != nil {
		return fmt.Errorf("sqlite: read seq: %w", err)
	}
	start := t.seq
	if err := fn(t); err != nil {
		return err
	}
	if t.err != nil {
		// fn ignored a failure that may have left the transaction half done.
		return t.err
	}
	if t.seq != start {
		if _, err := sqlTx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = 'seq'`, t.seq); err != nil {
			return fmt.Errorf("sqlite: write seq: %w", err)
		}
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", mapErr(err))
	}
	return nil
}

// View runs fn in a read transaction; it sees one snapshot throughout.
func (s *Store) View(ctx context.Context, fn func(store.Reader) error) error {
	sqlTx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer sqlTx.Rollback()
	return fn(&reader{ctx: ctx, tx: sqlTx})
}

// Seq returns the last change sequence number.
func (s *Store) Seq(ctx context.Context) (uint64, error) {
	var seq uint64
	if err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'seq'`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("sqlite: read seq: %w", err)
	}
	return seq, nil
}

// ChangesSince returns up to limit changes after since, oldest first; a
// limit <= 0 means no limit.
func (s *Store) ChangesSince(ctx context.Context, since uint64, limit int) ([]store.Change, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.r.QueryContext(ctx,
		`SELECT seq, org_id, kind, id, at FROM changes WHERE seq > ? ORDER BY seq LIMIT ?`, since, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: changes: %w", err)
	}
	defer rows.Close()
	var out []store.Change
	for rows.Next() {
		var c store.Change
		var at int64
		if err := rows.Scan(&c.Seq, &c.OrgID, &c.Kind, &c.ID, &at); err != nil {
			return nil, fmt.Errorf("sqlite: changes: %w", err)
		}
		c.At = time.Unix(0, at).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: changes: %w", err)
	}
	return out, nil
}

// RecordLogins sets the users' last logins in one write transaction,
// without a change. Into user_logins (migration 0005), for users that
// exist: the foreign key refuses a user another process deleted since it
// signed in, and that statement alone fails. (Checking first, with
// INSERT … SELECT FROM users, looked each user up twice:
// BenchmarkRecordLogins, 5.6 against 4.9 µs a login.)
func (s *Store) RecordLogins(ctx context.Context, at map[string]time.Time) error {
	return s.recordTimes(ctx, "login", `INSERT INTO user_logins (at, user_id) VALUES (?, ?)
		ON CONFLICT (user_id) DO UPDATE SET at = excluded.at`, at)
}

// recordTimes runs q (arguments: the time, the id) for each entry of at in
// one write transaction, without a change; an id whose row is gone (a
// foreign key refusal, or no row to update) is skipped.
func (s *Store) recordTimes(ctx context.Context, what, q string, at map[string]time.Time) (err error) {
	defer func() { err = fullErr(err) }()
	if len(at) == 0 {
		return nil
	}
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", mapErr(err))
	}
	defer sqlTx.Rollback()
	stmt, err := sqlTx.PrepareContext(ctx, q)
	if err != nil {
		return fmt.Errorf("sqlite: record %ss: %w", what, err)
	}
	for id, t := range at {
		n, err := nanos(t)
		if err != nil {
			return fmt.Errorf("sqlite: record %s of %s: %w", what, id, err)
		}
		if _, err := stmt.ExecContext(ctx, n, id); err != nil {
			if errors.Is(mapErr(err), store.ErrNotFound) {
				continue
			}
			return fmt.Errorf("sqlite: record %s of %s: %w", what, id, err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", mapErr(err))
	}
	return nil
}

// mapErr adds store.ErrConflict to unique and primary key violations and
// store.ErrNotFound to foreign key violations (a record that refers to a
// missing org, user or group).
func mapErr(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return err
}

// fullErr adds store.ErrFull to an error SQLite gave because the disk is
// full (SQLITE_FULL; an I/O error while the disk has no room counts too,
// as SQLite reports some ENOSPC that way).
func fullErr(err error) error {
	if err == nil || errors.Is(err, store.ErrFull) {
		return err
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	if c := se.Code() & 0xff; c == sqlite3.SQLITE_FULL || (c == sqlite3.SQLITE_IOERR && strings.Contains(err.Error(), "no space")) {
		return fmt.Errorf("%w: %w", store.ErrFull, err)
	}
	return err
}

//go:embed migrations/*.sql
var migrationFS embed.FS

type migration = store.Migration

// migrationSteps are the parts of migrations that SQL cannot do, run
// after the version's SQL in the same transaction.
var migrationSteps = map[int]func(context.Context, *sql.Tx) error{
	4: packEvents,        // events.go: the system log's rows into pages
	8: countStoredEvents, // eventcounts.go: the system log's counts per minute
}

// migrations returns the embedded migrations (store.ReadMigrations).
func migrations() ([]migration, error) { return store.ReadMigrations(migrationFS, "migrations/*.sql") }

// migrate applies the migrations of ms newer than the database's
// schema_version, all in one write transaction, so two processes opening
// a new file at once migrate it once and a failed step leaves it as it was.
// Open passes every embedded migration; tests pass a prefix to make the
// database an older dirgate would have left.
func migrate(ctx context.Context, db *sql.DB, ms []migration) error {
	latest := len(ms)
	t, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: waits for a migrating peer
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer t.Rollback()
	var current int
	var hasMeta int
	if err := t.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).Scan(&hasMeta); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if hasMeta > 0 {
		err := t.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&current)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("migrate: read schema_version: %w", err)
		}
	}
	if current > latest {
		return fmt.Errorf("%w: the database is at schema version %d, this dirgate knows versions up to %d",
			store.ErrNewerSchema, current, latest)
	}
	if current == latest {
		return nil
	}
	for _, m := range ms[current:] {
		if _, err := t.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
		if step := migrationSteps[m.Version]; step != nil {
			if err := step(ctx, t); err != nil {
				return fmt.Errorf("migrate: %s: %w", m.Name, err)
			}
		}
	}
	if _, err := t.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('schema_version', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, latest); err != nil {
		return fmt.Errorf("migrate: write schema_version: %w", err)
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// Backup writes a consistent copy of the database to path, a file that
// must not exist yet (it is created mode 0600: it holds password hashes),
// while the Store goes on reading and writing: VACUUM INTO reads one
// snapshot on a connection of its own, so writers are not held up. The
// copy is on disk (fsync'd, with its directory) when Backup returns; on an
// error the partial file is removed.
func (s *Store) Backup(ctx context.Context, path string) (err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(path)
		}
	}()
	var src string
	if err := s.w.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&src); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	// Not query_only: SQLite counts writing the new file as a write.
	db, err := sql.Open("sqlite", src+"?_busy_timeout=10000")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("sqlite: backup into %s: %w", path, err)
	}
	return syncFile(path)
}

// syncFile flushes the file and its directory entry to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sqlite: sync %s: %w", path, err)
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sqlite: sync %s: %w", filepath.Dir(path), err)
	}
	return nil
}
