package sqlite

// The encoding of event pages (see events.go for how they are stored).
//
// A page's types column lists the distinct event types of its events:
//
//	uvarint count, then count times: uvarint length, bytes
//
// and its events column holds:
//
//	byte    pageFormat
//	uvarint number of events, n >= 1
//	uvarint the page's id minus the Seq of its first event
//	uvarint total length of the events' records
//	        the events
//
// where each event, in Seq order, is
//
//	uvarint Seq minus the previous event's Seq, minus 1 (0 for the first)
//	varint  Published (unix ns) minus the previous event's (the first's minus 0)
//	uvarint index of its type in the types column
//	        its record, delta-coded (appendDelta)
//
// and a record is UUID, Outcome, ActorID and TargetID, each a uvarint
// length and the bytes, then the Doc. OrgID is the page row's. Seqs are
// relative to the page's id, so a batch's pages are encoded before the
// write transaction hands out Seqs.
//
// Compression: writing a byte costs SQLite about 4 ns of CPU (WAL frame,
// checkpoint, fsync), so an uncompressed page cost about 3 µs per bind
// event of 800 bytes. Bind events of one org differ from the one before
// in a few values (UUID, time, user, client), so a record is coded as
// copies from the previous record of its type in the page and literals:
// about 160 bytes a bind event for 0.5 µs. DEFLATE at its fastest
// level (compress/flate) made 75 bytes but took 2.5 µs.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// pageFormat is the first byte of every page's events column.
const pageFormat = 1

var errCorruptPage = errors.New("corrupt event page")

// maxCopy is the longest copy of a delta op. An op takes at least 3
// bytes, so a page cannot decode to more than maxExpansion times its
// size, which lets the reader refuse a corrupt length before allocating.
const (
	maxCopy      = 1024
	maxExpansion = 1 + maxCopy/3
)

// page is a page's columns and what its row says of them.
type page struct {
	n              int
	minPub, maxPub int64
	typeNames      []string
	types, events  []byte
}

// pageEncoder encodes pages. It keeps its buffers for the next batch.
type pageEncoder struct {
	rec     []byte // the records of the page so far
	last    []int  // by type: the start of its last record in rec, -1 for none
	ends    []int  // by type: the end of that record
	typeIdx map[string]int
	arena   []byte // AppendEvents: the batch's pages
}

// spareEncoder keeps one encoder, and its buffers, from batch to batch: a
// sync.Pool drops them at every garbage collection, and growing a batch's
// buffers anew (about two pages of memory per event) cost 0.2 µs an
// event.
var spareEncoder atomic.Pointer[pageEncoder]

func getEncoder() *pageEncoder {
	if enc := spareEncoder.Swap(nil); enc != nil {
		return enc
	}
	return &pageEncoder{typeIdx: map[string]int{}}
}

// putEncoder keeps enc for the next batch, unless an unusual batch made
// its buffers large.
func putEncoder(enc *pageEncoder) {
	if cap(enc.rec)+cap(enc.arena) <= 16<<20 {
		enc.arena = enc.arena[:0]
		spareEncoder.Store(enc)
	}
}

