package pgroles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dirgate/dirgate/internal/connector/ldapsource"
	"github.com/dirgate/dirgate/internal/connector/ldapsource/ldaptest"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/directory/dirtest"
	"github.com/dirgate/dirgate/internal/pgtest"
)

// These tests run against a private PostgreSQL (internal/pgtest) and
// read its catalog with psql, not through the package's own readState,
// so that a mistake there cannot hide itself.

// fixedSource is a Source whose people the test changes between runs.
type fixedSource struct {
	origin  string
	persons []Person
}

func (s *fixedSource) Read(context.Context) (*People, error) {
	return &People{Origin: s.origin, Persons: slices.Clone(s.persons)}, nil
}

func (s *fixedSource) set(login string, active bool, groups ...string) {
	p := Person{Login: login, Active: active, Groups: groups}
	for i := range s.persons {
		if s.persons[i].Login == login {
			s.persons[i] = p
			return
		}
	}
	s.persons = append(s.persons, p)
}

func (s *fixedSource) remove(login string) {
	s.persons = slices.DeleteFunc(s.persons, func(p Person) bool { return p.Login == login })
}

// startTarget starts a cluster in which nothing but the test assigns
// transaction ids (autovacuum off), so that nextXID shows any write.
func startTarget(t testing.TB, hba ...string) *pgtest.Cluster {
	t.Helper()
	return pgtest.Start(t, pgtest.Options{Conf: "autovacuum = off\n", HBA: hba})
}

// connect opens a connection to pg as the superuser, named app in
// pg_stat_activity.
func connect(t testing.TB, pg *pgtest.Cluster, app string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), pg.SuperURL("")+" application_name="+app)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// nextXID is the first transaction id not yet assigned: it moves if and
// only if some transaction wrote (reads, and psql's own, assign none).
func nextXID(t testing.TB, pg *pgtest.Cluster) string {
	t.Helper()
	return strings.TrimSpace(pg.SuperSQL(t, "SELECT pg_snapshot_xmax(pg_current_snapshot())"))
}

// roleState is every role but PostgreSQL's own pg_* ones, as
// "LOGIN|NOLOGIN [PASSWORD] in:<the roles it is a member of>".
func roleState(t testing.TB, pg *pgtest.Cluster) map[string]string {
	t.Helper()
	out := pg.SuperSQL(t, `SELECT a.rolname || '|' || CASE WHEN a.rolcanlogin THEN 'LOGIN' ELSE 'NOLOGIN' END
		|| CASE WHEN a.rolpassword IS NULL THEN '' ELSE ' PASSWORD' END || ' in:'
		|| coalesce((SELECT string_agg(r.rolname, ',' ORDER BY r.rolname) FROM pg_auth_members m JOIN pg_authid r ON r.oid = m.roleid WHERE m.member = a.oid), '')
		FROM pg_authid a WHERE a.rolname !~ '^pg_' ORDER BY 1`)
	st := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, v, _ := strings.Cut(line, "|")
		st[name] = v
	}
	return st
}

// comment is a role's comment.
func comment(t testing.TB, pg *pgtest.Cluster, role string) string {
	t.Helper()
	return strings.TrimSuffix(pg.SuperSQL(t, "SELECT shobj_description(oid, 'pg_authid') FROM pg_authid WHERE rolname = "+quoteLiteral(role)), "\n")
}

func diffState(t testing.TB, what string, got, want map[string]string) {
	t.Helper()
	names := slices.Concat(slices.Collect(maps.Keys(got)), slices.Collect(maps.Keys(want)))
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		if got[name] != want[name] {
			t.Errorf("%s: role %s is %q, want %q", what, name, got[name], want[name])
		}
	}
}

func mustRun(t testing.TB, conn *pgx.Conn, c *Config, src Source, opt Options) *Report {
	t.Helper()
	rep, err := Run(context.Background(), conn, c, src, opt)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return rep
}

// counts is a report's counts, to compare in one line.
func counts(r *Report) string {
	return fmt.Sprintf("persons %d created %d altered %d granted %d revoked %d dropped %d reassigned %d skipped %d",
		r.Persons, r.Created, r.Altered, r.Granted, r.Revoked, r.Dropped, r.Reassigned, len(r.Skipped))
}

