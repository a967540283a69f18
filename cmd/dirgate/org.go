package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/directory"
)

func (a *app) orgCmd() *cobra.Command {
	return a.parent("org", "List orgs and change an org's settings",
		a.orgListCmd(),
		a.orgSetCmd(),
		a.orgPOSIXCmd(),
	)
}

func (a *app) orgListCmd() *cobra.Command {
	var data string
	var out outputFormat
	c := &cobra.Command{
		Use:   "list --data DIR [--output table|json]",
		Short: "List the orgs with their naming contexts and settings",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			return a.withDirectory(&target{data: data}, func(ctx context.Context, d *directory.Directory) error {
				orgs, err := d.Orgs(ctx)
				if err != nil {
					return err
				}
				type orgView struct {
					ID               string   `json:"id"`
					Name             string   `json:"name"`
					BaseDN           string   `json:"baseDN"`
					MFASeparator     string   `json:"mfaSeparator"`
					CustomAttributes []string `json:"customAttributes,omitempty"`
					SelfService      []string `json:"selfService"`
				}
				vs := make([]orgView, len(orgs))
				rows := make([][]string, len(orgs))
				for i, o := range orgs {
					vs[i] = orgView{o.ID, o.Name, directory.BaseDN(o), string(directory.MFASeparatorOf(o)), o.CustomAttributes,
						directory.SelfServiceAttributesOf(o)}
					rows[i] = []string{o.Name, directory.BaseDN(o), strconv.Quote(vs[i].MFASeparator), o.ID, orDash(strings.Join(o.CustomAttributes, ","))}
				}
				if out.json() {
					return writeJSON(a.stdout, vs)
				}
				return table(a.stdout, []string{"NAME", "BASE DN", "MFA SEPARATOR", "ID", "CUSTOM ATTRIBUTES"}, rows)
			})
		}),
	}
	addDataFlag(c, &data)
	addOutputFlag(c, &out)
	return c
}

func (a *app) orgSetCmd() *cobra.Command {
	var t target
	var sep, self, writes, memberOf string
	c := &cobra.Command{
		Use:   "set --data DIR --org ORG [--mfa-separator C] [--self-service ATTRS] [--ldap-writes on|off] [--ldap-memberof direct|transitive]",
		Short: "Change an org's settings",
		Long: `Change an org's settings.

--mfa-separator is the character between the password and the one-time
code in an LDAP bind password when a sign-on policy requires MFA
("<password><C><code>"; the default is ","). The password is split at the
last one, so a password may contain it. Allowed: one of ` + directory.MFASeparators + `;
"" restores the default. Tell your users before you change it.

--self-service is the comma-separated profile attributes the org's users may
edit themselves on the console's My account page (base attributes other than
login, or the org's custom ones); "default" restores the default
(` + strings.Join(directory.DefaultSelfServiceAttributes, ",") + `), "none" allows none.

--ldap-writes on lets the org's ORG_ADMINs and SUPER_ADMINs add, modify and
delete users and groups over LDAP (ldapadd, ldapmodify, ldapdelete, LDAP
admin tools), under the directory's rules; off (the default, as in Okta)
leaves only password changes.

--ldap-memberof transitive makes an LDAP entry's memberOf list every group
the user or group is in through nested groups (a group in a group it is in,
and so on); direct (the default, as in Okta) lists the groups it is itself a
member of. Either way the LDAP_MATCHING_RULE_IN_CHAIN filter
(memberOf:1.2.840.113556.1.4.1941:=...) follows the chain.`,
		Example: `  dirgate org set --org acme --mfa-separator '|'
  dirgate org set --org acme --self-service firstName,lastName,mobilePhone
  dirgate org set --org acme --ldap-writes on
  dirgate org set --org acme --ldap-memberof transitive`,
		Args: cobra.NoArgs,
		RunE: a.do(func(cmd *cobra.Command, _ []string) error {
			setSep, setSelf, setWrites := cmd.Flags().Changed("mfa-separator"), cmd.Flags().Changed("self-service"), cmd.Flags().Changed("ldap-writes")
			setMemberOf := cmd.Flags().Changed("ldap-memberof")
			if !setSep && !setSelf && !setWrites && !setMemberOf {
				return usagef("nothing to set: give --mfa-separator, --self-service, --ldap-writes or --ldap-memberof")
			}
			if setWrites && writes != "on" && writes != "off" {
				return usagef("--ldap-writes is on or off, not %q", writes)
			}
			if setMemberOf && memberOf != "direct" && memberOf != "transitive" {
				return usagef("--ldap-memberof is direct or transitive, not %q", memberOf)
			}
			return a.withDirectory(&t, func(ctx context.Context, d *directory.Directory) error {
				if setSep {
					o, err := d.SetMFASeparator(ctx, t.org, sep)
					if err != nil {
						return err
					}
					fmt.Fprintf(a.stdout, "org %s: MFA separator %q\n", o.Name, string(directory.MFASeparatorOf(o)))
				}
				if setSelf {
					var attrs []string // "default": nil
					switch v := strings.TrimSpace(self); v {
					case "default":
					case "none", "":
						attrs = []string{}
					default:
						attrs = strings.Split(v, ",")
					}
					o, err := d.SetSelfServiceAttributes(ctx, t.org, attrs)
					if err != nil {
						return err
					}
					fmt.Fprintf(a.stdout, "org %s: users may edit %s\n", o.Name, orNone(directory.SelfServiceAttributesOf(o)))
				}
				if setWrites {
					o, err := d.SetLDAPWrites(ctx, t.org, writes == "on")
					if err != nil {
						return err
					}
					state := "off: the LDAP interface is read-only but for passwords"
					if o.LDAP.Writes {
						state = "on: ORG_ADMINs and SUPER_ADMINs may add, modify and delete users and groups"
					}
					fmt.Fprintf(a.stdout, "org %s: LDAP writes %s\n", o.Name, state)
				}
				if setMemberOf {
					o, err := d.SetLDAPMemberOf(ctx, t.org, memberOf == "transitive")
					if err != nil {
						return err
					}
					state := "direct: the groups a user or group is itself a member of"
					if o.LDAP.TransitiveMemberOf {
						state = "transitive: every group a user or group is in, through nested groups too"
					}
					fmt.Fprintf(a.stdout, "org %s: LDAP memberOf %s\n", o.Name, state)
				}
				return nil
			})
		}),
	}
	addTargetFlags(c, &t)
	c.Flags().StringVar(&sep, "mfa-separator", "", "the character `C` between the password and the code in LDAP binds")
	c.Flags().StringVar(&self, "self-service", "", "the profile `ATTRS` users may edit themselves (comma-separated; default, none)")
	c.Flags().StringVar(&writes, "ldap-writes", "", "on lets admins add, modify and delete users and groups over LDAP; off (default) does not")
	c.Flags().StringVar(&memberOf, "ldap-memberof", "", "transitive: memberOf lists the groups an entry is in through nested groups too; direct (default): only those it is directly in")
	return c
}

