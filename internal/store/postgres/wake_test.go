package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/postgres"
)

// testWake: a node's Wake fires for another node's commit, and again
// after its listening connection was killed and came back (a missed
// notification is made up by the signal on reconnecting).
func testWake(t *testing.T, dbs *databases) {
	url := dbs.url(t)
	a := dbs.openURL(t, url)
	b := dbs.openURL(t, url)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wake := b.Wake(wctx)
	waitWake := func(what string) {
		t.Helper()
		select {
		case <-wake:
		case <-time.After(30 * time.Second): // bounds a hang; not a measure
			t.Fatalf("no wake for %s", what)
		}
	}
	waitWake("listening") // the signal on (re)connecting
	update(t, a, func(tx store.Tx) error { return tx.CreateOrg(testOrg(1, "acme")) })
	waitWake("the other store's commit")

	name := url[strings.Index(url, "dbname=")+len("dbname="):]
	name = strings.Fields(name)[0]
	var killed int
	if err := dbs.admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN %'`, name).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("killing the listening connection: %d, %v", killed, err)
	}
	waitWake("listening again")
	update(t, a, func(tx store.Tx) error { return tx.CreateOrg(testOrg(2, "beta")) })
	waitWake("a commit after the reconnect")
}

// openURL opens another store on url, closed when the test ends.
func (d *databases) openURL(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
