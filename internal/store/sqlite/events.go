package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// The system log. It is not directory content: its writes record no
// change and leave the change sequence alone.
//
// Events are written far more often than read (one per LDAP bind), and a
// row per event cost about 15-20 µs of CPU (a row and four index entries,
// one of them a unique index on the UUID), so events are packed instead:
//
//   - event_pages: one row per org of each AppendEvents batch (split at
//     about pageBytes of events), holding them delta-coded in one BLOB
//     (eventpage.go). A page's id is the Seq of its newest event when
//     written, so an org's pages ascend by id as their events by Seq;
//     pruning may remove events from a page but never changes its id.
//   - event_page_types: which pages hold events of a type.
//   - event_uuid_runs and event_uuids keep UUIDs unique (eventuuid.go).
//   - event_counts: how many events of each org, type and outcome each
//     minute holds, for EventCounts (eventcounts.go).
//   - meta's event_seq is the last Seq handed out: it never goes back,
//     also when PruneEvents removed the newest events.
//
// Queries find the pages that can match through the indexes of the page
// tables (org and id; org and time range; org, type and id), and filter
// the decoded events exactly.

// defaultPageBytes is about how many bytes of events, before coding, a
// page holds (Store.pageBytes). Larger pages cost fewer rows per event on
// write and code better (a page's first event has nothing to copy from);
// smaller ones cost less decoding for a query that needs a few events.
// 256 KiB holds an org's share of a batch of 1000 bind events.
const defaultPageBytes = 256 << 10

// eventStmts are the writer's prepared statements of AppendEvents.
type eventStmts struct {
	seq, uuids, page, pageType           *sql.Stmt
	lastRun, stabRun, runKeys, insertRun *sql.Stmt
	counts                               *sql.Stmt // eventcounts.go
}

const (
	// nextEventSeqs reserves ?1 event numbers and returns the last.
	nextEventSeqs = `UPDATE meta SET value = value + ?1 WHERE key = 'event_seq' RETURNING value`
	insertPage    = `INSERT INTO event_pages (id, org_id, n, min_published, max_published, types, events)
		VALUES (?, ?, ?, ?, ?, ?, ?)`
	insertPageType = `INSERT INTO event_page_types (org_id, event_type, page_id) VALUES (?, ?, ?)`
)

func (st *eventStmts) all() []struct {
	stmt  **sql.Stmt
	query string
} {
	return []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&st.seq, nextEventSeqs}, {&st.uuids, insertUUIDs}, {&st.page, insertPage}, {&st.pageType, insertPageType},
		{&st.lastRun, lastRun}, {&st.stabRun, stabRun}, {&st.runKeys, runKeys}, {&st.insertRun, insertRun},
		{&st.counts, addCounts},
	}
}

func prepareEventStmts(ctx context.Context, db *sql.DB) (*eventStmts, error) {
	st := &eventStmts{}
	for _, p := range st.all() {
		s, err := db.PrepareContext(ctx, p.query)
		if err != nil {
			st.close()
			return nil, fmt.Errorf("prepare %q: %w", p.query, err)
		}
		*p.stmt = s
	}
	return st, nil
}

func (st *eventStmts) close() error {
	var errs []error
	for _, p := range st.all() {
		if *p.stmt != nil {
			errs = append(errs, (*p.stmt).Close())
		}
	}
	return errors.Join(errs...)
}

