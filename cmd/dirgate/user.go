package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/directory"
)

func (a *app) userCmd() *cobra.Command {
	c := a.parent("user", "Create, list and change users (named by --login), in --data or on a --server",
		a.userCreateCmd(),
		a.userListCmd(),
		a.userShowCmd(),
		a.userUpdateCmd(),
		a.userSetPasswordCmd(),
	)
	for _, l := range []struct {
		action directory.Action
		short  string
	}{
		{directory.ActionActivate, "Activate a STAGED or DEPROVISIONED user"},
		{directory.ActionSuspend, "Suspend an ACTIVE user (it cannot sign in until unsuspended)"},
		{directory.ActionUnsuspend, "Return a SUSPENDED user to ACTIVE"},
		{directory.ActionDeactivate, "Deactivate a user (DEPROVISIONED; only such users can be deleted)"},
		{directory.ActionUnlock, "Unlock a LOCKED_OUT user"},
		{directory.ActionExpirePassword, "Expire an ACTIVE user's password (PASSWORD_EXPIRED)"},
	} {
		c.AddCommand(a.userLifecycleCmd(l.action, l.short))
	}
	c.AddCommand(
		a.userDeleteCmd(),
		a.userRoleCmd("add-role", "Give a user an admin role", backend.AssignRole),
		a.userRoleCmd("remove-role", "Take an admin role from a user", backend.RemoveRole),
	)
	c.Long = `Users are named by --login (a login, or a user's id).

Each command works on the data directory (--data, --org) or, with --server
URL, on a running dirgate server through its REST API, with the same output:

  export DIRGATE_TOKEN=$(cat admin.token)   # from 'dirgate token create'
  dirgate user list --server https://127.0.0.1:8080 --ca-file dirgate-data/tls/ca.pem`
	return c
}

// userFlags are --data, --org and --login.
type userFlags struct {
	target
	login string
}

// addServerUserFlags adds addServerTargetFlags' and --login.
func addServerUserFlags(c *cobra.Command, f *userFlags) {
	addServerTargetFlags(c, &f.target)
	c.Flags().StringVar(&f.login, "login", "", "the user's `LOGIN` (or its id)")
	c.MarkFlagRequired("login")
}

func (a *app) userCreateCmd() *cobra.Command {
	var f userFlags
	var p directory.Profile
	var attrs, roles []string
	var pwStdin, service bool
	var status string
	var out outputFormat
	c := &cobra.Command{
		Use:   "create (--data DIR --org ORG | --server URL) --login LOGIN [flags]",
		Short: "Create a user",
		Long: `Create a user. Its LDAP entry is uid=LOGIN,ou=users,dc=ORG,<suffix>.

The password is read from stdin with --password-stdin (one line; only the
trailing newline is stripped) and never taken from the command line. Without
it the user has no password until 'dirgate user set-password'.

Roles (case-insensitive): SUPER_ADMIN, ORG_ADMIN, READ_ONLY_ADMIN; each lets the
user see the whole org over LDAP. --service-account marks an account for
applications (such as the LDAP bind user of pg_hba.conf).`,
		Example: `  echo 'S3cret-pw' | dirgate user create --org acme --login alice --email alice@acme.example \
      --first Alice --last Anders --department Engineering --password-stdin
  dirgate user create --org acme --login ldap-bind --service-account --role read_only_admin --password-stdin < pw.txt
  DIRGATE_TOKEN_FILE=admin.token dirgate user create --server https://dirgate.example:8080 --login bob`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			in := directory.UserInput{Status: strings.ToUpper(status), ServiceAccount: service, Roles: roles}
			if in.Status != directory.StatusActive && in.Status != directory.StatusStaged {
				return usagef("--status must be STAGED or ACTIVE, not %q", status)
			}
			in.Profile = p
			in.Profile.Login = f.login
			for _, kv := range attrs {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return usagef("--attr wants NAME=VALUE, not %q", kv)
				}
				if v == "" {
					continue // an empty attribute is an unset one (as over the API and LDAP)
				}
				if in.Profile.Custom == nil {
					in.Profile.Custom = map[string]string{}
				}
				in.Profile.Custom[k] = v
			}
			if pwStdin {
				pw, err := a.readPassword(true, f.login)
				if err != nil {
					return err
				}
				defer clear(pw)
				in.Password = pw
			}
			return a.withBackend(&f.target, func(ctx context.Context, d backend) error {
				u, err := d.CreateUser(ctx, f.org, in)
				if err != nil {
					return err
				}
				if out.json() {
					return writeJSON(a.stdout, viewUser(u))
				}
				fmt.Fprintf(a.stdout, "created user %s (%s) %s%s\n", u.Profile.Login, u.ID, u.Status, noPasswordNote(u))
				return nil
			})
		}),
	}
	addServerUserFlags(c, &f)
	fl := c.Flags()
	fl.StringVar(&p.Email, "email", "", "e-mail `ADDRESS` (mail)")
	fl.StringVar(&p.FirstName, "first", "", "first `NAME` (givenName)")
	fl.StringVar(&p.LastName, "last", "", "last `NAME` (sn)")
	fl.StringVar(&p.DisplayName, "display-name", "", "display `NAME` (displayName)")
	fl.StringVar(&p.NickName, "nick-name", "", "nickname (nickName)")
	fl.StringVar(&p.Title, "title", "", "job title (title)")
	fl.StringVar(&p.Department, "department", "", "department (department)")
	fl.StringVar(&p.Organization, "organization", "", "organization (o)")
	fl.StringVar(&p.PrimaryPhone, "phone", "", "primary phone (telephoneNumber)")
	fl.StringVar(&p.MobilePhone, "mobile", "", "mobile phone (mobile)")
	fl.StringArrayVar(&attrs, "attr", nil, "custom attribute `NAME=VALUE` the org declares (repeatable)")
	fl.BoolVar(&pwStdin, "password-stdin", false, "read the password from stdin (one line)")
	fl.StringSliceVar(&roles, "role", nil, "admin `ROLE` to give (repeatable): SUPER_ADMIN, ORG_ADMIN, READ_ONLY_ADMIN")
	fl.BoolVar(&service, "service-account", false, "create a service account (for applications that bind)")
	fl.StringVar(&status, "status", directory.StatusActive, "initial `STATUS`: STAGED or ACTIVE")
	addOutputFlag(c, &out)
	return c
}

