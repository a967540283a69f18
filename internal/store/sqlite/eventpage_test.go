package sqlite

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// samplePage returns events shaped like the directory's, of two types,
// with Seqs from first on, every other one taken by another org.
func samplePage(n int, first int64) []*store.Event {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var out []*store.Event
	for i := range n {
		typ, outcome := "user.authentication.auth_via_ldap", "SUCCESS"
		if i%5 == 3 {
			typ, outcome = "user.session.start", "FAILURE"
		}
		uuid := fmt.Sprintf("019ad5a1-%04x-7000-8000-%012x", i, i*7919)
		user := fmt.Sprintf("00u%017d", i*31%97)
		out = append(out, &store.Event{
			Seq:       first + 2*int64(i),
			UUID:      uuid,
			Published: t0.Add(time.Duration(i*1013%17) * time.Millisecond),
			EventType: typ,
			Outcome:   outcome,
			ActorID:   user,
			TargetID:  user,
			Doc: fmt.Appendf(nil, `{"uuid":%q,"eventType":%q,"actor":{"id":%q,"alternateId":"user%d@example.com"},"outcome":{"result":%q}}`,
				uuid, typ, user, i, outcome),
		})
	}
	return out
}

func encodeSample(t testing.TB, events []*store.Event, id int64) page {
	t.Helper()
	return encodeStored(events, id)
}