// AppendEvents appends the events in one write transaction and sets their
// Seq, ascending in slice order. Every event needs a UUID (unique: a
// taken one fails the whole batch with store.ErrConflict) and a Published
// time. Like Update, it must not be called from inside an Update's fn.
//
// Its statements hardly depend on the batch's size: one for the Seqs, two
// for the UUIDs (claimUUIDs; more if some are late or not canonical), one
// per page and per event type of a page, and one per org, type, minute
// and outcome of the batch's events (their counts, eventcounts.go).
func (s *Store) AppendEvents(ctx context.Context, events []*store.Event) (err error) {
	defer func() { err = fullErr(err) }()
	if len(events) == 0 {
		return nil
	}
	for i, e := range events {
		if e == nil {
			return fmt.Errorf("sqlite: append events: event %d is nil", i)
		}
		if e.UUID == "" {
			return fmt.Errorf("sqlite: append events: event %d has no UUID", i)
		}
		if e.Published.IsZero() {
			return fmt.Errorf("sqlite: append event %s: no published time", e.UUID)
		}
		if _, err := nanos(e.Published); err != nil {
			return fmt.Errorf("sqlite: append event %s: %w", e.UUID, err)
		}
	}
	// Everything but the Seqs is worked out before taking the write lock.
	keys := batchKeys(events)
	if dup, ok := keys.duplicate(); ok {
		return fmt.Errorf("sqlite: append events: %w: UUID %s twice in the batch", store.ErrConflict, dup)
	}
	enc := getEncoder()
	defer putEncoder(enc) // the driver copies what it binds: free once written
	pages := buildPages(enc, events, s.pageBytes)
	counts := tallyOf(events)

	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", mapErr(err))
	}
	defer sqlTx.Rollback()
	var last int64
	if err := sqlTx.StmtContext(ctx, s.ev.seq).QueryRowContext(ctx, len(events)).Scan(&last); err != nil {
		return fmt.Errorf("sqlite: append events: next seq: %w", err)
	}
	first := last - int64(len(events)) + 1
	if err := s.claimUUIDs(ctx, sqlTx, keys); err != nil {
		return fmt.Errorf("sqlite: append events: %w", err)
	}
	pageStmt, typeStmt := sqlTx.StmtContext(ctx, s.ev.page), sqlTx.StmtContext(ctx, s.ev.pageType)
	for _, p := range pages {
		id := first + p.rel
		if _, err := pageStmt.ExecContext(ctx, id, p.org, p.n, p.minPub, p.maxPub, p.types, p.events); err != nil {
			return fmt.Errorf("sqlite: append events: page: %w", mapErr(err))
		}
		for _, t := range p.typeNames {
			if _, err := typeStmt.ExecContext(ctx, p.org, t, id); err != nil {
				return fmt.Errorf("sqlite: append events: page type: %w", mapErr(err))
			}
		}
	}
	if err := counts.addTo(ctx, sqlTx.StmtContext(ctx, s.ev.counts)); err != nil {
		return fmt.Errorf("sqlite: append events: counts: %w", mapErr(err))
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", mapErr(err))
	}
	// Only now: a failed batch leaves the events as they were.
	for i, e := range events {
		e.Seq = first + int64(i)
	}
	return nil
}

// --- pages

// batchPage is a page of a batch being appended; its id counts from the
// batch's first event until the transaction has reserved the Seqs.
type batchPage struct {
	org string
	rel int64 // the page's id minus the Seq of the batch's first event
	page
}

// buildPages groups events by org, in batch order, into pages of about
// maxBytes each before coding, in the order of their ids. The pages'
// bytes are in enc's arena: enc must not be reused before they are
// written.
func buildPages(enc *pageEncoder, events []*store.Event, maxBytes int) []batchPage {
	byOrg := map[string][]int{}
	var orgs []string
	need := 0
	for i, e := range events {
		if _, ok := byOrg[e.OrgID]; !ok {
			orgs = append(orgs, e.OrgID)
		}
		byOrg[e.OrgID] = append(byOrg[e.OrgID], i)
		need += recordLen(e) + 32 // what a delta adds, generously
	}
	arena := enc.arena[:0]
	if cap(arena) < need {
		arena = make([]byte, 0, need)
	}
	var pages []batchPage
	var pe []*store.Event
	var seqs []int64
	for _, org := range orgs {
		for idx := byOrg[org]; len(idx) > 0; {
			pe, seqs = pe[:0], seqs[:0]
			size := 0
			for _, i := range idx {
				if len(pe) > 0 && size >= maxBytes {
					break
				}
				e := events[i]
				size += recordLen(e)
				pe, seqs = append(pe, e), append(seqs, int64(i))
			}
			var p page
			p, arena = enc.encode(arena, pe, seqs, seqs[len(seqs)-1])
			pages = append(pages, batchPage{org: org, rel: seqs[len(seqs)-1], page: p})
			idx = idx[len(pe):]
		}
	}
	enc.arena = arena
	// Ascending ids append to the table's last leaf.
	slices.SortFunc(pages, func(a, b batchPage) int { return int(a.rel - b.rel) })
	return pages
}

// --- queries