// orNone joins a list for a sentence, "nothing" when empty.
func orNone(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, ", ")
}

func (a *app) orgPOSIXCmd() *cobra.Command {
	var t target
	var enable, disable bool
	var uids, gids, home, shell string
	var primary int64
	c := &cobra.Command{
		Use:   "posix --data DIR --org ORG (--enable [--uid-range MIN-MAX] [--gid-range MIN-MAX] [--primary-gid N] [--home TEMPLATE] [--shell PATH] | --disable)",
		Short: "Serve an org's users and groups as POSIX accounts (SSSD, NSS)",
		Long: `Serve an org's users and groups as POSIX accounts and groups over LDAP
(RFC 2307bis: posixAccount, shadowAccount, posixGroup), so that SSSD and other
NSS clients resolve and authenticate them.

--enable gives every user a uidNumber and every group a gidNumber, from the
ranges (default ` + fmt.Sprintf("%d-%d", directory.DefaultUIDMin, directory.DefaultUIDMax) + ` for both), and new ones as they are created. A number
is never given twice, not even after its user or group is deleted; a range may
grow or move up, not below the numbers given out. Every user's gidNumber is
--primary-gid (default ` + strconv.Itoa(directory.DefaultPrimaryGID) + `), its homeDirectory the --home template
(default ` + directory.DefaultHome + `; placeholders {login}, {localpart}: the login
before any @, {uidNumber}) and its loginShell --shell (default ` + directory.DefaultShell + `).
Running it again changes the settings; flags left out take the defaults.

--disable stops serving them; the numbers stay, for when it is enabled again.`,
		Example: `  dirgate org posix --org acme --enable
  dirgate org posix --org acme --enable --uid-range 20000-29999 --home '/home/{localpart}'
  dirgate org posix --org acme --disable`,
		Args: cobra.NoArgs,
		RunE: a.do(func(cmd *cobra.Command, _ []string) error {
			if enable == disable {
				return usagef("give --enable or --disable")
			}
			s := directory.POSIXSettings{Enabled: enable, PrimaryGID: primary, Home: home, Shell: shell}
			var err error
			if s.UIDMin, s.UIDMax, err = parseRange("--uid-range", uids); err != nil {
				return err
			}
			if s.GIDMin, s.GIDMax, err = parseRange("--gid-range", gids); err != nil {
				return err
			}
			if disable && (uids != "" || gids != "" || primary != 0 || home != "" || shell != "") {
				return usagef("--disable takes no other settings")
			}
			return a.withDirectory(&t, func(ctx context.Context, d *directory.Directory) error {
				o, err := d.SetPOSIX(ctx, t.org, s)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "org %s: POSIX accounts %s\n", o.Name, directory.POSIXDescription(o.LDAP.POSIX))
				return nil
			})
		}),
	}
	addTargetFlags(c, &t)
	c.Flags().BoolVar(&enable, "enable", false, "serve POSIX accounts, numbering the users and groups")
	c.Flags().BoolVar(&disable, "disable", false, "stop serving them (the numbers stay)")
	c.Flags().StringVar(&uids, "uid-range", "", "the uidNumbers to give, `MIN-MAX`")
	c.Flags().StringVar(&gids, "gid-range", "", "the gidNumbers to give, `MIN-MAX`")
	c.Flags().Int64Var(&primary, "primary-gid", 0, "every user's gidNumber `N`")
	c.Flags().StringVar(&home, "home", "", "the homeDirectory `TEMPLATE`")
	c.Flags().StringVar(&shell, "shell", "", "the loginShell `PATH`")
	return c
}

// parseRange reads MIN-MAX ("" is 0, 0: the default).
func parseRange(flag, s string) (lo, hi int64, err error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if ok {
		lo, err = strconv.ParseInt(a, 10, 64)
	}
	if ok && err == nil {
		hi, err = strconv.ParseInt(b, 10, 64)
	}
	if !ok || err != nil || lo < 1 || hi < 1 {
		return 0, 0, usagef("%s is MIN-MAX, two positive numbers, not %q", flag, s)
	}
	return lo, hi, nil
}
