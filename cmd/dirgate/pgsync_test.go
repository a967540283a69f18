package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPgsyncRefusals: pgsync's mistakes are usage errors (2) that say
// what to do, before anything is opened; a target it cannot reach is an
// error (1) that names it without its password. The runs against a real
// PostgreSQL are test/interop's TestPgsync*.
func TestPgsyncRefusals(t *testing.T) {
	c := newCLI(t)
	data := initOrg(t, c, "acme")
	u := func(args ...string) []string {
		return append([]string{"pgsync", "--data", data, "--org", "acme"}, args...)
	}

	c.fails(2, "DIRGATE_PGSYNC_URL", "", u()...)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("users: [eng]\nremoved: delete\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.fails(2, `removed: a removed person's role is dropped (drop) or kept without LOGIN (nologin), not "delete"`, "", u("--mapping", bad)...)
	c.fails(2, "--mapping", "", u("--mapping", filepath.Join(data, "missing.yaml"))...)
	c.fails(2, "--output must be table or json", "", u("--output", "xml")...)

	c.env["DIRGATE_PGSYNC_URL"] = "postgres://sync:Very-secret-9@127.0.0.1:1/postgres?connect_timeout=5"
	r := c.fails(1, "connecting to the target PostgreSQL", "", u("--check")...)
	if strings.Contains(r.stderr+r.stdout, "Very-secret-9") {
		t.Errorf("the password is in the error:\n%s", r.stderr)
	}
	c.fails(1, `no org named "nope"`, "", "pgsync", "--data", data, "--org", "nope")
	// A source LDAP server without its password in the environment.
	ldapSrc := filepath.Join(t.TempDir(), "ldap.yaml")
	if err := os.WriteFile(ldapSrc, []byte("source:\n  ldap:\n    urls: [ldaps://ldap.example]\n    bindDN: cn=x\n    userSearchBase: dc=example\n    userAttribute: uid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.fails(2, "DIRGATE_PGSYNC_LDAP_PASSWORD", "", u("--mapping", ldapSrc)...)
}
