package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dataWithSecrets makes a data directory holding a password, a TOTP
// secret and an API token, served once (so that serve's files exist too),
// and returns the directory and those secrets.
func dataWithSecrets(t *testing.T, c *cli) (data string, secrets map[string]string) {
	t.Helper()
	data = filepath.Join(t.TempDir(), "data")
	const pw = "Alice-At-Rest-pw-77"
	c.ok("", "init", "--data", data, "--org", "acme")
	c.ok(pw+"\n", "user", "create", "--data", data, "--org", "acme", "--login", "alice", "--password-stdin")
	c.ok("", "user", "add-role", "--data", data, "--org", "acme", "--login", "alice", "--role", "org_admin")
	enrolled := c.ok("", "factor", "enroll", "--data", data, "--org", "acme", "--login", "alice")
	m := regexp.MustCompile(`(?m)^secret: ([A-Z2-7]+)$`).FindStringSubmatch(enrolled)
	if m == nil {
		t.Fatalf("no secret in:\n%s", enrolled)
	}
	token := strings.TrimSpace(c.ok("", "token", "create", "--data", data, "--org", "acme", "--login", "alice", "--name", "at-rest"))
	if len(token) < 20 {
		t.Fatalf("token %q", token)
	}
	s := startServe(t, c, data, "--no-demo")
	s.ldaps(t, "uid=alice,ou=users,dc=acme,dc=okta,dc=com", pw) // a bind: the cache and the last login
	s.stop()
	return data, map[string]string{"password": pw, "TOTP secret": m[1], "API token": token}
}

// TestSecretsAtRest: the database file (and its WAL) holds none of the
// secrets in the clear: the password only as an argon2id hash, the TOTP
// secret sealed, the API token hashed.
func TestSecretsAtRest(t *testing.T) {
	c := newCLI(t)
	data, secrets := dataWithSecrets(t, c)
	var all []byte
	for _, f := range []string{dbFile, dbFile + "-wal"} {
		b, err := os.ReadFile(filepath.Join(data, f))
		if err != nil && f == dbFile {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	for what, v := range secrets {
		if bytes.Contains(all, []byte(v)) {
			t.Errorf("the %s is in the database file in the clear", what)
		}
		// The TOTP secret is base32 of 20 random bytes; its lower case
		// would be as bad.
		if bytes.Contains(bytes.ToLower(all), []byte(strings.ToLower(v))) {
			t.Errorf("the %s is in the database file (in another case)", what)
		}
	}
	if !bytes.Contains(all, []byte("$argon2id$")) {
		t.Error("no argon2id hash in the database: the test does not look where the password is")
	}
	if !bytes.Contains(all, []byte("v1:")) {
		t.Error("no sealed value in the database: the test does not look where the TOTP secret is")
	}
}

// TestDataDirPermissions: the data directory is 0700 and every file in it
// that holds a secret (the database and its WAL, the secret key, the TLS
// keys) is 0600; no file anywhere under it is readable by others.
func TestDataDirPermissions(t *testing.T) {
	c := newCLI(t)
	data, _ := dataWithSecrets(t, c)
	backup := filepath.Join(t.TempDir(), "b.db")
	c.ok("", "backup", "--data", data, "--out", backup)
	c.ok("", "export", "--data", data, "--org", "acme", "--output", filepath.Join(data, "acme.ldif"))
	fi, err := os.Stat(data)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode %v, want 0700", fi.Mode().Perm())
	}
	must := map[string]bool{dbFile: false, secretKeyFile: false, "tls/ca-key.pem": false, "tls/server-key.pem": false, "acme.ldif": false}
	err = filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(data, p)
		if info.Mode().Perm()&0o077 != 0 && !strings.HasSuffix(rel, ".pem") || (strings.HasSuffix(rel, "key.pem") && info.Mode().Perm() != 0o600) {
			t.Errorf("%s has mode %v: others can read it", rel, info.Mode().Perm())
		}
		if _, ok := must[rel]; ok {
			must[rel] = true
			if info.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", rel, info.Mode().Perm())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for f, seen := range must {
		if !seen {
			t.Errorf("%s not found: the test no longer checks it", f)
		}
	}
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup %v %v, want mode 0600", fi, err)
	}
}
