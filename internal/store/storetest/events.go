package storetest

// The system log: AppendEvents, Events, PruneEvents.

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

const (
	evAuth  = "user.authentication.auth_via_ldap"
	evStart = "user.session.start"
	evLock  = "user.account.lock"
)

// newEvent returns an event with every field set; name makes its UUID.
func newEvent(name, org, eventType string, published time.Time) *store.Event {
	return &store.Event{
		UUID:      "uuid-" + name,
		Published: published,
		OrgID:     org,
		EventType: eventType,
		Outcome:   "SUCCESS",
		ActorID:   userID(1),
		TargetID:  userID(2),
		Doc:       fmt.Appendf(nil, `{"uuid":"uuid-%s","eventType":%q,"outcome":{"result":"SUCCESS"}}`, name, eventType),
	}
}

func normEvent(e *store.Event) store.Event {
	c := *e
	c.Published = normTime(c.Published)
	if len(c.Doc) == 0 {
		c.Doc = nil
	}
	return c
}

func sameEvent(t *testing.T, what string, got, want *store.Event) {
	t.Helper()
	if g, w := normEvent(got), normEvent(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\n     doc %s\nwant %+v\n     doc %s", what, g, g.Doc, w, w.Doc)
	}
}

func appendEvents(t *testing.T, s store.Store, es ...*store.Event) {
	t.Helper()
	if err := s.AppendEvents(ctx, es); err != nil {
		t.Fatalf("AppendEvents(%d events): %v", len(es), err)
	}
}

func events(t *testing.T, s store.Store, q store.EventQuery) []*store.Event {
	t.Helper()
	es, err := s.Events(ctx, q)
	if err != nil {
		t.Fatalf("Events(%+v): %v", q, err)
	}
	return es
}

func uuids(es []*store.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.UUID)
	}
	return out
}

// wantAscending checks that the events' Seq are positive and strictly
// ascending, after after.
func wantAscending(t *testing.T, what string, es []*store.Event, after int64) {
	t.Helper()
	for i, e := range es {
		if e.Seq <= after {
			t.Errorf("%s: event %d (%s) has Seq %d, want > %d", what, i, e.UUID, e.Seq, after)
		}
		after = e.Seq
	}
}

// allEvents pages through every event of org, limit at a time.
func allEvents(t *testing.T, s store.Store, org string, limit int) []*store.Event {
	t.Helper()
	var out []*store.Event
	q := store.EventQuery{OrgID: org, Limit: limit}
	for {
		page := events(t, s, q)
		if len(page) > limit {
			t.Fatalf("Events returned %d events, limit %d", len(page), limit)
		}
		out = append(out, page...)
		if len(page) < limit {
			return out
		}
		q.AfterSeq = page[len(page)-1].Seq
	}
}

// --- tests

func testEventsAppend(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.CreateOrg(newOrg(1, "acme")) })
	acme := orgID(1)
	before := seq(t, s)

	// A batch larger than any backend's likely statement size, with
	// published times not in batch order: Seq follows the batch.
	var batch []*store.Event
	for i := range 250 {
		e := newEvent(fmt.Sprint(i), acme, evAuth, t0.Add(time.Duration(250-i)*time.Millisecond))
		if i%3 == 0 {
			e.Published = e.Published.In(cet)
		}
		batch = append(batch, e)
	}
	bare := &store.Event{UUID: "uuid-bare", Published: t0} // no org, no doc
	batch = append(batch, bare)
	appendEvents(t, s, batch...)
	wantAscending(t, "first batch", batch, 0)

	// The next batch continues above.
	second := []*store.Event{
		newEvent("s1", acme, evStart, t0),
		newEvent("s2", "", "system.log.stream.start", t0.Add(time.Hour)),
	}
	second[1].ActorID, second[1].TargetID, second[1].Outcome = "", "", ""
	second[0].Doc = []byte{}
	appendEvents(t, s, second...)
	wantAscending(t, "second batch", second, batch[len(batch)-1].Seq)

	// Nothing to append is no error.
	appendEvents(t, s)
	if err := s.AppendEvents(ctx, []*store.Event{}); err != nil {
		t.Errorf("AppendEvents(empty): %v", err)
	}

	// The log is not directory content.
	wantSeq(t, s, before)
	if c := changes(t, s, before, 10); len(c) != 0 {
		t.Errorf("AppendEvents recorded changes: %+v", c)
	}

	// Every field round-trips, with the Seq that AppendEvents set.
	got := allEvents(t, s, acme, 100)
	want := append(slices.Clone(batch[:250]), second[0])
	if len(got) != len(want) {
		t.Fatalf("Events(acme) = %d events, want %d", len(got), len(want))
	}
	for i := range got {
		sameEvent(t, fmt.Sprintf("Events(acme)[%d]", i), got[i], want[i])
	}
	got = events(t, s, store.EventQuery{OrgID: acme, Limit: 1})
	if len(got) != 1 {
		t.Fatalf("Events(limit 1) = %d events", len(got))
	}
	got[0].Doc[0] = 'X' // returned documents are copies
	again := events(t, s, store.EventQuery{OrgID: acme, Limit: 1})
	sameEvent(t, "event after changing a returned document", again[0], batch[0])

	// Events with Limit <= 0 fails.
	for _, limit := range []int{0, -1} {
		if _, err := s.Events(ctx, store.EventQuery{OrgID: acme, Limit: limit}); err == nil {
			t.Errorf("Events with Limit %d succeeded", limit)
		}
	}
}

