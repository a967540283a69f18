package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/connector/ldapsource"
	"github.com/dirgate/dirgate/internal/directory"
)

// Directory integrations: LDAP/Active Directory sources synced into an org.

func (a *app) integrationCmd() *cobra.Command {
	return a.parent("integration", "Sync users and groups from an LDAP or Active Directory server (Directory integrations)",
		a.integrationCreateCmd(),
		a.integrationUpdateCmd(),
		a.integrationListCmd(),
		a.integrationShowCmd(),
		a.integrationDeleteCmd(),
		a.integrationTestConnectionCmd(),
		a.integrationTestLoginCmd(),
		a.integrationSyncCmd("test-sync", true),
		a.integrationSyncCmd("sync", false),
	)
}

const settingsHelp = `The settings FILE (YAML or JSON; - for stdin) has the fields of Immuta's
LDAP/Active Directory form:

  urls: [ldaps://ad1.corp.example:636, ldaps://ad2.corp.example:636]  # failover, in order
  startTLS: true            # for ldap:// URLs (plain LDAP is refused otherwise)
  caCert: |                 # PEM of the CA the server's certificate chains to
    -----BEGIN CERTIFICATE-----
  bindDN: cn=dirgate-sync,ou=Service,dc=corp,dc=example
  userSearchBase: ou=Staff,dc=corp,dc=example
  userAttribute: sAMAccountName       # or userSearchFilter: (&(objectClass=person)(memberOf=…)), not both
  caseInsensitiveUsernames: true
  profileSchema: {email: mail, firstName: givenName, lastName: sn, title: title, custom:costCenter: extensionAttribute1}
  paging: true              # pageSize: 1000 by default
  groupSearchBase: ou=Groups,dc=corp,dc=example
  groupSearchFilter: (objectClass=group)
  groupNameAttribute: cn
  groupMemberAttribute: member        # member, uniqueMember (DNs) or memberUid (logins)
  groupMapping: {Immuta Users: immuta_users}
  attributeSync: [employeeNumber]     # copied to custom attributes under attributePrefix
  attributePrefix: ldap-
  externalEndpoint: https://hr.corp.example/dirgate-groups.json
  defaultGroups: [everyone-ldap]      # dirgate groups every synced user gets
  manualApproval: false     # true: new users arrive STAGED
  removal: deactivate       # or suspend (active users; others are deactivated), keep
  schedule: "0 */1 * * *"   # cron (the default: hourly); manual for manual runs only
  debugLogging: false

The bind password is read from stdin with --password-stdin (then the settings
come from a file) and stored encrypted.`

// readIntegrationInput reads the settings file (and the password); def is
// nil when --default was not given (an update then leaves it as it is).
func (a *app) readIntegrationInput(file, name string, def *bool, pwStdin bool) (directory.IntegrationInput, error) {
	in := directory.IntegrationInput{Name: name, Kind: directory.KindLDAP, Default: def}
	if file == "-" && pwStdin {
		return in, usagef("stdin cannot hold both the settings and the password: give the settings in a file")
	}
	raw, err := a.readFileArg(file)
	if err != nil {
		return in, err
	}
	s, err := ldapsource.ParseSettings(raw)
	if err != nil {
		return in, err
	}
	if in.Settings, err = json.Marshal(s); err != nil {
		return in, err
	}
	in.Owned = ldapsource.Owned(s)
	if pwStdin {
		if in.Secret, err = readLine(a.stdin); err != nil {
			return in, err
		}
	}
	return in, nil
}

func (a *app) integrationCreateCmd() *cobra.Command {
	var t target
	var file, name string
	var def, pwStdin bool
	c := &cobra.Command{
		Use:   "create --data DIR --org ORG --name NAME -f FILE --password-stdin",
		Short: "Add an LDAP/Active Directory integration to an org",
		Long:  "Add an LDAP/Active Directory integration to an org.\n\n" + settingsHelp,
		Example: `  echo "$BIND_PASSWORD" | dirgate integration create --org acme --name "Corporate AD" -f ad.yaml --password-stdin
  dirgate integration test-connection --org acme --integration "Corporate AD"`,
		Args: cobra.NoArgs,
		RunE: a.do(func(c *cobra.Command, _ []string) error {
			in, err := a.readIntegrationInput(file, name, changedBool(c, "default", def), pwStdin)
			if err != nil {
				return err
			}
			defer clear(in.Secret)
			return a.withDirectory(&t, func(ctx context.Context, d *directory.Directory) error {
				out, err := d.CreateIntegration(ctx, t.org, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "created integration %q (%s) in org %s\n", out.Name, out.ID, t.org)
				return nil
			})
		}),
	}
	a.integrationFlags(c, &t, &file, &name, &def, &pwStdin)
	return c
}

