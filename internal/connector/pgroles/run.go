package pgroles

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrBusy is a run refused because another holds the target.
var ErrBusy = errors.New("another dirgate pgsync is running against this PostgreSQL; try again when it ends")

// lockKey is the advisory lock that keeps runs against one database one
// at a time, whichever node or process they come from ('dgps'). Advisory
// locks are per database while roles are per cluster: runs against two
// databases of one cluster do not exclude each other (the later one then
// fails on a role the other created, and the next run is right), so every
// mapping for a cluster should name the same database.
const lockKey int64 = 0x64677073

// batchSize is how many statements go to the server in one round trip.
const batchSize = 500

// Options are the choices of one run.
type Options struct {
	// DryRun plans and reports the SQL, and changes nothing.
	DryRun bool
}

// Run reads the source, compares it with the target's roles and, unless
// opt.DryRun, applies the difference in one transaction: a run stopped
// part way (killed, the connection lost) leaves the target as it was, and
// the next run does it all. A run with nothing to do sends no write.
func Run(ctx context.Context, conn *pgx.Conn, cfg *Config, src Source, opt Options) (*Report, error) {
	people, err := src.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the source: %w", err)
	}
	rep := &Report{DryRun: opt.DryRun, Target: targetName(conn), Skipped: []Skip{}}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL %s: %w", rep.Target, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// The lock is taken before the catalog is read, so that two runs do not
	// both plan from the same state; it ends with the transaction.
	var locked bool
	if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock($1)", lockKey).Scan(&locked); err != nil {
		return nil, fmt.Errorf("PostgreSQL %s: %w", rep.Target, err)
	}
	if !locked {
		return nil, ErrBusy
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", time.Duration(cfg.LockTimeout).Milliseconds())); err != nil {
		return nil, fmt.Errorf("PostgreSQL %s: %w", rep.Target, err)
	}
	st, err := readState(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("reading the roles of %s: %w", rep.Target, err)
	}
	plan(cfg, people, st, rep)
	if opt.DryRun || len(rep.SQL) == 0 {
		return rep, nil // rolled back: it wrote nothing
	}
	for i := 0; i < len(rep.SQL); i += batchSize {
		batch := rep.SQL[i:min(i+batchSize, len(rep.SQL))]
		if _, err := tx.Exec(ctx, strings.Join(batch, ";\n"), pgx.QueryExecModeSimpleProtocol); err != nil {
			return rep, fmt.Errorf("applying the changes to %s (none is kept): %w", rep.Target, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return rep, fmt.Errorf("committing the changes to %s (none is kept): %w", rep.Target, err)
	}
	return rep, nil
}

// targetName names the target for reports: user@host:port/database,
// never the password.
func targetName(conn *pgx.Conn) string { return nameOf(conn.Config()) }

func nameOf(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// TargetName names the target at url as reports do, or "PostgreSQL" when
// url cannot be read.
func TargetName(url string) string {
	c, err := pgx.ParseConfig(url)
	if err != nil {
		return "PostgreSQL"
	}
	return nameOf(c)
}

// connectTimeout bounds reaching the target when its connection string
// sets no connect_timeout.
const connectTimeout = 30 * time.Second

// Connect opens the target at url (Config.TargetURL). The errors name
// the target without its password (pgx leaves it out).
func Connect(ctx context.Context, url string) (*pgx.Conn, error) {
	pc, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("the target PostgreSQL's connection string: %w", err)
	}
	if pc.ConnectTimeout == 0 {
		pc.ConnectTimeout = connectTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connecting to the target PostgreSQL: %w", err)
	}
	return conn, nil
}

// Sync is one whole run: it connects to url, runs, and disconnects. A
// report comes back with the error when the run got as far as planning.
func Sync(ctx context.Context, url string, cfg *Config, src Source, opt Options) (*Report, error) {
	conn, err := Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return Run(ctx, conn, cfg, src, opt)
}
