package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/directory"
)

func (a *app) groupCmd() *cobra.Command {
	c := a.parent("group", "Create, list and change groups (named by --name; --group where a user is named too)",
		a.groupCreateCmd(),
		a.groupDeleteCmd(),
		a.groupMemberCmd("add-member", "Add a user to a group", backend.AddMember),
		a.groupMemberCmd("remove-member", "Remove a user from a group", backend.RemoveMember),
		a.groupListCmd(),
		a.groupMembersCmd(),
	)
	c.Long = `Groups are named by --name. The commands that name a user as well
(add-member, remove-member) name the group with --group and the user with
--login, as the user commands do. A group's LDAP entry is
cn=NAME,ou=groups,dc=ORG,<suffix> (groupOfUniqueNames).

Each command works on the data directory (--data, --org) or, with --server
URL, on a running dirgate server through its REST API, with the same output:

  DIRGATE_TOKEN_FILE=admin.token dirgate group list --server https://127.0.0.1:8080 \
      --ca-file dirgate-data/tls/ca.pem`
	return c
}

type groupFlags struct {
	target
	name string
}

// addGroupFlags adds addServerTargetFlags' and --name.
func addGroupFlags(c *cobra.Command, f *groupFlags) {
	addServerTargetFlags(c, &f.target)
	c.Flags().StringVar(&f.name, "name", "", "the group's `NAME` (or its id)")
	c.MarkFlagRequired("name")
}

func (a *app) groupCreateCmd() *cobra.Command {
	var f groupFlags
	var desc string
	c := &cobra.Command{
		Use:   "create (--data DIR --org ORG | --server URL) --name NAME [--description TEXT]",
		Short: "Create a group",
		Example: `  dirgate group create --org acme --name engineering --description "All engineers"
  DIRGATE_TOKEN_FILE=admin.token dirgate group create --server https://127.0.0.1:8080 --name ops`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withBackend(&f.target, func(ctx context.Context, d backend) error {
				g, err := d.CreateGroup(ctx, f.org, directory.GroupInput{Name: f.name, Description: desc})
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "created group %s (%s)\n", g.Name, g.ID)
				return nil
			})
		}),
	}
	addGroupFlags(c, &f)
	c.Flags().StringVar(&desc, "description", "", "the group's description")
	return c
}

func (a *app) groupDeleteCmd() *cobra.Command {
	var f groupFlags
	c := &cobra.Command{
		Use:   "delete (--data DIR --org ORG | --server URL) --name NAME",
		Short: "Delete a group (its members stay)",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withBackend(&f.target, func(ctx context.Context, d backend) error {
				if err := d.DeleteGroup(ctx, f.org, f.name); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted group %s\n", f.name)
				return nil
			})
		}),
	}
	addGroupFlags(c, &f)
	return c
}

func (a *app) groupMemberCmd(use, short string, op func(backend, context.Context, string, string, string) (bool, error)) *cobra.Command {
	var t target
	var group, login string
	add := use == "add-member"
	c := &cobra.Command{
		Use:     use + " (--data DIR --org ORG | --server URL) --group NAME --login LOGIN",
		Short:   short,
		Example: "  dirgate group " + use + " --org acme --group engineering --login alice",
		Args:    cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withBackend(&t, func(ctx context.Context, d backend) error {
				changed, err := op(d, ctx, t.org, group, login)
				if err != nil {
					return err
				}
				switch {
				case add && changed:
					fmt.Fprintf(a.stdout, "added %s to %s\n", login, group)
				case add:
					fmt.Fprintf(a.stdout, "%s is already a member of %s\n", login, group)
				case changed:
					fmt.Fprintf(a.stdout, "removed %s from %s\n", login, group)
				default:
					fmt.Fprintf(a.stdout, "%s was not a member of %s\n", login, group)
				}
				return nil
			})
		}),
	}
	addServerTargetFlags(c, &t)
	c.Flags().StringVar(&group, "group", "", "the group's `NAME` (or its id)")
	c.Flags().StringVar(&login, "login", "", "the user's `LOGIN` (or its id)")
	c.MarkFlagRequired("group")
	c.MarkFlagRequired("login")
	return c
}

func (a *app) groupListCmd() *cobra.Command {
	var t target
	var out outputFormat
	c := &cobra.Command{
		Use:   "list (--data DIR --org ORG | --server URL) [--output table|json]",
		Short: "List the groups of an org with their member counts",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			return a.withBackend(&t, func(ctx context.Context, d backend) error {
				groups, count, err := d.GroupsWithCounts(ctx, t.org)
				if err != nil {
					return err
				}
				type groupView struct {
					ID          string `json:"id"`
					Name        string `json:"name"`
					Description string `json:"description,omitempty"`
					Members     int    `json:"members"`
				}
				vs := make([]groupView, len(groups))
				rows := make([][]string, len(groups))
				for i, g := range groups {
					vs[i] = groupView{g.ID, g.Name, g.Description, count[g.ID]}
					rows[i] = []string{g.Name, strconv.Itoa(count[g.ID]), g.ID, orDash(g.Description)}
				}
				if out.json() {
					return writeJSON(a.stdout, vs)
				}
				return table(a.stdout, []string{"NAME", "MEMBERS", "ID", "DESCRIPTION"}, rows)
			})
		}),
	}
	addServerTargetFlags(c, &t)
	addOutputFlag(c, &out)
	return c
}

func (a *app) groupMembersCmd() *cobra.Command {
	var f groupFlags
	var out outputFormat
	c := &cobra.Command{
		Use:   "members (--data DIR --org ORG | --server URL) --name NAME [--output table|json]",
		Short: "List a group's members",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			return a.withBackend(&f.target, func(ctx context.Context, d backend) error {
				us, err := d.GroupMembers(ctx, f.org, f.name)
				if err != nil {
					return err
				}
				if out.json() {
					vs := make([]userView, len(us))
					for i, u := range us {
						vs[i] = viewUser(u)
					}
					return writeJSON(a.stdout, vs)
				}
				rows := make([][]string, len(us))
				for i, u := range us {
					rows[i] = []string{u.Profile.Login, u.Status, u.Type, u.ID}
				}
				return table(a.stdout, []string{"LOGIN", "STATUS", "TYPE", "ID"}, rows)
			})
		}),
	}
	addGroupFlags(c, &f)
	addOutputFlag(c, &out)
	return c
}
