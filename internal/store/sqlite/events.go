package sqlite

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// The system log (table events). It is not directory content: its writes
// record no change and leave the change sequence alone. Event.Seq is the
// table's rowid, handed out by SQLite (AUTOINCREMENT: never reused, so it
// only grows, also across PruneEvents).

const eventCols = `seq, uuid, published, org_id, event_type, outcome, actor_id, target_id, doc`

// AppendEvents appends the events in one write transaction and sets their
// Seq, ascending in slice order. Every event needs a UUID (unique: a
// taken one fails the whole batch with store.ErrConflict) and a Published
// time. Like Update, it must not be called from inside an Update's fn.
//
// One prepared single-row INSERT per event: a multi-row INSERT measured
// slower, since SQLite then keeps a statement journal of every page it
// touches (to undo just that statement on a constraint failure).
func (s *Store) AppendEvents(ctx context.Context, events []*store.Event) error {
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

	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", mapErr(err))
	}
	defer sqlTx.Rollback()
	stmt, err := sqlTx.PrepareContext(ctx, `INSERT INTO events
		(uuid, published, org_id, event_type, outcome, actor_id, target_id, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("sqlite: append events: %w", err)
	}
	seqs := make([]int64, len(events))
	for i, e := range events {
		res, err := stmt.ExecContext(ctx, e.UUID, e.Published.UnixNano(), e.OrgID, e.EventType,
			e.Outcome, e.ActorID, e.TargetID, blob(e.Doc))
		if err != nil {
			return fmt.Errorf("sqlite: append event %s: %w", e.UUID, mapErr(err))
		}
		if seqs[i], err = res.LastInsertId(); err != nil {
			return fmt.Errorf("sqlite: append event %s: %w", e.UUID, err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", mapErr(err))
	}
	// Only now: a failed batch leaves the events as they were.
	for i, e := range events {
		e.Seq = seqs[i]
	}
	return nil
}

// Events returns the events q selects, ordered by Seq. q.OrgID "" selects
// the events of no org. q.Limit must be positive.
func (s *Store) Events(ctx context.Context, q store.EventQuery) ([]*store.Event, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("sqlite: events: limit %d, want > 0", q.Limit)
	}
	query, args := eventsQuery(q)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	defer rows.Close()
	var out []*store.Event
	for rows.Next() {
		var e store.Event
		var published int64
		if err := rows.Scan(&e.Seq, &e.UUID, &published, &e.OrgID, &e.EventType,
			&e.Outcome, &e.ActorID, &e.TargetID, &e.Doc); err != nil {
			return nil, fmt.Errorf("sqlite: events: %w", err)
		}
		e.Published = time.Unix(0, published).UTC()
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: events: %w", err)
	}
	return out, nil
}

// eventsQuery returns the SELECT for q and its arguments. Only the
// filters q sets appear, so SQLite can pick the index that fits.
func eventsQuery(q store.EventQuery) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 6)
	b.WriteString(`SELECT ` + eventCols + ` FROM events WHERE org_id = ?`)
	args = append(args, q.OrgID)
	if q.EventType != "" {
		b.WriteString(` AND event_type = ?`)
		args = append(args, q.EventType)
	}
	if q.AfterSeq > 0 {
		b.WriteString(` AND seq > ?`)
		args = append(args, q.AfterSeq)
	}
	if !q.Since.IsZero() {
		b.WriteString(` AND published >= ?`)
		args = append(args, clampNanos(q.Since))
	}
	if !q.Until.IsZero() {
		b.WriteString(` AND published < ?`)
		args = append(args, clampNanos(q.Until))
	}
	b.WriteString(` ORDER BY seq LIMIT ?`)
	args = append(args, q.Limit)
	return b.String(), args
}

// defaultPruneBatch is how many events one PruneEvents transaction
// deletes at most (Store.pruneBatch), so that a large prune does not hold
// the write lock (and keep binds from recording their outcome) for long.
const defaultPruneBatch = 10_000

// pruneEvents deletes up to ?2 events published before ?1. It walks the
// org ids with a loose index scan of events_by_org (one seek per org) and
// then events_by_org_published per org, so it reads only what it deletes
// however large the log.
const pruneEvents = `DELETE FROM events WHERE seq IN (
	WITH RECURSIVE orgs (id) AS (
		SELECT min(org_id) FROM events
		UNION ALL
		SELECT (SELECT min(org_id) FROM events WHERE org_id > orgs.id) FROM orgs WHERE orgs.id IS NOT NULL
	)
	SELECT e.seq FROM orgs JOIN events e ON e.org_id = orgs.id
	WHERE orgs.id IS NOT NULL AND e.published < ?1
	LIMIT ?2
)`

// PruneEvents deletes the events published before the given time, in
// transactions of at most s.pruneBatch events each; if ctx ends midway it
// reports what it deleted so far with ctx's error.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	if before.IsZero() {
		return 0, nil
	}
	cut := clampNanos(before)
	var total int64
	for {
		n, err := s.pruneOnce(ctx, cut)
		total += n
		if err != nil {
			return total, err
		}
		if n < int64(s.pruneBatch) {
			return total, nil
		}
	}
}

func (s *Store) pruneOnce(ctx context.Context, cut int64) (int64, error) {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: begin: %w", mapErr(err))
	}
	defer sqlTx.Rollback()
	res, err := sqlTx.ExecContext(ctx, pruneEvents, cut, s.pruneBatch)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune events: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune events: %w", err)
	}
	if err := sqlTx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: commit: %w", mapErr(err))
	}
	return n, nil
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
