package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/directory"
)

func (a *app) initCmd() *cobra.Command {
	var t target
	var suffix string
	var custom []string
	c := &cobra.Command{
		Use:   "init --data DIR --org ORG [--suffix S] [--custom-attribute NAME ...]",
		Short: "Create the data directory and database if needed, and an org",
		Long: `Create the data directory and its database if they do not exist yet, and an
org in it. The org's LDAP naming context is dc=ORG,<suffix>; users live under
ou=users and groups under ou=groups of it.

--custom-attribute declares extra profile attributes (repeat it, or give a
comma-separated list); they appear in LDAP under these names and are set with
'dirgate user create --attr NAME=VALUE'.`,
		Example: `  dirgate init --data ./dirgate-data --org acme
  dirgate init --org acme --suffix dc=corp,dc=example --custom-attribute costCenter`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			o, err := a.openDirectory(t.data, true)
			if err != nil {
				return err
			}
			defer o.close()
			org, err := o.dir.CreateOrg(a.ctx, directory.OrgInput{Name: t.org, Suffix: suffix, CustomAttributes: custom})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "created org %s (%s) in %s\n", org.Name, directory.BaseDN(org), t.data)
			return nil
		}),
	}
	addTargetFlags(c, &t)
	c.Flags().StringVar(&suffix, "suffix", directory.DefaultSuffix, "naming `SUFFIX` below which the org is dc=ORG")
	c.Flags().StringSliceVar(&custom, "custom-attribute", nil, "declare a custom profile attribute `NAME` (repeatable)")
	return c
}
