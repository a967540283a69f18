package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/dirldif"
)

// maxListed bounds the skipped entries and notes an import prints.
const maxListed = 100

func (a *app) importCmd() *cobra.Command {
	var t target
	var dryRun bool
	c := &cobra.Command{
		Use:   "import --data DIR --org ORG FILE.ldif|-",
		Short: "Import users and groups from LDIF (slapcat or ldapsearch output)",
		Long: `Import users and groups from an LDIF file ("-" reads stdin), as slapcat or
ldapsearch write it: base64 values, escaped DNs, wrapped lines and operational
attributes are all fine. The import is all or nothing: any error leaves the
directory as it was.

Entries that become users: inetOrgPerson, and person, organizationalPerson or
posixAccount entries with a uid. uid is the login; mail, givenName, sn,
displayName, title, departmentNumber (or department, ou), telephoneNumber,
mobile and o map to the profile; attributes the org declares (init
--custom-attribute) map to custom attributes. userPassword hashes ({SSHA},
{SSHA256}, {SSHA512}, {CRYPT} bcrypt/sha-crypt, {ARGON2}) are kept as they are
and verify on the next bind; a cleartext userPassword is hashed; a hash in
another scheme is dropped (the user is imported without a password) and
reported. organizationalStatus sets the status when it is a dirgate status,
else the user is ACTIVE.

Entries that become groups: groupOfUniqueNames (uniqueMember), groupOfNames
(member) and posixGroup (memberUid). A member DN names a user of the file by
its DN, or any user of the org by its uid= RDN value; other members are
reported.

The naming context, ou= containers and other entries are skipped and listed;
memberOf and operational attributes are ignored.`,
		Example: `  slapcat -b dc=corp,dc=example | dirgate import --data ./dirgate-data --org acme -
  dirgate import --org acme people.ldif`,
		Args: cobra.ExactArgs(1),
		RunE: a.do(func(_ *cobra.Command, args []string) error {
			return a.runImport(&t, args[0], dryRun)
		}),
	}
	addTargetFlags(c, &t)
	c.Flags().BoolVar(&dryRun, "dry-run", false, "read and map the file, report, and import nothing")
	return c
}

func (a *app) runImport(t *target, file string, dryRun bool) error {
	start := time.Now()
	var in io.Reader = a.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	o, err := a.openDirectory(t.data, false)
	if err != nil {
		return err
	}
	defer o.close()
	org, err := o.dir.Org(a.ctx, t.org)
	if err != nil {
		return err
	}
	bar := a.progressBar()
	batch, err := dirldif.Read(bufio.NewReaderSize(in, 1<<20), dirldif.Options{
		Org:      org,
		Progress: func(n int) { bar.update("reading", n, 0) },
	})
	if err != nil {
		bar.done()
		return fmt.Errorf("%s: %w", file, err)
	}
	notes := batch.Notes
	res := &directory.ImportResult{}
	if !dryRun {
		res, err = o.dir.Import(a.ctx, t.org, batch.Users, batch.Groups, func(done, total int) {
			bar.update("importing", done, total)
		})
		bar.done()
		if err != nil {
			return fmt.Errorf("import failed, nothing was imported: %w", err)
		}
		notes = append(notes, res.Skipped...)
	} else {
		bar.done()
		res.Users, res.Groups = len(batch.Users), len(batch.Groups)
		for _, g := range batch.Groups {
			res.Memberships += len(g.MemberLogins)
		}
	}
	listSkipped(a.stdout, fmt.Sprintf("skipped %d entries:", len(batch.Skipped)), batch.Skipped)
	listSkipped(a.stdout, fmt.Sprintf("left out of imported entries (%d):", len(notes)), notes)
	if ig := batch.Ignored(); len(ig) > 0 {
		fmt.Fprintf(a.stdout, "ignored attributes with no dirgate counterpart (declare custom attributes with 'dirgate init --custom-attribute'): ")
		for i, s := range ig {
			if i > 0 {
				fmt.Fprint(a.stdout, ", ")
			}
			fmt.Fprint(a.stdout, s)
		}
		fmt.Fprintln(a.stdout)
	}
	verb := "imported"
	if dryRun {
		verb = "dry run: would import"
	}
	fmt.Fprintf(a.stdout, "%s %d users, %d groups, %d memberships in %.1fs (%d entries read, %d skipped)\n",
		verb, res.Users, res.Groups, res.Memberships, time.Since(start).Seconds(), batch.Entries, len(batch.Skipped))
	return nil
}

func listSkipped(w io.Writer, header string, list []directory.Skipped) {
	if len(list) == 0 {
		return
	}
	fmt.Fprintln(w, header)
	for i, s := range list {
		if i == maxListed {
			fmt.Fprintf(w, "  ... and %d more\n", len(list)-maxListed)
			break
		}
		fmt.Fprintf(w, "  %s: %s\n", s.Source, s.Reason)
	}
}

// progress draws a one-line progress display on stderr when it is a
// terminal, at most ten times a second; otherwise it does nothing.
type progress struct {
	w    io.Writer
	on   bool
	mu   sync.Mutex
	last time.Time
	drew bool
}

func (a *app) progressBar() *progress {
	f, ok := a.stderr.(*os.File)
	return &progress{w: a.stderr, on: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) update(phase string, done, total int) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last, p.drew = now, true
	if total <= 0 {
		fmt.Fprintf(p.w, "\r%s: %d entries\x1b[K", phase, done)
		return
	}
	const width = 30
	n := done * width / total
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < n {
			bar[i] = '='
		}
	}
	fmt.Fprintf(p.w, "\r%s [%s] %d/%d (%d%%)\x1b[K", phase, bar, done, total, done*100/total)
}

func (p *progress) done() {
	if p.on && p.drew {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func (a *app) exportCmd() *cobra.Command {
	var t target
	var output string
	c := &cobra.Command{
		Use:   "export --data DIR --org ORG [--output FILE]",
		Short: "Export an org's users and groups as LDIF (with password hashes)",
		Long: `Export an org as LDIF that 'dirgate import' (and slapadd, with a schema for the
dirgate attributes) reads back: the naming context, ou=users, ou=groups, every
user and every group with its members. Admin roles and service accounts are
kept in the dirgateRole and dirgateUserType attributes.

WARNING: the file holds every user's password hash (userPassword). Treat it as
a secret. Files written with --output get mode 0600; without --output the
LDIF goes to stdout.`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error {
			return a.runExport(&t, output)
		}),
	}
	addTargetFlags(c, &t)
	c.Flags().StringVarP(&output, "output", "o", "", "write to `FILE` (mode 0600) instead of stdout")
	return c
}

func (a *app) runExport(t *target, output string) error {
	o, err := a.openDirectory(t.data, false)
	if err != nil {
		return err
	}
	defer o.close()
	org, err := o.dir.Org(a.ctx, t.org)
	if err != nil {
		return err
	}
	od, _, err := o.dir.LoadOrg(a.ctx, org.ID)
	if err != nil {
		return err
	}
	if output == "" {
		w := bufio.NewWriter(a.stdout)
		if err := dirldif.Write(w, od); err != nil {
			return err
		}
		return w.Flush()
	}
	// A temporary file with mode 0600 from the start, renamed when whole.
	f, err := os.CreateTemp(filepath.Dir(output), "."+filepath.Base(output)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // fails harmlessly after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	w := bufio.NewWriter(f)
	if err := dirldif.Write(w, od); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, output); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "exported %d users, %d groups, %d memberships of org %s to %s (it holds password hashes: keep it private)\n",
		len(od.Users), len(od.Groups), len(od.Memberships), org.Name, output)
	return nil
}
