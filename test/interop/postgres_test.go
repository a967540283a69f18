package interop

import (
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/pgtest"
)

// TestPostgresSearchBind is the reference documents' Query Engine set-up:
// PostgreSQL authenticates its users against dirgate with a pg_hba.conf
// LDAP search+bind line, the bind user being a read-only service account
// named without ou=users, and only members of the group role
// <iam>_user may log in.
func TestPostgresSearchBind(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	people := []struct{ login, pw string }{
		{"pat+test@example.com", "comma,separated, and spaces"},
		{"o'brien", "ünïcödé pässwörd ✓"},
		{"Dana.Upper", "UPPER lower 123"},
		{"plain", `quote"and\backslash`},
	}
	for _, p := range people {
		mustDirgate(t, p.pw+"\n", "user", "create", "--data", data, "--org", "example", "--login", p.login, "--password-stdin")
	}
	s := startDirgate(t, data, "--no-demo")

	pg := startPostgres(t, s.caFile, pgHBALDAP("immuta", "127.0.0.1", s.ldapsPort, exBase, bindDN, bindPW))
	sql := "CREATE ROLE immuta_user NOLOGIN;"
	for _, login := range []string{"alice", "carol", "nobody", "pat+test@example.com", "o'brien", "Dana.Upper", "plain"} {
		sql += " CREATE ROLE " + pgtest.QuoteIdent(login) + " LOGIN IN ROLE immuta_user;"
	}
	sql += " CREATE ROLE outsider LOGIN;"
	pg.SuperSQL(t, sql)

	for _, tc := range []struct {
		name, user, pw string
		ok             bool
		refusal        string // what psql says when refused
	}{
		{"right password", "alice", "alice-password", true, ""},
		{"wrong password", "alice", "alice-passwordx", false, ldapFailed},
		{"suspended user", "carol", "carol-password", false, ldapFailed},
		{"unknown in the directory", "nobody", "x", false, ldapFailed},
		{"not in the group role", "outsider", "alice-password", false, "no pg_hba.conf entry"},
		{"login with + and @", people[0].login, people[0].pw, true, ""},
		{"login with a quote", people[1].login, people[1].pw, true, ""},
		{"login with upper case", people[2].login, people[2].pw, true, ""},
		{"password with quote and backslash", people[3].login, people[3].pw, true, ""},
		{"a comma-split password is not the password", people[0].login, "comma", false, ldapFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := pg.Login(t, tc.user, tc.pw)
			if ok != tc.ok {
				t.Fatalf("psql as %q: ok=%v, want %v\n%s", tc.user, ok, tc.ok, out)
			}
			if ok && strings.TrimSpace(out) != tc.user {
				t.Fatalf("current_user %q, want %q", strings.TrimSpace(out), tc.user)
			}
			if !ok && !strings.Contains(out, tc.refusal) {
				t.Fatalf("refusal is not an LDAP authentication failure:\n%s", out)
			}
		})
	}
	// A suspension made while PostgreSQL runs takes effect at the next login.
	mustDirgate(t, "", "user", "suspend", "--data", data, "--org", "example", "--login", "alice")
	eventually(t, "alice refused after suspension", func() error {
		if out, ok := pg.Login(t, "alice", "alice-password"); ok {
			return errorString("still logs in: " + out)
		}
		return nil
	})
}

const ldapFailed = "LDAP authentication failed"

type errorString string

func (e errorString) Error() string { return string(e) }