// changedBool is &v when the flag was given, else nil.
func changedBool(c *cobra.Command, flag string, v bool) *bool {
	if !c.Flags().Changed(flag) {
		return nil
	}
	return &v
}

func (a *app) integrationFlags(c *cobra.Command, t *target, file, name *string, def, pwStdin *bool) {
	addTargetFlags(c, t)
	c.Flags().StringVarP(file, "file", "f", "", "settings `FILE` (YAML or JSON; - for stdin)")
	c.Flags().StringVar(name, "name", "", "the integration's display `NAME`")
	c.Flags().BoolVar(def, "default", false, "make it the org's default integration (--default=false: not the default)")
	c.Flags().BoolVar(pwStdin, "password-stdin", false, "read the bind password from stdin (one line)")
	c.MarkFlagRequired("file")
	c.MarkFlagRequired("name")
}

func (a *app) integrationUpdateCmd() *cobra.Command {
	var t target
	var file, name, ref string
	var def, pwStdin bool
	c := &cobra.Command{
		Use:   "update --data DIR --org ORG --integration NAME|ID --name NAME -f FILE [--password-stdin]",
		Short: "Replace an integration's settings (and bind password with --password-stdin)",
		Long:  "Replace an integration's settings; without --password-stdin the stored bind password stays.\n\n" + settingsHelp,
		Args:  cobra.NoArgs,
		RunE: a.do(func(c *cobra.Command, _ []string) error {
			in, err := a.readIntegrationInput(file, name, changedBool(c, "default", def), pwStdin)
			if err != nil {
				return err
			}
			defer clear(in.Secret)
			return a.withDirectory(&t, func(ctx context.Context, d *directory.Directory) error {
				out, err := d.UpdateIntegration(ctx, t.org, ref, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "updated integration %q (%s)\n", out.Name, out.ID)
				return nil
			})
		}),
	}
	a.integrationFlags(c, &t, &file, &name, &def, &pwStdin)
	c.Flags().StringVar(&ref, "integration", "", "the integration to change (`NAME` or id)")
	c.MarkFlagRequired("integration")
	return c
}

// integrationView is an integration as the CLI shows it: never its
// password.
type integrationView struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Kind        string          `json:"kind"`
	Default     bool            `json:"default"`
	Owned       []string        `json:"ownedAttributes"`
	Settings    json.RawMessage `json:"settings"`
	State       json.RawMessage `json:"state,omitempty"`
	Created     time.Time       `json:"created"`
	LastUpdated time.Time       `json:"lastUpdated"`
}

func viewOfIntegration(in *directory.Integration) integrationView {
	v := integrationView{ID: in.ID, Name: in.Name, Kind: in.Kind, Default: in.Default, Owned: in.Owned, Settings: in.Settings,
		Created: in.Created, LastUpdated: in.LastUpdated}
	if len(in.State) > 0 {
		v.State = in.State
	}
	return v
}

func (a *app) integrationListCmd() *cobra.Command {
	var t target
	var out outputFormat
	c := &cobra.Command{
		Use:   "list --data DIR --org ORG",
		Short: "List an org's integrations",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withDirectory(&t, func(ctx context.Context, d *directory.Directory) error {
				ins, err := d.Integrations(ctx, t.org)
				if err != nil {
					return err
				}
				vs := make([]integrationView, len(ins))
				rows := make([][]string, len(ins))
				for i, in := range ins {
					vs[i] = viewOfIntegration(in)
					def := ""
					if in.Default {
						def = "yes"
					}
					rows[i] = []string{in.Name, in.Kind, orDash(def), in.ID, orDash(strings.Join(in.Owned, ","))}
				}
				if out.json() {
					return writeJSON(a.stdout, vs)
				}
				return table(a.stdout, []string{"NAME", "KIND", "DEFAULT", "ID", "OWNED ATTRIBUTES"}, rows)
			})
		}),
	}
	addTargetFlags(c, &t)
	addOutputFlag(c, &out)
	return c
}

func (a *app) integrationShowCmd() *cobra.Command {
	var t target
	var ref string
	c := &cobra.Command{
		Use:   "show --data DIR --org ORG --integration NAME|ID",
		Short: "Show an integration's settings and last run (JSON; never the password)",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withDirectory(&t, func(ctx context.Context, d *directory.Directory) error {
				in, err := d.Integration(ctx, t.org, ref)
				if err != nil {
					return err
				}
				return writeJSON(a.stdout, viewOfIntegration(in))
			})
		}),
	}
	addTargetFlags(c, &t)
	c.Flags().StringVar(&ref, "integration", "", "the integration (`NAME` or id)")
	c.MarkFlagRequired("integration")
	return c
}