// encode encodes events, of one org, with Seqs seqs (ascending) into a
// page whose id is id (at least the last Seq); seqs and id may count from
// any base. The events column is appended to dst, which it returns too.
func (enc *pageEncoder) encode(dst []byte, events []*store.Event, seqs []int64, id int64) (page, []byte) {
	p := page{n: len(events), minPub: math.MaxInt64, maxPub: math.MinInt64}
	clear(enc.typeIdx)
	enc.last, enc.ends = enc.last[:0], enc.ends[:0]
	rec := enc.rec[:0]
	for _, e := range events {
		rec = appendRecord(rec, e)
	}
	start := len(dst)
	dst = append(dst, pageFormat)
	dst = binary.AppendUvarint(dst, uint64(len(events)))
	dst = binary.AppendUvarint(dst, uint64(id-seqs[0]))
	dst = binary.AppendUvarint(dst, uint64(len(rec)))
	prevSeq, prevPub := seqs[0]-1, int64(0)
	off := 0
	for i, e := range events {
		ti, ok := enc.typeIdx[e.EventType]
		if !ok {
			ti = len(p.typeNames)
			enc.typeIdx[e.EventType] = ti
			p.typeNames = append(p.typeNames, e.EventType)
			enc.last, enc.ends = append(enc.last, -1), append(enc.ends, 0)
		}
		pub := e.Published.UnixNano()
		dst = binary.AppendUvarint(dst, uint64(seqs[i]-prevSeq-1))
		dst = binary.AppendVarint(dst, pub-prevPub)
		dst = binary.AppendUvarint(dst, uint64(ti))
		end := off + recordLen(e)
		var ref []byte
		if enc.last[ti] >= 0 {
			ref = rec[enc.last[ti]:enc.ends[ti]]
		}
		dst = appendDelta(dst, ref, rec[off:end])
		enc.last[ti], enc.ends[ti] = off, end
		off = end
		prevSeq, prevPub = seqs[i], pub
		p.minPub, p.maxPub = min(p.minPub, pub), max(p.maxPub, pub)
	}
	enc.rec = rec
	p.types = appendTypes(nil, p.typeNames)
	p.events = dst[start:len(dst):len(dst)]
	return p, dst
}

func appendRecord(dst []byte, e *store.Event) []byte {
	dst = appendString(dst, e.UUID)
	dst = appendString(dst, e.Outcome)
	dst = appendString(dst, e.ActorID)
	dst = appendString(dst, e.TargetID)
	return append(dst, e.Doc...)
}

func recordLen(e *store.Event) int {
	n := len(e.Doc)
	for _, s := range []string{e.UUID, e.Outcome, e.ActorID, e.TargetID} {
		n += uvarintLen(uint64(len(s))) + len(s)
	}
	return n
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// A delta codes rec as ops against ref, each
//
//	uvarint literal length, the literal bytes
//	uvarint copy length, at most maxCopy; if not 0:
//	varint  where the copy starts in ref, minus where the last one ended
//	        (0 at first)
//
// and the op with copy length 0 is the last. The decoder appends the
// literal, then the copy.
//
// appendDelta finds copies the cheap way, for records that mostly repeat
// ref in its order: it compares rec and ref in step, and where they part,
// it looks for where they meet again at the same distance in both (a
// value of the same length), else for the text after the next anchor
// byte of rec (JSON's punctuation and the separators inside values) in
// the next bytes of ref, and goes on in step from there. It never looks
// back in ref, nor at more than one place for each anchor.
func appendDelta(dst, ref, rec []byte) []byte {
	const minMatch = 4  // shorter copies cost more than their literal
	const window = 32   // how far past the parting ref is searched
	const needleLen = 6 // bytes looked for, from the anchor
	const aligned = 24  // how far values of the same length are followed
	i, j, lit, last := 0, 0, 0, 0
	for len(ref) > 0 && i < len(rec) {
		if n := commonPrefix(rec[i:], ref[min(j, len(ref)):]); n >= minMatch {
			dst = binary.AppendUvarint(dst, uint64(i-lit))
			dst = append(dst, rec[lit:i]...)
			for n > 0 {
				c := min(n, maxCopy)
				dst = binary.AppendUvarint(dst, uint64(c))
				dst = binary.AppendVarint(dst, int64(j-last))
				i, j, n = i+c, j+c, n-c
				last = j
				if n > 0 {
					dst = append(dst, 0) // no literal before the next part
				}
			}
			lit = i
			continue
		}
		// Values of the same length (ids, times) part and meet again at the
		// same distance in both.
		t := 1
		for ; t <= aligned && i+t < len(rec) && j+t < len(ref); t++ {
			if rec[i+t] == ref[j+t] && commonPrefix(rec[i+t:], ref[j+t:]) >= minMatch {
				break
			}
		}
		if t <= aligned && i+t < len(rec) && j+t < len(ref) {
			i, j = i+t, j+t
			continue
		}
		a := i + 1
		for a < len(rec) && !deltaAnchor[rec[a]] {
			a++
		}
		if a+minMatch > len(rec) {
			break
		}
		if j < len(ref) {
			needle := rec[a:min(a+needleLen, len(rec))]
			if k := bytes.Index(ref[j:min(len(ref), j+(a-i)+window)], needle); k >= 0 {
				j += k
			}
		}
		i = a
	}
	dst = binary.AppendUvarint(dst, uint64(len(rec)-lit))
	dst = append(dst, rec[lit:]...)
	return append(dst, 0)
}

// deltaAnchor marks the bytes where appendDelta tries to get back in step.
var deltaAnchor = func() (t [256]bool) {
	for _, c := range []byte(`",:@.-=`) {
		t[c] = true
	}
	return t
}()

// commonPrefix is the length of the common prefix of a and b.
func commonPrefix(a, b []byte) int {
	n := 0
	for len(a) >= 8 && len(b) >= 8 {
		if x := binary.LittleEndian.Uint64(a) ^ binary.LittleEndian.Uint64(b); x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		n += 8
		a, b = a[8:], b[8:]
	}
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		n++
		a, b = a[1:], b[1:]
	}
	return n
}

