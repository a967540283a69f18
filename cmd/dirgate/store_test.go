package main

import (
	"strings"
	"testing"
)

// TestStoreFlag: --store refuses what is not a PostgreSQL URL without
// echoing it, warns of a password in the flag (not of one in PGPASSWORD),
// and names an unreachable store without its password.
func TestStoreFlag(t *testing.T) {
	c := newCLI(t)
	data := t.TempDir()
	r := c.fails(2, "--store mysql:…: want empty (SQLite in --data) or a postgres:// URL", "", "user", "list", "--data", data, "--org", "x", "--store", "mysql://u:Secret-1@h/db")
	if strings.Contains(r.stderr, "Secret-1") {
		t.Errorf("the refusal echoes the password: %s", r.stderr)
	}
	r = c.fails(1, "opening the store postgres://u@127.0.0.1:1/db", "", "user", "list", "--data", data, "--org", "x", "--store", "postgres://u:Secret-1@127.0.0.1:1/db?connect_timeout=2")
	if strings.Contains(r.stderr, "Secret-1") || !strings.Contains(r.stderr, "holds a password") {
		t.Errorf("a password in --store: no warning, or the password shown:\n%s", r.stderr)
	}
	t.Setenv("PGPASSWORD", "Secret-2")
	r = c.fails(1, "opening the store", "", "user", "list", "--data", data, "--org", "x", "--store", "postgres://u@127.0.0.1:1/db?connect_timeout=2")
	if strings.Contains(r.stderr, "holds a password") || strings.Contains(r.stderr, "Secret-2") {
		t.Errorf("PGPASSWORD taken for a password in the flag, or shown:\n%s", r.stderr)
	}
}