func (a *app) integrationDeleteCmd() *cobra.Command {
	var t target
	var ref string
	c := &cobra.Command{
		Use:   "delete --data DIR --org ORG --integration NAME|ID",
		Short: "Delete an integration (its users and groups stay, as local ones)",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withDirectory(&t, func(ctx context.Context, d *directory.Directory) error {
				if err := d.DeleteIntegration(ctx, t.org, ref); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted integration %q; its users and groups are local now\n", ref)
				return nil
			})
		}),
	}
	addTargetFlags(c, &t)
	c.Flags().StringVar(&ref, "integration", "", "the integration (`NAME` or id)")
	c.MarkFlagRequired("integration")
	return c
}

// withIntegration opens the integration ref of t's org with its settings
// and bind password.
func (a *app) withIntegration(t *target, ref string, fn func(ctx context.Context, d *directory.Directory, in *directory.Integration, s *ldapsource.Settings, pw []byte) error) error {
	return a.withDirectory(t, func(ctx context.Context, d *directory.Directory) error {
		in, err := d.Integration(ctx, t.org, ref)
		if err != nil {
			return err
		}
		s, err := ldapsource.SettingsOf(in)
		if err != nil {
			return err
		}
		pw, err := d.IntegrationSecret(in)
		if err != nil {
			return err
		}
		defer clear(pw)
		return fn(ctx, d, in, s, pw)
	})
}

func (a *app) printTestReport(w io.Writer, r *ldapsource.TestReport, json bool) error {
	if json {
		if err := writeJSON(w, r); err != nil {
			return err
		}
	} else {
		for _, st := range r.Steps {
			mark := "ok  "
			if !st.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(w, "%s  %-12s %-40s %8s  %s\n", mark, st.Name, st.URL, st.Duration.Round(time.Millisecond), st.Message)
		}
	}
	if f := r.Failed(); f != nil {
		return fmt.Errorf("%s failed: %s", f.Name, f.Message)
	}
	return nil
}

func (a *app) integrationTestConnectionCmd() *cobra.Command {
	var t target
	var ref string
	var out outputFormat
	c := &cobra.Command{
		Use:   "test-connection --data DIR --org ORG --integration NAME|ID",
		Short: "Connect, set up TLS and bind as the integration would: what failed and why, with timings",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withIntegration(&t, ref, func(ctx context.Context, _ *directory.Directory, _ *directory.Integration, s *ldapsource.Settings, pw []byte) error {
				return a.printTestReport(a.stdout, ldapsource.TestConnection(ctx, s, pw), out.json())
			})
		}),
	}
	addTargetFlags(c, &t)
	addOutputFlag(c, &out)
	c.Flags().StringVar(&ref, "integration", "", "the integration (`NAME` or id)")
	c.MarkFlagRequired("integration")
	return c
}

func (a *app) integrationTestLoginCmd() *cobra.Command {
	var t target
	var ref, login string
	var out outputFormat
	var pwStdin bool
	c := &cobra.Command{
		Use:   "test-login --data DIR --org ORG --integration NAME|ID --login LOGIN --password-stdin",
		Short: "Find a user in the source as the sync would and bind with their password",
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			pw, err := a.readPassword(pwStdin, login)
			if err != nil {
				return err
			}
			defer clear(pw)
			return a.withIntegration(&t, ref, func(ctx context.Context, _ *directory.Directory, _ *directory.Integration, s *ldapsource.Settings, bindPW []byte) error {
				return a.printTestReport(a.stdout, ldapsource.TestLogin(ctx, s, bindPW, login, pw), out.json())
			})
		}),
	}
	addTargetFlags(c, &t)
	addOutputFlag(c, &out)
	c.Flags().StringVar(&ref, "integration", "", "the integration (`NAME` or id)")
	c.Flags().StringVar(&login, "login", "", "the user's `LOGIN` in the source")
	c.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the user's password from stdin (one line)")
	c.MarkFlagRequired("integration")
	c.MarkFlagRequired("login")
	return c
}

