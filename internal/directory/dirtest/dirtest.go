// Package dirtest gives tests a real directory: SQLite in the test's
// temporary directory, argon2id at its cheapest (a test's binds should
// not cost 64 MiB each), a fixed key sealing TOTP secrets, and login
// bookkeeping flushed only on Close. It is imported only by tests.
package dirtest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/sealed"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// Cheap is the argon2id cost of the directory's new password hashes.
var Cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

// New opens a directory for t, closed when t ends, with orgs created in
// it.
func New(t testing.TB, orgs ...directory.OrgInput) *directory.Directory {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "dirgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key, err := sealed.KeyFromString(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := sealed.NewKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	d, err := directory.New(directory.Config{Store: st, Password: Cheap, LoginFlushInterval: time.Hour, Secrets: keys})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(); st.Close() })
	for _, o := range orgs {
		if _, err := d.CreateOrg(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	return d
}
