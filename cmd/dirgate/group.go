package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

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
		a.groupLinkCmd("add-group", "Put a group in a group (nested groups)", backend.AddGroupToGroup),
		a.groupLinkCmd("remove-group", "Take a group out of a group", backend.RemoveGroupFromGroup),
		a.groupGroupsCmd(),
	)
	c.Long = `Groups are named by --name. The commands that name a user as well
(add-member, remove-member) name the group with --group and the user with
--login, as the user commands do; the nested group commands (add-group,
remove-group, groups) name it with --group too. A group's LDAP entry is
cn=NAME,ou=groups,dc=ORG,<suffix> (groupOfUniqueNames).

A group may be a member of other groups (nested groups, which Okta does not
have): add-group --group PARENT --child CHILD puts CHILD in PARENT, and
CHILD's members are, through it, members of PARENT. Groups never form a
cycle. 'groups --group NAME' lists the groups in a group, --parents the
groups it is in. Over LDAP, uniqueMember lists the groups in a group; the
REST API's /api/v1 lists users only (the nested groups are under
/api/dirgate/v1/groups).

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
	what := "the user's `LOGIN` (or its id)"
	return a.membershipCmd(membership{use: use, short: short, flag: "login", metavar: "LOGIN", help: what,
		example: "--group engineering --login alice",
		said:    [4]string{"added %s to %s", "%s is already a member of %s", "removed %s from %s", "%s was not a member of %s"}}, op)
}

// membership describes a command that puts a member in a group or takes
// it out: a user (add-member, remove-member) or a group (add-group,
// remove-group).
type membership struct {
	use, short    string
	flag, metavar string // the member's flag
	help, example string
	// said: what it prints when it added, found it there already,
	// removed, found it absent (member, then group).
	said [4]string
}

func (a *app) membershipCmd(m membership, op func(backend, context.Context, string, string, string) (bool, error)) *cobra.Command {
	var t target
	var group, member string
	add := strings.HasPrefix(m.use, "add-")
	c := &cobra.Command{
		Use:     m.use + " (--data DIR --org ORG | --server URL) --group NAME --" + m.flag + " " + m.metavar,
		Short:   m.short,
		Example: "  dirgate group " + m.use + " --org acme " + m.example,
		Args:    cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withBackend(&t, func(ctx context.Context, d backend) error {
				changed, err := op(d, ctx, t.org, group, member)
				if err != nil {
					return err
				}
				k := 0
				switch {
				case add && !changed:
					k = 1
				case !add && changed:
					k = 2
				case !add:
					k = 3
				}
				fmt.Fprintf(a.stdout, m.said[k]+"\n", member, group)
				return nil
			})
		}),
	}
	addServerTargetFlags(c, &t)
	c.Flags().StringVar(&group, "group", "", "the group's `NAME` (or its id)")
	c.Flags().StringVar(&member, m.flag, "", m.help)
	c.MarkFlagRequired("group")
	c.MarkFlagRequired(m.flag)
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

// groupLinkCmd is add-group or remove-group: op puts --child in --group
// or takes it out.
func (a *app) groupLinkCmd(use, short string, op func(backend, context.Context, string, string, string) (bool, error)) *cobra.Command {
	what := "put in it"
	if use != "add-group" {
		what = "taken out of it"
	}
	return a.membershipCmd(membership{use: use, short: short, flag: "child", metavar: "CHILD",
		help: "the `CHILD` group's name (or its id), " + what, example: "--group engineering --child backend",
		said: [4]string{"added group %s to %s", "group %s is already in %s", "removed group %s from %s", "group %s was not in %s"}}, op)
}

// groupGroupsCmd lists the groups in a group, or with --parents the
// groups it is in.
func (a *app) groupGroupsCmd() *cobra.Command {
	var t target
	var name string
	var parents bool
	var out outputFormat
	c := &cobra.Command{
		Use:   "groups (--data DIR --org ORG | --server URL) --group NAME [--parents] [--output table|json]",
		Short: "List the groups in a group (--parents: the groups it is in)",
		Long: `List the groups directly in a group (nested groups), ordered by name; with
--parents, the groups it is directly in. Neither follows the chain further.`,
		Example: `  dirgate group groups --org acme --group engineering
  dirgate group groups --org acme --group backend --parents -o json`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			return a.withBackend(&t, func(ctx context.Context, d backend) error {
				list := d.ChildGroups
				if parents {
					list = d.ParentGroups
				}
				gs, err := list(ctx, t.org, name)
				if err != nil {
					return err
				}
				type groupView struct {
					ID          string `json:"id"`
					Name        string `json:"name"`
					Description string `json:"description,omitempty"`
				}
				vs := make([]groupView, len(gs))
				rows := make([][]string, len(gs))
				for i, g := range gs {
					vs[i] = groupView{g.ID, g.Name, g.Description}
					rows[i] = []string{g.Name, g.ID, orDash(g.Description)}
				}
				if out.json() {
					return writeJSON(a.stdout, vs)
				}
				return table(a.stdout, []string{"NAME", "ID", "DESCRIPTION"}, rows)
			})
		}),
	}
	addServerTargetFlags(c, &t)
	c.Flags().StringVar(&name, "group", "", "the group's `NAME` (or its id)")
	c.Flags().BoolVar(&parents, "parents", false, "list the groups it is in instead")
	c.MarkFlagRequired("group")
	addOutputFlag(c, &out)
	return c
}