func testEventsQuery(t *testing.T, s store.Store) {
	a, b := orgID(1), orgID(2)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	e1 := newEvent("e1", a, evAuth, at(0))
	f1 := newEvent("f1", b, evAuth, at(time.Second))
	e2 := newEvent("e2", a, evStart, at(time.Second).In(cet))
	e3 := newEvent("e3", a, evAuth, at(2*time.Second))
	e4 := newEvent("e4", a, evAuth, at(1500*time.Millisecond)) // published before e3, appended after
	f2 := newEvent("f2", b, evAuth, at(2*time.Second))
	e5 := newEvent("e5", a, evLock, at(3*time.Second))
	e5.Outcome = "FAILURE"
	// Two batches, the orgs interleaved.
	appendEvents(t, s, e1, f1, e2, e3)
	appendEvents(t, s, e4, f2, e5)

	tests := []struct {
		name string
		q    store.EventQuery
		want []string
	}{
		{"org a", store.EventQuery{OrgID: a, Limit: 100}, []string{"e1", "e2", "e3", "e4", "e5"}},
		{"org b", store.EventQuery{OrgID: b, Limit: 100}, []string{"f1", "f2"}},
		{"org without events", store.EventQuery{OrgID: orgID(9), Limit: 100}, nil},
		{"since (inclusive)", store.EventQuery{OrgID: a, Since: at(time.Second), Limit: 100}, []string{"e2", "e3", "e4", "e5"}},
		{"since in another zone", store.EventQuery{OrgID: a, Since: at(time.Second).In(cet), Limit: 100}, []string{"e2", "e3", "e4", "e5"}},
		{"since between", store.EventQuery{OrgID: a, Since: at(1600 * time.Millisecond), Limit: 100}, []string{"e3", "e5"}},
		{"until (exclusive)", store.EventQuery{OrgID: a, Until: at(2 * time.Second), Limit: 100}, []string{"e1", "e2", "e4"}},
		{"since and until", store.EventQuery{OrgID: a, Since: at(time.Second), Until: at(2 * time.Second), Limit: 100}, []string{"e2", "e4"}},
		{"empty window", store.EventQuery{OrgID: a, Since: at(time.Second), Until: at(time.Second), Limit: 100}, nil},
		{"since after all", store.EventQuery{OrgID: a, Since: at(time.Hour), Limit: 100}, nil},
		{"until before all", store.EventQuery{OrgID: a, Until: at(-time.Hour), Limit: 100}, nil},
		{"type", store.EventQuery{OrgID: a, EventType: evAuth, Limit: 100}, []string{"e1", "e3", "e4"}},
		{"type of another org", store.EventQuery{OrgID: b, EventType: evLock, Limit: 100}, nil},
		{"unknown type", store.EventQuery{OrgID: a, EventType: "user.nope", Limit: 100}, nil},
		{"type and since", store.EventQuery{OrgID: a, EventType: evAuth, Since: at(1500 * time.Millisecond), Limit: 100}, []string{"e3", "e4"}},
		{"after e2", store.EventQuery{OrgID: a, AfterSeq: e2.Seq, Limit: 100}, []string{"e3", "e4", "e5"}},
		{"after an event of another org", store.EventQuery{OrgID: a, AfterSeq: f1.Seq, Limit: 100}, []string{"e2", "e3", "e4", "e5"}},
		{"after the last", store.EventQuery{OrgID: a, AfterSeq: e5.Seq, Limit: 100}, nil},
		{"limit", store.EventQuery{OrgID: a, Limit: 2}, []string{"e1", "e2"}},
		{"after and limit", store.EventQuery{OrgID: a, AfterSeq: e2.Seq, Limit: 1}, []string{"e3"}},
		{"everything at once", store.EventQuery{OrgID: a, EventType: evAuth, Since: at(0), Until: at(3 * time.Second), AfterSeq: e1.Seq, Limit: 1}, []string{"e3"}},
	}
	for _, tc := range tests {
		var want []string
		for _, n := range tc.want {
			want = append(want, "uuid-"+n)
		}
		sameStrings(t, tc.name, uuids(events(t, s, tc.q)), want)
	}

	// Paging by AfterSeq visits every event once, in order.
	for _, limit := range []int{1, 2, 5} {
		sameStrings(t, fmt.Sprintf("pages of %d", limit), uuids(allEvents(t, s, a, limit)),
			[]string{"uuid-e1", "uuid-e2", "uuid-e3", "uuid-e4", "uuid-e5"})
	}
	// Each event comes back whole, and of its org only.
	for _, org := range []string{a, b} {
		for _, e := range events(t, s, store.EventQuery{OrgID: org, Limit: 100}) {
			if e.OrgID != org {
				t.Errorf("Events(%s) returned %s of org %s", org, e.UUID, e.OrgID)
			}
			want := map[string]*store.Event{"uuid-e1": e1, "uuid-e2": e2, "uuid-e3": e3, "uuid-e4": e4, "uuid-e5": e5, "uuid-f1": f1, "uuid-f2": f2}[e.UUID]
			sameEvent(t, "Events "+e.UUID, e, want)
		}
	}
}

