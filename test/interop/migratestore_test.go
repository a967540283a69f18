package interop

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/pgtest"
)

// TestMigrateStoreRoundTrip: the example installation (SQLite) moves to
// PostgreSQL and from there to a new SQLite data directory with the
// built binary's migrate-store; each run says source and target match,
// and never shows the URL's password. The PostgreSQL store and the new
// directory list the same orgs, users, groups and tokens as the original
// (times to the microsecond, as PostgreSQL keeps them), the new one the
// same system log; a copy into the now full PostgreSQL store
// is refused; and `dirgate serve` on the new directory (given the old
// secret key) lets alice bind with her password and still refuses
// suspended carol and a wrong password.
func TestMigrateStoreRoundTrip(t *testing.T) {
	requireLdapsearch(t)
	orig := t.TempDir()
	setupExample(t, orig)
	mustDirgate(t, "", "user", "add-role", "--data", orig, "--org", "example", "--login", "alice", "--role", "org_admin")
	mustDirgate(t, "", "token", "create", "--data", orig, "--org", "example", "--login", "alice", "--name", "scripts")
	mustDirgate(t, "", "token", "create", "--data", orig, "--installation", "--name", "orgs")

	pg := pgtest.Start(t, pgtest.Options{})
	pg.SuperSQL(t, "CREATE DATABASE moved")
	port := strings.TrimSpace(pg.SuperSQL(t, "SHOW port"))
	// The cluster trusts the superuser on the socket: the password is
	// there only to show that it is never printed.
	const secret = "Never-printed-7"
	url := "postgres://postgres:" + secret + "@/moved?host=" + pg.Sock + "&port=" + port + "&sslmode=disable"
	named := "postgres://postgres@" + pg.Sock + ":" + port + "/moved"

	migrate := func(from, to string) map[string]any {
		t.Helper()
		r := dirgate(t, "", "migrate-store", "--from", from, "--to", to, "--output", "json")
		if r.code != 0 {
			t.Fatalf("migrate-store --from %s --to %s: exit %d\n%s%s", from, to, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("the password is in migrate-store's output:\n%s%s", r.stdout, r.stderr)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
			t.Fatalf("%v:\n%s", err, r.stdout)
		}
		if m["match"] != true {
			t.Errorf("migrate-store: %s", r.stdout)
		}
		return m
	}
	there := migrate("sqlite:"+orig, url)
	if there["to"] != named {
		t.Errorf("the PostgreSQL store is named %v, want %s", there["to"], named)
	}
	back := filepath.Join(t.TempDir(), "back")
	again := migrate(url, "sqlite:"+back)
	if there["sha256"] != again["sha256"] {
		t.Errorf("checksums: %v there, %v back", there["sha256"], again["sha256"])
	}

	list := func(store, data string, args ...string) string {
		a := append(args, "--data", data, "--output", "json")
		if store != "" {
			a = append(a, "--store", store)
		}
		return toMicros(mustDirgate(t, "", a...))
	}
	for _, what := range [][]string{
		{"user", "list", "--org", "example"},
		{"group", "list", "--org", "example"},
		{"token", "list", "--org", "example"},
		{"org", "list"},
	} {
		want := list("", orig, what...)
		if got := list(url, t.TempDir(), what...); got != want {
			t.Errorf("%s in PostgreSQL:\n%s\nwant\n%s", strings.Join(what, " "), got, want)
		}
		if got := list("", back, what...); got != want {
			t.Errorf("%s after the round trip:\n%s\nwant\n%s", strings.Join(what, " "), got, want)
		}
	}
	logs := func(data string) string {
		return mustDirgate(t, "", "logs", "--data", data, "--org", "example", "--output", "json")
	}
	if want, got := logs(orig), logs(back); got != want || strings.Count(want, "\n") < 8 {
		t.Errorf("system log after the round trip:\n%s\nwant\n%s", got, want)
	}

	if r := dirgate(t, "", "migrate-store", "--from", "sqlite:"+orig, "--to", url); r.code != 1 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("a copy into the full PostgreSQL store: exit %d\n%s", r.code, r.stderr)
	}

	key, err := os.ReadFile(filepath.Join(orig, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(back, "secret.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startDirgate(t, back, "--no-demo")
	bind := func(dn, pw string) int {
		return s.ldapsearch(t, "-LLL", "-x", "-H", s.ldapsURL, "-D", dn, "-w", pw, "-b", dn, "-s", "base", "uid").code
	}
	if code := bind(aliceExD, "alice-password"); code != 0 {
		t.Errorf("alice's bind on the migrated directory: exit %d", code)
	}
	if code := bind(aliceExD, "wrong"); code != 49 {
		t.Errorf("a wrong password: exit %d, want 49", code)
	}
	if code := bind("uid=carol,"+exUsers, "carol-password"); code != 49 {
		t.Errorf("suspended carol: exit %d, want 49", code)
	}
	r := s.ldapsearch(t, asBind(s.ldapsURL, "-b", exUsers, "(memberOf=cn=eng,ou=groups,"+exBase+")", "uid")...)
	if r.code != 0 || !strings.Contains(r.stdout, "uid: alice") {
		t.Errorf("eng's members on the migrated directory: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

var fraction = regexp.MustCompile(`(\d\d:\d\d:\d\d)\.(\d+)`)

// toMicros cuts the times of out (RFC 3339, as Go prints them: trailing
// zeros left out) to the microsecond, which is what PostgreSQL keeps.
func toMicros(out string) string {
	return fraction.ReplaceAllStringFunc(out, func(m string) string {
		sub := fraction.FindStringSubmatch(m)
		frac := strings.TrimRight(sub[2][:min(len(sub[2]), 6)], "0")
		if frac == "" {
			return sub[1]
		}
		return sub[1] + "." + frac
	})
}
