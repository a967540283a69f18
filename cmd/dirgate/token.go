package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/directory"
)

// API tokens for the REST API (Authorization: SSWS <token>).

func (a *app) tokenCmd() *cobra.Command {
	return a.parent("token", "Create, list and revoke REST API tokens (each acts as an admin, with that admin's roles)",
		a.tokenCreateCmd(),
		a.tokenListCmd(),
		a.tokenRevokeCmd(),
	)
}

func (a *app) tokenCreateCmd() *cobra.Command {
	var f userFlags
	var name string
	var installation bool
	c := &cobra.Command{
		Use:   "create --data DIR (--org ORG --login ADMIN | --installation) --name NAME",
		Short: "Create an API token acting as an admin; prints the token once (it is stored hashed)",
		Long: `Create an API token that acts as the admin LOGIN of ORG, with the admin
roles that admin holds at the time of each call: READ_ONLY_ADMIN may read,
ORG_ADMIN may also change users and groups, SUPER_ADMIN may also change roles
and policies. The token is printed once, on standard output; dirgate keeps
only its SHA-256 and cannot show it again. Use it as
  Authorization: SSWS <token>

--installation instead creates a token for the orgs API
(/api/dirgate/v1/orgs: create and list orgs, their LDAP settings), which can
do nothing inside an org.`,
		Example: `  TOKEN=$(dirgate token create --data ./dirgate-data --org example --login admin --name scripts)
  curl --cacert ./dirgate-data/tls/ca.pem -H "Authorization: SSWS $TOKEN" https://127.0.0.1:8080/api/v1/users`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if installation == (f.org != "" || f.login != "") {
				return usagef("give --org and --login (an org admin's token) or --installation, one of the two")
			}
			return a.withDirectory(&f.target, func(ctx context.Context, d *directory.Directory) error {
				if installation {
					tok, secret, err := d.CreateInstallationToken(ctx, name)
					if err != nil {
						return err
					}
					fmt.Fprintln(a.stdout, secret)
					fmt.Fprintf(a.stderr, "created installation token %s (%q) for the orgs API; it is shown only this once\n", tok.ID, tok.Name)
					return nil
				}
				tok, secret, err := d.CreateToken(ctx, f.org, f.login, name)
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, secret)
				fmt.Fprintf(a.stderr, "created API token %s (%q) acting as %s; it is shown only this once\n", tok.ID, tok.Name, f.login)
				return nil
			})
		}),
	}
	addDataFlag(c, &f.data)
	c.Flags().StringVar(&f.org, "org", "", "the org `NAME`")
	c.Flags().StringVar(&f.login, "login", "", "the admin's `LOGIN` (or its id) the token acts as")
	c.Flags().BoolVar(&installation, "installation", false, "create an installation token for the orgs API instead")
	c.Flags().StringVar(&name, "name", "", "what the token is for (`NAME`), shown in lists and the system log")
	c.MarkFlagRequired("name")
	return c
}

// tokenView is a token as the CLI shows it: never its secret or hash.
type tokenView struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	UserID   string     `json:"userId"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"lastUsed,omitempty"`
}

func (a *app) tokenListCmd() *cobra.Command {
	var f target
	var out outputFormat
	c := &cobra.Command{
		Use:   "list --data DIR --org ORG [--output table|json]",
		Short: "List the org's API tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			return a.withDirectory(&f, func(ctx context.Context, d *directory.Directory) error {
				ts, err := d.Tokens(ctx, f.org)
				if err != nil {
					return err
				}
				vs := make([]tokenView, len(ts))
				rows := make([][]string, len(ts))
				for i, t := range ts {
					vs[i] = tokenView{ID: t.ID, Name: t.Name, UserID: t.UserID, Created: t.Created, LastUsed: timePtr(t.LastUsed)}
					rows[i] = []string{t.Name, t.UserID, t.Created.UTC().Format(time.RFC3339), timeText(vs[i].LastUsed), t.ID}
				}
				if out.json() {
					return writeJSON(a.stdout, vs)
				}
				return table(a.stdout, []string{"NAME", "ADMIN", "CREATED", "LAST USED", "ID"}, rows)
			})
		}),
	}
	addTargetFlags(c, &f)
	addOutputFlag(c, &out)
	return c
}

func (a *app) tokenRevokeCmd() *cobra.Command {
	var f target
	c := &cobra.Command{
		Use:   "revoke --data DIR --org ORG ID",
		Short: "Revoke an API token: its next call is refused",
		Args:  cobra.ExactArgs(1),
		RunE: a.do(func(_ *cobra.Command, args []string) error {
			return a.withDirectory(&f, func(ctx context.Context, d *directory.Directory) error {
				if err := d.RevokeToken(ctx, f.org, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "revoked API token %s\n", args[0])
				return nil
			})
		}),
	}
	addTargetFlags(c, &f)
	return c
}