func sameEvents(t *testing.T, got, want []*store.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := *got[i], *want[i]
		w.Published = w.Published.UTC()
		if len(w.Doc) == 0 {
			w.Doc = nil
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("event %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestPageRoundTrip(t *testing.T) {
	events := samplePage(200, 1_000)
	for _, e := range events {
		e.OrgID = "00o1"
	}
	// Edge cases: empty strings and document, a far time, a big document.
	events[7].Doc, events[7].Outcome, events[7].ActorID, events[7].TargetID = nil, "", "", ""
	events[8].Published = time.Unix(0, math.MinInt64).UTC()
	events[9].Published = time.Unix(0, math.MaxInt64).UTC()
	events[10].Doc = bytes.Repeat([]byte(`{"x":"0123456789"}`), 1000) // copies longer than maxCopy
	events[11].Doc = events[10].Doc
	id := events[len(events)-1].Seq + 5 // pruning may leave the id above the last Seq
	p := encodeSample(t, events, id)
	if p.n != len(events) || !reflect.DeepEqual(p.typeNames, []string{"user.authentication.auth_via_ldap", "user.session.start"}) {
		t.Errorf("page n %d, types %q", p.n, p.typeNames)
	}
	if p.minPub != math.MinInt64 || p.maxPub != math.MaxInt64 {
		t.Errorf("page published %d..%d", p.minPub, p.maxPub)
	}
	got, err := decodePage(id, "00o1", p.types, p.events)
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, got, events)
	// Similar events code small: far less than their raw size.
	raw := 0
	for _, e := range samplePage(200, 1) {
		raw += recordLen(e)
	}
	if small := encodeSample(t, samplePage(200, 1), 399); len(small.events)*3 > raw {
		t.Errorf("200 similar events take %d bytes coded, %d raw", len(small.events), raw)
	}
}

// Every byte of a page matters: changing or cutting any gives an error
// or other events, never a panic.
func TestPageCorruption(t *testing.T) {
	events := samplePage(20, 100)
	id := events[len(events)-1].Seq
	p := encodeSample(t, events, id)
	for i := range p.events {
		for _, b := range []byte{0, 1, 0x7f, 0x80, 0xff} {
			c := bytes.Clone(p.events)
			c[i] = b
			if got, err := decodePage(id, "", p.types, c); err != nil && !errors.Is(err, errCorruptPage) {
				t.Fatalf("byte %d = %#x: error %v is not errCorruptPage", i, b, err)
			} else if err == nil && len(got) != len(events) {
				t.Fatalf("byte %d = %#x: %d events, no error", i, b, len(got))
			}
		}
		if _, err := decodePage(id, "", p.types, p.events[:i]); err == nil {
			t.Fatalf("page cut to %d bytes decoded", i)
		}
	}
	for _, bad := range []struct {
		name      string
		id        int64
		types     []byte
		appendix  []byte
		wantError bool
	}{
		{"id below the Seqs' span", id - events[0].Seq, p.types, nil, true},
		{"zero id", 0, p.types, nil, true},
		{"trailing byte", id, p.types, []byte{0}, true},
		{"no types", id, appendTypes(nil, nil), nil, true},
		{"types cut", id, p.types[:len(p.types)-1], nil, true},
	} {
		_, err := decodePage(bad.id, "", bad.types, append(bytes.Clone(p.events), bad.appendix...))
		if (err != nil) != bad.wantError {
			t.Errorf("%s: err = %v", bad.name, err)
		}
	}
}

// FuzzDecodePage: a page's columns, whatever they hold, decode to events
// or to an error wrapping errCorruptPage, never a panic; what decodes
// encodes back to the same events.
func FuzzDecodePage(f *testing.F) {
	for _, n := range []int{1, 2, 7, 30} {
		events := samplePage(n, 1)
		id := events[len(events)-1].Seq
		p := encodeStored(events, id)
		f.Add(id, p.types, p.events)
	}
	f.Add(int64(1), []byte{0}, []byte{pageFormat})
	f.Add(int64(1), []byte{1, 1, 'x'}, []byte{pageFormat, 1, 0, 4, 0, 0, 0, 4, 0, 0, 0, 0, 0})
	f.Add(int64(math.MaxInt64), []byte{1, 0}, []byte{pageFormat, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, id int64, types, events []byte) {
		got, err := decodePage(id, "o", types, events)
		if err != nil {
			if !errors.Is(err, errCorruptPage) {
				t.Fatalf("error %v does not wrap errCorruptPage", err)
			}
			return
		}
		if len(got) == 0 {
			t.Fatal("a page decoded to no events")
		}
		for i, e := range got {
			if e.Seq <= 0 || e.Seq > id || (i > 0 && e.Seq <= got[i-1].Seq) {
				t.Fatalf("event %d has Seq %d (page %d)", i, e.Seq, id)
			}
		}
		p := encodeStored(got, id)
		again, err := decodePage(id, "o", p.types, p.events)
		if err != nil {
			t.Fatalf("re-encoded page: %v", err)
		}
		sameEvents(t, again, got)
	})
}

// FuzzPageRoundTrip: events with any strings and documents come back
// from a page as they went in; the delta coder is exact whatever the
// bytes.
func FuzzPageRoundTrip(f *testing.F) {
	f.Add("a", "b", []byte(`{"uuid":"x","n":1}`), []byte(`{"uuid":"y","n":22}`), uint8(2))
	f.Add("", "", []byte(nil), []byte(nil), uint8(1))
	f.Add("019ad5a1-0000-7000-8000-000000000000", "019ad5a1-0001-7000-8000-000000001eef",
		[]byte(`"a","b":"c@d.e-f=g"`), []byte(`"a","b":"c@d.e-f=h"`), uint8(9))
	f.Fuzz(func(t *testing.T, u1, u2 string, d1, d2 []byte, n uint8) {
		t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		var events []*store.Event
		for i := range int(n%16) + 1 {
			u, d, typ := u1, d1, "t1"
			if i%3 == 1 {
				u, d, typ = u2, d2, "t2"
			}
			// Mix the two documents, so that references differ from their copies.
			doc := append(bytes.Clone(d[:len(d)*i%(len(d)+1)]), d2...)
			events = append(events, &store.Event{Seq: int64(i*3 + 1), UUID: fmt.Sprint(u, i), Published: t0.Add(time.Duration(i) * time.Second),
				EventType: typ, Outcome: u2, ActorID: u1, TargetID: string(d), Doc: doc})
			_ = u
		}
		id := events[len(events)-1].Seq
		p := encodeStored(events, id)
		got, err := decodePage(id, "", p.types, p.events)
		if err != nil {
			t.Fatal(err)
		}
		sameEvents(t, got, events)
	})
}

// FuzzDelta: decodeDelta never panics nor writes beyond its buffer's
// capacity, and appendDelta's output decodes to its input.
func FuzzDelta(f *testing.F) {
	ref := []byte(`{"uuid":"019ad5a1-0000-7000","actor":{"id":"00u1","alternateId":"a@example.com"}}`)
	rec := []byte(`{"uuid":"019ad5a1-0001-7000","actor":{"id":"00u2","alternateId":"bb@example.com"}}`)
	f.Add(ref, rec, appendDelta(nil, ref, rec), uint16(200))
	f.Add([]byte(nil), rec, appendDelta(nil, nil, rec), uint16(0))
	f.Add(ref, ref, []byte{0, 0x80, 0x08, 0x00, 0}, uint16(2000))
	f.Fuzz(func(t *testing.T, ref, rec, delta []byte, room uint16) {
		out, rest, err := decodeDelta(make([]byte, 0, room), ref, delta)
		if err == nil && (len(out) > int(room) || len(rest) > len(delta)) {
			t.Fatalf("decoded %d bytes into room for %d", len(out), room)
		}
		if err != nil && !errors.Is(err, errCorruptPage) {
			t.Fatalf("error %v does not wrap errCorruptPage", err)
		}
		d := appendDelta(nil, ref, rec)
		got, rest, err := decodeDelta(make([]byte, 0, len(rec)), ref, d)
		if err != nil || len(rest) != 0 || !bytes.Equal(got, rec) {
			t.Fatalf("round trip: %q, rest %d, %v; want %q", got, len(rest), err, rec)
		}
	})
}