func checkCounts(t testing.TB, what string, r *Report, want string) {
	t.Helper()
	if got := counts(r); got != want {
		t.Errorf("%s: %s, want %s\nSQL:\n%s\nskipped: %+v", what, got, want, strings.Join(r.SQL, "\n"), r.Skipped)
	}
}

// baseRoles are the cluster's roles before any run.
var baseRoles = map[string]string{"postgres": "LOGIN in:"}

func withBase(m map[string]string) map[string]string {
	out := maps.Clone(baseRoles)
	maps.Copy(out, m)
	return out
}

// TestRunFirstAndInStep: a first run creates the marker, the login and
// group roles (with their grants) and one password-less role per person,
// LOGIN or not, in the right roles, which really lets the active in
// through a +immuta_user pg_hba line and keeps the suspended out; a
// second run with the same source plans nothing and writes nothing.
func TestRunFirstAndInStep(t *testing.T) {
	pg := startTarget(t, "hostssl all +immuta_user 127.0.0.1/32 trust")
	conn := connect(t, pg, "pgroles_test")
	c := mustConfig(t, "groups: {engineering: eng, Analysts: analysts}\ngrants: {Analysts: [pg_read_all_data]}")
	src := &fixedSource{origin: "org acme"}
	src.set("Alice@Example.com", true, "Engineering", "analysts")
	src.set("bob", true, "engineering", "unmapped")
	src.set("carol", false, "analysts")
	src.set("dave", true)

	rep := mustRun(t, conn, c, src, Options{})
	checkCounts(t, "first run", rep, "persons 4 created 8 altered 0 granted 1 revoked 0 dropped 0 reassigned 0 skipped 0")
	want := withBase(map[string]string{
		"dirgate_managed":   "NOLOGIN in:",
		"immuta_user":       "NOLOGIN in:dirgate_managed",
		"eng":               "NOLOGIN in:dirgate_managed",
		"analysts":          "NOLOGIN in:dirgate_managed,pg_read_all_data",
		"alice@example.com": "LOGIN in:analysts,dirgate_managed,eng,immuta_user",
		"bob":               "LOGIN in:dirgate_managed,eng,immuta_user",
		"carol":             "NOLOGIN in:analysts,dirgate_managed,immuta_user",
		"dave":              "LOGIN in:dirgate_managed,immuta_user",
	})
	diffState(t, "after the first run", roleState(t, pg), want)
	for role, want := range map[string]string{
		"alice@example.com": "dirgate: user Alice@Example.com of org acme",
		"analysts":          "dirgate: group Analysts of org acme; grants: pg_read_all_data",
		"dirgate_managed":   "dirgate: the marker of the roles dirgate manages: do not grant it privileges",
	} {
		if got := comment(t, pg, role); got != want {
			t.Errorf("comment on %s: %q, want %q", role, got, want)
		}
	}
	// The roles work as pg_hba.conf's +immuta_user needs.
	if out, ok := pg.Login(t, "dave", ""); !ok || strings.TrimSpace(out) != "dave" {
		t.Errorf("dave cannot log in: %s", out)
	}
	if out, ok := pg.Login(t, "carol", ""); ok || !strings.Contains(out, "not permitted to log in") {
		t.Errorf("suspended carol: %v %s", ok, out)
	}

	xid := nextXID(t, pg)
	rep = mustRun(t, conn, c, src, Options{})
	if rep.Pending() {
		t.Errorf("in step, the run planned:\n%s", strings.Join(rep.SQL, "\n"))
	}
	checkCounts(t, "second run", rep, "persons 4 created 0 altered 0 granted 0 revoked 0 dropped 0 reassigned 0 skipped 0")
	if got := nextXID(t, pg); got != xid {
		t.Errorf("a run with nothing to do wrote: next xid %s, was %s", got, xid)
	}
	diffState(t, "after the second run", roleState(t, pg), want)
}