// decodeDelta appends to dst the record the delta at the start of b
// codes against ref, and returns it with the rest of b. It never writes
// beyond cap(dst), failing instead.
func decodeDelta(dst, ref, b []byte) ([]byte, []byte, error) {
	j := 0
	for {
		lit, rest, err := readBytes(b)
		if err != nil {
			return nil, nil, err
		}
		if len(lit) > cap(dst)-len(dst) {
			return nil, nil, fmt.Errorf("%w: records longer than said", errCorruptPage)
		}
		dst = append(dst, lit...)
		c, rest, err := readUvarint(rest)
		if err != nil {
			return nil, nil, err
		}
		if c == 0 {
			return dst, rest, nil
		}
		d, k := binary.Varint(rest)
		if k <= 0 {
			return nil, nil, fmt.Errorf("%w: bad varint", errCorruptPage)
		}
		b = rest[k:]
		if c > maxCopy || d < int64(-j) || d > int64(len(ref)-j) || c > uint64(len(ref)-j-int(d)) {
			return nil, nil, fmt.Errorf("%w: copy outside its reference", errCorruptPage)
		}
		j += int(d)
		if int(c) > cap(dst)-len(dst) {
			return nil, nil, fmt.Errorf("%w: records longer than said", errCorruptPage)
		}
		dst = append(dst, ref[j:j+int(c)]...)
		j += int(c)
	}
}

// encodeStored encodes stored events (Seq set, ascending) into a page
// with the given id.
func encodeStored(events []*store.Event, id int64) page {
	seqs := make([]int64, len(events))
	for i, e := range events {
		seqs[i] = e.Seq
	}
	enc := getEncoder()
	defer putEncoder(enc)
	p, _ := enc.encode(nil, events, seqs, id)
	return p
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendTypes(dst []byte, types []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(types)))
	for _, t := range types {
		dst = appendString(dst, t)
	}
	return dst
}

// --- decoding

// pageReader reads a page's events in Seq order.
type pageReader struct {
	b     []byte // what is left of the events column
	types []string
	recs  []byte // the records decoded so far; cap: all of them
	last  []int  // by type: the start of its last record in recs, -1 for none
	ends  []int
	left  int   // events not read yet
	seq   int64 // of the last event read
	pub   int64
	id    int64
}

// rawEvent is one event of a page; its byte slices point into the page's
// records.
type rawEvent struct {
	seq, published               int64
	typeIdx                      int
	uuid, outcome, actor, target []byte
	doc                          []byte
}

