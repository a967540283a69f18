package sqlite_test

import (
	"cmp"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

func countsOf(t testing.TB, s *sqlite.Store, q store.EventCountQuery) []store.EventBucket {
	t.Helper()
	var out []store.EventBucket
	if err := s.View(ctx, func(r store.Reader) error {
		var err error
		out, err = r.EventCounts(q)
		return err
	}); err != nil {
		t.Fatalf("EventCounts(%+v): %v", q, err)
	}
	return out
}

// countByReading is what EventCounts must return, worked out from the
// events Events returns.
func countByReading(t *testing.T, s *sqlite.Store, q store.EventCountQuery) []store.EventBucket {
	t.Helper()
	sums := map[store.EventBucket]int64{}
	for _, e := range allOf(t, s, store.EventQuery{OrgID: q.OrgID, Since: q.Since, Until: q.Until, Limit: 500}) {
		if !slices.Contains(q.EventTypes, e.EventType) {
			continue
		}
		i := e.Published.Sub(q.Since) / q.Width
		sums[store.EventBucket{Start: q.Since.Add(i * q.Width).UTC(), Outcome: e.Outcome}]++
	}
	var out []store.EventBucket
	for k, n := range sums {
		k.Count = n
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b store.EventBucket) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.Outcome, b.Outcome))
	})
	return out
}

// Random batches and prunes, with small pages: the counts always match
// the events, for every width, org and set of types.
func TestEventCountsMatchEvents(t *testing.T) {
	path := tempPath(t)
	s := openAt(t, path)
	defer s.Close()
	sqlite.SetPageBytes(s, 2000)
	sqlite.SetPruneBatch(s, 50)
	rng := rand.New(rand.NewPCG(1, 2))
	h0 := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	types := []string{"user.authentication.auth_via_ldap", "policy.evaluate_sign_on", "user.session.start"}
	outcomes := []string{"SUCCESS", "SUCCESS", "SUCCESS", "FAILURE", "DENY", ""}
	n := 0
	appendSome := func() {
		batch := make([]*store.Event, 1+rng.IntN(200))
		for i := range batch {
			e := ev(v7(n), []string{"a", "b", ""}[rng.IntN(3)], types[rng.IntN(len(types))],
				h0.Add(time.Duration(rng.Int64N(int64(6*time.Hour)))))
			e.Outcome = outcomes[rng.IntN(len(outcomes))]
			batch[i], n = e, n+1
		}
		mustAppend(t, s, batch...)
	}
	check := func(what string) {
		t.Helper()
		for _, q := range []store.EventCountQuery{
			{OrgID: "a", EventTypes: types[:1], Since: h0, Until: h0.Add(6 * time.Hour), Width: time.Hour},
			{OrgID: "a", EventTypes: types[:2], Since: h0.Add(-time.Hour), Until: h0.Add(7 * time.Hour), Width: 30 * time.Minute},
			{OrgID: "b", EventTypes: types, Since: h0.Add(37 * time.Minute), Until: h0.Add(5 * time.Hour), Width: 7 * time.Minute},
			{OrgID: "", EventTypes: types[2:], Since: h0, Until: h0.Add(24 * time.Hour), Width: 24 * time.Hour},
			{OrgID: "a", EventTypes: types[1:], Since: h0.Add(2 * time.Hour), Until: h0.Add(2*time.Hour + 10*time.Minute), Width: time.Minute},
		} {
			got, want := countsOf(t, s, q), countByReading(t, s, q)
			if len(got) == 0 && len(want) == 0 {
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %+v:\n got %v\nwant %v", what, q, got, want)
			}
		}
	}
	for range 10 {
		appendSome()
	}
	check("appended")
	for i, cut := range []time.Duration{time.Hour + 17*time.Second, 2*time.Hour + 30*time.Minute + 500*time.Millisecond, 4 * time.Hour} {
		if _, err := s.PruneEvents(ctx, h0.Add(cut)); err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprintf("pruned at +%v", cut))
		appendSome()
		check(fmt.Sprintf("appended after prune %d", i))
	}
	if _, err := s.PruneEvents(ctx, h0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := count(t, path, `SELECT count(*) FROM event_counts`); n != 0 {
		t.Errorf("%d rows of event_counts left after pruning everything", n)
	}
	if err := s.Check(ctx); err != nil {
		t.Error(err)
	}
}