// TestRunChanges: what changed in the source reaches the target and
// nothing else does: a membership revoked, LOGIN taken, a role dropped;
// a removed person's role that owns something is kept without LOGIN and
// out of the login role, and reported, until reassignOwnedTo hands its
// objects over and drops it.
func TestRunChanges(t *testing.T) {
	pg := startTarget(t)
	conn := connect(t, pg, "pgroles_test")
	c := mustConfig(t, "groups: {engineering: eng}")
	src := &fixedSource{origin: "org acme"}
	for _, l := range []string{"alice", "bob", "carol", "dave", "erin"} {
		src.set(l, true, "engineering")
	}
	mustRun(t, conn, c, src, Options{})
	pg.SuperSQL(t, `CREATE TABLE dave_t (x int); ALTER TABLE dave_t OWNER TO dave`)

	src.set("alice", true)                 // leaves engineering
	src.set("bob", false, "engineering")   // suspended
	src.remove("carol")                    // gone, owns nothing
	src.remove("dave")                     // gone, owns dave_t
	src.set("frank", false, "engineering") // new, suspended
	rep := mustRun(t, conn, c, src, Options{})
	checkCounts(t, "changes", rep, "persons 4 created 1 altered 2 granted 0 revoked 2 dropped 1 reassigned 0 skipped 1")
	want := withBase(map[string]string{
		"dirgate_managed": "NOLOGIN in:",
		"immuta_user":     "NOLOGIN in:dirgate_managed",
		"eng":             "NOLOGIN in:dirgate_managed",
		"alice":           "LOGIN in:dirgate_managed,immuta_user",
		"bob":             "NOLOGIN in:dirgate_managed,eng,immuta_user",
		"dave":            "NOLOGIN in:dirgate_managed,eng",
		"erin":            "LOGIN in:dirgate_managed,eng,immuta_user",
		"frank":           "NOLOGIN in:dirgate_managed,eng,immuta_user",
	})
	diffState(t, "after the changes", roleState(t, pg), want)
	if len(rep.Skipped) == 1 {
		if s := rep.Skipped[0]; s.Role != "dave" || !strings.Contains(s.Reason, "1 objects") || !strings.Contains(s.Reason, "reassignOwnedTo") {
			t.Errorf("dave's skip: %+v", s)
		}
	}

	// In step now, dave included: nothing more to do, every run says why
	// dave stays.
	xid := nextXID(t, pg)
	rep = mustRun(t, conn, c, src, Options{})
	checkCounts(t, "again", rep, "persons 4 created 0 altered 0 granted 0 revoked 0 dropped 0 reassigned 0 skipped 1")
	if got := nextXID(t, pg); got != xid {
		t.Errorf("a run with nothing to do wrote: next xid %s, was %s", got, xid)
	}

	c = mustConfig(t, "groups: {engineering: eng}\nreassignOwnedTo: postgres")
	rep = mustRun(t, conn, c, src, Options{})
	checkCounts(t, "reassignOwnedTo", rep, "persons 4 created 0 altered 0 granted 0 revoked 0 dropped 1 reassigned 1 skipped 0")
	delete(want, "dave")
	diffState(t, "after reassignOwnedTo", roleState(t, pg), want)
	if got := strings.TrimSpace(pg.SuperSQL(t, "SELECT tableowner FROM pg_tables WHERE tablename = 'dave_t'")); got != "postgres" {
		t.Errorf("dave_t's owner is %q, want postgres", got)
	}
}

