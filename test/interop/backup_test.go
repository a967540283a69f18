package interop

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/pgtest"
)

// TestBackupRestorePostgres: a backup of a SQLite installation restored
// into an empty PostgreSQL database, with the same counts and checksum,
// serves the same entries to ldapsearch; the backup file is not changed.
func TestBackupRestorePostgres(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	file := filepath.Join(t.TempDir(), "dirgate.db")
	b := mustDirgate(t, "", "backup", "--data", data, "--out", file)
	sum := func(out string) string {
		i := strings.LastIndex(out, "checksum ")
		if i < 0 {
			t.Fatalf("no checksum in:\n%s", out)
		}
		return strings.TrimSpace(out[i+len("checksum "):])
	}
	before := fileSHA(t, file)

	pg := pgtest.Start(t, pgtest.Options{})
	pg.SuperSQL(t, "CREATE DATABASE restored")
	url := "postgres://postgres@/restored?host=" + pg.Sock + "&port=" + strings.TrimSpace(pg.SuperSQL(t, "SHOW port")) + "&sslmode=disable"
	r := mustDirgate(t, "", "restore", "--from", file, "--store", url)
	if sum(r) != sum(b) {
		t.Fatalf("restored checksum %s, backup %s", sum(r), sum(b))
	}
	if fileSHA(t, file) != before {
		t.Error("restore changed the backup file")
	}
	if r := dirgate(t, "", "restore", "--from", file, "--store", url); r.code == 0 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("a second restore into the same database: exit %d %s", r.code, r.stderr)
	}

	key := filepath.Join(data, "secret.key")
	s := startDirgate(t, t.TempDir(), "--store", url, "--secret-key-file", key)
	out := s.ldapsearch(t, asBind(s.ldapsURL, "-b", exBase, "(memberOf=cn=eng,ou=groups,"+exBase+")", "uid")...)
	if got := attrs(out.stdout, "uid"); len(got) != 1 || got[0] != "alice" {
		t.Fatalf("members of eng from the restored store: %v\n%s%s", got, out.stdout, out.stderr)
	}
}

func fileSHA(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}