func testEventsConflict(t *testing.T, s store.Store) {
	a := orgID(1)
	first := newEvent("x", a, evAuth, t0)
	appendEvents(t, s, first)
	for _, tc := range []struct {
		name  string
		batch []*store.Event
	}{
		{"UUID taken by a stored event", []*store.Event{
			newEvent("n1", a, evAuth, t0), newEvent("x", a, evStart, t0), newEvent("n2", a, evAuth, t0),
		}},
		{"UUID twice in the batch", []*store.Event{
			newEvent("n1", a, evAuth, t0), newEvent("n2", a, evAuth, t0), newEvent("n1", a, evAuth, t0),
		}},
	} {
		err := s.AppendEvents(ctx, tc.batch)
		wantIs(t, tc.name, err, store.ErrConflict)
		sameStrings(t, tc.name+": events after", uuids(events(t, s, store.EventQuery{OrgID: a, Limit: 100})), []string{"uuid-x"})
	}
	// The log still takes events, after the first.
	next := newEvent("n1", a, evAuth, t0)
	appendEvents(t, s, next)
	wantAscending(t, "append after conflicts", []*store.Event{first, next}, 0)
	sameStrings(t, "events", uuids(events(t, s, store.EventQuery{OrgID: a, Limit: 100})), []string{"uuid-x", "uuid-n1"})
}

func testEventsPrune(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.CreateOrg(newOrg(1, "acme")) })
	a, b := orgID(1), orgID(2)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	var batch []*store.Event
	for i, spec := range []struct {
		org  string
		hour int
	}{{a, 0}, {b, 0}, {a, 1}, {"", 1}, {b, 2}, {a, 3}, {a, 2}, {b, 4}, {"", 5}} {
		batch = append(batch, newEvent(fmt.Sprint(i), spec.org, evAuth, h(spec.hour)))
	}
	appendEvents(t, s, batch...)
	before := seq(t, s)

	prune := func(what string, at time.Time, want int64) {
		t.Helper()
		n, err := s.PruneEvents(ctx, at)
		if err != nil {
			t.Fatalf("%s: PruneEvents: %v", what, err)
		}
		if n != want {
			t.Errorf("%s: PruneEvents deleted %d events, want %d", what, n, want)
		}
	}
	prune("zero time", time.Time{}, 0)
	prune("before all", h(-1), 0)
	prune("before hour 2 (exclusive)", h(2).In(cet), 4) // 0, 1, 2, 3
	prune("again", h(2), 0)
	sameStrings(t, "events of a", uuids(events(t, s, store.EventQuery{OrgID: a, Limit: 100})), []string{"uuid-5", "uuid-6"})
	sameStrings(t, "events of b", uuids(events(t, s, store.EventQuery{OrgID: b, Limit: 100})), []string{"uuid-4", "uuid-7"})

	// Pruning is not a directory change.
	wantSeq(t, s, before)
	if c := changes(t, s, before, 10); len(c) != 0 {
		t.Errorf("PruneEvents recorded changes: %+v", c)
	}

	// After pruning everything, even the newest, numbers go on upwards.
	prune("everything", h(100), 5) // a's 5, 6; b's 4, 7; 8 of no org
	for _, org := range []string{a, b} {
		if es := events(t, s, store.EventQuery{OrgID: org, Limit: 100}); len(es) != 0 {
			t.Errorf("events of %s after pruning everything: %q", org, uuids(es))
		}
	}
	next := newEvent("next", a, evAuth, h(0))
	appendEvents(t, s, next)
	if last := batch[len(batch)-1].Seq; next.Seq <= last {
		t.Errorf("Seq after pruning everything = %d, want > %d (the last seen)", next.Seq, last)
	}
	sameStrings(t, "followers see the next event", uuids(events(t, s, store.EventQuery{OrgID: a, AfterSeq: batch[len(batch)-1].Seq, Limit: 10})), []string{"uuid-next"})
}

