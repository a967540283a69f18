package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/store/sqlite"
	"github.com/dirgate/dirgate/internal/store/storecopy"
)

// backup and restore: an online, consistent copy of a SQLite store in one
// file, and that file back into an empty store (storecopy checks it).

// backedUp is the output of backup and restore.
type backedUp struct {
	Store  string                  `json:"store"`
	File   string                  `json:"file"`
	SHA256 string                  `json:"sha256"`
	Kinds  []storecopy.KindSummary `json:"kinds"`
}

func (a *app) backupCmd() *cobra.Command {
	var data, file string
	var out outputFormat
	c := &cobra.Command{
		Use:   "backup --data DIR --out FILE [--output table|json]",
		Short: "Copy the directory (SQLite) into a backup file, online and consistent",
		Long: `Writes a copy of the data directory's database (DIR/dirgate.db) to FILE while
'dirgate serve' and the CLI go on using it: the copy is one consistent
snapshot (SQLite's VACUUM INTO), so it holds every write acknowledged before
it began and nothing half done. Writers are not held up. FILE must not exist;
it is created mode 0600 (it holds password hashes) and is on disk (fsync) when
the command ends. The copy is then checked (SQLite's integrity check) and
summarised: the count and SHA-256 of each kind of record, the same figures
'dirgate restore' and 'dirgate migrate-store' print.

The secret key is not in the backup: TOTP secrets and integration passwords
are sealed with DIR/secret.key (or --secret-key-file, or DIRGATE_SECRET_KEY).
Back it up apart from the backup file, since the two together open every
sealed secret.

A PostgreSQL store (--store postgres://…) is backed up with PostgreSQL's own
tools, which are online and consistent too: pg_dump, or continuous
archiving for point-in-time recovery.`,
		Example: `  dirgate backup --data /var/lib/dirgate --out /backups/dirgate-$(date +%F).db
  dirgate restore --from /backups/dirgate-2026-12-01.db --data /var/lib/dirgate-restored`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			if isPostgresURL(a.storeURL) {
				return usagef("backup copies a SQLite store; back a PostgreSQL store up with pg_dump (or continuous archiving), which is online and consistent")
			}
			if file == "" {
				return usagef("--out FILE is required")
			}
			return a.backup(a.ctx, data, file, &out)
		}),
	}
	addDataFlag(c, &data)
	c.Flags().StringVar(&file, "out", "", "the backup `FILE` to create (it must not exist)")
	addOutputFlag(c, &out)
	return c
}

func (a *app) backup(ctx context.Context, data, file string, out *outputFormat) error {
	if _, err := os.Stat(file); err == nil {
		return fmt.Errorf("%s exists: backup never overwrites a file", file)
	}
	st, err := a.openStore(ctx, data, false, a.cliLogger())
	if err != nil {
		return err
	}
	db, ok := st.(*sqlite.Store)
	if !ok {
		st.Close()
		return errors.New("backup: the store is not SQLite")
	}
	err = db.Backup(ctx, file)
	st.Close()
	if err != nil {
		return err
	}
	sum, err := checkBackup(ctx, file)
	if err != nil {
		os.Remove(file)
		return fmt.Errorf("the backup %s failed its check and was removed: %w", file, err)
	}
	b := backedUp{Store: filepath.Join(data, dbFile), File: file, SHA256: sum.SHA256, Kinds: sum.Kinds}
	if out.json() {
		return writeJSON(a.stdout, b)
	}
	return printBackedUp(a.stdout, fmt.Sprintf("backed up %s to %s", b.Store, b.File), b)
}

// checkBackup opens a copy of the backup file (so that the file itself is
// never changed), runs SQLite's integrity check and summarises it.
func checkBackup(ctx context.Context, file string) (*storecopy.Summary, error) {
	st, cleanup, err := openBackupCopy(file)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if err := st.Check(ctx); err != nil {
		return nil, err
	}
	return storecopy.Checksum(ctx, st)
}