// Events returns the events q selects, ordered by Seq. q.OrgID "" selects
// the events of no org. q.Limit must be positive.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]*store.Event, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("sqlite: events: limit %d, want > 0", q.Limit)
	}
	if q.Descending {
		return s.eventsNewestFirst(ctx, q)
	}
	query, args := eventsQuery(q)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	defer rows.Close()
	f := newEventFilter(q)
	var out []*store.Event
	for len(out) < q.Limit && rows.Next() {
		var id int64
		var types, events sql.RawBytes
		if err := rows.Scan(&id, &types, &events); err != nil {
			return nil, fmt.Errorf("sqlite: events: %w", err)
		}
		err := readPage(id, q.OrgID, types, events, &f, func(e *store.Event) bool {
			out = append(out, e)
			return len(out) < q.Limit
		})
		if err != nil {
			return nil, fmt.Errorf("sqlite: events: page %d: %w", id, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	return out, nil
}

// eventsNewestFirst is Events with q.Descending. An org's pages hold
// disjoint runs of Seqs and a page's id is its newest Seq, so the pages
// with id < BeforeSeq hold only older events, and of the others only the
// lowest may hold some (the page BeforeSeq falls in). It reads that one
// page, then the older pages newest first, each page's events reversed.
func (s *Store) eventsNewestFirst(ctx context.Context, q store.EventQuery) ([]*store.Event, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	defer tx.Rollback()
	f := newEventFilter(q)
	var out []*store.Event
	read := func(query string, args []any) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for len(out) < q.Limit && rows.Next() {
			var id int64
			var types, events sql.RawBytes
			if err := rows.Scan(&id, &types, &events); err != nil {
				return err
			}
			var page []*store.Event
			if err := readPage(id, q.OrgID, types, events, &f, func(e *store.Event) bool {
				page = append(page, e)
				return true
			}); err != nil {
				return fmt.Errorf("page %d: %w", id, err)
			}
			for i := len(page) - 1; i >= 0 && len(out) < q.Limit; i-- {
				out = append(out, page[i])
			}
		}
		return rows.Err()
	}
	if q.BeforeSeq > 0 {
		if err := read(eventsNewestQuery(q, true)); err != nil {
			return nil, fmt.Errorf("sqlite: events: %w", err)
		}
	}
	if len(out) < q.Limit {
		if err := read(eventsNewestQuery(q, false)); err != nil {
			return nil, fmt.Errorf("sqlite: events: %w", err)
		}
	}
	return out, nil
}

// eventsNewestQuery selects, newest first, the pages below q.BeforeSeq
// (all when it is 0), or with straddle the one page BeforeSeq may fall in.
func eventsNewestQuery(q store.EventQuery, straddle bool) (string, []any) {
	var b strings.Builder
	before := q.BeforeSeq
	if before <= 0 {
		before = math.MaxInt64
	}
	args := []any{q.OrgID, q.AfterSeq, before}
	idCol := "id"
	if q.EventType == "" {
		b.WriteString(`SELECT id, types, events FROM event_pages INDEXED BY event_pages_by_org WHERE org_id = ?1 AND id > ?2`)
	} else {
		args = append(args, q.EventType)
		idCol = "t.page_id"
		b.WriteString(`SELECT p.id, p.types, p.events FROM event_page_types t
			CROSS JOIN event_pages p ON p.id = t.page_id
			WHERE t.org_id = ?1 AND t.event_type = ?4 AND t.page_id > ?2`)
	}
	p := ""
	if q.EventType != "" {
		p = "p."
	}
	if !q.Since.IsZero() {
		args = append(args, clampNanos(q.Since))
		fmt.Fprintf(&b, ` AND %smax_published >= ?%d`, p, len(args))
	}
	if !q.Until.IsZero() {
		args = append(args, clampNanos(q.Until))
		fmt.Fprintf(&b, ` AND %smin_published < ?%d`, p, len(args))
	}
	if straddle {
		fmt.Fprintf(&b, ` AND %s >= ?3 ORDER BY %s LIMIT 1`, idCol, idCol)
	} else {
		fmt.Fprintf(&b, ` AND %s < ?3 ORDER BY %s DESC`, idCol, idCol)
	}
	return b.String(), args
}

// eventsQuery returns the SELECT of the pages that may hold events q
// selects, in id order, and its arguments. Which index it reads is chosen
// here rather than left to SQLite's planner, which knows nothing of how
// pages and times relate:
//   - after a Seq, or with no time bound: the org's pages (of the type)
//     from that Seq on, in order, so reading stops at the limit;
//   - else since a time: the pages holding an event published since;
//   - else until a time: the pages holding one published before.
//
// The last two sort the matching ids (not the pages) first.
func eventsQuery(q store.EventQuery) (string, []any) {
	var b strings.Builder
	args := []any{q.OrgID, q.AfterSeq}
	bounds := func(p string) {
		if !q.Since.IsZero() {
			args = append(args, clampNanos(q.Since))
			fmt.Fprintf(&b, ` AND %smax_published >= ?%d`, p, len(args))
		}
		if !q.Until.IsZero() {
			args = append(args, clampNanos(q.Until))
			fmt.Fprintf(&b, ` AND %smin_published < ?%d`, p, len(args))
		}
	}
	switch {
	case q.AfterSeq > 0 || (q.Since.IsZero() && q.Until.IsZero()):
		if q.EventType == "" {
			b.WriteString(`SELECT id, types, events FROM event_pages INDEXED BY event_pages_by_org
				WHERE org_id = ?1 AND id > ?2`)
			bounds("")
			b.WriteString(` ORDER BY id`)
			break
		}
		args = append(args, q.EventType)
		b.WriteString(`SELECT p.id, p.types, p.events FROM event_page_types t
			CROSS JOIN event_pages p ON p.id = t.page_id
			WHERE t.org_id = ?1 AND t.event_type = ?3 AND t.page_id > ?2`)
		bounds("p.")
		b.WriteString(` ORDER BY t.page_id`)
	default:
		index := "event_pages_by_org_max_published"
		if q.Since.IsZero() {
			index = "event_pages_by_org_min_published"
		}
		b.WriteString(`SELECT id, types, events FROM event_pages WHERE id IN (
			SELECT id FROM event_pages INDEXED BY ` + index + ` WHERE org_id = ?1 AND id > ?2`)
		bounds("")
		if q.EventType != "" {
			args = append(args, q.EventType)
			fmt.Fprintf(&b, ` AND EXISTS (SELECT 1 FROM event_page_types t
				WHERE t.org_id = ?1 AND t.event_type = ?%d AND t.page_id = event_pages.id)`, len(args))
		}
		b.WriteString(`) ORDER BY id`)
	}
	return b.String(), args
}

// --- pruning

// defaultPruneBatch is about how many events one PruneEvents transaction
// deletes at most (Store.pruneBatch: it stops after the pages that reach
// it), so that a large prune does not hold the write lock (and keep binds
// from recording their outcome) for long.
const defaultPruneBatch = 10_000

// prunePages selects up to ?2 pages holding events published before ?1.
// It walks the org ids with a loose index scan (one seek per org) and
// then event_pages_by_org_min_published per org, so it reads only pages
// it prunes however large the log. A page pruned whole goes; one that
// straddles the cut is rewritten with the events it keeps, and then no
// longer matches.
const prunePages = `WITH RECURSIVE orgs (id) AS (
		SELECT min(org_id) FROM event_pages
		UNION ALL
		SELECT (SELECT min(org_id) FROM event_pages WHERE org_id > orgs.id) FROM orgs WHERE orgs.id IS NOT NULL
	)
	SELECT p.id, p.org_id, p.n FROM orgs
	CROSS JOIN event_pages p INDEXED BY event_pages_by_org_min_published ON p.org_id = orgs.id
	WHERE orgs.id IS NOT NULL AND p.min_published < ?1
	LIMIT ?2`

// PruneEvents deletes the events published before the given time, in
// transactions of about s.pruneBatch events each; if ctx ends midway it
// reports what it deleted so far with ctx's error.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (_ int64, err error) {
	defer func() { err = fullErr(err) }()
	if before.IsZero() {
		return 0, nil
	}
	cut := clampNanos(before)
	var total int64
	for {
		n, more, err := s.pruneOnce(ctx, cut)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

type prunePage struct {
	id, n int64
	org   string
}

// prunePagesAtOnce is how many pages pruneOnce looks up at a time: a
// page holds many events, so a few pages make a transaction's share.
const prunePagesAtOnce = 32

// pruneOnce prunes pages until about s.pruneBatch events are gone, and
// reports whether there may be more to prune.
func (s *Store) pruneOnce(ctx context.Context, cut int64) (int64, bool, error) {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("sqlite: begin: %w", mapErr(err))
	}
	defer sqlTx.Rollback()
	freer := s.uuidFreer(ctx, sqlTx)
	gone := tally{} // what to take off event_counts
	var n int64
	more := true
	for more && n < int64(s.pruneBatch) {
		// Every page holds an event to prune, and a pruned page no longer
		// matches: each look-up finds the next pages.
		limit := min(prunePagesAtOnce, s.pruneBatch)
		pages, err := prunablePages(ctx, sqlTx, cut, limit)
		if err != nil {
			return 0, false, fmt.Errorf("sqlite: prune events: %w", err)
		}
		more = len(pages) == limit
		for _, p := range pages {
			d, err := prunePageTx(ctx, sqlTx, freer, gone, p, cut)
			if err != nil {
				return 0, false, fmt.Errorf("sqlite: prune events: page %d: %w", p.id, err)
			}
			n += d
		}
	}
	if err := freer.flush(ctx, sqlTx); err != nil {
		return 0, false, fmt.Errorf("sqlite: prune events: free UUIDs: %w", err)
	}
	if err := gone.subtractFrom(ctx, sqlTx); err != nil {
		return 0, false, fmt.Errorf("sqlite: prune events: counts: %w", err)
	}
	if err := sqlTx.Commit(); err != nil {
		return 0, false, fmt.Errorf("sqlite: commit: %w", mapErr(err))
	}
	return n, more, nil
}

func prunablePages(ctx context.Context, tx *sql.Tx, cut int64, limit int) ([]prunePage, error) {
	rows, err := tx.QueryContext(ctx, prunePages, cut, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var pages []prunePage
	for rows.Next() {
		var p prunePage
		if err := rows.Scan(&p.id, &p.org, &p.n); err != nil {
			return nil, err
		}
		pages = append(pages, p)
	}
	return pages, rows.Err()
}

// prunePageTx deletes the events of page p published before cut, frees
// their UUIDs and counts them into gone; it returns how many it deleted.
func prunePageTx(ctx context.Context, tx *sql.Tx, freer *uuidFreer, gone tally, p prunePage, cut int64) (int64, error) {
	var types, blob []byte
	if err := tx.QueryRowContext(ctx, `SELECT types, events FROM event_pages WHERE id = ?`, p.id).Scan(&types, &blob); err != nil {
		return 0, err
	}
	events, err := decodePage(p.id, p.org, types, blob)
	if err != nil {
		return 0, err
	}
	if int64(len(events)) != p.n {
		return 0, fmt.Errorf("%w: %d events, the row says %d", errCorruptPage, len(events), p.n)
	}
	keep := slices.DeleteFunc(slices.Clone(events), func(e *store.Event) bool { return e.Published.UnixNano() < cut })
	pruned := slices.DeleteFunc(events, func(e *store.Event) bool { return e.Published.UnixNano() >= cut })
	if err := freer.free(pruned); err != nil {
		return 0, err
	}
	for _, e := range pruned {
		gone.add(e)
	}
	oldTypes, err := decodeTypes(types)
	if err != nil {
		return 0, err
	}
	var keptTypes []string
	if len(keep) == 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM event_pages WHERE id = ?`, p.id); err != nil {
			return 0, err
		}
	} else {
		np := encodeStored(keep, p.id)
		keptTypes = np.typeNames
		if _, err := tx.ExecContext(ctx, `UPDATE event_pages SET n = ?, min_published = ?, max_published = ?, types = ?, events = ?
			WHERE id = ?`, np.n, np.minPub, np.maxPub, np.types, np.events, p.id); err != nil {
			return 0, err
		}
	}
	for _, t := range oldTypes {
		if slices.Contains(keptTypes, t) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM event_page_types WHERE org_id = ? AND event_type = ? AND page_id = ?`,
			p.org, t, p.id); err != nil {
			return 0, err
		}
	}
	return int64(len(pruned)), nil
}

