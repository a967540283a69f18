package postgres_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// Readers follow the change feed and the system log by number, as the
// nodes do. These tests write from several goroutines at once, each
// transaction pausing between its writes so that transactions overlap,
// while a follower reads on from the last number it saw: it must see
// every change exactly once and in order (a number handed out before
// commit but committed after a higher one would be skipped).

func testChangesFollow(t *testing.T, dbs *databases) {
	s := dbs.openStore(t)
	org := testOrg(1, "acme")
	update(t, s, func(tx store.Tx) error { return tx.CreateOrg(org) })
	base := seq(t, s)

	const writers, perWriter = 6, 15
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				n := 100 + w*perWriter + i
				err := s.Update(ctx, func(tx store.Tx) error {
					u := testUser(n, org.ID, fmt.Sprint("user", n))
					if err := tx.CreateUser(u); err != nil {
						return err
					}
					time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
					u.Profile.Title = "updated"
					return tx.UpdateUser(u)
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	var seen []store.Change
	last := base
	err := follow(&wg, func() (int, error) {
		cs, err := s.ChangesSince(ctx, last, 7)
		for _, c := range cs {
			if c.Seq != last+1 {
				return 0, fmt.Errorf("after seq %d the feed gave %d", last, c.Seq)
			}
			last = c.Seq
			seen = append(seen, c)
		}
		return len(cs), err
	})
	wg.Wait() // before failing, also when follow failed
	if err != nil {
		t.Fatal(err)
	}
	const total = writers * perWriter * 2
	if len(seen) != total {
		t.Fatalf("follower saw %d changes, want %d", len(seen), total)
	}
	if got := seq(t, s); got != base+total {
		t.Errorf("Seq = %d, want %d", got, base+total)
	}
	// Each transaction's two changes are adjacent: transactions do not
	// interleave.
	for i := 0; i < len(seen); i += 2 {
		if seen[i].ID != seen[i+1].ID {
			t.Errorf("changes %d and %d are of %s and %s, want one transaction's", seen[i].Seq, seen[i+1].Seq, seen[i].ID, seen[i+1].ID)
		}
	}
}

func testEventsFollow(t *testing.T, dbs *databases) {
	s := dbs.openStore(t)
	const appenders, batches, perBatch = 4, 15, 10
	var wg sync.WaitGroup
	for a := range appenders {
		wg.Go(func() {
			for b := range batches {
				batch := make([]*store.Event, perBatch)
				for i := range batch {
					batch[i] = &store.Event{UUID: fmt.Sprintf("%d-%d-%d", a, b, i), OrgID: "o", EventType: "t",
						Published: t0.Add(time.Duration(i) * time.Millisecond)}
				}
				if err := s.AppendEvents(ctx, batch); err != nil {
					t.Errorf("AppendEvents: %v", err)
					return
				}
			}
		})
	}
	seen := map[string]bool{}
	var last int64
	err := follow(&wg, func() (int, error) {
		es, err := s.Events(ctx, store.EventQuery{OrgID: "o", AfterSeq: last, Limit: 13})
		for _, e := range es {
			if seen[e.UUID] {
				return 0, fmt.Errorf("event %s twice", e.UUID)
			}
			seen[e.UUID] = true
			last = e.Seq
		}
		return len(es), err
	})
	wg.Wait() // before failing, also when follow failed
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != appenders*batches*perBatch {
		t.Errorf("follower saw %d events, want %d", len(seen), appenders*batches*perBatch)
	}
}

// follow calls step, which reads on from where it got and reports how
// many it read, until the writers are done and it reads nothing more.
func follow(writers *sync.WaitGroup, step func() (int, error)) error {
	var done atomic.Bool
	go func() { writers.Wait(); done.Store(true) }()
	for {
		finished := done.Load() // before reading: then reading nothing is the end
		n, err := step()
		switch {
		case err != nil:
			return err
		case n > 0:
		case finished:
			return nil
		default:
			time.Sleep(time.Millisecond)
		}
	}
}