func noPasswordNote(u *directory.User) string {
	if u.PasswordHash == "" {
		return " (no password: it cannot sign in until 'dirgate user set-password')"
	}
	return ""
}

func (a *app) userListCmd() *cobra.Command {
	var t target
	var out outputFormat
	c := &cobra.Command{
		Use:   "list (--data DIR --org ORG | --server URL) [--output table|json]",
		Short: "List the users of an org",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			return a.withBackend(&t, func(ctx context.Context, d backend) error {
				us, err := d.Users(ctx, t.org)
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
					rows[i] = []string{u.Profile.Login, u.Status, u.Type, rolesText(u.Roles), u.ID}
				}
				return table(a.stdout, []string{"LOGIN", "STATUS", "TYPE", "ROLES", "ID"}, rows)
			})
		}),
	}
	addServerTargetFlags(c, &t)
	addOutputFlag(c, &out)
	return c
}

func (a *app) userShowCmd() *cobra.Command {
	var f userFlags
	var out outputFormat
	c := &cobra.Command{
		Use:   "show (--data DIR --org ORG | --server URL) --login LOGIN [--output table|json]",
		Short: "Show one user, its profile and groups",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			return a.withBackend(&f.target, func(ctx context.Context, d backend) error {
				u, err := d.User(ctx, f.org, f.login)
				if err != nil {
					return err
				}
				gs, err := d.UserGroups(ctx, f.org, u.ID)
				if err != nil {
					return err
				}
				v := viewUser(u)
				for _, g := range gs {
					v.Groups = append(v.Groups, g.Name)
				}
				slices.SortFunc(v.Groups, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
				if out.json() {
					return writeJSON(a.stdout, v)
				}
				p := u.Profile
				rows := [][]string{
					{"login:", p.Login}, {"id:", u.ID}, {"status:", u.Status}, {"type:", u.Type},
					{"roles:", rolesText(u.Roles)}, {"password:", map[bool]string{true: "set", false: "not set"}[v.PasswordSet]},
					{"email:", orDash(p.Email)}, {"first name:", orDash(p.FirstName)}, {"last name:", orDash(p.LastName)},
					{"display name:", orDash(p.DisplayName)}, {"nickname:", orDash(p.NickName)}, {"title:", orDash(p.Title)},
					{"department:", orDash(p.Department)}, {"organization:", orDash(p.Organization)},
					{"phone:", orDash(p.PrimaryPhone)}, {"mobile:", orDash(p.MobilePhone)},
				}
				for _, k := range slices.Sorted(maps.Keys(p.Custom)) {
					rows = append(rows, []string{k + ":", p.Custom[k]})
				}
				rows = append(rows,
					[]string{"groups:", orDash(strings.Join(v.Groups, ","))},
					[]string{"created:", timeText(&v.Created)}, []string{"activated:", timeText(v.Activated)},
					[]string{"status changed:", timeText(v.StatusChanged)}, []string{"last login:", timeText(v.LastLogin)},
					[]string{"password changed:", timeText(v.PasswordChanged)},
				)
				return rowsOut(a.stdout, rows)
			})
		}),
	}
	addServerUserFlags(c, &f)
	addOutputFlag(c, &out)
	return c
}

