package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/connector/pgroles"
	"github.com/dirgate/dirgate/internal/directory"
)

// pgsync: a PostgreSQL's roles kept in step with an org (connector
// pgroles), so that the pg_hba.conf line of `dirgate pg-hba` lets the
// right people in.

// exitPending is --check's exit code when changes are pending: distinct
// from 1 (an error) and 2 (a usage mistake), so that monitoring can tell
// "out of step" from "broken".
const exitPending = 3

func (a *app) pgsyncCmd() *cobra.Command {
	var t target
	var mapping string
	var dry, check bool
	var out outputFormat
	c := &cobra.Command{
		Use:   "pgsync --data DIR --org ORG [--mapping FILE] [--dry-run|--check]",
		Short: "Keep a PostgreSQL's roles in step with an org: a LOGIN role per person, group roles, the login group role",
		Long: `Keep a PostgreSQL's roles in step with the people of an org (or of an LDAP
server), the way ldap2pg and pg-ldap-sync do for OpenLDAP, so that the
pg_hba.conf line of 'dirgate pg-hba' lets exactly them in.

Every person (not service accounts, not STAGED users) gets a LOGIN role
without a password (PostgreSQL checks the password against dirgate over LDAP),
member of the login group role <iamID>_user (immuta_user by default: the
+immuta_user of the pg_hba line) and of the roles the mapping gives its
groups. A suspended or deactivated person's role loses LOGIN at once; a
person who left has its role dropped when it owns nothing (else it is kept
without LOGIN and reported, or with reassignOwnedTo its objects go to that
role first). Every role dirgate creates is a member of the marker role
dirgate_managed; roles it did not create are never changed, and one in the
way of a person is reported.

The mapping is a YAML (or JSON) file; without --mapping every default holds:

  target: postgres://dirgate_sync@db.example:5432/postgres?sslmode=verify-full
  iamID: immuta            # login group role immuta_user
  users: [engineering]     # only these groups' members (default: everyone)
  roleName: local-part     # alice@example.com -> alice (default login: the whole login, lower case)
  groups:                  # directory group -> PostgreSQL group role (NOLOGIN)
    analysts: analyst
  grants:                  # more roles a mapped group's role is granted
    analysts: [pg_read_all_data]
  removed: drop            # or nologin: keep a leaver's role without LOGIN
  reassignOwnedTo: retired # with drop: REASSIGN OWNED first
  schedule: "*/15 * * * *" # runs inside 'dirgate serve --pgsync ORG=FILE'
  lockTimeout: 1m          # a run waiting longer on a role another session holds fails, changing nothing
  source:                  # read an LDAP server instead of the org
    ldap: {…the settings of 'dirgate integration create'…}

The target's connection string comes from DIRGATE_PGSYNC_URL, else the
mapping's target, never from a flag; an LDAP source's bind password from
DIRGATE_PGSYNC_LDAP_PASSWORD. The connecting role needs CREATEROLE (on
PostgreSQL 16 and later it then administers the roles it creates).

A run is one transaction under an advisory lock (one run at a time per
database, whichever node starts it; roles belong to the whole cluster, so
give every mapping for a cluster the same database): stopped part way it changes nothing,
and the next run does it all; a run with nothing to do writes nothing. Real
runs are in the org's system log (system.pgsync.complete).

--dry-run prints the SQL a run would execute and changes nothing. --check is
a dry run for monitoring: it exits 0 when PostgreSQL is in step and 3 when
changes are pending (1 is an error, 2 a usage mistake).`,
		Example: `  DIRGATE_PGSYNC_URL='postgres://dirgate_sync@db:5432/postgres?sslmode=require' dirgate pgsync --data /var/lib/dirgate --org example --dry-run
  dirgate pgsync --org example --mapping /etc/dirgate/pgsync.yaml --check`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			if err := out.check(); err != nil {
				return err
			}
			cfg, err := pgroles.ReadConfig(mapping)
			if err != nil {
				return usagef("--mapping %s: %v", mapping, err)
			}
			url, err := cfg.TargetURL(a.getenv)
			if err != nil {
				return usagef("%v", err)
			}
			return a.withDirectory(&t, func(ctx context.Context, d *directory.Directory) error {
				rep, err := a.pgsyncRun(ctx, d, t.org, url, cfg, dry || check)
				if err != nil {
					return err
				}
				if out.json() {
					err = writeJSON(a.stdout, rep)
				} else {
					err = printRoleReport(a.stdout, rep)
				}
				if err == nil && check && rep.Pending() {
					return &exitError{code: exitPending, msg: fmt.Sprintf("%d statements pending: PostgreSQL is not in step with the directory", len(rep.SQL))}
				}
				return err
			})
		}),
	}
	addTargetFlags(c, &t)
	addOutputFlag(c, &out)
	fl := c.Flags()
	fl.StringVar(&mapping, "mapping", "", "the mapping `FILE` (YAML or JSON); default: the whole org, every default")
	fl.BoolVar(&dry, "dry-run", false, "print the SQL a run would execute; change nothing")
	fl.BoolVar(&check, "check", false, "a dry run that exits 3 when changes are pending, 0 when PostgreSQL is in step")
	return c
}

