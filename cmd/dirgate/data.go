package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// Layout of a data directory.
const (
	defaultDataDir  = "./dirgate-data"
	dbFile          = "dirgate.db"
	tlsDir          = "tls"
	lockFile        = "serve.lock"
	credentialsFile = "demo-credentials.txt"
)

// target is where an administration command works: --data and --org.
type target struct {
	data string
	org  string
}

func addDataFlag(c *cobra.Command, data *string) {
	c.Flags().StringVar(data, "data", defaultDataDir, "data `DIR` holding dirgate.db (SQLite) and tls/")
}

// addTargetFlags adds --data and a required --org.
func addTargetFlags(c *cobra.Command, t *target) {
	addDataFlag(c, &t.data)
	c.Flags().StringVar(&t.org, "org", "", "the `ORG` to work in (its naming context is dc=ORG,<suffix>)")
	c.MarkFlagRequired("org")
}

// opened is a store and the directory over it.
type opened struct {
	dir   *directory.Directory
	close func()
}

// openDirectory opens the data directory's database. Only create (init,
// serve) makes a missing directory and database; the other commands
// refuse, so a mistyped --data does not start an empty directory.
func (a *app) openDirectory(data string, create bool) (*opened, error) {
	db := filepath.Join(data, dbFile)
	if create {
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	} else if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no dirgate database at %s (create one with 'dirgate init --data %s --org NAME', or start 'dirgate serve --data %s')", db, data, data)
	}
	keys, _, err := a.secretKeys(data) // the key sealing TOTP secrets (factor.go)
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(db, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", db, err)
	}
	d, err := directory.New(directory.Config{Store: st, Password: a.argon2, Logger: a.cliLogger(), Secrets: keys})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &opened{dir: d, close: func() {
		d.Close()
		st.Close()
	}}, nil
}

// withDirectory runs fn over the directory of t.data.
func (a *app) withDirectory(t *target, fn func(ctx context.Context, d *directory.Directory) error) error {
	o, err := a.openDirectory(t.data, false)
	if err != nil {
		return err
	}
	defer o.close()
	return fn(a.ctx, o.dir)
}