// TestRunLeavesUnmanagedRoles: a role of a person's name that dirgate did
// not create keeps its password and memberships, and the report names
// it; an existing group role is used without being made dirgate's.
func TestRunLeavesUnmanagedRoles(t *testing.T) {
	pg := startTarget(t)
	conn := connect(t, pg, "pgroles_test")
	pg.SuperSQL(t, `CREATE ROLE bob LOGIN PASSWORD 'x'; CREATE ROLE eng NOLOGIN`)
	c := mustConfig(t, "groups: {engineering: eng}")
	src := &fixedSource{origin: "org acme"}
	src.set("alice", true, "engineering")
	src.set("bob", true, "engineering")

	rep := mustRun(t, conn, c, src, Options{})
	checkCounts(t, "run", rep, "persons 2 created 3 altered 0 granted 0 revoked 0 dropped 0 reassigned 0 skipped 1")
	diffState(t, "after the run", roleState(t, pg), withBase(map[string]string{
		"dirgate_managed": "NOLOGIN in:",
		"immuta_user":     "NOLOGIN in:dirgate_managed",
		"eng":             "NOLOGIN in:",
		"alice":           "LOGIN in:dirgate_managed,eng,immuta_user",
		"bob":             "LOGIN PASSWORD in:",
	}))
	if len(rep.Skipped) == 1 {
		if s := rep.Skipped[0]; s.Role != "bob" || s.Login != "bob" || !strings.Contains(s.Reason, `"bob"`) || !strings.Contains(s.Reason, "did not create") {
			t.Errorf("bob's skip: %+v", s)
		}
	}
	if !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, `"eng"`) }) {
		t.Errorf("no note about eng: %q", rep.Notes)
	}
	// Not being dirgate's, eng is not dropped when no longer mapped.
	rep = mustRun(t, conn, mustConfig(t, ""), src, Options{})
	if got := roleState(t, pg)["eng"]; got != "NOLOGIN in:" {
		t.Errorf("eng, unmapped: %q (SQL %q)", got, rep.SQL)
	}
}

// TestRunDry: a dry run reports the SQL a run would send and changes
// nothing, not even a transaction id.
func TestRunDry(t *testing.T) {
	pg := startTarget(t)
	conn := connect(t, pg, "pgroles_test")
	c := mustConfig(t, "groups: {engineering: eng}")
	src := &fixedSource{origin: "org acme"}
	src.set("alice", true, "engineering")
	for _, stage := range []string{"empty target", "in step, then changed"} {
		before, xid := roleState(t, pg), nextXID(t, pg)
		rep := mustRun(t, conn, c, src, Options{DryRun: true})
		if !rep.DryRun || !rep.Pending() {
			t.Errorf("%s: dry run: %+v", stage, rep)
		}
		if got := nextXID(t, pg); got != xid {
			t.Errorf("%s: a dry run wrote: next xid %s, was %s", stage, got, xid)
		}
		diffState(t, stage+", after a dry run", roleState(t, pg), before)
		// What it printed is what a real run does.
		real := mustRun(t, conn, c, src, Options{})
		if !slices.Equal(real.SQL, rep.SQL) || counts(real) != counts(rep) {
			t.Errorf("%s: dry run\n%s\nreal run\n%s", stage, strings.Join(rep.SQL, "\n"), strings.Join(real.SQL, "\n"))
		}
		src.set("alice", false)
		src.set("bob", true, "engineering")
	}
}

