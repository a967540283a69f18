package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestBackupRestoreRoundTrip: a backup taken while serve runs and users
// are being created holds a consistent prefix of the writes; restored
// into a new data directory, it has the same counts and checksum, and the
// restored directory serves its users. Existing files and stores are
// never overwritten.
func TestBackupRestoreRoundTrip(t *testing.T) {
	c := newCLI(t)
	data := t.TempDir()
	c.ok("", "init", "--data", data, "--org", "acme")
	c.ok("Alice-pw-12345\n", "user", "create", "--data", data, "--org", "acme", "--login", "alice", "--password-stdin")
	c.ok("", "group", "create", "--data", data, "--org", "acme", "--name", "eng")
	c.ok("", "group", "add-member", "--data", data, "--org", "acme", "--group", "eng", "--login", "alice")
	startServe(t, c, data, "--no-demo")

	// Writers run while the backups are taken.
	var created atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if r := c.run("", "user", "create", "--data", data, "--org", "acme", "--login", fmt.Sprintf("w%03d", i)); r.code != 0 {
				t.Errorf("create during backup: %d %s", r.code, r.stderr)
				return
			}
			created.Add(1)
		}
	}()
	dir := t.TempDir()
	var files []string
	for i := 0; i < 3; i++ {
		f := filepath.Join(dir, fmt.Sprintf("b%d.db", i))
		out := c.ok("", "backup", "--data", data, "--out", f, "--output", "json")
		var b backedUp
		if err := json.Unmarshal([]byte(out), &b); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("backup file %v %v: want mode 0600", fi, err)
		}
		files = append(files, f)
	}
	close(stop)
	wg.Wait()
	if created.Load() == 0 {
		t.Fatal("no write ran during the backups")
	}

	last := 0
	for i, f := range files {
		target := filepath.Join(t.TempDir(), "restored")
		out := c.ok("", "restore", "--from", f, "--data", target, "--output", "json")
		var b backedUp
		if err := json.Unmarshal([]byte(out), &b); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		users := 0
		for _, k := range b.Kinds {
			if k.Kind == "users" {
				users = k.Count
			}
		}
		// A prefix: alice and 0..n-1 of the writer's users, growing.
		list := c.ok("", "user", "list", "--data", target, "--org", "acme")
		for j := 0; j < users-1; j++ {
			if !strings.Contains(list, fmt.Sprintf("w%03d", j)) {
				t.Errorf("backup %d: %d users but w%03d missing: not a prefix of the writes", i, users, j)
			}
		}
		if users < last {
			t.Errorf("backup %d has %d users, the one before %d", i, users, last)
		}
		last = users
		if i == len(files)-1 {
			// The restored directory serves alice with her password.
			r := startServe(t, c, target, "--no-demo")
			r.ldaps(t, "uid=alice,ou=users,dc=acme,dc=okta,dc=com", "Alice-pw-12345")
			if m := c.ok("", "group", "members", "--data", target, "--org", "acme", "--name", "eng"); !strings.Contains(m, "alice") {
				t.Errorf("restored group eng: %s", m)
			}
		}
		// Restoring again into the same place is refused, the data kept.
		c.fails(1, "exists", "", "restore", "--from", f, "--data", target)
	}

	c.fails(1, "backup never overwrites", "", "backup", "--data", data, "--out", files[0])
	c.fails(1, "no backup file", "", "restore", "--from", filepath.Join(dir, "none.db"), "--data", t.TempDir())
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("not a database"), 0o600)
	c.fails(1, "not a dirgate backup", "", "restore", "--from", junk, "--data", filepath.Join(t.TempDir(), "x"))
	c.fails(2, "pg_dump", "", "backup", "--store", "postgres://u@127.0.0.1:1/db", "--data", data, "--out", filepath.Join(dir, "pg.db"))
}