// clampNanos is t in unix nanoseconds, clamped to the range nanos can
// store, for use as a bound.
func clampNanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// --- migration

// packEvents is migration 4's step in Go: it moves the events of the
// table events (schema version 3, a row per event) into pages, keeping
// their Seqs, and drops the table. event_seq is set by the SQL before.
func packEvents(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT seq, uuid, published, org_id, event_type, outcome, actor_id, target_id, doc
		FROM events ORDER BY org_id, seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var page []*store.Event
	size := 0
	flush := func() error {
		if len(page) == 0 {
			return nil
		}
		if err := insertPackedPage(ctx, tx, page); err != nil {
			return err
		}
		page, size = nil, 0
		return nil
	}
	for rows.Next() {
		var e store.Event
		var pub int64
		if err := rows.Scan(&e.Seq, &e.UUID, &pub, &e.OrgID, &e.EventType, &e.Outcome, &e.ActorID, &e.TargetID, &e.Doc); err != nil {
			return err
		}
		e.Published = time.Unix(0, pub)
		if len(page) > 0 && page[0].OrgID != e.OrgID {
			if err := flush(); err != nil {
				return err
			}
		}
		page = append(page, &e)
		size += recordLen(&e)
		if size >= defaultPageBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	rows.Close()
	if err := packUUIDs(ctx, tx); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE events`)
	return err
}

// insertPackedPage writes one page of stored events of one org, with
// its types.
func insertPackedPage(ctx context.Context, tx *sql.Tx, events []*store.Event) error {
	id, org := events[len(events)-1].Seq, events[0].OrgID
	p := encodeStored(events, id)
	if _, err := tx.ExecContext(ctx, insertPage, id, org, p.n, p.minPub, p.maxPub, p.types, p.events); err != nil {
		return err
	}
	for _, t := range p.typeNames {
		if _, err := tx.ExecContext(ctx, insertPageType, org, t, id); err != nil {
			return err
		}
	}
	return nil
}
