package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/pflag"

	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/postgres"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// --store: where the directory is kept. Empty is the embedded default,
// SQLite in the data directory; a PostgreSQL URL is a database several
// dirgate nodes share (internal/store/postgres).

// addStoreFlag adds the persistent --store.
func (a *app) addStoreFlag(pf *pflag.FlagSet) {
	pf.StringVar(&a.storeURL, "store", "",
		"where the directory is kept: empty for SQLite in the data directory (DIR/"+dbFile+"), or a PostgreSQL `URL` "+
			"(postgres://USER@HOST:5432/DB?sslmode=verify-full) that several dirgate nodes share; give its password in PGPASSWORD or "+
			"~/.pgpass, or the whole URL in DIRGATE_STORE, rather than on the command line")
}

// isPostgresURL says whether u names a PostgreSQL database.
func isPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// urlHasPassword says whether a postgres:// URL itself holds a password
// (not PGPASSWORD or ~/.pgpass, which pgx also reads).
func urlHasPassword(s string) bool {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return true
		}
	}
	return strings.Contains(s, "password=")
}

// storeName names the store for messages and logs: the SQLite file, or
// user@host:port/database of PostgreSQL (never a password).
func (a *app) storeName(data string) string {
	if !isPostgresURL(a.storeURL) {
		return filepath.Join(data, dbFile)
	}
	c, err := pgx.ParseConfig(a.storeURL)
	if err != nil {
		return "PostgreSQL"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// pgStoreName is storeName for a PostgreSQL --store, "" for SQLite.
func (a *app) pgStoreName(data string) string {
	if !isPostgresURL(a.storeURL) {
		return ""
	}
	return a.storeName(data)
}

// openStore opens the store of --store, or the SQLite database in data.
// Only create (init, serve) makes a missing SQLite file; the other
// commands refuse, so a mistyped --data does not start an empty
// directory. A PostgreSQL database must exist (dirgate makes its tables).
func (a *app) openStore(ctx context.Context, data string, create bool, log *slog.Logger) (store.Store, error) {
	switch {
	case a.storeURL == "":
	case isPostgresURL(a.storeURL):
		if a.storeOnCommandLine && urlHasPassword(a.storeURL) {
			log.Warn("the --store URL holds a password, which anyone who can list processes sees: put it in PGPASSWORD or ~/.pgpass, or the URL in DIRGATE_STORE")
		}
		st, err := postgres.Open(ctx, a.storeURL, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("opening the store %s: %w", a.storeName(data), err)
		}
		return st, nil
	default:
		scheme, _, _ := strings.Cut(a.storeURL, ":")
		return nil, usagef("--store %s:…: want empty (SQLite in --data) or a postgres:// URL", scheme)
	}
	db := filepath.Join(data, dbFile)
	if create {
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	} else if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no dirgate database at %s (create one with 'dirgate init --data %s --org NAME', or start 'dirgate serve --data %s')", db, data, data)
	}
	st, err := sqlite.Open(db, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", db, err)
	}
	return st, nil
}
