package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/jackc/pgx/v5"

	"github.com/dirgate/dirgate/internal/connector/ldapsource"
	"github.com/dirgate/dirgate/internal/connector/ldapsource/ldaptest"
	"github.com/dirgate/dirgate/internal/pgtest"
)

// pgsyncMapping is the mapping of the pgsync tests: the members of eng and
// analysts get roles; eng becomes engineers, analysts analyst with
// pg_read_all_data.
const pgsyncMapping = `
users: [eng, analysts]
groups:
  eng: engineers
  analysts: analyst
grants:
  analysts: [pg_read_all_data]
`

// pgsyncer runs `dirgate pgsync` on one data directory against one
// cluster (DIRGATE_PGSYNC_URL), with a mapping file.
type pgsyncer struct {
	t       *testing.T
	data    string
	mapping string
	env     []string
}

func newPgsyncer(t *testing.T, data string, pg *pgtest.Cluster, mapping string, env ...string) *pgsyncer {
	t.Helper()
	file := filepath.Join(t.TempDir(), "pgsync.yaml")
	if err := os.WriteFile(file, []byte(mapping), 0o600); err != nil {
		t.Fatal(err)
	}
	return &pgsyncer{t: t, data: data, mapping: file, env: append([]string{"DIRGATE_PGSYNC_URL=" + pg.SuperURL("")}, env...)}
}

func (p *pgsyncer) args(extra ...string) []string {
	return append([]string{"pgsync", "--data", p.data, "--org", "example", "--mapping", p.mapping}, extra...)
}

func (p *pgsyncer) run(extra ...string) cliResult {
	p.t.Helper()
	return dirgateEnv(p.t, p.env, "", p.args(extra...)...)
}

