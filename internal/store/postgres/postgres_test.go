package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/dirgate/dirgate/internal/pgtest"
	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/postgres"
	"github.com/dirgate/dirgate/internal/store/storetest"

	"github.com/jackc/pgx/v5/pgxpool"
)

var ctx = context.Background()

// TestPostgres runs everything against one private cluster (starting one
// takes a few seconds): the conformance suite, then this backend's own
// tests. Each store gets a database of its own.
func TestPostgres(t *testing.T) {
	pg := pgtest.Start(t, pgtest.Options{})
	dbs := newDatabases(t, pg)
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return dbs.store(t) })
	})
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, dbs *databases)
	}{
		{"MigrateConcurrently", testMigrateConcurrently},
		{"NewerSchema", testNewerSchema},
		{"FailedWritesKeepTheTransaction", testFailedWritesKeepTheTransaction},
		{"FailedStatementAbortsUpdate", testFailedStatementAbortsUpdate},
		{"POSIXNumbersConcurrently", testPOSIXNumbersConcurrently},
		{"PrefixFold", testPrefixFold},
		{"PruneInBatches", testPruneInBatches},
		{"ChangesFollow", testChangesFollow},
		{"EventsFollow", testEventsFollow},
		{"Wake", testWake},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, dbs)
		})
	}
}

// databases hands out fresh databases of one cluster.
type databases struct {
	pg    *pgtest.Cluster
	admin *pgxpool.Pool // to database postgres, as the superuser
	n     atomic.Int64
	// create is the CREATE DATABASE options: the ICU locale en-US when
	// the server has ICU, so that a column compared without COLLATE "C"
	// would order "Zed" after "ann" and fail the suite's ordering tests.
	create string
}

func newDatabases(t *testing.T, pg *pgtest.Cluster) *databases {
	admin, err := pgxpool.New(ctx, pg.SuperURL(""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	d := &databases{pg: pg, admin: admin, create: "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"}
	if _, err := admin.Exec(ctx, `CREATE DATABASE probe_icu `+d.create); err != nil {
		t.Logf("no ICU (%v): test databases use the cluster's locale", err)
		d.create = "TEMPLATE template0"
	} else if _, err := admin.Exec(ctx, `DROP DATABASE probe_icu`); err != nil {
		t.Fatal(err)
	}
	return d
}

// url creates an empty database, dropped when the test ends, and returns
// its connection string.
func (d *databases) url(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("s_%d", d.n.Add(1))
	if _, err := d.admin.Exec(ctx, `CREATE DATABASE `+name+` `+d.create); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := d.admin.Exec(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return d.pg.SuperURL(name)
}

// store opens a store on a new database; the caller closes it.
func (d *databases) store(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(ctx, d.url(t), postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// openStore is store, closed when the test ends.
func (d *databases) openStore(t *testing.T) *postgres.Store {
	t.Helper()
	s := d.store(t)
	t.Cleanup(func() { s.Close() })
	return s
}