// testEventsConcurrent: batches appended from several goroutines, while
// directory writes go on, get distinct ascending numbers and are all kept.
func testEventsConcurrent(t *testing.T, s store.Store) {
	const appenders, batches, perBatch = 4, 10, 20
	org := newOrg(1, "acme")
	update(t, s, func(tx store.Tx) error { return tx.CreateOrg(org) })
	base := seq(t, s)

	var wg sync.WaitGroup
	errs := make(chan error, appenders*batches+batches)
	all := make([][]*store.Event, appenders*batches)
	for w := range appenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				batch := make([]*store.Event, perBatch)
				for i := range batch {
					batch[i] = newEvent(fmt.Sprintf("%d-%d-%d", w, b, i), org.ID, evAuth, t0.Add(time.Duration(i)*time.Millisecond))
				}
				all[w*batches+b] = batch
				errs <- s.AppendEvents(ctx, batch)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range batches {
			errs <- s.Update(ctx, func(tx store.Tx) error {
				return tx.CreateUser(newUser(i+1, org.ID, fmt.Sprintf("user%02d", i)))
			})
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent write: %v", err)
		}
	}
	wantSeq(t, s, base+batches)

	seen := map[int64]string{}
	for _, batch := range all {
		wantAscending(t, "batch", batch, 0)
		for _, e := range batch {
			if other, ok := seen[e.Seq]; ok {
				t.Errorf("Seq %d given to %s and %s", e.Seq, other, e.UUID)
			}
			seen[e.Seq] = e.UUID
		}
	}
	got := allEvents(t, s, org.ID, 64)
	if len(got) != appenders*batches*perBatch {
		t.Fatalf("%d events stored, want %d", len(got), appenders*batches*perBatch)
	}
	wantAscending(t, "Events", got, 0)
	for _, e := range got {
		if seen[e.Seq] != e.UUID {
			t.Errorf("stored event %s has Seq %d, AppendEvents set it for %s", e.UUID, e.Seq, seen[e.Seq])
		}
	}
}

// testEventsNewestFirst pages through the log newest first, with BeforeSeq
// as the cursor, across pages of different batches and two orgs, and with
// an event type and a time bound; each walk is the ascending one reversed.
func testEventsNewestFirst(t *testing.T, s store.Store) {
	acme, beta := orgID(1), orgID(2)
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateOrg(newOrg(1, "acme")); err != nil {
			return err
		}
		return tx.CreateOrg(newOrg(2, "beta"))
	})
	n := 0
	for _, size := range []int{1, 5, 3, 8, 2} { // batches, so pages of several sizes
		var batch []*store.Event
		for range size {
			org, typ := acme, "a.type"
			if n%3 == 0 {
				org = beta
			}
			if n%2 == 0 {
				typ = "b.type"
			}
			batch = append(batch, newEvent(fmt.Sprint(n), org, typ, t0.Add(time.Duration(n)*time.Minute)))
			n++
		}
		appendEvents(t, s, batch...)
	}
	reversed := func(es []*store.Event) []string {
		ids := uuids(es)
		for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
			ids[i], ids[j] = ids[j], ids[i]
		}
		return ids
	}
	for _, q := range []store.EventQuery{
		{OrgID: acme},
		{OrgID: beta},
		{OrgID: acme, EventType: "b.type"},
		{OrgID: acme, Since: t0.Add(4 * time.Minute), Until: t0.Add(15 * time.Minute)},
	} {
		asc := q
		asc.Limit = 1000
		want := reversed(events(t, s, asc))
		var got []string
		desc := q
		desc.Descending, desc.Limit = true, 3
		for range 20 {
			page := events(t, s, desc)
			if len(page) > 3 {
				t.Fatalf("%+v: %d events, limit 3", desc, len(page))
			}
			got = append(got, uuids(page)...)
			if len(page) < 3 {
				break
			}
			desc.BeforeSeq = page[len(page)-1].Seq
		}
		if len(want) == 0 || strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%+v newest first: %v, want %v", q, got, want)
		}
	}
}
