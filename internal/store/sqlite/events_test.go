package sqlite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// Event types of the read benchmark's log: most binds succeed.
var benchTypes = []string{
	"user.authentication.auth_via_ldap", "user.authentication.auth_via_ldap", "user.authentication.auth_via_ldap",
	"policy.evaluate_sign_on", "user.session.start", "user.account.lock",
}

// BenchmarkEvents measures reads of a log of 100,000 events of 4 orgs,
// written in batches of 1000 as the directory does: the newest 1000
// events of an org (after a Seq, or since a time), all of them or of one
// type. ns/op is per Events call.
func BenchmarkEvents(b *testing.B) {
	const total, perBatch = 100_000, 1000
	s := openAt(b, tempPath(b))
	defer s.Close()
	evs := benchEvents(total, 7)
	for i, e := range evs {
		e.EventType = benchTypes[(i/4)%len(benchTypes)]
	}
	for start := 0; start < total; start += perBatch {
		if err := s.AppendEvents(ctx, evs[start:start+perBatch]); err != nil {
			b.Fatal(err)
		}
	}
	org := evs[0].OrgID
	// The org's events are every 4th; of the type, half of those.
	afterAll := evs[total-4*1000].Seq - 1
	afterType := evs[total-8*1000].Seq - 1
	since := evs[total-4*1000].Published
	for _, bc := range []struct {
		name string
		q    store.EventQuery
	}{
		{"after", store.EventQuery{OrgID: org, AfterSeq: afterAll, Limit: 1000}},
		{"after/type", store.EventQuery{OrgID: org, AfterSeq: afterType, EventType: benchTypes[0], Limit: 1000}},
		{"since", store.EventQuery{OrgID: org, Since: since, Limit: 1000}},
		{"since/rare type", store.EventQuery{OrgID: org, Since: since.Add(-time.Hour), EventType: "user.account.lock", Limit: 1000}},
		{"oldest", store.EventQuery{OrgID: org, Limit: 1000}},
		{"follow", store.EventQuery{OrgID: org, AfterSeq: evs[total-5].Seq - 1, Limit: 1000}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var n int
			b.ReportAllocs()
			for b.Loop() {
				es, err := s.Events(ctx, bc.q)
				if err != nil {
					b.Fatal(err)
				}
				n = len(es)
			}
			if n == 0 {
				b.Fatal("no events")
			}
			b.ReportMetric(float64(n), "events/op")
		})
	}
}

// v7 is a UUID in canonical form that sorts by n, as version 7 ones do
// by time.
func v7(n int) string { return fmt.Sprintf("019ad5a1-%04x-7000-8000-%012x", n>>16, n&0xffff) }

func ev(id string, org, typ string, at time.Time) *store.Event {
	return &store.Event{UUID: id, Published: at, OrgID: org, EventType: typ, Outcome: "SUCCESS",
		ActorID: "00u1", TargetID: "00u2", Doc: []byte(`{"uuid":"` + id + `","eventType":"` + typ + `"}`)}
}

func mustAppend(t *testing.T, s *sqlite.Store, es ...*store.Event) {
	t.Helper()
	if err := s.AppendEvents(ctx, es); err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
}

// allOf pages through the events q selects, limit at a time.
func allOf(t *testing.T, s *sqlite.Store, q store.EventQuery) []*store.Event {
	t.Helper()
	var out []*store.Event
	for {
		page, err := s.Events(ctx, q)
		if err != nil {
			t.Fatalf("Events(%+v): %v", q, err)
		}
		out = append(out, page...)
		if len(page) < q.Limit {
			return out
		}
		q.AfterSeq = page[len(page)-1].Seq
	}
}

func idsOf(es []*store.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.UUID)
	}
	return out
}