// Migration 8 counts the events already in the log: a database of
// version 7 (event_counts dropped) gets the counts a new one has.
func TestMigrateEventCountsFromVersion7(t *testing.T) {
	path := tempPath(t)
	s := openAt(t, path)
	sqlite.SetPageBytes(s, 3000)
	h0 := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	var es []*store.Event
	for i := range 2000 {
		e := ev(v7(i), []string{"a", "b", ""}[i%3], []string{"x", "y"}[i%7/6], h0.Add(time.Duration(i*7919%2000)*7*time.Second))
		e.Outcome = []string{"SUCCESS", "FAILURE", "SUCCESS", "DENY", ""}[i%5]
		es = append(es, e)
	}
	for i := 0; i < len(es); i += 500 {
		mustAppend(t, s, es[i:i+500]...)
	}
	qs := []store.EventCountQuery{
		{OrgID: "a", EventTypes: []string{"x"}, Since: h0, Until: h0.Add(4 * time.Hour), Width: time.Hour},
		{OrgID: "b", EventTypes: []string{"x", "y"}, Since: h0, Until: h0.Add(4 * time.Hour), Width: 10 * time.Minute},
		{OrgID: "", EventTypes: []string{"y"}, Since: h0, Until: h0.Add(4 * time.Hour), Width: time.Minute},
	}
	var want [][]store.EventBucket
	for _, q := range qs {
		want = append(want, countsOf(t, s, q))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, path, `SELECT count(*) FROM event_pages`); n < 10 {
		t.Fatalf("%d pages, want many", n)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	// Back to version 7: without the tables and columns of 0008 and later.
	for _, q := range []string{`DROP TABLE posix_counters`, `DROP INDEX users_by_uid_number`, `DROP INDEX groups_by_gid_number`,
		`ALTER TABLE users DROP COLUMN uid_number`, `ALTER TABLE groups DROP COLUMN gid_number`,
		`DROP TABLE group_links`, `DROP TABLE sync_users`, `DROP TABLE sync_groups`, `DROP TABLE integrations`,
		`DROP TABLE event_counts`, `ALTER TABLE orgs DROP COLUMN ldap_settings`, `UPDATE meta SET value = 7 WHERE key = 'schema_version'`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s = openAt(t, path)
	defer s.Close()
	for i, q := range qs {
		if got := countsOf(t, s, q); !reflect.DeepEqual(got, want[i]) || len(got) == 0 {
			t.Errorf("%+v after migrating:\n got %v\nwant %v", q, got, want[i])
		}
	}
	if err := s.Check(ctx); err != nil {
		t.Error(err)
	}
}

// EventCounts reads a range of event_counts' key per type, never the
// whole table; it sorts only the sums.
func TestEventCountsQueryUsesKey(t *testing.T) {
	path := tempPath(t)
	if err := openAt(t, path).Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h0 := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	for _, types := range [][]string{{"user.authentication.auth_via_ldap"}, {"a", "b", "c"}} {
		query, args := sqlite.EventCountsQuery(store.EventCountQuery{OrgID: "o", EventTypes: types,
			Since: h0, Until: h0.Add(24 * time.Hour), Width: time.Hour})
		steps := plan(t, db, query, args...)
		if len(steps) == 0 || !strings.Contains(strings.Join(steps, "\n"), "SEARCH event_counts USING PRIMARY KEY (org_id=? AND event_type=? AND minute>? AND minute<?)") {
			t.Errorf("%d types: plan %q does not search the key's range", len(types), steps)
		}
		for _, line := range steps {
			if strings.HasPrefix(line, "SCAN event_counts") {
				t.Errorf("%d types: plan step %q reads the whole table", len(types), line)
			}
		}
	}
}

// BenchmarkEventCounts measures the dashboard's chart: a day of sign-ins
// of one org counted in 24 hourly buckets by outcome, in a log of
// 200,000 bind events of that day (one every 0.43 s, written in batches
// of 1000 as the directory does), against counting the same by reading
// the events (Events, a page of 1000 at a time). ns/op is per count of
// the day.
func BenchmarkEventCounts(b *testing.B) {
	const total, perBatch = 200_000, 1000
	s := openAt(b, tempPath(b))
	defer s.Close()
	until := time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
	since := until.Add(-24 * time.Hour)
	evs := benchEvents(total, 7)
	for i, e := range evs {
		e.OrgID = evs[0].OrgID
		e.Published = since.Add(time.Duration(i) * (24 * time.Hour / total))
		switch {
		case i%50 == 7:
			e.Outcome = "DENY"
		case i%10 == 3:
			e.Outcome = "FAILURE"
		default:
			e.Outcome = "SUCCESS"
		}
	}
	for start := 0; start < total; start += perBatch {
		if err := s.AppendEvents(ctx, evs[start:start+perBatch]); err != nil {
			b.Fatal(err)
		}
	}
	org, typ := evs[0].OrgID, evs[0].EventType
	q := store.EventCountQuery{OrgID: org, EventTypes: []string{typ}, Since: since, Until: until, Width: time.Hour}
	b.Run("counts", func(b *testing.B) {
		b.ReportAllocs()
		var sum int64
		for b.Loop() {
			sum = 0
			for _, bk := range countsOf(b, s, q) {
				sum += bk.Count
			}
		}
		if sum != total {
			b.Fatalf("counted %d events, want %d", sum, total)
		}
	})
	b.Run("reading events", func(b *testing.B) {
		b.ReportAllocs()
		var sum int64
		for b.Loop() {
			sum = 0
			eq := store.EventQuery{OrgID: org, EventType: typ, Since: since, Until: until, Limit: 1000}
			for {
				page, err := s.Events(ctx, eq)
				if err != nil {
					b.Fatal(err)
				}
				sum += int64(len(page))
				if len(page) < eq.Limit {
					break
				}
				eq.AfterSeq = page[len(page)-1].Seq
			}
		}
		if sum != total {
			b.Fatalf("read %d events, want %d", sum, total)
		}
	})
}
