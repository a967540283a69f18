package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/config"
	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/postgres"
	"github.com/dirgate/dirgate/internal/store/sqlite"
	"github.com/dirgate/dirgate/internal/store/storecopy"
)

// migrate-store: an installation moved between the store backends
// (internal/store/storecopy does the copying and the checking).

// storeSpec is a --from or --to: a data directory's SQLite database or a
// PostgreSQL database.
type storeSpec struct {
	dir string // sqlite:DIR
	url string // postgres://…
}

// parseStoreSpec reads flag's value: sqlite:DIR or a postgres:// URL.
func parseStoreSpec(flag, v string) (storeSpec, error) {
	switch {
	case isPostgresURL(v):
		if _, err := pgx.ParseConfig(v); err != nil {
			// pgx's message may quote the URL, and so a password in it.
			return storeSpec{}, usagef("%s: not a PostgreSQL URL dirgate can read (want postgres://USER@HOST:PORT/DB?sslmode=…)", flag)
		}
		return storeSpec{url: v}, nil
	case strings.HasPrefix(v, "sqlite:"):
		dir := strings.TrimPrefix(v, "sqlite:")
		if dir == "" {
			return storeSpec{}, usagef("%s sqlite: needs the data directory: sqlite:DIR", flag)
		}
		return storeSpec{dir: filepath.Clean(dir)}, nil
	case v == "":
		return storeSpec{}, usagef("%s is required: sqlite:DIR or a postgres:// URL", flag)
	}
	scheme, _, ok := strings.Cut(v, ":")
	if !ok || strings.ContainsAny(scheme, `/\`) {
		return storeSpec{}, usagef("%s %s: want sqlite:DIR (the data directory) or a postgres:// URL", flag, v)
	}
	return storeSpec{}, usagef("%s %s:…: want sqlite:DIR (the data directory) or a postgres:// URL", flag, scheme)
}

// String names the store for the user, never with a password.
func (s storeSpec) String() string {
	if s.url == "" {
		return "sqlite:" + s.dir
	}
	c, err := pgx.ParseConfig(s.url)
	if err != nil {
		return "PostgreSQL"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

func (s storeSpec) same(o storeSpec) bool {
	if s.url == "" || o.url == "" {
		return s.url == o.url && s.dir == o.dir
	}
	return s.String() == o.String()
}

func (s storeSpec) hasPassword() bool {
	c, err := pgx.ParseConfig(s.url)
	return s.url != "" && err == nil && c.Password != ""
}

// migrated is the output of migrate-store.
type migrated struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Match bool   `json:"match"`
	// SHA256 is the checksum of everything, the same in both stores.
	SHA256 string                  `json:"sha256"`
	Kinds  []storecopy.KindSummary `json:"kinds"`
	// DeletedOrgs is how many deleted orgs' events were copied.
	DeletedOrgs int `json:"deletedOrgs"`
}

func (a *app) migrateStoreCmd() *cobra.Command {
	var from, to string
	var out outputFormat
	c := &cobra.Command{
		Use:   "migrate-store --from SPEC --to SPEC [--output table|json]",
		Short: "Move an installation between the store backends (SQLite and PostgreSQL), verified by counts and checksums",
		Long: `Copies everything an installation keeps from one store to another: orgs, users
(with their password hashes, password history, failed-login counters and last
logins), groups and memberships, factors, policies, API tokens (also the
installation's), integrations and their user and group links, and the whole
system log (also the events of deleted orgs). Then it compares the two stores:
the count of each kind of record and a SHA-256 over every record, and fails
if anything differs.

A SPEC is sqlite:DIR, the data directory whose DIR/dirgate.db is the store, or
a PostgreSQL URL (postgres://USER@HOST:5432/DB?sslmode=verify-full). A SQLite
source must exist; a SQLite target's directory is created if need be and must
hold no dirgate.db yet. A PostgreSQL database must exist (dirgate makes its
tables). Give a PostgreSQL password in PGPASSWORD or ~/.pgpass, or the whole
URL in DIRGATE_FROM or DIRGATE_TO, rather than on the command line; dirgate
names a PostgreSQL store as postgres://USER@HOST:PORT/DB, never with its
password.

The target must be empty (no orgs, no events): the copy never merges into or
overwrites a store. The directory arrives in one transaction, whole or not at
all; the system log follows in batches, so a copy stopped part way leaves a
target that a second run refuses: empty it (remove DIR/dirgate.db, or drop and
create the database again) and start over.

Stop every dirgate server (serve) on the source before the copy, or at least
make sure nothing writes to it while the copy runs: a write that comes in
meanwhile would be missing from the target, and the checksums then differ.
A SQLite source or target is locked against 'dirgate serve' during the copy;
nothing can lock a PostgreSQL store, so stop its servers yourself.

The secret key is not in the store: the TOTP factors' secrets and the
integrations' bind passwords are sealed with the key in DIR/secret.key (or
--secret-key-file, or DIRGATE_SECRET_KEY). Carry that key along to where the
servers of the target run (for a SQLite target, copy it into the new data
directory), or factors and integrations stop working.

A system log event keeps its UUID, time and document; its sequence number
(which only orders the log) is handed out anew by the target. Times are kept
to the microsecond (PostgreSQL keeps no finer). The events of a deleted org
are found through the source's change feed; the copy records such an org's
creation and deletion in the target's feed (an org named "~deleted-ID" that no
reader ever sees), so that a later migration finds them there too.`,
		Example: `  dirgate migrate-store --from sqlite:/var/lib/dirgate --to 'postgres://dirgate@db.example:5432/dirgate?sslmode=verify-full'
  dirgate migrate-store --from 'postgres://dirgate@db.example:5432/dirgate' --to sqlite:/var/lib/dirgate-new --output json`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			if a.storeOnCommandLine {
				return usagef("migrate-store names its stores with --from and --to, not --store")
			}
			src, err := parseStoreSpec("--from", from)
			if err != nil {
				return err
			}
			dst, err := parseStoreSpec("--to", to)
			if err != nil {
				return err
			}
			if src.same(dst) {
				return usagef("--from and --to name the same store, %s", src)
			}
			for _, f := range []struct {
				name string
				spec storeSpec
			}{{"from", src}, {"to", dst}} {
				env := config.EnvName(f.name)
				if _, inEnv := a.lookupEnv(env); !inEnv && f.spec.hasPassword() {
					a.cliLogger().Warn("the --" + f.name + " URL holds a password, which anyone who can list processes sees when it is on the command line: " +
						"put it in PGPASSWORD or ~/.pgpass, or the URL in " + env)
				}
			}
			return a.migrateStore(a.ctx, src, dst, &out)
		}),
	}
	fl := c.Flags()
	fl.StringVar(&from, "from", "", "the `SPEC` of the store to copy: sqlite:DIR (a data directory) or a postgres:// URL")
	fl.StringVar(&to, "to", "", "the `SPEC` of the empty store to copy into: sqlite:DIR (a data directory, created if need be) or a postgres:// URL")
	c.MarkFlagRequired("from")
	c.MarkFlagRequired("to")
	addOutputFlag(c, &out)
	return c
}

// migrateStore opens both stores, copies and prints the result.
func (a *app) migrateStore(ctx context.Context, src, dst storeSpec, out *outputFormat) error {
	from, closeFrom, err := openSpec(ctx, src, false)
	if err != nil {
		return err
	}
	defer closeFrom()
	to, closeTo, err := openSpec(ctx, dst, true)
	if err != nil {
		return err
	}
	progress := func(what string, n int) {
		if n > 0 {
			fmt.Fprintf(a.stderr, "migrate-store: %s: %d\n", what, n)
		}
	}
	rep, err := storecopy.Copy(ctx, from, to, progress)
	closeTo()
	if err != nil {
		return removeCreated(dst, fmt.Errorf("copying %s to %s: %w", src, dst, err))
	}
	m := migrated{From: src.String(), To: dst.String(), Match: true, SHA256: rep.Target.SHA256,
		Kinds: rep.Target.Kinds, DeletedOrgs: rep.DeletedOrgs}
	if out.json() {
		err = writeJSON(a.stdout, m)
	} else {
		err = printMigrated(a, m)
	}
	if err != nil {
		return err
	}
	key := "the source's secret key (its DIR/" + secretKeyFile + ", or --secret-key-file or " + envSecretKey + ")"
	if src.url == "" {
		key = filepath.Join(src.dir, secretKeyFile) + " (or the key of --secret-key-file or " + envSecretKey + ")"
	}
	fmt.Fprintf(a.stderr, "migrate-store: carry %s along to the servers of %s: TOTP factors and integration passwords are sealed with it\n", key, dst)
	return nil
}

// removeCreated removes a SQLite target a failed copy created (openSpec
// made it, exclusively), so that the next run can start over, and says so
// in err.
func removeCreated(dst storeSpec, err error) error {
	if dst.url != "" {
		return err
	}
	db := filepath.Join(dst.dir, dbFile)
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		os.Remove(f)
	}
	return fmt.Errorf("%w (%s, which this run created, was removed)", err, db)
}

// kindsTable prints a store summary: each kind's count and SHA-256.
func kindsTable(w io.Writer, kinds []storecopy.KindSummary) error {
	rows := make([][]string, 0, len(kinds))
	for _, k := range kinds {
		rows = append(rows, []string{k.Kind, strconv.Itoa(k.Count), k.SHA256})
	}
	return table(w, []string{"KIND", "COUNT", "SHA-256"}, rows)
}

func printMigrated(a *app, m migrated) error {
	fmt.Fprintf(a.stdout, "copied %s to %s\n", m.From, m.To)
	if err := kindsTable(a.stdout, m.Kinds); err != nil {
		return err
	}
	if m.DeletedOrgs > 0 {
		fmt.Fprintf(a.stdout, "events of %d deleted orgs included\n", m.DeletedOrgs)
	}
	_, err := fmt.Fprintf(a.stdout, "source and target match: every count and checksum is the same (checksum %s)\n", m.SHA256)
	return err
}

// openSpec opens the store s names; a SQLite one is locked against
// dirgate serve until closed. A source (target false) must exist; a
// SQLite target must not exist yet: its directory is created.
func openSpec(ctx context.Context, s storeSpec, target bool) (store.Store, func(), error) {
	if s.url != "" {
		st, err := postgres.Open(ctx, s.url, postgres.Options{})
		if err != nil {
			return nil, nil, fmt.Errorf("opening %s: %w", s, err)
		}
		return st, func() { st.Close() }, nil
	}
	db := filepath.Join(s.dir, dbFile)
	exists := func() error {
		return fmt.Errorf("%s exists: --to sqlite:DIR wants a data directory without a database, so that nothing is overwritten", db)
	}
	if _, err := os.Stat(db); !target && errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("no dirgate database at %s (--from sqlite:DIR names a data directory)", db)
	} else if target && err == nil {
		return nil, nil, exists()
	}
	if target {
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("data directory: %w", err)
		}
	}
	lock, err := lockData(filepath.Join(s.dir, lockFile))
	if err != nil {
		return nil, nil, err
	}
	if target {
		// Created here, exclusively: the file is this run's to remove.
		f, err := os.OpenFile(db, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			lock.unlock()
			if errors.Is(err, fs.ErrExist) {
				return nil, nil, exists()
			}
			return nil, nil, fmt.Errorf("creating %s: %w", db, err)
		}
		f.Close()
	}
	st, err := sqlite.Open(db, sqlite.Options{})
	if err != nil {
		lock.unlock()
		if target {
			os.Remove(db)
		}
		return nil, nil, fmt.Errorf("opening %s: %w", db, err)
	}
	return st, func() { st.Close(); lock.unlock() }, nil
}