// pgsyncRun is one run of cfg from org (or cfg's LDAP source) to url;
// a real run, and its failure, go to org's system log.
func (a *app) pgsyncRun(ctx context.Context, d *directory.Directory, org, url string, cfg *pgroles.Config, dry bool) (*pgroles.Report, error) {
	if _, err := d.Org(ctx, org); err != nil {
		return nil, err // before connecting anywhere
	}
	src, err := pgroles.SourceOf(cfg, d, org, a.getenv, a.syncLogger())
	if err != nil {
		return nil, usagef("%v", err)
	}
	return pgroles.SyncLogged(ctx, d, org, url, cfg, src, pgroles.Options{DryRun: dry})
}

// pgsyncJobs reads serve's --pgsync ORG=FILE mappings into a scheduler
// (nil for none). Every mistake stops serve from starting, so that a
// schedule nobody sees running is never the result of a typo.
func (a *app) pgsyncJobs(ctx context.Context, d *directory.Directory, specs []string, log *slog.Logger) (*pgroles.Scheduler, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	s := &pgroles.Scheduler{Dir: d, Log: log}
	for _, spec := range specs {
		org, file, ok := strings.Cut(spec, "=")
		if !ok || org == "" || file == "" {
			return nil, usagef("--pgsync %q: want ORG=FILE, the org and its mapping file", spec)
		}
		if _, err := d.Org(ctx, org); err != nil {
			return nil, fmt.Errorf("--pgsync %s: %w", spec, err)
		}
		cfg, err := pgroles.ReadConfig(file)
		if err != nil {
			return nil, usagef("--pgsync %s: %v", spec, err)
		}
		url, err := cfg.TargetURL(a.getenv)
		if err != nil {
			return nil, usagef("--pgsync %s: %v", spec, err)
		}
		src, err := pgroles.SourceOf(cfg, d, org, a.getenv, log)
		if err != nil {
			return nil, usagef("--pgsync %s: %v", spec, err)
		}
		s.Jobs = append(s.Jobs, &pgroles.Job{Org: org, Name: file, Config: cfg, URL: url, Source: src})
	}
	if err := s.Check(); err != nil {
		return nil, usagef("--pgsync %v", err)
	}
	for _, j := range s.Jobs {
		log.Info("pgsync scheduled", "org", j.Org, "mapping", j.Name, "schedule", j.Config.Schedule, "target", pgroles.TargetName(j.URL))
	}
	return s, nil
}

// getenv reads an environment variable through a.lookupEnv.
func (a *app) getenv(k string) string {
	v, _ := a.lookupEnv(k)
	return v
}

// printRoleReport writes a run's report: its counts, what it skipped and
// why, its notes, and for a dry run the SQL.
func printRoleReport(w io.Writer, r *pgroles.Report) error {
	verb := "synced"
	switch {
	case r.DryRun && r.Pending():
		verb = "dry run (nothing written)"
	case r.DryRun:
		verb = "dry run: in step, nothing to do"
	case !r.Pending():
		verb = "in step, nothing written"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s from %s: %s\n", r.Target, verb, r.Origin, r.Summary())
	for _, s := range r.Skipped {
		who := s.Role
		if s.Login != "" {
			who = s.Login
		}
		fmt.Fprintf(&b, "skipped %s: %s\n", who, s.Reason)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if r.DryRun {
		for _, sql := range r.SQL {
			fmt.Fprintf(&b, "%s;\n", sql)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