func decodeTypes(b []byte) ([]string, error) {
	n, b, err := readUvarint(b)
	if err != nil {
		return nil, err
	}
	if n > uint64(len(b)) { // every type takes at least a byte
		return nil, fmt.Errorf("%w: %d types in %d bytes", errCorruptPage, n, len(b))
	}
	types := make([]string, n)
	for i := range types {
		var t []byte
		if t, b, err = readBytes(b); err != nil {
			return nil, err
		}
		types[i] = string(t)
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes after the types", errCorruptPage)
	}
	return types, nil
}

// openPage starts reading the page with the given id from its columns.
// It decodes the records into buf (grown if too small) and returns buf,
// which the reader uses until done.
func openPage(id int64, typesCol, events, buf []byte) (*pageReader, []byte, error) {
	types, err := decodeTypes(typesCol)
	if err != nil {
		return nil, buf, err
	}
	if len(events) == 0 || events[0] != pageFormat {
		return nil, buf, fmt.Errorf("%w: unknown format", errCorruptPage)
	}
	b := events[1:]
	var n, below, size uint64
	for _, v := range []*uint64{&n, &below, &size} {
		if *v, b, err = readUvarint(b); err != nil {
			return nil, buf, err
		}
	}
	// Every event takes at least 5 bytes; the Seqs, from id-below on,
	// must be positive and at most id.
	if n == 0 || n > uint64(len(b))/5 || size > maxExpansion*uint64(len(b)) ||
		id <= 0 || below >= uint64(id) || n-1 > below {
		return nil, buf, fmt.Errorf("%w: header", errCorruptPage)
	}
	if uint64(cap(buf)) < size {
		buf = make([]byte, 0, size)
	}
	r := &pageReader{b: b, types: types, recs: buf[:0:size], left: int(n), seq: id - int64(below) - 1, id: id,
		last: make([]int, len(types)), ends: make([]int, len(types))}
	for i := range r.last {
		r.last[i] = -1
	}
	return r, buf, nil
}

// next reads the next event into e; it reports false at the end of the
// page, which must then be the end of its bytes and records.
func (r *pageReader) next(e *rawEvent) (bool, error) {
	if r.left == 0 {
		if len(r.b) != 0 || len(r.recs) != cap(r.recs) {
			return false, fmt.Errorf("%w: trailing bytes", errCorruptPage)
		}
		return false, nil
	}
	b := r.b
	gap, b, err := readUvarint(b)
	if err != nil {
		return false, err
	}
	// The Seqs left must fit at or below the id.
	if gap > uint64(r.id-r.seq)-uint64(r.left) {
		return false, fmt.Errorf("%w: Seq above the page's id", errCorruptPage)
	}
	d, k := binary.Varint(b)
	if k <= 0 {
		return false, fmt.Errorf("%w: bad varint", errCorruptPage)
	}
	b = b[k:]
	ti, b, err := readUvarint(b)
	if err != nil {
		return false, err
	}
	if ti >= uint64(len(r.types)) {
		return false, fmt.Errorf("%w: type %d of %d", errCorruptPage, ti, len(r.types))
	}
	var ref []byte
	if r.last[ti] >= 0 {
		ref = r.recs[r.last[ti]:r.ends[ti]]
	}
	start := len(r.recs)
	if r.recs, b, err = decodeDelta(r.recs, ref, b); err != nil {
		return false, err
	}
	rec := r.recs[start:len(r.recs):len(r.recs)]
	r.last[ti], r.ends[ti] = start, len(r.recs)
	for _, f := range []*[]byte{&e.uuid, &e.outcome, &e.actor, &e.target} {
		if *f, rec, err = readBytes(rec); err != nil {
			return false, err
		}
	}
	e.doc = rec
	r.seq += int64(gap) + 1
	r.pub += d // wraps as the encoder's subtraction did
	r.left--
	r.b = b
	e.seq, e.published, e.typeIdx = r.seq, r.pub, int(ti)
	return true, nil
}

