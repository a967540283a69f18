package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dirgate/dirgate/internal/config"
	"github.com/dirgate/dirgate/internal/sealed"
	"github.com/dirgate/dirgate/internal/store"
)

// The secret key that seals TOTP secrets at rest.
const (
	secretKeyFile = "secret.key" // in the data directory, by default
	// envSecretKey gives the key itself (base64 or hex of 32 bytes)
	// instead of a file. It is read only from the environment: a key on a
	// command line or in a config file would leak.
	envSecretKey = config.EnvPrefix + "SECRET_KEY"
)

// addSecretKeyFlag adds the persistent --secret-key-file.
func (a *app) addSecretKeyFlag(pf *pflag.FlagSet) {
	pf.StringVar(&a.secretKeyFile, "secret-key-file", "",
		"`FILE` holding the key that encrypts TOTP secrets (default DIR/"+secretKeyFile+", created mode 0600 if absent; or give the key itself in "+envSecretKey+")")
}

// secretKeys returns the keyring sealing factor secrets for data
// directory data: the key in DIRGATE_SECRET_KEY, else the one in
// --secret-key-file (default data/secret.key), creating that file (mode
// 0600) if it does not exist. created names a file it created.
func (a *app) secretKeys(data string) (keys *sealed.Keys, created string, err error) {
	lookup := a.lookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var key *sealed.Key
	if v, ok := lookup(envSecretKey); ok && strings.TrimSpace(v) != "" {
		if a.secretKeyFile != "" {
			return nil, "", usagef("%s and --secret-key-file both give the secret key; use one", envSecretKey)
		}
		if key, err = sealed.KeyFromString(v); err != nil {
			return nil, "", fmt.Errorf("%s: %w", envSecretKey, err)
		}
	} else {
		path := a.secretKeyFile
		if path == "" {
			path = filepath.Join(data, secretKeyFile)
		}
		var made bool
		if key, made, err = sealed.LoadOrCreateKey(path); err != nil {
			return nil, "", err
		}
		if made {
			created = path
		}
	}
	keys, err = sealed.NewKeys(key)
	return keys, created, err
}

func (a *app) factorCmd() *cobra.Command {
	c := a.parent("factor", "Enrol, activate, list and reset users' TOTP second factors (named by --login)",
		a.factorEnrollCmd(),
		a.factorActivateCmd(),
		a.factorListCmd(),
		a.factorResetCmd(),
	)
	c.Long = `Enrol, activate, list and reset users' TOTP second factors; users are named by
--login.

Each command works on the data directory (--data, --org: the secret key that
seals TOTP secrets is DIR/secret.key or --secret-key-file) or, with --server
URL, on a running dirgate server through its REST API (the server holds the
key), with the same output:

  DIRGATE_TOKEN_FILE=admin.token dirgate factor list --server https://127.0.0.1:8080 \
      --ca-file dirgate-data/tls/ca.pem --login alice`
	return c
}

func (a *app) factorEnrollCmd() *cobra.Command {
	var f userFlags
	var qr string
	c := &cobra.Command{
		Use:   "enroll (--data DIR --org ORG | --server URL) --login LOGIN [--qr FILE]",
		Short: "Enrol a TOTP factor for a user and print its otpauth:// URI and secret",
		Long: `Enrol a TOTP (RFC 6238: SHA-1, 6 digits, 30 s) second factor for a user. dirgate
generates the secret and prints the otpauth:// URI and the base32 secret: give
them to the user only (they are credentials), who adds them to an authenticator
app and then activates the factor with a first code ('dirgate factor activate').
Until then the factor is PENDING_ACTIVATION; enrolling again replaces it. A user
with an ACTIVE factor must have it reset first ('dirgate factor reset').

--qr FILE writes the URI as a QR code PNG (mode 0600) for the app to scan.`,
		Example: `  dirgate factor enroll --org acme --login alice --qr alice-totp.png
  DIRGATE_TOKEN_FILE=admin.token dirgate factor enroll --server https://127.0.0.1:8080 --login alice`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withBackend(&f.target, func(ctx context.Context, d backend) error {
				en, err := d.EnrollTOTP(ctx, f.org, f.login)
				if err != nil {
					return err
				}
				if qr != "" {
					png, err := en.QRPNG()
					if err != nil {
						return fmt.Errorf("QR code: %w", err)
					}
					if err := writePrivateFile(qr, png); err != nil {
						return fmt.Errorf("QR code: %w", err)
					}
				}
				w := a.stdout
				fmt.Fprintf(w, "enrolled a TOTP factor for %s (%s), %s\n", f.login, en.Factor.ID, en.Factor.Status)
				fmt.Fprintf(w, "secret: %s\n", en.Secret)
				fmt.Fprintf(w, "uri:    %s\n", en.URI)
				if qr != "" {
					fmt.Fprintf(w, "qr:     %s\n", qr)
				}
				fmt.Fprintf(w, "Add it to an authenticator app, then activate it with a first code:\n  dirgate factor activate %s --login %s --code CODE\n",
					f.where(), f.login)
				return nil
			})
		}),
	}
	addServerUserFlags(c, &f)
	c.Flags().StringVar(&qr, "qr", "", "also write the otpauth:// URI as a QR code PNG to `FILE` (mode 0600)")
	return c
}

