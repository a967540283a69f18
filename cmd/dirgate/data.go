package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/directory"
)

// Layout of a data directory.
const (
	defaultDataDir  = "./dirgate-data"
	dbFile          = "dirgate.db"
	tlsDir          = "tls"
	lockFile        = "serve.lock"
	credentialsFile = "demo-credentials.txt"
)

// target is where an administration command works: --data and --org;
// for the commands that can also act on a running server (user, group,
// factor: addServerTargetFlags), --server with --token-file and --ca-file.
type target struct {
	data string
	org  string
	// server is --server: "" works on --data, else on the server's REST
	// API (remote.go) with the token of DIRGATE_TOKEN or tokenFile.
	server    string
	tokenFile string
	caFile    string
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

// addServerTargetFlags adds --data and --org, and --server, --token-file
// and --ca-file: the command works on the data directory, or with --server
// on a running server through its REST API. --org is required without
// --server (main.go's PersistentPreRunE: requireTarget), optional with it.
// It also adds a paragraph on --server to the command's help.
func addServerTargetFlags(c *cobra.Command, t *target) {
	addDataFlag(c, &t.data)
	fl := c.Flags()
	fl.StringVar(&t.org, "org", "", "the `ORG` to work in (its naming context is dc=ORG,<suffix>); with --server the API token's org, which --org (optional then) must name")
	fl.StringVar(&t.server, "server", "", "work on the running dirgate server at `URL` (https://HOST:PORT of serve --http) through its REST API instead of opening --data")
	fl.StringVar(&t.tokenFile, "token-file", "", "`FILE` holding the API token for --server, mode 0600 (or give the token in "+envToken+"; never on the command line)")
	fl.StringVar(&t.caFile, "ca-file", "", "PEM `FILE` of the CA that signed --server's certificate, such as DIR/tls/ca.pem (default: the system's CAs)")
	if c.Long == "" {
		c.Long = c.Short + "."
	}
	c.Long += "\n\n" + serverHelp
}

// where is the flags that name t, for a command to run next.
func (t *target) where() string {
	if t.server == "" {
		return "--data " + t.data + " --org " + t.org
	}
	if t.org == "" {
		return "--server " + t.server
	}
	return "--server " + t.server + " --org " + t.org
}

// serverHelp ends the help of every command that takes --server.
const serverHelp = `With --server URL the command works on a running dirgate server through its
REST API, as the API token's admin, instead of opening --data, and prints the
same. The token (from 'dirgate token create') is read from ` + envToken + ` or from
the file --token-file names, never from the command line. The org is the
token's: --org may be left out, and if given must be that org. --ca-file
trusts the server's CA (DIR/tls/ca.pem of 'dirgate serve').`

// opened is a store and the directory over it.
type opened struct {
	dir   *directory.Directory
	close func()
}

// openDirectory opens the store (--store, else the data directory's
// SQLite database; openStore) and the directory over it.
func (a *app) openDirectory(data string, create bool) (*opened, error) {
	st, err := a.openStore(a.ctx, data, create, a.cliLogger()) // store.go
	if err != nil {
		return nil, err
	}
	keys, _, err := a.secretKeys(data) // the key sealing TOTP secrets (factor.go)
	if err != nil {
		st.Close()
		return nil, err
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

// withBackend runs fn over the backend of t: the data directory (as
// withDirectory), or with --server the server's REST API.
func (a *app) withBackend(t *target, fn func(ctx context.Context, b backend) error) error {
	if t.server == "" {
		return a.withDirectory(t, func(ctx context.Context, d *directory.Directory) error {
			return fn(ctx, localBackend{d})
		})
	}
	b, err := a.openRemote(t)
	if err != nil {
		return remoteError(err)
	}
	return remoteError(fn(a.ctx, b))
}