func readUvarint(b []byte) (uint64, []byte, error) {
	v, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, nil, fmt.Errorf("%w: bad varint", errCorruptPage)
	}
	return v, b[k:], nil
}

func readBytes(b []byte) ([]byte, []byte, error) {
	n, b, err := readUvarint(b)
	if err != nil {
		return nil, nil, err
	}
	if n > uint64(len(b)) {
		return nil, nil, fmt.Errorf("%w: truncated", errCorruptPage)
	}
	return b[:n:n], b[n:], nil
}

// eventFilter is what a query asks of the events of the pages it reads.
type eventFilter struct {
	afterSeq     int64
	beforeSeq    int64 // > 0: only Seqs below it
	since, until int64 // Published in [since, until)
	eventType    string
	matchType    bool
	all          bool // select every event, whatever the above
}

// allEvents selects every event.
var allEvents = eventFilter{all: true}

func newEventFilter(q store.EventQuery) eventFilter {
	f := eventFilter{afterSeq: q.AfterSeq, beforeSeq: q.BeforeSeq, since: math.MinInt64, until: math.MaxInt64}
	if !q.Since.IsZero() {
		f.since = clampNanos(q.Since)
	}
	if !q.Until.IsZero() {
		f.until = clampNanos(q.Until)
	}
	f.eventType, f.matchType = q.EventType, q.EventType != ""
	return f
}

// bodies are the buffers pages are decoded into.
var bodies sync.Pool

// readPage calls fn with each event of the page that f selects, copied
// out of the page and with OrgID org, until fn returns false. It reads
// the whole page whatever fn does: a corrupt page is an error even when
// its events are not wanted.
func readPage(id int64, org string, typesCol, events []byte, f *eventFilter, fn func(*store.Event) bool) error {
	bp, _ := bodies.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer bodies.Put(bp)
	r, buf, err := openPage(id, typesCol, events, *bp)
	*bp = buf[:0]
	if err != nil {
		return err
	}
	want := -1
	if f.matchType {
		want = slices.Index(r.types, f.eventType)
	}
	wanted := !f.matchType || want >= 0
	var e rawEvent
	for {
		ok, err := r.next(&e)
		if err != nil || !ok {
			return err
		}
		if !f.all && (!wanted || e.seq <= f.afterSeq || (f.beforeSeq > 0 && e.seq >= f.beforeSeq) || e.published < f.since || e.published >= f.until ||
			(f.matchType && e.typeIdx != want)) {
			continue
		}
		// One string for the event's short fields, which its strings share.
		var sb strings.Builder
		sb.Grow(len(e.uuid) + len(e.outcome) + len(e.actor) + len(e.target))
		sb.Write(e.uuid)
		sb.Write(e.outcome)
		sb.Write(e.actor)
		sb.Write(e.target)
		s := sb.String()
		a := len(e.uuid)
		b := a + len(e.outcome)
		c := b + len(e.actor)
		ev := &store.Event{
			Seq:       e.seq,
			UUID:      s[:a],
			Published: time.Unix(0, e.published).UTC(),
			OrgID:     org,
			EventType: r.types[e.typeIdx],
			Outcome:   s[a:b],
			ActorID:   s[b:c],
			TargetID:  s[c:],
		}
		if len(e.doc) > 0 {
			ev.Doc = bytes.Clone(e.doc)
		}
		if !fn(ev) {
			wanted, f = false, &eventFilter{} // read on, to check the rest
		}
	}
}

// decodePage returns every event of a page.
func decodePage(id int64, org string, typesCol, events []byte) ([]*store.Event, error) {
	var out []*store.Event
	err := readPage(id, org, typesCol, events, &allEvents, func(e *store.Event) bool {
		out = append(out, e)
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