// openBackupCopy opens a private copy of a backup file in a temporary
// directory: opening brings an older backup's schema up to date and puts
// the database in WAL mode, and neither must touch the backup.
func openBackupCopy(file string) (*sqlite.Store, func(), error) {
	src, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	dir, err := os.MkdirTemp("", "dirgate-restore-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	tmp := filepath.Join(dir, dbFile)
	dst, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = io.Copy(dst, src)
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("reading the backup %s: %w", file, err)
	}
	st, err := sqlite.Open(tmp, sqlite.Options{})
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("%s is not a dirgate backup SQLite can open: %w", file, err)
	}
	return st, func() { st.Close(); cleanup() }, nil
}

func printBackedUp(w io.Writer, head string, b backedUp) error {
	fmt.Fprintln(w, head)
	if err := kindsTable(w, b.Kinds); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "checksum %s\n", b.SHA256)
	return err
}

func (a *app) restoreCmd() *cobra.Command {
	var data, file string
	var out outputFormat
	c := &cobra.Command{
		Use:   "restore --from FILE (--data DIR | --store URL) [--output table|json]",
		Short: "Restore a backup file into an empty store (a new data directory or an empty PostgreSQL database)",
		Long: `Copies a file 'dirgate backup' wrote into an empty store: a data directory
without a database (created if need be), or with --store an empty PostgreSQL
database. The backup file is read, never changed. Everything is copied as
'dirgate migrate-store' copies it, then both are compared by the count and
SHA-256 of each kind of record, and the command fails if anything differs.
A restore never merges into or overwrites a store: restore into a new data
directory, stop 'dirgate serve', and move the directories.

Put the secret key the backed-up installation used (DIR/secret.key) into the
new data directory, or give it with --secret-key-file or DIRGATE_SECRET_KEY,
or TOTP factors and integrations stop working.`,
		Example: `  dirgate restore --from /backups/dirgate-2026-12-01.db --data /var/lib/dirgate-restored
  DIRGATE_STORE='postgres://dirgate@db.example:5432/dirgate' dirgate restore --from dirgate.db`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			if file == "" {
				return usagef("--from FILE is required")
			}
			return a.restore(a.ctx, file, data, &out)
		}),
	}
	addDataFlag(c, &data)
	c.Flags().StringVar(&file, "from", "", "the backup `FILE` to restore")
	addOutputFlag(c, &out)
	return c
}

func (a *app) restore(ctx context.Context, file, data string, out *outputFormat) error {
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no backup file %s", file)
	}
	from, cleanup, err := openBackupCopy(file)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := from.Check(ctx); err != nil {
		return fmt.Errorf("the backup %s is damaged: %w", file, err)
	}
	dst := storeSpec{dir: filepath.Clean(data)}
	if isPostgresURL(a.storeURL) {
		dst = storeSpec{url: a.storeURL}
	}
	to, closeTo, err := openSpec(ctx, dst, true)
	if err != nil {
		return err
	}
	rep, err := storecopy.Copy(ctx, from, to, func(what string, n int) {
		if n > 0 {
			fmt.Fprintf(a.stderr, "restore: %s: %d\n", what, n)
		}
	})
	closeTo()
	if err != nil {
		return removeCreated(dst, fmt.Errorf("restoring %s into %s: %w", file, dst, err))
	}
	b := backedUp{Store: dst.String(), File: file, SHA256: rep.Target.SHA256, Kinds: rep.Target.Kinds}
	if out.json() {
		err = writeJSON(a.stdout, b)
	} else {
		err = printBackedUp(a.stdout, fmt.Sprintf("restored %s into %s: every count and checksum matches the backup", b.File, b.Store), b)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "restore: put the backed-up installation's secret key (its DIR/%s) where the servers of %s find it: TOTP factors and integration passwords are sealed with it\n", secretKeyFile, dst)
	return nil
}