// sync is a real run that must succeed; it returns what it printed.
func (p *pgsyncer) sync() string {
	p.t.Helper()
	r := p.run()
	if r.code != 0 {
		p.t.Fatalf("dirgate pgsync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// roleList is every role of the cluster but the bootstrap ones, with its
// LOGIN and its memberships: what a dry run must leave as it is.
func roleList(t *testing.T, pg *pgtest.Cluster) string {
	t.Helper()
	return pg.SuperSQL(t, `SELECT r.rolname || ' ' || r.rolcanlogin || ' ' || coalesce((SELECT string_agg(g.rolname, ',' ORDER BY g.rolname)
		FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid), '')
		FROM pg_roles r WHERE r.rolname NOT LIKE 'pg\_%' AND r.rolname NOT IN ('postgres', 'dirgate_sync') ORDER BY 1`)
}

// du is psql's \du for one role as psql -At prints it:
// name|attributes|{member of, in the order granted}.
func du(t *testing.T, pg *pgtest.Cluster, role string) string {
	t.Helper()
	return strings.TrimSpace(pg.SuperSQL(t, `\du `+role))
}

// TestPgsync is issue 10's walk: after `dirgate pgsync` a directory user
// logs in with psql through the line `dirgate pg-hba` printed (verbatim,
// only dirgate's address given as flags) and has the right roles; a user
// removed from the group, or suspended, cannot log in after the next
// sync; an unmanaged role with a user's name is left alone and reported;
// the dry run changes nothing, --check exits 3 then 0, and each real run
// is in the system log.
func TestPgsync(t *testing.T) {
	data := t.TempDir()
	setupExample(t, data) // alice in eng, bob, carol (suspended), the bind account
	for _, u := range []string{"dave", "erin"} {
		mustDirgate(t, u+"-password\n", "user", "create", "--data", data, "--org", "example", "--login", u, "--password-stdin")
	}
	mustDirgate(t, "", "group", "create", "--data", data, "--org", "example", "--name", "analysts")
	for _, m := range [][2]string{{"eng", "dave"}, {"eng", "carol"}, {"analysts", "bob"}, {"analysts", "erin"}} {
		mustDirgate(t, "", "group", "add-member", "--data", data, "--org", "example", "--group", m[0], "--login", m[1])
	}
	s := startDirgate(t, data, "--no-demo")

	kit := mustDirgate(t, bindPW+"\n", "pg-hba", "--data", data, "--org", "example", "--host", "127.0.0.1",
		"--ldaps-port", strconv.Itoa(s.ldapsPort), "--ldap-port", "0", "--bind-password-stdin")
	var line string
	for _, l := range strings.Split(kit, "\n") {
		if strings.HasPrefix(l, "hostssl ") {
			if line != "" {
				t.Fatalf("pg-hba printed two lines with --ldap-port 0:\n%s", kit)
			}
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no pg_hba.conf line in:\n%s", kit)
	}
	// pgsync connects as a role with CREATEROLE only, as documented, over
	// the unix socket.
	pg := startPostgres(t, s.caFile, line, "local all dirgate_sync trust")
	pg.SuperSQL(t, `CREATE ROLE dirgate_sync LOGIN CREATEROLE`)
	// bob's role is someone else's: it has a password and no memberships.
	pg.SuperSQL(t, `CREATE ROLE bob LOGIN PASSWORD 'bobs-own-password'`)
	p := newPgsyncer(t, data, pg, pgsyncMapping)
	p.env[0] = "DIRGATE_PGSYNC_URL=" + strings.Replace(pg.SuperURL(""), "user=postgres", "user=dirgate_sync", 1)

	before := roleList(t, pg)
	if r := p.run("--check"); r.code != 3 || !strings.Contains(r.stderr, "pending") {
		t.Fatalf("--check before the first sync: exit %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
	}
	dry := p.run("--dry-run")
	if dry.code != 0 || !strings.Contains(dry.stdout, `CREATE ROLE "alice" LOGIN`) || !strings.Contains(dry.stdout, "dry run (nothing written)") {
		t.Fatalf("--dry-run: exit %d\n%s%s", dry.code, dry.stdout, dry.stderr)
	}
	if after := roleList(t, pg); after != before {
		t.Fatalf("the dry run changed the roles:\nbefore\n%s\nafter\n%s", before, after)
	}
	if _, ok := pg.Login(t, "alice", "alice-password"); ok {
		t.Fatal("alice logged in before any sync")
	}

	out := p.sync()
	t.Logf("first sync:\n%s", out)
	if !strings.Contains(out, "skipped bob: ") || !strings.Contains(out, "5 persons") {
		t.Fatalf("the first sync's report does not say bob was skipped, or counts the wrong people:\n%s", out)
	}
	if r := p.run("--check"); r.code != 0 || !strings.Contains(r.stdout, "in step") {
		t.Fatalf("--check after the sync: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}

	if out, ok := pg.Login(t, "alice", "alice-password"); !ok || strings.TrimSpace(out) != "alice" {
		t.Fatalf("alice after the sync: %v\n%s", ok, out)
	}
	if got, want := du(t, pg, "alice"), "alice||{dirgate_managed,immuta_user,engineers}"; got != want {
		t.Errorf(`\du alice: %q, want %q`, got, want)
	}
	if got, want := du(t, pg, "erin"), "erin||{dirgate_managed,immuta_user,analyst}"; got != want {
		t.Errorf(`\du erin: %q, want %q`, got, want)
	}
	if got := pg.SuperSQL(t, `SELECT pg_has_role('erin', 'pg_read_all_data', 'USAGE'), pg_has_role('alice', 'pg_read_all_data', 'USAGE')`); got != "t|f\n" {
		t.Errorf("pg_read_all_data through analyst (erin, alice): %q", got)
	}
	if got, want := du(t, pg, "carol"), "carol|Cannot login|{dirgate_managed,immuta_user,engineers}"; got != want {
		t.Errorf(`\du carol (suspended): %q, want %q`, got, want)
	}
	if got := pg.SuperSQL(t, `SELECT rolpassword IS NOT NULL, (SELECT count(*) FROM pg_auth_members WHERE member = a.oid) FROM pg_authid a WHERE rolname = 'bob'`); got != "t|0\n" {
		t.Errorf("bob's own role (password, memberships): %q, want it untouched", got)
	}
	if got := pg.SuperSQL(t, `SELECT count(*) FROM pg_authid WHERE rolname IN ('alice', 'dave', 'erin', 'carol') AND rolpassword IS NULL`); got != "4\n" {
		t.Errorf("roles without a password: %q, want 4", got)
	}

	// dave leaves eng: he still gets in until the next sync, not after.
	mustDirgate(t, "", "group", "remove-member", "--data", data, "--org", "example", "--group", "eng", "--login", "dave")
	if out, ok := pg.Login(t, "dave", "dave-password"); !ok {
		t.Fatalf("dave before the next sync: %s", out)
	}
	if out := p.sync(); !strings.Contains(out, "1 roles dropped") {
		t.Fatalf("the sync after dave left eng:\n%s", out)
	}
	// Without the role, +immuta_user matches nobody: no pg_hba.conf entry.
	if out, ok := pg.Login(t, "dave", "dave-password"); ok || !strings.Contains(out, `no pg_hba.conf entry`) {
		t.Fatalf("dave after the sync: %v\n%s", ok, out)
	}
	if got := pg.SuperSQL(t, `SELECT count(*) FROM pg_roles WHERE rolname = 'dave'`); got != "0\n" {
		t.Fatalf("dave's role is still there: %q", got)
	}

	// alice is suspended: her role loses LOGIN with the next sync (LDAP
	// refuses her bind already; the role is what stays in PostgreSQL).
	mustDirgate(t, "", "user", "suspend", "--data", data, "--org", "example", "--login", "alice")
	if out := p.sync(); !strings.Contains(out, "1 altered") {
		t.Fatalf("the sync after alice's suspension:\n%s", out)
	}
	if got := du(t, pg, "alice"); !strings.Contains(got, "Cannot login") {
		t.Errorf(`\du alice after suspension: %q`, got)
	}
	if out, ok := pg.Login(t, "alice", "alice-password"); ok {
		t.Fatalf("alice logged in after suspension and sync:\n%s", out)
	}

	logs := mustDirgate(t, "", "logs", "--data", data, "--org", "example", "--filter", `eventType eq "system.pgsync.complete"`, "--output", "json")
	if n := strings.Count(logs, `"eventType":"system.pgsync.complete"`); n != 3 {
		t.Errorf("system log: %d pgsync events, want 3 (the real runs):\n%s", n, logs)
	}
	if !strings.Contains(logs, "dirgate_sync@") || strings.Contains(logs, "bobs-own-password") {
		t.Errorf("system log does not name the target, or holds a password:\n%s", logs)
	}
}

// TestPgsyncKilled: a run killed with SIGKILL midway (its transaction
// waiting on a role another session is creating) leaves PostgreSQL as it
// was, and the next run does the whole job.
func TestPgsyncKilled(t *testing.T) {
	data := t.TempDir()
	setupExample(t, data)
	pg := pgtest.Start(t, pgtest.Options{})
	p := newPgsyncer(t, data, pg, "")
	before := roleList(t, pg)

	ctx := context.Background()
	blocker, err := pgx.Connect(ctx, pg.SuperURL(""))
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(ctx)
	tx, err := blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `CREATE ROLE bob`); err != nil { // uncommitted: the run's CREATE ROLE bob waits
		t.Fatal(err)
	}
	cmd := exec.Command(dirgateBin(t), p.args()...)
	cmd.Env = append(cleanEnv(), p.env...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the run waits on bob", func() error {
		if n := pg.SuperSQL(t, `SELECT count(*) FROM pg_locks WHERE NOT granted`); n != "1\n" {
			return errorString("waiting locks: " + n + out.String())
		}
		return nil
	})
	// The run has created the marker and the group roles, uncommitted.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// The killed run's backend goes on until it finds its client gone,
	// then rolls back.
	eventually(t, "the killed run's backend ends", func() error {
		if n := pg.SuperSQL(t, `SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`); n != "1\n" {
			return errorString("other backends: " + n) // the blocker's
		}
		return nil
	})
	if after := roleList(t, pg); after != before {
		t.Fatalf("the killed run left changes:\nbefore\n%s\nafter\n%s", before, after)
	}
	if out := p.sync(); !strings.Contains(out, "3 persons") {
		t.Fatalf("the run after the kill:\n%s", out)
	}
	if got := du(t, pg, "bob"); got != "bob||{dirgate_managed,immuta_user}" {
		t.Errorf(`\du bob after the next run: %q`, got)
	}
	if r := p.run("--check"); r.code != 0 {
		t.Fatalf("--check after the run that finished the job: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestPgsyncFromSlapd is TestPgsync's walk with the people in Debian's
// slapd (inetOrgPerson, groupOfNames): roles from the LDAP source, logins
// through a pg_hba.conf line against slapd over StartTLS, and a user taken
// out of the group in slapd locked out by the next run.
func TestPgsyncFromSlapd(t *testing.T) {
	src := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 40, Groups: 4})
	data := t.TempDir()
	mustDirgate(t, "", "init", "--data", data, "--org", "example")

	in, mapped := src.Groups[0], src.Groups[1]
	if len(in.MemberLogins) < 2 {
		t.Fatalf("group %s has %d members", in.Name, len(in.MemberLogins))
	}
	ca, err := os.ReadFile(src.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	settings, err := json.Marshal(&ldapsource.Settings{URLs: []string{src.URL}, StartTLS: true, CACert: string(ca), BindDN: src.BindDN,
		UserBase: src.UsersBase, UserAttribute: src.LoginAttr, Paging: true,
		GroupBase: src.GroupsBase, GroupFilter: "(objectClass=groupOfNames)"})
	if err != nil {
		t.Fatal(err)
	}
	mapping := fmt.Sprintf(`{"users": [%q], "groups": {%q: "engineers", %q: "mapped"}, "source": {"ldap": %s}}`, in.Name, in.Name, mapped.Name, settings)

	_, port, _ := strings.Cut(strings.TrimPrefix(src.URL, "ldap://"), ":")
	line := fmt.Sprintf(`hostssl all +immuta_user 127.0.0.1/32 ldap ldapserver=127.0.0.1 ldapport=%s ldaptls=1 ldapbasedn="%s" ldapsearchattribute=uid ldapbinddn="%s" ldapbindpasswd="%s"`,
		port, src.UsersBase, src.BindDN, src.BindPassword)
	pg := startPostgres(t, src.CAFile, line)
	p := newPgsyncer(t, data, pg, mapping, "DIRGATE_PGSYNC_LDAP_PASSWORD="+src.BindPassword)

	if r := p.run("--check"); r.code != 3 {
		t.Fatalf("--check before the first sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	out := p.sync()
	if want := fmt.Sprintf("%d persons", len(in.MemberLogins)); !strings.Contains(out, want) {
		t.Fatalf("the first sync: want %q in\n%s", want, out)
	}
	if got := pg.SuperSQL(t, `SELECT count(*) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = 'engineers'`); strings.TrimSpace(got) != strconv.Itoa(len(in.MemberLogins)) {
		t.Errorf("members of engineers: %s, want %d", got, len(in.MemberLogins))
	}
	if r := p.run("--check"); r.code != 0 {
		t.Fatalf("--check after the sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Two members: one stays, one is taken out of the group in slapd.
	stay, leave := in.MemberLogins[0], in.MemberLogins[1]
	for _, login := range []string{stay, leave} {
		role := strings.ToLower(login)
		if out, ok := pg.Login(t, role, src.UserPassword(login)); !ok || strings.TrimSpace(out) != role {
			t.Fatalf("%s after the sync: %v\n%s", role, ok, out)
		}
	}
	mr := ldap.NewModifyRequest(in.DN, nil)
	mr.Delete("member", []string{src.User(leave).DN})
	if err := src.Conn(t).Modify(mr); err != nil {
		t.Fatal(err)
	}
	if out := p.sync(); !strings.Contains(out, "1 roles dropped") {
		t.Fatalf("the sync after %s left %s:\n%s", leave, in.Name, out)
	}
	if out, ok := pg.Login(t, strings.ToLower(leave), src.UserPassword(leave)); ok {
		t.Fatalf("%s logged in after leaving the group and a sync:\n%s", leave, out)
	}
	if out, ok := pg.Login(t, strings.ToLower(stay), src.UserPassword(stay)); !ok {
		t.Fatalf("%s after the second sync: %s", stay, out)
	}
}

// TestPgsyncServeSchedule: `dirgate serve --pgsync ORG=FILE` runs the
// mapping on its schedule, the target from the file (not the
// environment), each real run in the system log; a mapping without a
// schedule stops serve from starting, saying why.
func TestPgsyncServeSchedule(t *testing.T) {
	data := t.TempDir()
	setupExample(t, data)
	pg := pgtest.Start(t, pgtest.Options{})
	file := filepath.Join(t.TempDir(), "pgsync.yaml")
	write := func(doc string) {
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("target: " + strconv.Quote(pg.SuperURL("")) + "\n")
	if r := dirgate(t, "", "serve", "--data", data, "--no-demo", "--ldap", "", "--ldaps", "127.0.0.1:0", "--http", "", "--pgsync", "example="+file); r.code != 2 || !strings.Contains(r.stderr, "schedule is manual") {
		t.Fatalf("serve with a manual mapping: exit %d, want 2\n%s", r.code, r.stderr)
	}

	write("target: " + strconv.Quote(pg.SuperURL("")) + "\nschedule: '@every 1s'\n")
	s := startDirgate(t, data, "--no-demo", "--pgsync", "example="+file)
	eventually(t, "serve's scheduled run creates alice's role", func() error {
		if got := pg.SuperSQL(t, `SELECT count(*) FROM pg_roles WHERE rolname = 'alice' AND rolcanlogin`); got != "1\n" {
			return errorString("alice's role: " + got)
		}
		return nil
	})
	// A change in the directory reaches PostgreSQL with a later run.
	mustDirgate(t, "", "user", "suspend", "--data", data, "--org", "example", "--login", "alice")
	eventually(t, "a later run takes LOGIN from suspended alice", func() error {
		if got := pg.SuperSQL(t, `SELECT rolcanlogin FROM pg_roles WHERE rolname = 'alice'`); got != "f\n" {
			return errorString("alice can log in: " + got)
		}
		return nil
	})
	// serve writes the system log a moment after the run.
	eventually(t, "both runs in the system log", func() error {
		logs := mustDirgate(t, "", "logs", "--data", data, "--org", "example", "--filter", `eventType eq "system.pgsync.complete"`, "--output", "json")
		if !strings.Contains(logs, "5 roles created") || !strings.Contains(logs, "1 altered") {
			return errorString("system log:\n" + logs)
		}
		return nil
	})
	if !strings.Contains(s.out.String(), "pgsync scheduled") {
		t.Errorf("serve's log does not say the mapping is scheduled:\n%s", s.out.String())
	}
}
