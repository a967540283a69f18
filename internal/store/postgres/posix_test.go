package postgres_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/postgres"
)

// testPOSIXNumbersConcurrently: nodes sharing one database allocate POSIX
// numbers at once, each in Updates of its own; no number is handed out
// twice, none is skipped, and the counter ends past the last.
func testPOSIXNumbersConcurrently(t *testing.T, dbs *databases) {
	url := dbs.url(t)
	const nodes, each = 4, 25
	stores := make([]*postgres.Store, nodes)
	for i := range stores {
		s, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	org := testOrg(1, "acme")
	update(t, stores[0], func(tx store.Tx) error { return tx.CreateOrg(org) })
	got := make([][]int64, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Go(func() {
			for range each {
				errs[i] = s.Update(ctx, func(tx store.Tx) error {
					n, err := tx.NextPOSIXNumber(org.ID, store.POSIXUID, 10000, 60000)
					got[i] = append(got[i], n)
					return err
				})
				if errs[i] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	var all []int64
	for i := range stores {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		all = append(all, got[i]...)
	}
	slices.Sort(all)
	for i, n := range all {
		if n != 10000+int64(i) {
			t.Fatalf("numbers handed out: %v, want 10000..%d once each", all, 10000+nodes*each-1)
		}
	}
	if err := stores[1].View(ctx, func(r store.Reader) error {
		n, err := r.POSIXCounter(org.ID, store.POSIXUID)
		if err == nil && n != 10000+nodes*each {
			t.Errorf("POSIXCounter = %d, want %d", n, 10000+nodes*each)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