// writePrivateFile writes b to path, mode 0600 (also when the file
// existed with another mode).
func writePrivateFile(path string, b []byte) error {
	fl, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := fl.Chmod(0o600); err != nil {
		fl.Close()
		return err
	}
	if _, err := fl.Write(b); err != nil {
		fl.Close()
		return err
	}
	return fl.Close()
}

func (a *app) factorActivateCmd() *cobra.Command {
	var f userFlags
	var code string
	c := &cobra.Command{
		Use:   "activate (--data DIR --org ORG | --server URL) --login LOGIN --code CODE",
		Short: "Activate a user's enrolled TOTP factor with a first code from the authenticator",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withBackend(&f.target, func(ctx context.Context, d backend) error {
				fa, err := d.ActivateTOTP(ctx, f.org, f.login, strings.TrimSpace(code))
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "activated the TOTP factor of %s (%s)\n", f.login, fa.ID)
				return nil
			})
		}),
	}
	addServerUserFlags(c, &f)
	c.Flags().StringVar(&code, "code", "", "the current 6-digit `CODE` shown by the authenticator")
	c.MarkFlagRequired("code")
	return c
}

func (a *app) factorResetCmd() *cobra.Command {
	var f userFlags
	c := &cobra.Command{
		Use:   "reset (--data DIR --org ORG | --server URL) --login LOGIN",
		Short: "Delete all of a user's factors (the user can then enrol again)",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withBackend(&f.target, func(ctx context.Context, d backend) error {
				n, err := d.ResetFactors(ctx, f.org, f.login)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "reset the factors of %s: %d deleted\n", f.login, n)
				return nil
			})
		}),
	}
	addServerUserFlags(c, &f)
	return c
}

// factorView is a factor as the CLI shows it: never its secret.
type factorView struct {
	ID        string     `json:"id"`
	Type      string     `json:"factorType"`
	Status    string     `json:"status"`
	Created   time.Time  `json:"created"`
	Activated *time.Time `json:"activated,omitempty"`
}

func viewFactor(f *store.Factor) factorView {
	return factorView{ID: f.ID, Type: f.Type, Status: f.Status, Created: msTime(f.Created), Activated: msTimePtr(f.Activated)}
}

// activatedText is the ACTIVATED column. An ACTIVE factor without the
// time comes from --server: the REST API does not say when a factor was
// activated.
func activatedText(f *store.Factor, v factorView) string {
	if f.Status == store.FactorActive && v.Activated == nil {
		return "unknown"
	}
	return timeText(v.Activated)
}

func (a *app) factorListCmd() *cobra.Command {
	var f userFlags
	var out outputFormat
	c := &cobra.Command{
		Use:   "list (--data DIR --org ORG | --server URL) --login LOGIN [--output table|json]",
		Short: "List a user's factors",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			return a.withBackend(&f.target, func(ctx context.Context, d backend) error {
				fs, err := d.Factors(ctx, f.org, f.login)
				if err != nil {
					return err
				}
				vs := make([]factorView, len(fs))
				rows := make([][]string, len(fs))
				for i, fa := range fs {
					vs[i] = viewFactor(fa)
					rows[i] = []string{fa.Type, fa.Status, fa.Created.UTC().Format(time.RFC3339), activatedText(fa, vs[i]), fa.ID}
				}
				if out.json() {
					return writeJSON(a.stdout, vs)
				}
				return table(a.stdout, []string{"TYPE", "STATUS", "CREATED", "ACTIVATED", "ID"}, rows)
			})
		}),
	}
	addServerUserFlags(c, &f)
	addOutputFlag(c, &out)
	return c
}