func (a *app) integrationSyncCmd(use string, dry bool) *cobra.Command {
	var t target
	var ref string
	var out outputFormat
	var showSource bool
	var adopt, adoptBy string
	short := "Sync now: read the source and apply it to the org"
	if dry {
		short = "A dry run: what a sync would change (counts and the first examples of each); nothing is written"
	}
	c := &cobra.Command{
		Use:   use + " --data DIR --org ORG --integration NAME|ID",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.withIntegration(&t, ref, func(ctx context.Context, d *directory.Directory, in *directory.Integration, s *ldapsource.Settings, pw []byte) error {
				if showSource {
					src, skips, err := ldapsource.Read(ctx, s, pw, a.syncLogger())
					if err != nil {
						return err
					}
					return writeJSON(a.stdout, sourceViewOf(src, skips))
				}
				rep, err := ldapsource.RunWith(ctx, d, t.org, in, ldapsource.RunOptions{DryRun: dry, Adopt: adopt, AdoptBy: adoptBy}, a.syncLogger())
				if err != nil {
					return err
				}
				if out.json() {
					return writeJSON(a.stdout, rep)
				}
				printSyncReport(a.stdout, rep)
				return nil
			})
		}),
	}
	addTargetFlags(c, &t)
	addOutputFlag(c, &out)
	c.Flags().StringVar(&ref, "integration", "", "the integration (`NAME` or id)")
	c.MarkFlagRequired("integration")
	c.Flags().StringVar(&adopt, "adopt", "", "migrate users: a source user matching an existing user takes it over when that user is local (`FROM` local) or of the integration FROM (name or id)")
	c.Flags().StringVar(&adoptBy, "adopt-by", "login", "match users to migrate by login or email")
	if dry {
		c.Flags().BoolVar(&showSource, "show-source", false, "print, as JSON, every user (login, mapped attributes) and group (members' logins) the source holds, as a consumer with these settings sees them")
	}
	return c
}

// sourceView is what a read of the source found, for --show-source.
type sourceView struct {
	Users []sourceUserView `json:"users"`
	// Groups is null when the settings sync no groups.
	Groups  []sourceGroupView    `json:"groups"`
	Skipped []directory.SyncSkip `json:"skipped,omitempty"`
}

type sourceUserView struct {
	Login      string            `json:"login"`
	ExternalID string            `json:"externalId"`
	Profile    map[string]string `json:"profile"`
}

type sourceGroupView struct {
	Name    string   `json:"name"`
	Members []string `json:"members"` // logins, sorted
}

func sourceViewOf(src *directory.SyncSource, skips []directory.SyncSkip) sourceView {
	v := sourceView{Users: []sourceUserView{}, Skipped: skips}
	login := map[string]string{}
	for _, u := range src.Users {
		login[u.ExternalID] = u.Login
		v.Users = append(v.Users, sourceUserView{Login: u.Login, ExternalID: u.ExternalID, Profile: u.Profile})
	}
	sort.Slice(v.Users, func(i, j int) bool { return v.Users[i].Login < v.Users[j].Login })
	if src.GroupSync {
		v.Groups = []sourceGroupView{}
		for _, g := range src.Groups {
			gv := sourceGroupView{Name: g.Name, Members: []string{}}
			for _, ext := range g.Members {
				gv.Members = append(gv.Members, login[ext])
			}
			sort.Strings(gv.Members)
			v.Groups = append(v.Groups, gv)
		}
		sort.Slice(v.Groups, func(i, j int) bool { return v.Groups[i].Name < v.Groups[j].Name })
	}
	return v
}

func printSyncReport(w io.Writer, r *directory.SyncReport) {
	verb := "synced"
	if r.DryRun {
		verb = "dry run (nothing written)"
	}
	fmt.Fprintf(w, "%s: %d users in the source: %d created, %d migrated, %d updated, %d reactivated, %d deactivated, %d suspended, %d unchanged\n",
		verb, r.Users, r.Created, r.Adopted, r.Updated, r.Reactivated, r.Deactivated, r.Suspended, r.Unchanged)
	fmt.Fprintf(w, "groups: %d in the source: %d created, %d updated; members: %d added, %d removed\n",
		r.Groups, r.GroupsCreated, r.GroupsUpdated, r.MembersAdded, r.MembersRemoved)
	for _, kind := range []string{"created", "adopted", "updated", "reactivated", "deactivated", "suspended", "groupsCreated"} {
		if ex := r.Examples[kind]; len(ex) > 0 {
			fmt.Fprintf(w, "  %s, e.g.: %s\n", kind, strings.Join(ex, ", "))
		}
	}
	if len(r.DuplicateEmails) > 0 {
		fmt.Fprintf(w, "duplicate emails (left empty): %d: %s\n", len(r.DuplicateEmails), strings.Join(first(r.DuplicateEmails, 10), ", "))
	}
	for i, s := range r.Skipped {
		if i == 10 {
			fmt.Fprintf(w, "  … and %d more skipped\n", len(r.Skipped)-10)
			break
		}
		fmt.Fprintf(w, "skipped %s %s: %s\n", s.Login, s.ExternalID, s.Reason)
	}
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

// syncLogger logs a run's LDAP requests to stderr when the integration's
// debug logging is on (at info level), and warnings otherwise.
func (a *app) syncLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