func count(t *testing.T, path, query string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// Events written at schema version 3 (a row each) are all readable after
// migrating to pages, with their Seqs, UUIDs still taken, and Seq going on
// above every number version 3 handed out, pruned ones too.
func TestMigrateEventsFromVersion3(t *testing.T) {
	path := tempPath(t)
	if err := sqlite.CreateAtVersion(path, 3); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 3, 4, 5, 6, 7, 123_000_000, time.UTC)
	var want []*store.Event
	for i := range 3000 {
		e := &store.Event{Seq: int64(2*i + 1), UUID: v7(i), Published: t0.Add(time.Duration(i%100) * time.Second),
			OrgID: []string{"00o1", "00o2", ""}[i%3], EventType: []string{"user.authentication.auth_via_ldap", "user.session.start"}[i%7/6],
			Outcome: "SUCCESS", ActorID: fmt.Sprintf("00u%d", i%10), TargetID: fmt.Sprintf("00u%d", i%10),
			Doc: fmt.Appendf(nil, `{"uuid":%q,"n":%d,"pad":%q}`, v7(i), i, strings.Repeat("x", 200))}
		switch i {
		case 5:
			e.UUID = "not-a-uuid" // TEXT key
		case 6:
			e.Doc, e.Outcome, e.ActorID, e.TargetID = nil, "", "", ""
		}
		want = append(want, e)
		var doc any
		if e.Doc != nil {
			doc = e.Doc
		}
		if _, err := db.Exec(`INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.Seq, e.UUID, e.Published.UnixNano(),
			e.OrgID, e.EventType, e.Outcome, e.ActorID, e.TargetID, doc); err != nil {
			t.Fatal(err)
		}
	}
	// The newest events were pruned: their numbers stay used.
	if _, err := db.Exec(`INSERT INTO events VALUES (9000, 'gone', 0, '', '', '', '', '', NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM events WHERE seq = 9000`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := openAt(t, path)
	defer s.Close()
	if n := count(t, path, `SELECT count(*) FROM sqlite_schema WHERE name LIKE 'events%'`); n != 0 {
		t.Errorf("%d tables or indexes of events left", n)
	}
	if n := count(t, path, `SELECT count(*) FROM event_pages WHERE org_id = '00o1'`); n < 2 {
		t.Errorf("org 00o1's 1000 events are in %d pages, want several", n)
	}
	for _, org := range []string{"00o1", "00o2", ""} {
		var w []*store.Event
		for _, e := range want {
			if e.OrgID == org {
				w = append(w, e)
			}
		}
		got := allOf(t, s, store.EventQuery{OrgID: org, Limit: 333})
		if len(got) != len(w) {
			t.Fatalf("org %q: %d events after migrating, want %d", org, len(got), len(w))
		}
		for i := range got {
			if !reflect.DeepEqual(*got[i], *w[i]) {
				t.Fatalf("org %q event %d:\n got %+v\nwant %+v", org, i, *got[i], *w[i])
			}
		}
		typ := allOf(t, s, store.EventQuery{OrgID: org, EventType: "user.session.start", Limit: 100})
		since := allOf(t, s, store.EventQuery{OrgID: org, Since: t0.Add(95 * time.Second), Limit: 100})
		if len(typ) != len(w)/7 && len(typ) != len(w)/7+1 || len(since) != len(w)/20 {
			t.Errorf("org %q: %d events of the type, %d since; want about %d, %d", org, len(typ), len(since), len(w)/7, len(w)/20)
		}
	}
	for _, taken := range []string{v7(1), v7(2999), "not-a-uuid"} {
		err := s.AppendEvents(ctx, []*store.Event{ev(taken, "00o1", "x", t0)})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("append of migrated UUID %s: %v, want ErrConflict", taken, err)
		}
	}
	next := ev(v7(5000), "00o1", "x", t0)
	mustAppend(t, s, next)
	if next.Seq <= 9000 {
		t.Errorf("Seq after migrating = %d, want > 9000", next.Seq)
	}
	if err := s.Check(ctx); err != nil {
		t.Error(err)
	}
	// Migrated events prune like new ones, and free their UUIDs.
	if n, err := s.PruneEvents(ctx, t0.Add(time.Hour)); err != nil || n != int64(len(want)+1) {
		t.Errorf("PruneEvents = %d, %v; want %d", n, err, len(want)+1)
	}
	mustAppend(t, s, ev(v7(1), "00o1", "x", t0), ev("not-a-uuid", "00o1", "x", t0))
}

// UUIDs above all stored ones go into a run per batch; others (late ones,
// strings not in canonical form) into event_uuids; a taken one fails the
// batch wherever it is kept, and pruning frees them.
func TestEventUUIDs(t *testing.T) {
	path := tempPath(t)
	s := openAt(t, path)
	defer s.Close()
	t0 := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	batch := func(ids ...string) []*store.Event {
		var out []*store.Event
		for _, id := range ids {
			out = append(out, ev(id, "o", "t", t0))
		}
		return out
	}
	keys := func(what string, runs, loose int) {
		t.Helper()
		if n := count(t, path, `SELECT count(*) FROM event_uuid_runs`); n != runs {
			t.Errorf("%s: %d runs, want %d", what, n, runs)
		}
		if n := count(t, path, `SELECT count(*) FROM event_uuids`); n != loose {
			t.Errorf("%s: %d keys in event_uuids, want %d", what, n, loose)
		}
	}
	// Batches in any order within: the keys are sorted.
	mustAppend(t, s, batch(v7(30), v7(10), v7(20))...)
	mustAppend(t, s, batch(v7(40), v7(50))...)
	keys("ascending batches", 2, 0)
	mustAppend(t, s, batch(v7(15), v7(60))...) // 15 is late, between the first run's keys
	keys("a late key", 3, 1)

	stored := len(allOf(t, s, store.EventQuery{OrgID: "o", Limit: 100}))
	for _, tc := range []struct {
		name, taken string
		batch       []*store.Event
	}{
		{"taken, in a run", v7(20), batch(v7(70), v7(20))},
		{"taken, in the last run", v7(60), batch(v7(60), v7(80))},
		{"taken, in event_uuids", v7(15), batch(v7(16), v7(15))},
		{"taken, a string", "uuid-x", nil},
	} {
		if tc.batch == nil {
			mustAppend(t, s, batch("uuid-x")...)
			stored++
			tc.batch = batch(v7(90), "uuid-x")
		}
		err := s.AppendEvents(ctx, tc.batch)
		if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), tc.taken) {
			t.Errorf("%s: err = %v, want ErrConflict naming %s", tc.name, err, tc.taken)
		}
	}
	if n := len(allOf(t, s, store.EventQuery{OrgID: "o", Limit: 100})); n != stored {
		t.Errorf("%d events after failed batches, want %d", n, stored)
	}
	// Distinct strings never clash, whatever their bytes.
	mustAppend(t, s, batch(strings.ToUpper(v7(20)), v7(20)+" ", "\x00\xff")...)
	keys("strings", 3, 5)

	// Pruning everything frees every UUID; the last run stays, empty, so
	// that H does not go down.
	if n, err := s.PruneEvents(ctx, t0.Add(time.Second)); err != nil || n != int64(stored+3) {
		t.Fatalf("PruneEvents = %d, %v; want %d", n, err, stored+3)
	}
	keys("after pruning everything", 1, 0)
	mustAppend(t, s, batch(v7(20), v7(15), v7(60), "uuid-x")...) // all late now
	keys("again", 1, 4)
	if err := s.AppendEvents(ctx, batch(v7(60))); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a UUID taken again: %v", err)
	}

	// A late key outlives the runs above it: H must not go down with
	// them, or the key would pass as above all.
	late := ev(v7(1000), "o", "t", t0.Add(time.Hour))
	mustAppend(t, s, ev(v7(2000), "o", "t", t0))
	mustAppend(t, s, late, ev(v7(3000), "o", "t", t0)) // 1000 is late: below 2000
	if n, err := s.PruneEvents(ctx, t0.Add(time.Second)); err != nil || n != 6 {
		t.Fatalf("PruneEvents = %d, %v; want 6", n, err)
	}
	if err := s.AppendEvents(ctx, batch(v7(1000))); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a late UUID after its runs were pruned: %v, want ErrConflict", err)
	}
	if err := s.Check(ctx); err != nil {
		t.Error(err)
	}
}

// A page that straddles the cut keeps its newer events, under its id;
// event types it no longer holds leave event_page_types.
func TestPruneStraddlingPage(t *testing.T) {
	path := tempPath(t)
	s := openAt(t, path)
	defer s.Close()
	t0 := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	var es []*store.Event
	for i := range 10 {
		typ, at := "new", t0.Add(time.Hour+time.Duration(i)*time.Second)
		if i%3 == 0 {
			typ, at = "old", t0.Add(time.Duration(i)*time.Second)
		}
		es = append(es, ev(v7(i), "o", typ, at))
	}
	mustAppend(t, s, es...)
	mustAppend(t, s, ev(v7(100), "o", "old", t0.Add(2*time.Hour))) // another page holds "old" still
	if n := count(t, path, `SELECT count(*) FROM event_pages`); n != 2 {
		t.Fatalf("%d pages, want 2", n)
	}
	if n, err := s.PruneEvents(ctx, t0.Add(time.Minute)); err != nil || n != 4 {
		t.Fatalf("PruneEvents = %d, %v; want 4", n, err)
	}
	var want []string
	for i := range 10 {
		if i%3 != 0 {
			want = append(want, v7(i))
		}
	}
	if got := idsOf(allOf(t, s, store.EventQuery{OrgID: "o", EventType: "new", Limit: 4})); !reflect.DeepEqual(got, want) {
		t.Errorf("events of type new after pruning = %q, want %q", got, want)
	}
	if got := idsOf(allOf(t, s, store.EventQuery{OrgID: "o", EventType: "old", Limit: 4})); !reflect.DeepEqual(got, []string{v7(100)}) {
		t.Errorf("events of type old after pruning = %q", got)
	}
	if n := count(t, path, `SELECT count(*) FROM event_page_types WHERE event_type = 'old'`); n != 1 {
		t.Errorf("%d pages listed for type old, want 1", n)
	}
	if n := count(t, path, `SELECT count(*) FROM event_pages WHERE n = 6 AND min_published >= `+fmt.Sprint(t0.Add(time.Hour).UnixNano())); n != 1 {
		t.Errorf("the straddling page was not rewritten to its 6 newer events")
	}
	// Following the log still works from a pruned event's Seq.
	if got := allOf(t, s, store.EventQuery{OrgID: "o", AfterSeq: es[3].Seq, Limit: 100}); len(got) != 5 || got[0].UUID != v7(4) {
		t.Errorf("events after a pruned one = %q", idsOf(got))
	}
	if n, err := s.PruneEvents(ctx, t0.Add(time.Minute)); err != nil || n != 0 {
		t.Errorf("PruneEvents again = %d, %v", n, err)
	}
	if n, err := s.PruneEvents(ctx, t0.Add(3*time.Hour)); err != nil || n != 7 {
		t.Errorf("PruneEvents of the rest = %d, %v", n, err)
	}
	for _, table := range []string{"event_pages", "event_page_types"} {
		if n := count(t, path, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%d rows left in %s", n, table)
		}
	}
	if err := s.Check(ctx); err != nil {
		t.Error(err)
	}
}

// With small pages, a batch spans many; queries that start or end inside
// a page and page through them miss nothing and repeat nothing.
func TestEventsAcrossPages(t *testing.T) {
	path := tempPath(t)
	s := openAt(t, path)
	defer s.Close()
	sqlite.SetPageBytes(s, 1000)
	t0 := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	var es []*store.Event
	for i := range 300 {
		es = append(es, ev(v7(i), []string{"a", "b"}[i%5/4], []string{"x", "y", "z"}[i%3], t0.Add(time.Duration(i*37%300)*time.Second)))
	}
	mustAppend(t, s, es[:120]...)
	mustAppend(t, s, es[120:]...)
	if n := count(t, path, `SELECT count(*) FROM event_pages`); n < 20 {
		t.Fatalf("%d pages, want many", n)
	}
	for _, q := range []store.EventQuery{
		{OrgID: "a"}, {OrgID: "b"}, {OrgID: "a", EventType: "y"}, {OrgID: "a", AfterSeq: es[101].Seq},
		{OrgID: "a", Since: t0.Add(100 * time.Second)}, {OrgID: "a", Until: t0.Add(100 * time.Second)},
		{OrgID: "a", Since: t0.Add(50 * time.Second), Until: t0.Add(200 * time.Second), EventType: "z"},
		{OrgID: "b", Since: t0.Add(250 * time.Second), EventType: "x", AfterSeq: es[33].Seq},
	} {
		var want []string
		for _, e := range es {
			if e.OrgID == q.OrgID && (q.EventType == "" || e.EventType == q.EventType) && e.Seq > q.AfterSeq &&
				(q.Since.IsZero() || !e.Published.Before(q.Since)) && (q.Until.IsZero() || e.Published.Before(q.Until)) {
				want = append(want, e.UUID)
			}
		}
		for _, limit := range []int{1, 7, 1000} {
			q.Limit = limit
			if got := idsOf(allOf(t, s, q)); !reflect.DeepEqual(got, want) {
				t.Errorf("%+v: %d events, want %d:\n got %q\nwant %q", q, len(got), len(want), got, want)
			}
		}
	}
}

// A corrupt page is an error of Events and PruneEvents, not a panic.
func TestCorruptEventPage(t *testing.T) {
	path := tempPath(t)
	s := openAt(t, path)
	defer s.Close()
	t0 := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	mustAppend(t, s, ev(v7(1), "o", "x", t0), ev(v7(2), "o", "x", t0))
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE event_pages SET events = substr(events, 1, length(events) - 3)`); err != nil {
		t.Fatal(err)
	}
	if es, err := s.Events(ctx, store.EventQuery{OrgID: "o", Limit: 1}); err == nil {
		t.Errorf("Events of a corrupt page = %d events, no error", len(es))
	}
	if _, err := s.PruneEvents(ctx, t0.Add(time.Hour)); err == nil {
		t.Error("PruneEvents of a corrupt page succeeded")
	}
}

// BenchmarkPruneEvents measures pruning a log written as the directory
// writes it (batches of 1000): ns/op is per event pruned, of pages
// pruned whole, or of pages that straddle the cut (every other event
// stays).
func BenchmarkPruneEvents(b *testing.B) {
	for _, keep := range []int{0, 2} {
		name := map[int]string{0: "whole", 2: "straddling"}[keep]
		b.Run(name, func(b *testing.B) {
			s := openAt(b, tempPath(b))
			defer s.Close()
			now := time.Now()
			total := b.N
			if keep > 0 {
				total = keep * b.N
			}
			for done := 0; done < total; done += 1000 {
				batch := make([]*store.Event, min(1000, total-done))
				for i := range batch {
					batch[i] = benchEvent(done+i, now, 7)
					if keep > 0 && i%keep == 1 {
						batch[i].Published = batch[i].Published.Add(time.Hour) // stays
					}
				}
				if err := s.AppendEvents(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			got, err := s.PruneEvents(ctx, now.Add(time.Duration(total)*time.Microsecond))
			if err != nil || got != int64(b.N) {
				b.Fatalf("PruneEvents = %d, %v; want %d", got, err, b.N)
			}
		})
	}
}
