package storetest

// The system log's counts: EventCounts.

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

func eventCounts(t *testing.T, s store.Store, q store.EventCountQuery) []store.EventBucket {
	t.Helper()
	var out []store.EventBucket
	view(t, s, func(r store.Reader) error {
		var err error
		out, err = r.EventCounts(q)
		return err
	})
	return out
}

// bucket is an EventBucket with its start as hours and minutes after h0.
type bucket struct {
	At      time.Duration
	Outcome string
	Count   int64
}

func (b bucket) String() string { return fmt.Sprintf("{+%v %q %d}", b.At, b.Outcome, b.Count) }

func wantBuckets(t *testing.T, what string, got []store.EventBucket, h0 time.Time, want ...bucket) {
	t.Helper()
	var g []bucket
	for _, b := range got {
		g = append(g, bucket{b.Start.Sub(h0), b.Outcome, b.Count})
		if b.Start.Location() != time.UTC {
			t.Errorf("%s: bucket start %v is not in UTC", what, b.Start)
		}
	}
	if len(g) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, g, want)
	}
}

func testEventCounts(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.CreateOrg(newOrg(1, "acme")) })
	a, b := orgID(1), orgID(2)
	h0 := t0.Truncate(time.Hour)
	at := func(d time.Duration) time.Time { return h0.Add(d) }
	n := 0
	ev := func(org, typ, outcome string, d time.Duration) *store.Event {
		n++
		e := newEvent(fmt.Sprint("count-", n), org, typ, at(d))
		e.Outcome = outcome
		if n%3 == 0 {
			e.Published = e.Published.In(cet)
		}
		return e
	}
	const m, h = time.Minute, time.Hour
	// Two batches, published out of order, the same minutes in both.
	appendEvents(t, s,
		ev(a, evAuth, "SUCCESS", m),
		ev(a, evAuth, "FAILURE", 30*m),
		ev(a, evAuth, "SUCCESS", h-time.Millisecond), // the first hour's last instant
		ev(a, evAuth, "SUCCESS", h),
		ev(a, evStart, "SUCCESS", 10*m),
		ev(a, evAuth, "SUCCESS", -time.Millisecond), // before the range
		ev(b, evAuth, "SUCCESS", 5*m),
		ev("", evAuth, "SUCCESS", 0),
	)
	appendEvents(t, s,
		ev(a, evAuth, "DENY", 2*h+5*m),
		ev(a, evAuth, "FAILURE", 2*h+5*m+30*time.Second),
		ev(a, evAuth, "", 2*h+5*m+40*time.Second), // no outcome counts too
		ev(a, evAuth, "SUCCESS", m+time.Second),
		ev(a, evAuth, "SUCCESS", 2*h+45*m),
		ev(a, evLock, "SUCCESS", 30*m),
		ev(a, evAuth, "SUCCESS", 3*h), // at Until: outside
	)
	hours := store.EventCountQuery{OrgID: a, EventTypes: []string{evAuth}, Since: h0, Until: at(3 * h), Width: h}
	wantBuckets(t, "hours", eventCounts(t, s, hours), h0,
		bucket{0, "FAILURE", 1}, bucket{0, "SUCCESS", 3},
		bucket{h, "SUCCESS", 1},
		bucket{2 * h, "", 1}, bucket{2 * h, "DENY", 1}, bucket{2 * h, "FAILURE", 1}, bucket{2 * h, "SUCCESS", 1})

	q := hours
	q.EventTypes = []string{evAuth, evStart}
	q.Since, q.Until = h0.In(cet), at(2*h).In(cet)
	wantBuckets(t, "two types, bounds in another zone", eventCounts(t, s, q), h0,
		bucket{0, "FAILURE", 1}, bucket{0, "SUCCESS", 4}, bucket{h, "SUCCESS", 1})
	q.EventTypes = []string{evStart, evStart}
	wantBuckets(t, "a type twice counts once", eventCounts(t, s, q), h0, bucket{0, "SUCCESS", 1})
	q.EventTypes = []string{"user.no.such.type"}
	wantBuckets(t, "a type with no events", eventCounts(t, s, q), h0)

	// The last bucket ends at Until.
	q = hours
	q.Until = at(2*h + 30*m)
	q.Width = 90 * m
	wantBuckets(t, "90 minute buckets, the last cut short", eventCounts(t, s, q), h0,
		bucket{0, "FAILURE", 1}, bucket{0, "SUCCESS", 4},
		bucket{90 * m, "", 1}, bucket{90 * m, "DENY", 1}, bucket{90 * m, "FAILURE", 1})
	q = hours
	q.Until, q.Width = at(3*m), m
	wantBuckets(t, "minutes", eventCounts(t, s, q), h0, bucket{m, "SUCCESS", 2})
	q.Since, q.Until = at(-h), at(m)
	wantBuckets(t, "before the first", eventCounts(t, s, q), h0, bucket{-m, "SUCCESS", 1})

	for _, org := range []struct {
		id   string
		want []bucket
	}{{b, []bucket{{0, "SUCCESS", 1}}}, {"", []bucket{{0, "SUCCESS", 1}}}, {orgID(9), nil}} {
		q := hours
		q.OrgID = org.id
		wantBuckets(t, "org "+org.id, eventCounts(t, s, q), h0, org.want...)
	}

	// A query against the rules fails.
	for _, bad := range []struct {
		what string
		edit func(*store.EventCountQuery)
	}{
		{"no types", func(q *store.EventCountQuery) { q.EventTypes = nil }},
		{"no width", func(q *store.EventCountQuery) { q.Width = 0 }},
		{"a negative width", func(q *store.EventCountQuery) { q.Width = -h }},
		{"a width of 90 s", func(q *store.EventCountQuery) { q.Width = 90 * time.Second }},
		{"since within a minute", func(q *store.EventCountQuery) { q.Since = at(30 * time.Second) }},
		{"until within a minute", func(q *store.EventCountQuery) { q.Until = at(h + time.Millisecond) }},
		{"until before since", func(q *store.EventCountQuery) { q.Since, q.Until = q.Until, q.Since }},
		{"until at since", func(q *store.EventCountQuery) { q.Until = q.Since }},
		{"zero since", func(q *store.EventCountQuery) { q.Since = time.Time{} }},
		{"zero until", func(q *store.EventCountQuery) { q.Until = time.Time{} }},
	} {
		q := hours
		bad.edit(&q)
		err := s.View(ctx, func(r store.Reader) error {
			_, err := r.EventCounts(q)
			return err
		})
		if err == nil {
			t.Errorf("EventCounts with %s: no error", bad.what)
		}
	}

	// A View counts as of its snapshot.
	view(t, s, func(r store.Reader) error {
		before, err := r.EventCounts(hours)
		if err != nil {
			return err
		}
		appendEvents(t, s, ev(a, evAuth, "SUCCESS", 2*m))
		after, err := r.EventCounts(hours)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(before, after) {
			t.Errorf("EventCounts changed within a View:\n before %+v\n after  %+v", before, after)
		}
		return nil
	})
	wantBuckets(t, "after another append", eventCounts(t, s, hours), h0,
		bucket{0, "FAILURE", 1}, bucket{0, "SUCCESS", 4},
		bucket{h, "SUCCESS", 1},
		bucket{2 * h, "", 1}, bucket{2 * h, "DENY", 1}, bucket{2 * h, "FAILURE", 1}, bucket{2 * h, "SUCCESS", 1})

	// Pruned events are not counted, also when the cut falls within a
	// minute; counting is not a directory change.
	before := seq(t, s)
	if _, err := s.PruneEvents(ctx, at(2*h+5*m+35*time.Second)); err != nil {
		t.Fatalf("PruneEvents: %v", err)
	}
	wantBuckets(t, "after pruning", eventCounts(t, s, hours), h0,
		bucket{2 * h, "", 1}, bucket{2 * h, "SUCCESS", 1})
	q = hours
	q.Width = m
	q.Since, q.Until = at(2*h), at(2*h+10*m)
	wantBuckets(t, "after pruning, the minute of the cut", eventCounts(t, s, q), h0, bucket{2*h + 5*m, "", 1})
	wantSeq(t, s, before)
	if _, err := s.PruneEvents(ctx, at(100*h)); err != nil {
		t.Fatalf("PruneEvents: %v", err)
	}
	wantBuckets(t, "after pruning everything", eventCounts(t, s, hours), h0)
	appendEvents(t, s, ev(a, evAuth, "SUCCESS", 2*h))
	wantBuckets(t, "counting again", eventCounts(t, s, hours), h0, bucket{2 * h, "SUCCESS", 1})
}
