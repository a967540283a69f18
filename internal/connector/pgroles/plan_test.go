package pgroles

import (
	"slices"
	"strings"
	"testing"
)

func mustConfig(t *testing.T, yaml string) *Config {
	t.Helper()
	c, err := ParseConfig([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fakeState is a target with roles (name -> canLogin) and memberships
// (member -> roles), for the planner's tests.
func fakeState(roles map[string]bool, members map[string][]string) *state {
	st := &state{roles: map[string]*role{}, members: map[string]map[string]bool{}}
	for name, login := range roles {
		st.roles[name] = &role{name: name, canLogin: login}
	}
	for m, of := range members {
		for _, r := range of {
			if st.members[r] == nil {
				st.members[r] = map[string]bool{}
			}
			st.members[r][m] = true
		}
	}
	return st
}

func planOf(c *Config, people *People, st *state) *Report {
	rep := &Report{}
	plan(c, people, st, rep)
	return rep
}

// TestPlanFirstRun: an empty target gets the marker, the login role, the
// group roles with their grants, and one role per person in scope, LOGIN
// for the active, NOLOGIN for the suspended; a pre-existing role of a
// person's name that dirgate did not create is left alone and reported.
func TestPlanFirstRun(t *testing.T) {
	c := mustConfig(t, `
users: [immuta_users]
groups: {engineering: eng, analysts: analysts}
grants: {analysts: [pg_read_all_data]}
`)
	people := &People{Origin: "org acme", Persons: []Person{
		{Login: "Alice@Example.com", Active: true, Groups: []string{"immuta_users", "Engineering"}},
		{Login: "bob", Active: false, Groups: []string{"immuta_users", "analysts"}},
		{Login: "carol", Active: true, Groups: []string{"analysts"}}, // not in scope
		{Login: "dba", Active: true, Groups: []string{"immuta_users"}},
	}}
	st := fakeState(map[string]bool{"postgres": true, "pg_read_all_data": false, "dba": true}, nil)
	rep := planOf(c, people, st)
	sql := strings.Join(rep.SQL, ";\n")
	for _, want := range []string{
		`CREATE ROLE "dirgate_managed" NOLOGIN`,
		`CREATE ROLE "immuta_user" NOLOGIN IN ROLE "dirgate_managed"`,
		`CREATE ROLE "eng" NOLOGIN IN ROLE "dirgate_managed"`,
		`CREATE ROLE "analysts" NOLOGIN IN ROLE "dirgate_managed"`,
		`GRANT "pg_read_all_data" TO "analysts"`,
		`COMMENT ON ROLE "analysts" IS 'dirgate: group analysts of org acme; grants: pg_read_all_data'`,
		`CREATE ROLE "alice@example.com" LOGIN IN ROLE "dirgate_managed", "immuta_user", "eng"`,
		`CREATE ROLE "bob" NOLOGIN IN ROLE "dirgate_managed", "immuta_user", "analysts"`,
	} {
		if !strings.Contains(sql, want) {
			t.Errorf("missing %s in\n%s", want, sql)
		}
	}
	if strings.Contains(sql, "carol") || strings.Contains(sql, `"dba"`) {
		t.Errorf("carol (out of scope) or dba (not dirgate's) touched:\n%s", sql)
	}
	if rep.Persons != 3 || rep.Created != 6 || rep.Granted != 1 || len(rep.Skipped) != 1 || rep.Skipped[0].Role != "dba" ||
		!strings.Contains(rep.Skipped[0].Reason, "dirgate did not create it") {
		t.Errorf("report: %+v", rep)
	}
}

// TestPlanInStep: a target in step needs nothing; changes in the source
// become the fewest statements, and roles dirgate does not manage, or
// memberships it did not make, are never touched.
func TestPlanInStep(t *testing.T) {
	c := mustConfig(t, `groups: {engineering: eng}`)
	roles := map[string]bool{"dirgate_managed": false, "immuta_user": false, "eng": false, "alice": true, "bob": true, "gone": true, "owner": true, "dba_stuff": false}
	members := map[string][]string{
		"immuta_user": {"dirgate_managed"}, "eng": {"dirgate_managed"},
		"alice": {"dirgate_managed", "immuta_user", "eng", "dba_stuff"}, // dba_stuff: a DBA's grant
		"bob":   {"dirgate_managed", "immuta_user"},
		"gone":  {"dirgate_managed", "immuta_user"},
		"owner": {"dirgate_managed", "immuta_user"},
	}
	st := fakeState(roles, members)
	for _, n := range []string{"dirgate_managed", "immuta_user", "eng"} {
		st.roles[n].comment = map[string]string{"dirgate_managed": "dirgate: the marker of the roles dirgate manages: do not grant it privileges",
			"immuta_user": "dirgate: the login role", "eng": "dirgate: group engineering of org acme"}[n]
	}
	st.roles["alice"].comment, st.roles["bob"].comment = "dirgate: user alice of org acme", "dirgate: user bob of org acme"
	st.roles["owner"].depsHere = 3
	people := &People{Origin: "org acme", Persons: []Person{
		{Login: "alice", Active: true, Groups: []string{"engineering"}},
		{Login: "bob", Active: true},
	}}
	// gone and owner left: gone is dropped, owner (owning 3 objects) loses LOGIN.
	rep := planOf(c, people, st)
	if got := strings.Join(rep.SQL, ";\n"); got != `DROP ROLE "gone";
ALTER ROLE "owner" NOLOGIN;
REVOKE "immuta_user" FROM "owner"` {
		t.Errorf("SQL:\n%s", got)
	}
	if len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0].Reason, "3 objects") {
		t.Errorf("skipped: %+v", rep.Skipped)
	}
	// Now in step: nothing to do.
	delete(st.roles, "gone")
	st.roles["owner"].canLogin = false
	people.Persons = append(people.Persons, Person{Login: "owner", Active: false})
	st.roles["owner"].comment = "dirgate: user owner of org acme"
	if rep := planOf(c, people, st); len(rep.SQL) != 0 {
		t.Errorf("in step, the plan is:\n%s", strings.Join(rep.SQL, "\n"))
	}
	// alice leaves engineering and is suspended: revoke and NOLOGIN; the
	// DBA's grant stays.
	people.Persons[0] = Person{Login: "alice", Active: false}
	rep = planOf(c, people, st)
	if got := strings.Join(rep.SQL, ";\n"); got != `ALTER ROLE "alice" NOLOGIN;
REVOKE "eng" FROM "alice"` {
		t.Errorf("SQL:\n%s", got)
	}
}

// TestPlanNames: logins that collide, are too long or reserved get no
// role, and say why; local-part names.
func TestPlanNames(t *testing.T) {
	c := mustConfig(t, `roleName: local-part`)
	long := strings.Repeat("x", 64) + "@example.com"
	people := &People{Origin: "org acme", Persons: []Person{
		{Login: "ann@a.example", Active: true}, {Login: "ANN@b.example", Active: true},
		{Login: long, Active: true}, {Login: "pg_monitor@x.example", Active: true}, {Login: "public@x.example", Active: true},
		{Login: "immuta_user@x.example", Active: true}, {Login: "zed@x.example", Active: true},
	}}
	rep := planOf(c, people, fakeState(nil, nil))
	reasons := map[string]string{}
	for _, s := range rep.Skipped {
		reasons[s.Login] = s.Reason
	}
	for login, want := range map[string]string{
		"ann@a.example, ANN@b.example": `all become the role "ann"`,
		long:                           "longer than PostgreSQL's 63 bytes",
		"pg_monitor@x.example":         "starts with pg_",
		"public@x.example":             "PostgreSQL reserves",
		"immuta_user@x.example":        "name of a group or marker role",
	} {
		if !strings.Contains(reasons[login], want) {
			t.Errorf("%s: %q, want %q", login, reasons[login], want)
		}
	}
	if !slices.ContainsFunc(rep.SQL, func(s string) bool { return strings.HasPrefix(s, `CREATE ROLE "zed" LOGIN`) }) {
		t.Errorf("zed@x.example has no role zed:\n%s", strings.Join(rep.SQL, "\n"))
	}
}

// TestPlanRemoved: removed nologin keeps roles; reassignOwnedTo hands
// over objects here and then drops, but not what other databases hold;
// a grant no longer configured is revoked.
func TestPlanRemoved(t *testing.T) {
	roles := map[string]bool{"dirgate_managed": false, "immuta_user": false, "analysts": false, "pg_read_all_data": false,
		"pg_monitor": false, "a": true, "b": true, "admin": true}
	members := map[string][]string{"immuta_user": {"dirgate_managed"}, "analysts": {"dirgate_managed", "pg_read_all_data"},
		"a": {"dirgate_managed", "immuta_user"}, "b": {"dirgate_managed", "immuta_user"}}
	st := fakeState(roles, members)
	st.roles["analysts"].comment = "dirgate: group analysts of org acme; grants: pg_read_all_data"
	st.roles["a"].depsHere, st.roles["b"].depsHere, st.roles["b"].depsElsewhere = 2, 1, 4
	people := &People{Origin: "org acme"}

	rep := planOf(mustConfig(t, "removed: nologin\ngroups: {analysts: analysts}\ngrants: {analysts: [pg_monitor]}"), people, st)
	if got := strings.Join(rep.SQL, ";\n"); !strings.Contains(got, `GRANT "pg_monitor" TO "analysts"`) || !strings.Contains(got, `REVOKE "pg_read_all_data" FROM "analysts"`) ||
		!strings.Contains(got, `ALTER ROLE "a" NOLOGIN`) || strings.Contains(got, "DROP") {
		t.Errorf("removed nologin:\n%s", got)
	}
	rep = planOf(mustConfig(t, "reassignOwnedTo: admin\ngroups: {analysts: analysts}\ngrants: {analysts: [pg_read_all_data]}"), people, st)
	got := strings.Join(rep.SQL, ";\n")
	for _, want := range []string{`REASSIGN OWNED BY "a" TO "admin";
DROP OWNED BY "a";
DROP ROLE "a"`, `REASSIGN OWNED BY "b" TO "admin";
DROP OWNED BY "b";
ALTER ROLE "b" NOLOGIN`} {
		if !strings.Contains(got, want) {
			t.Errorf("want\n%s\nin\n%s", want, got)
		}
	}
	if len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0].Reason, "4 objects in other databases") {
		t.Errorf("skipped: %+v", rep.Skipped)
	}
}
