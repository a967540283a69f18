// Package postgres is the store backend for many nodes: one PostgreSQL
// database shared by every dirgate node, through a pgx connection pool.
// PostgreSQL, with its own replication and failover, is the distributed
// engine; the nodes keep no state of their own.
//
// Writes are serialised. Every Update (and RecordLogins and
// RecordTokenUses) first locks the change sequence's row of meta (SELECT
// … FOR UPDATE) and holds it to commit, so Updates from all nodes run one
// at a time. That keeps the store contract simple and exact:
//
//   - The change sequence has no gaps and ascends in commit order. The
//     numbers are handed out under the lock, and a transaction commits
//     (becomes visible) before the next one gets the lock, so a reader
//     that has seen change N has seen every change below it, and
//     ChangesSince(N) misses nothing. (A SEQUENCE would not do: its
//     numbers are handed out at once to concurrent transactions, which
//     may commit in another order, so a reader could pass a number that
//     becomes visible later.)
//   - Updates run at READ COMMITTED: each statement sees everything
//     committed before it, and nothing else writes the tables an Update
//     checks (the lock holder is the only writer), so the checks it
//     makes before writing (is the org there, is the name taken) hold to
//     commit. No serialization failures, no retries.
//   - The row lock is better than an advisory lock here: it needs no
//     key that another application in the database might also use, and
//     one statement both waits for the lock and reads the sequence.
//
// Readers do not wait for writers: View is a read-only REPEATABLE READ
// transaction (one snapshot throughout), and Seq, ChangesSince and Events
// are single statements.
//
// A failed statement aborts a PostgreSQL transaction, where SQLite's
// leaves it as it was. The store promises that a write failing with
// ErrConflict or ErrNotFound leaves the transaction usable, so writes
// never let a constraint fail: inserts say ON CONFLICT DO NOTHING, check
// their parent row in the same statement and find out why they wrote
// nothing afterwards, and updates check the unique key they change. Any
// statement that fails all the same (a database error, a value PostgreSQL
// refuses) marks the transaction failed, and Update then refuses to
// commit even if fn ignored the error.
//
// Durability: a commit waits for the WAL flush (synchronous_commit, on by
// default; Open refuses a server where it is off), so when Update returns
// nil its writes are durable, as the store contract requires.
package postgres

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/dirgate/dirgate/internal/store"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tune a Store. The zero value is usable; every limit has a
// default.
type Options struct {
	// MaxConns caps the pool's connections. Every Update, View and store
	// query holds one while it runs; Updates queue on the writer lock
	// whatever their number, so more connections help readers only. At
	// least 2, so that an Update inside a View (both hold one) can run.
	// Default max(4, GOMAXPROCS).
	MaxConns int
	// MinConns is how many connections the pool keeps open when idle.
	// Default 0.
	MinConns int
	// MaxConnLifetime closes a connection this long after it opened, so
	// that connections spread again over a pooler's or a proxy's
	// backends after a failover. Default 1h.
	MaxConnLifetime time.Duration
	// MaxConnIdleTime closes a connection idle this long. Default 30m.
	MaxConnIdleTime time.Duration
	// ConnectTimeout bounds opening one connection, unless the URL sets
	// connect_timeout. Default 10s.
	ConnectTimeout time.Duration
}

// withDefaults returns o with its zero limits set to the defaults.
func (o Options) withDefaults() Options {
	if o.MaxConns <= 0 {
		o.MaxConns = max(4, runtime.GOMAXPROCS(0))
	}
	o.MaxConns = max(o.MaxConns, 2)
	o.MinConns = min(max(o.MinConns, 0), o.MaxConns)
	if o.MaxConnLifetime <= 0 {
		o.MaxConnLifetime = time.Hour
	}
	if o.MaxConnIdleTime <= 0 {
		o.MaxConnIdleTime = 30 * time.Minute
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	return o
}

// Store is a store.Store over one PostgreSQL database.
type Store struct {
	pool       *pgxpool.Pool
	pruneBatch int // events deleted per PruneEvents transaction
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a libpq URL or keyword/value
// string, as pgx takes it) and brings its schema up to date. It fails
// with an error wrapping store.ErrNewerSchema when the database was
// migrated by a newer dirgate.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg.MaxConns = int32(min(opts.MaxConns, 1<<30))
	cfg.MinConns = int32(min(opts.MinConns, 1<<30))
	cfg.MaxConnLifetime = opts.MaxConnLifetime
	cfg.MaxConnIdleTime = opts.MaxConnIdleTime
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "dirgate"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, pruneBatch: defaultPruneBatch}
	if err := s.checkServer(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	ms, err := migrations()
	if err == nil {
		err = migrate(ctx, pool, ms)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return s, nil
}

// checkServer refuses a server on which the store cannot keep its
// contract: commits that are not durable, or a database whose encoding
// is not UTF-8 (text functions would count bytes, not characters).
func (s *Store) checkServer(ctx context.Context) error {
	var commit, encoding string
	err := s.pool.QueryRow(ctx, `SELECT current_setting('synchronous_commit'), current_setting('server_encoding')`).
		Scan(&commit, &encoding)
	if err != nil {
		return err
	}
	if commit == "off" {
		return fmt.Errorf("synchronous_commit is off: a commit could be lost after Update returned; set it to on (or local) for dirgate's role or database")
	}
	if encoding != "UTF8" {
		return fmt.Errorf("database encoding is %s, want UTF8", encoding)
	}
	return nil
}

// Close closes the pool's connections, waiting for those in use.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
