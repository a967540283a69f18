package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrateStoreUsage: migrate-store's mistakes are usage errors (2)
// found before any store is opened (nothing is created), and a
// PostgreSQL URL's password is never repeated.
func TestMigrateStoreUsage(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	src := "sqlite:" + data
	fresh := filepath.Join(t.TempDir(), "new")
	dst := "sqlite:" + fresh
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no --from", []string{"--to", dst}, `required flag(s) "from" not set`},
		{"no --to", []string{"--from", src}, `required flag(s) "to" not set`},
		{"empty --from", []string{"--from", "", "--to", dst}, "--from is required: sqlite:DIR or a postgres:// URL"},
		{"unknown scheme", []string{"--from", "mysql://u@h/db", "--to", dst}, "--from mysql:…: want sqlite:DIR (the data directory) or a postgres:// URL"},
		{"a bare directory", []string{"--from", data, "--to", dst}, "want sqlite:DIR (the data directory) or a postgres:// URL"},
		{"sqlite without a directory", []string{"--from", src, "--to", "sqlite:"}, "--to sqlite: needs the data directory: sqlite:DIR"},
		{"the same store", []string{"--from", src, "--to", "sqlite:" + data + "/"}, "--from and --to name the same store, sqlite:" + data},
		{"the same PostgreSQL store", []string{"--from", "postgres://a@db:5432/x", "--to", "postgresql://a:pw@db/x?sslmode=disable"},
			"--from and --to name the same store, postgres://a@db:5432/x"},
		{"bad PostgreSQL URL", []string{"--from", src, "--to", "postgres://u:Very-secret-9@db:notaport/x"}, "--to: not a PostgreSQL URL dirgate can read"},
		{"bad output", []string{"--from", src, "--to", dst, "--output", "yaml"}, "--output must be table or json"},
		{"an argument", []string{"--from", src, "--to", dst, "extra"}, `unknown command "extra"`},
		{"--store", []string{"--store", "postgres://u@db/x", "--from", src, "--to", dst}, "not --store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			r := c.fails(2, tc.want, "", append([]string{"migrate-store"}, tc.args...)...)
			if strings.Contains(r.stdout+r.stderr, "Very-secret-9") || strings.Contains(r.stdout+r.stderr, ":pw@") {
				t.Errorf("a password is in the output:\n%s", r.stderr)
			}
		})
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a refused migrate-store created the target directory: %v", err)
	}
}

// TestMigrateStoreRefusals: a missing source, a target that already
// holds a database, and a PostgreSQL store that cannot be reached are
// failures (1); none of them creates or changes a database, and the
// failure names the PostgreSQL store without its password.
func TestMigrateStoreRefusals(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	missing := filepath.Join(t.TempDir(), "missing")
	c.fails(1, "no dirgate database at "+filepath.Join(missing, dbFile), "", "migrate-store", "--from", "sqlite:"+missing, "--to", "sqlite:"+t.TempDir())
	if _, err := os.Stat(filepath.Join(missing, dbFile)); !os.IsNotExist(err) {
		t.Errorf("migrate-store created the missing source: %v", err)
	}
	other := initOrg(t, c, "beta")
	before, err := os.ReadFile(filepath.Join(other, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	c.fails(1, filepath.Join(other, dbFile)+" exists", "", "migrate-store", "--from", "sqlite:"+data, "--to", "sqlite:"+other)
	if after, err := os.ReadFile(filepath.Join(other, dbFile)); err != nil || string(after) != string(before) {
		t.Errorf("the existing target changed (%v)", err)
	}
	fresh := filepath.Join(t.TempDir(), "new")
	r := c.fails(1, "opening postgres://sync@127.0.0.1:1/postgres", "", "migrate-store", "--from", "postgres://sync:Very-secret-9@127.0.0.1:1/postgres?connect_timeout=5", "--to", "sqlite:"+fresh)
	if strings.Contains(r.stdout+r.stderr, "Very-secret-9") {
		t.Errorf("the password is in the output:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "the --from URL holds a password") {
		t.Errorf("no warning about the password on the command line:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(fresh, dbFile)); !os.IsNotExist(err) {
		t.Errorf("a failed migrate-store left a target database: %v", err)
	}
}

// TestMigrateStoreSQLite: a copy between two data directories prints the
// counts and the checksum, says they match, and the new directory serves
// the same users; the JSON output carries the same.
func TestMigrateStoreSQLite(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	c.ok("pw-Secret-12345\n", "user", "create", "--data", data, "--org", "acme", "--login", "alice", "--password-stdin")
	c.ok("", "group", "create", "--data", data, "--org", "acme", "--name", "eng")
	c.ok("", "group", "add-member", "--data", data, "--org", "acme", "--group", "eng", "--login", "alice")
	to := filepath.Join(t.TempDir(), "a", "new")
	r := c.run("", "migrate-store", "--from", "sqlite:"+data, "--to", "sqlite:"+to)
	if r.code != 0 {
		t.Fatalf("migrate-store: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"copied sqlite:" + data + " to sqlite:" + to, "KIND", "users         1", "memberships   1", "source and target match"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, filepath.Join(data, secretKeyFile)) {
		t.Errorf("no word on carrying the secret key along:\n%s", r.stderr)
	}
	if fi, err := os.Stat(to); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("target directory: %v %v", fi, err)
	}
	list := func(dir string) string {
		return c.ok("", "user", "list", "--data", dir, "--org", "acme", "--output", "json")
	}
	if a, b := list(data), list(to); a != b || !strings.Contains(b, "alice") {
		t.Errorf("users:\n%s\nafter the copy:\n%s", a, b)
	}

	out := c.ok("", "migrate-store", "--from", "sqlite:"+to, "--to", "sqlite:"+filepath.Join(t.TempDir(), "again"), "--output", "json")
	var m migrated
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if !m.Match || len(m.SHA256) != 64 || len(m.Kinds) != 13 || m.Kinds[1].Kind != "users" || m.Kinds[1].Count != 1 {
		t.Errorf("json output: %+v", m)
	}
}
