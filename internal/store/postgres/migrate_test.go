package postgres_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/postgres"

	"github.com/jackc/pgx/v5"
)

// versions returns the schema versions recorded in the database at url.
func versions(t *testing.T, url string) []int {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT version FROM schema_version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// testMigrateConcurrently: nodes starting at once against a new database
// all open it; one migrates (every version is recorded once, and a
// second run of a migration would have failed on its CREATE TABLEs).
func testMigrateConcurrently(t *testing.T, dbs *databases) {
	url := dbs.url(t)
	const nodes = 4
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, nodes)
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(ctx, url, postgres.Options{MaxConns: 2}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
			continue
		}
		defer stores[i].Close()
	}
	var want []int
	for v := 1; v <= postgres.LatestVersion(); v++ {
		want = append(want, v)
	}
	if got := versions(t, url); !slices.Equal(got, want) {
		t.Errorf("schema versions = %v, want %v", got, want)
	}
	// Every node works on the one schema.
	for i, s := range stores {
		if s == nil {
			continue
		}
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateOrg(testOrg(i+1, "org"+string(rune('a'+i)))) }); err != nil {
			t.Errorf("node %d: Update: %v", i, err)
		}
	}
	if s := stores[0]; s != nil {
		if n, err := s.Seq(ctx); err != nil || n != nodes {
			t.Errorf("Seq = %d, %v; want %d", n, err, nodes)
		}
	}
}

// testNewerSchema: a database a newer dirgate migrated is refused, and
// left as it was.
func testNewerSchema(t *testing.T, dbs *databases) {
	url := dbs.url(t)
	s, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	newer := postgres.LatestVersion() + 1
	if _, err := conn.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, newer); err != nil {
		t.Fatal(err)
	}
	if s, err := postgres.Open(ctx, url, postgres.Options{}); !errors.Is(err, store.ErrNewerSchema) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a newer schema: %v, want ErrNewerSchema", err)
	}
	if got := versions(t, url); len(got) == 0 || got[len(got)-1] != newer {
		t.Errorf("schema versions after the refusal = %v", got)
	}
}