func (a *app) userUpdateCmd() *cobra.Command {
	var f userFlags
	var sets []string
	var out outputFormat
	c := &cobra.Command{
		Use:   "update (--data DIR --org ORG | --server URL) --login LOGIN --set NAME=VALUE ...",
		Short: "Change some of a user's profile attributes",
		Long: `Change some of a user's profile attributes (the others stay), as the API's
partial update: NAME is a profile attribute (email, firstName, lastName,
displayName, nickName, title, department, organization, primaryPhone,
mobilePhone, login) or one of the org's custom attributes; an empty VALUE
clears it. An attribute a directory integration maps is kept by it: the
change is refused, naming the integration.`,
		Example: `  dirgate user update --org acme --login alice --set title=CTO --set department=Engineering
  dirgate user update --org acme --login alice --set nickName=`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			set := map[string]string{}
			for _, kv := range sets {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || strings.TrimSpace(k) == "" {
					return usagef("--set wants NAME=VALUE, not %q", kv)
				}
				set[strings.TrimSpace(k)] = v
			}
			if len(set) == 0 {
				return usagef("give what to change with --set NAME=VALUE")
			}
			return a.withBackend(&f.target, func(ctx context.Context, d backend) error {
				u, err := d.PatchProfile(ctx, f.org, f.login, set)
				if err != nil {
					return err
				}
				if out.json() {
					return writeJSON(a.stdout, viewUser(u))
				}
				fmt.Fprintf(a.stdout, "updated user %s (%s)\n", u.Profile.Login, u.ID)
				return nil
			})
		}),
	}
	addServerUserFlags(c, &f)
	c.Flags().StringArrayVar(&sets, "set", nil, "profile attribute `NAME=VALUE` to set (repeatable; empty VALUE clears it)")
	addOutputFlag(c, &out)
	return c
}

func (a *app) userSetPasswordCmd() *cobra.Command {
	var f userFlags
	var pwStdin bool
	c := &cobra.Command{
		Use:   "set-password (--data DIR --org ORG | --server URL) --login LOGIN [--password-stdin]",
		Short: "Set a user's password (from stdin, or a prompt on a terminal)",
		Long: `Set a user's password as an administrator. With --password-stdin the password
is the first line of stdin (only the trailing newline is stripped); otherwise
it is asked for twice, without echo, on the terminal. A PASSWORD_EXPIRED user
becomes ACTIVE.`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			pw, err := a.readPassword(pwStdin, f.login)
			if err != nil {
				return err
			}
			defer clear(pw)
			return a.withBackend(&f.target, func(ctx context.Context, d backend) error {
				u, err := d.SetPassword(ctx, f.org, f.login, pw)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "set the password of %s (%s)\n", u.Profile.Login, u.Status)
				return nil
			})
		}),
	}
	addServerUserFlags(c, &f)
	c.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from stdin (one line)")
	return c
}

func (a *app) userLifecycleCmd(action directory.Action, short string) *cobra.Command {
	var f userFlags
	name := strings.ReplaceAll(string(action), "_", "-")
	c := &cobra.Command{
		Use:   name + " (--data DIR --org ORG | --server URL) --login LOGIN",
		Short: short,
		Long: short + `.

Okta's lifecycle: activate (STAGED, DEPROVISIONED -> ACTIVE), suspend (ACTIVE ->
SUSPENDED), unsuspend (SUSPENDED -> ACTIVE), deactivate (any -> DEPROVISIONED),
unlock (LOCKED_OUT -> ACTIVE), expire-password (ACTIVE -> PASSWORD_EXPIRED).
An action not allowed from the user's status fails and names those that are.`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withBackend(&f.target, func(ctx context.Context, d backend) error {
				u, err := d.Lifecycle(ctx, f.org, f.login, action)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "user %s is %s\n", u.Profile.Login, u.Status)
				return nil
			})
		}),
	}
	addServerUserFlags(c, &f)
	return c
}

func (a *app) userDeleteCmd() *cobra.Command {
	var f userFlags
	c := &cobra.Command{
		Use:   "delete (--data DIR --org ORG | --server URL) --login LOGIN",
		Short: "Delete a DEPROVISIONED user (deactivate it first)",
		Long: `Delete a DEPROVISIONED user (deactivate it first). A user of another status is
refused, also with --server (where the REST API's DELETE of such a user would
deactivate it, as Okta's does: 'dirgate user delete' never does).`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withBackend(&f.target, func(ctx context.Context, d backend) error {
				if err := d.DeleteUser(ctx, f.org, f.login); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted user %s\n", f.login)
				return nil
			})
		}),
	}
	addServerUserFlags(c, &f)
	return c
}

func (a *app) userRoleCmd(use, short string, op func(backend, context.Context, string, string, string) (*directory.User, error)) *cobra.Command {
	var f userFlags
	var role string
	c := &cobra.Command{
		Use:   use + " (--data DIR --org ORG | --server URL) --login LOGIN --role ROLE",
		Short: short + " (SUPER_ADMIN, ORG_ADMIN or READ_ONLY_ADMIN; any case)",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withBackend(&f.target, func(ctx context.Context, d backend) error {
				u, err := op(d, ctx, f.org, f.login, role)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "user %s has roles: %s\n", u.Profile.Login, rolesText(u.Roles))
				return nil
			})
		}),
	}
	addServerUserFlags(c, &f)
	c.Flags().StringVar(&role, "role", "", "admin `ROLE`: SUPER_ADMIN, ORG_ADMIN or READ_ONLY_ADMIN")
	c.MarkFlagRequired("role")
	return c
}