// TestRunInterrupted: a run stopped in the middle of applying leaves
// nothing behind, and the next run does all of it, whether its backend
// was terminated (pg_terminate_backend, or the server going away), its
// context cancelled (dirgate stopping: pgx cancels the statement) or its
// process killed (SIGKILL, in a child process: the server carries on
// until it next writes to the dead connection, and commits nothing). While a
// run holds the target another is refused with ErrBusy, not made to wait.
func TestRunInterrupted(t *testing.T) {
	for _, how := range []string{"terminated", "cancelled", "killed"} {
		t.Run(how, func(t *testing.T) {
			pg := startTarget(t)
			ctx := context.Background()
			c := mustConfig(t, "groups: {engineering: eng}")
			src := &fixedSource{origin: "org acme"}
			src.set("bob", true, "engineering")
			src.set("carol", true)
			mustRun(t, connect(t, pg, "pgroles_setup"), c, src, Options{})
			before := roleState(t, pg)

			// The run creates aaron, then alters bob, which waits for the
			// blocker's uncommitted ALTER ROLE of bob, then would drop carol.
			src.set("aaron", true, "engineering")
			src.set("bob", false, "engineering")
			src.remove("carol")
			blocker := connect(t, pg, "pgroles_blocker")
			btx, err := blocker.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := btx.Exec(ctx, "ALTER ROLE bob CONNECTION LIMIT 5"); err != nil {
				t.Fatal(err)
			}
			runCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			done := make(chan error, 1)
			var killed *exec.Cmd
			if how == "killed" {
				killed = startKilledRun(t, pg.SuperURL("")+" application_name=pgroles_run", src)
			} else {
				// Connect is how dirgate opens the target.
				conn, err := Connect(ctx, pg.SuperURL("")+" application_name=pgroles_run")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { conn.Close(ctx) })
				go func() {
					_, err := Run(runCtx, conn, c, src, Options{})
					done <- err
				}()
			}
			watch := connect(t, pg, "pgroles_watch")
			var pid int
			waitFor(t, "the run to wait for the blocker", func() bool {
				err := watch.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = 'pgroles_run' AND wait_event_type = 'Lock'`).Scan(&pid)
				return err == nil
			})
			// aaron exists in the run's transaction, not outside it.
			diffState(t, "while the run waits", roleState(t, pg), before)
			busy := func(when string) {
				t.Helper()
				// The bound is on a hang (a run that got the lock and waits
				// for bob), not a measure.
				bctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				if _, err := Run(bctx, connect(t, pg, "pgroles_second"), c, src, Options{}); !errors.Is(err, ErrBusy) {
					t.Errorf("a second run %s: %v, want ErrBusy", when, err)
				}
			}
			busy("while one holds the target")

			switch how {
			case "terminated":
				if _, err := watch.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
					t.Fatal(err)
				}
			case "cancelled":
				cancel()
			case "killed":
				if err := killed.Process.Kill(); err != nil { // SIGKILL: no cancel request, no Terminate message
					t.Fatal(err)
				}
				killed.Wait()
			}
			if how != "killed" {
				if err := <-done; err == nil {
					t.Fatal("the interrupted run returned no error")
				} else {
					t.Logf("the interrupted run: %v", err)
				}
			}
			backendGone := func() bool {
				var n int
				err := watch.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&n)
				return err == nil && n == 0
			}
			if how == "killed" {
				// The server does not know yet: the transaction goes on,
				// still refusing another run, still invisible.
				if backendGone() {
					t.Error("the backend of a killed client ended while it waited for a lock")
				}
				busy("while a killed client's transaction waits")
				diffState(t, "while a killed client's transaction waits", roleState(t, pg), before)
			} else {
				// Its transaction is over (its locks released) while the
				// blocker still holds bob: it does not carry on in the server.
				waitFor(t, "the run's backend to end", backendGone)
				diffState(t, "after the interrupted run", roleState(t, pg), before)
			}
			if err := btx.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			// A killed client's transaction now runs its last statements,
			// finds the connection dead when it answers, and ends without
			// a commit.
			waitFor(t, "the run's backend to end", backendGone)
			diffState(t, "after the blocker let go", roleState(t, pg), before)

			rep := mustRun(t, connect(t, pg, "pgroles_rerun"), c, src, Options{})
			checkCounts(t, "the next run", rep, "persons 2 created 1 altered 1 granted 0 revoked 0 dropped 1 reassigned 0 skipped 0")
			want := maps.Clone(before)
			want["aaron"] = "LOGIN in:dirgate_managed,eng,immuta_user"
			want["bob"] = "NOLOGIN in:dirgate_managed,eng,immuta_user"
			delete(want, "carol")
			diffState(t, "after the next run", roleState(t, pg), want)
		})
	}
}

// helperEnv carries, to the child process of startKilledRun, the target
// and the people to sync.
const helperEnv = "PGROLES_TEST_KILLED_RUN"

// startKilledRun starts this test binary as a child process that runs a
// sync of src's people (groups {engineering: eng}) to url, for the test

// TestRunLockTimeout: a run that waits longer than lockTimeout for a role
// another session holds fails, says why, changes nothing and frees the
// target for the next run.
func TestRunLockTimeout(t *testing.T) {
	pg := startTarget(t)
	ctx := context.Background()
	c := mustConfig(t, "lockTimeout: 200ms")
	src := &fixedSource{origin: "org acme"}
	src.set("bob", true)
	mustRun(t, connect(t, pg, "pgroles_setup"), c, src, Options{})
	before := roleState(t, pg)
	src.set("bob", false)
	src.set("aaron", true)
	blocker := connect(t, pg, "pgroles_blocker")
	btx, err := blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := btx.Exec(ctx, "ALTER ROLE bob CONNECTION LIMIT 5"); err != nil {
		t.Fatal(err)
	}
	_, err = Run(ctx, connect(t, pg, "pgroles_run"), c, src, Options{})
	if err == nil || !strings.Contains(err.Error(), "lock timeout") || !strings.Contains(err.Error(), "none is kept") {
		t.Fatalf("a run past lockTimeout: %v", err)
	}
	diffState(t, "after the timed-out run", roleState(t, pg), before)
	if err := btx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if rep := mustRun(t, connect(t, pg, "pgroles_again"), c, src, Options{}); rep.Created != 1 || rep.Altered != 1 {
		t.Errorf("the next run: %s", counts(rep))
	}
}

// to kill.
func startKilledRun(t *testing.T, url string, src *fixedSource) *exec.Cmd {
	t.Helper()
	arg, err := json.Marshal(map[string]any{"url": url, "origin": src.origin, "persons": src.persons})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunKilledHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(arg))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// TestRunKilledHelper is the child process of startKilledRun; without
// it, it does nothing.
func TestRunKilledHelper(t *testing.T) {
	arg := os.Getenv(helperEnv)
	if arg == "" {
		t.Skip("the child process of TestRunInterrupted/killed")
	}
	var in struct {
		URL, Origin string
		Persons     []Person
	}
	if err := json.Unmarshal([]byte(arg), &in); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), in.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), conn, mustConfig(t, "groups: {engineering: eng}"), &fixedSource{origin: in.Origin, persons: in.Persons}, Options{})
	t.Fatalf("the run ended before it was killed: %v", err)
}

// waitFor polls cond until it holds, failing the test after a generous
// bound (a bound on a hang, not a measure of speed).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunCollisions: logins that become the same role name get no role,
// and both are reported; the others are created.
func TestRunCollisions(t *testing.T) {
	pg := startTarget(t)
	conn := connect(t, pg, "pgroles_test")
	c := mustConfig(t, "roleName: local-part")
	src := &fixedSource{origin: "org acme"}
	src.set("alice@a.example", true)
	src.set("Alice@b.example", true)
	src.set("bob@a.example", true)
	rep := mustRun(t, conn, c, src, Options{})
	checkCounts(t, "run", rep, "persons 3 created 3 altered 0 granted 0 revoked 0 dropped 0 reassigned 0 skipped 1")
	diffState(t, "after the run", roleState(t, pg), withBase(map[string]string{
		"dirgate_managed": "NOLOGIN in:",
		"immuta_user":     "NOLOGIN in:dirgate_managed",
		"bob":             "LOGIN in:dirgate_managed,immuta_user",
	}))
	if len(rep.Skipped) == 1 {
		s := rep.Skipped[0]
		if s.Role != "alice" || !strings.Contains(s.Login, "alice@a.example") || !strings.Contains(s.Login, "Alice@b.example") ||
			!strings.Contains(s.Reason, "none gets it") {
			t.Errorf("the collision's skip: %+v", s)
		}
	}
}

// TestRunQuoting: logins are data, never SQL, whatever the target's
// settings: with standard_conforming_strings off (a backslash escapes
// in a plain literal), a login with a backslash and a quote ends up
// whole in its role's comment and runs nothing.
func TestRunQuoting(t *testing.T) {
	pg := startTarget(t)
	pg.SuperSQL(t, `CREATE ROLE victim NOLOGIN; ALTER DATABASE postgres SET standard_conforming_strings = off`)
	conn := connect(t, pg, "pgroles_test")
	login := `x\'; DROP ROLE victim; --`
	src := &fixedSource{origin: `org a\b`, persons: []Person{{Login: login, Active: true}}}
	rep, err := Run(context.Background(), conn, mustConfig(t, ""), src, Options{})
	if err != nil {
		t.Fatalf("run: %v\nSQL:\n%s", err, strings.Join(rep.SQL, "\n"))
	}
	if roleState(t, pg)["victim"] == "" {
		t.Error("the login's text dropped the role victim")
	}
	// Read with a parameter: psql's literals would be read the same way.
	var got string
	name, _ := RoleNameOf(login, NameLogin)
	if err := conn.QueryRow(context.Background(), "SELECT shobj_description(oid, 'pg_authid') FROM pg_authid WHERE rolname = $1", name).Scan(&got); err != nil {
		t.Fatalf("the role %q: %v", name, err)
	}
	if want := "dirgate: user " + login + ` of org a\b`; got != want {
		t.Errorf("comment %q, want %q", got, want)
	}
}

// TestRunFromLDAP: the roles of an OpenLDAP directory's users and
// groups, read with the LDAP sync's settings, are exactly the source's.
func TestRunFromLDAP(t *testing.T) {
	s := ldaptest.Start(t, ldaptest.Options{Flavor: ldaptest.OpenLDAP, Users: 50, Groups: 5})
	pg := startTarget(t)
	conn := connect(t, pg, "pgroles_test")
	set := openLDAPSettings(t, s)
	c := &Config{Groups: map[string]string{}, Source: &SourceConfig{LDAP: set}}
	want := withBase(map[string]string{"dirgate_managed": "NOLOGIN in:", "immuta_user": "NOLOGIN in:dirgate_managed"})
	inGroups := map[string][]string{} // role name -> group roles
	for _, g := range s.Groups {
		if g.Kind != ldaptest.GroupOfNames {
			continue // the settings' group filter reads groupOfNames only
		}
		role := "ldap_" + g.Name
		c.Groups[g.Name] = role
		want[role] = "NOLOGIN in:dirgate_managed"
		for _, l := range g.MemberLogins {
			inGroups[strings.ToLower(l)] = append(inGroups[strings.ToLower(l)], role)
		}
	}
	if err := c.Normalize(); err != nil {
		t.Fatal(err)
	}
	for _, u := range s.Users {
		name := strings.ToLower(u.Login)
		in := append([]string{"dirgate_managed", "immuta_user"}, inGroups[name]...)
		slices.Sort(in)
		want[name] = "LOGIN in:" + strings.Join(in, ",")
	}
	if len(inGroups) == 0 {
		t.Fatal("the fixture's groups have no members")
	}
	t.Setenv(EnvLDAPPassword, s.BindPassword)
	src, err := SourceOf(c, nil, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := mustRun(t, conn, c, src, Options{})
	if rep.Persons != len(s.Users) || len(rep.Skipped) != 0 || rep.Origin != s.URL {
		t.Errorf("report: %s, origin %q", counts(rep), rep.Origin)
	}
	diffState(t, "after the run", roleState(t, pg), want)
	xid := nextXID(t, pg)
	if rep := mustRun(t, conn, c, src, Options{}); rep.Pending() {
		t.Errorf("in step, the run planned:\n%s", strings.Join(rep.SQL, "\n"))
	}
	if got := nextXID(t, pg); got != xid {
		t.Errorf("a run with nothing to do wrote: next xid %s, was %s", got, xid)
	}
}

// openLDAPSettings are what an administrator enters for the fixture's
// OpenLDAP tree (as the LDAP sync's tests do).
func openLDAPSettings(t testing.TB, s *ldaptest.Server) *ldapsource.Settings {
	t.Helper()
	ca, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	return &ldapsource.Settings{
		URLs: []string{s.URL}, StartTLS: true, CACert: string(ca), BindDN: s.BindDN,
		UserBase: s.UsersBase, UserAttribute: s.LoginAttr,
		Paging: true, GroupBase: s.GroupsBase, GroupFilter: "(objectClass=groupOfNames)",
	}
}

// TestRunFromOrg: the roles of a dirgate org: its persons (not its
// service accounts or staged users), suspended ones without LOGIN, and
// the changes made in the directory on the next run.
func TestRunFromOrg(t *testing.T) {
	ctx := context.Background()
	d := newDirectory(t)
	for _, g := range []string{"engineering", "analysts"} {
		if _, err := d.CreateGroup(ctx, "acme", directory.GroupInput{Name: g}); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct {
		login  string
		in     directory.UserInput
		groups []string
	}{
		{"alice@acme.example", directory.UserInput{}, []string{"engineering", "analysts"}},
		{"bob@acme.example", directory.UserInput{}, []string{"engineering"}},
		{"carol@acme.example", directory.UserInput{}, []string{"analysts"}},
		{"dave@acme.example", directory.UserInput{}, nil},
		{"staged@acme.example", directory.UserInput{Status: directory.StatusStaged}, []string{"engineering"}},
		{"ldap-bind", directory.UserInput{ServiceAccount: true}, []string{"engineering"}},
	} {
		u.in.Profile.Login = u.login
		if _, err := d.CreateUserInGroups(ctx, "acme", u.in, u.groups); err != nil {
			t.Fatalf("%s: %v", u.login, err)
		}
	}
	if _, err := d.Lifecycle(ctx, "acme", "carol@acme.example", directory.ActionSuspend); err != nil {
		t.Fatal(err)
	}
	pg := startTarget(t)
	conn := connect(t, pg, "pgroles_test")
	c := mustConfig(t, "roleName: local-part\ngroups: {engineering: eng, analysts: analysts}")
	src, err := SourceOf(c, d, "acme", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := mustRun(t, conn, c, src, Options{})
	checkCounts(t, "first run", rep, "persons 4 created 8 altered 0 granted 0 revoked 0 dropped 0 reassigned 0 skipped 0")
	want := withBase(map[string]string{
		"dirgate_managed": "NOLOGIN in:",
		"immuta_user":     "NOLOGIN in:dirgate_managed",
		"eng":             "NOLOGIN in:dirgate_managed",
		"analysts":        "NOLOGIN in:dirgate_managed",
		"alice":           "LOGIN in:analysts,dirgate_managed,eng,immuta_user",
		"bob":             "LOGIN in:dirgate_managed,eng,immuta_user",
		"carol":           "NOLOGIN in:analysts,dirgate_managed,immuta_user",
		"dave":            "LOGIN in:dirgate_managed,immuta_user",
	})
	diffState(t, "after the first run", roleState(t, pg), want)
	if got := comment(t, pg, "alice"); got != "dirgate: user alice@acme.example of org acme" {
		t.Errorf("alice's comment: %q", got)
	}

	// In the directory: carol back, bob out of engineering, dave deleted.
	if _, err := d.Lifecycle(ctx, "acme", "carol@acme.example", directory.ActionUnsuspend); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RemoveMember(ctx, "acme", "engineering", "bob@acme.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Lifecycle(ctx, "acme", "dave@acme.example", directory.ActionDeactivate); err != nil {
		t.Fatal(err)
	}
	rep = mustRun(t, conn, c, src, Options{})
	// Deactivated, dave is still a person of the org: a role without LOGIN.
	checkCounts(t, "after deactivating dave", rep, "persons 4 created 0 altered 2 granted 0 revoked 1 dropped 0 reassigned 0 skipped 0")
	if err := d.DeleteUser(ctx, "acme", "dave@acme.example"); err != nil {
		t.Fatal(err)
	}
	rep = mustRun(t, conn, c, src, Options{})
	checkCounts(t, "after deleting dave", rep, "persons 3 created 0 altered 0 granted 0 revoked 0 dropped 1 reassigned 0 skipped 0")
	want["carol"] = "LOGIN in:analysts,dirgate_managed,immuta_user"
	want["bob"] = "LOGIN in:dirgate_managed,immuta_user"
	delete(want, "dave")
	diffState(t, "after the changes", roleState(t, pg), want)
}

// newDirectory is a directory on SQLite with the org acme.
func newDirectory(t testing.TB) *directory.Directory {
	return dirtest.New(t, directory.OrgInput{Name: "acme"})
}
