package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/store"

	"github.com/jackc/pgx/v5"
)

// The system log: a row per event in events, and per-minute counts in
// event_counts (eventcounts.go). It is not directory content: its writes
// take neither the writer lock nor a change number.
//
// Seqs come from meta's event_seq row. AppendEvents updates that row
// first, and the row stays locked until the batch commits, so batches get
// their Seqs in commit order: a reader following the log with AfterSeq
// never passes a Seq that commits later (the reason the change sequence
// is handed out under a lock too; postgres.go). The counter never goes
// back, so Seqs are not reused after PruneEvents removed the newest.

// appendEvents writes a batch in one statement (and so one transaction):
// it reserves the Seqs, inserts the events from arrays ($2 to $9, in Seq
// order) and adds their counts. A taken UUID fails it whole with a unique
// violation.
const appendEvents = `WITH s AS (
		UPDATE meta SET value = value + $1 WHERE key = 'event_seq' RETURNING value - $1 AS base
	), ins AS (
		INSERT INTO events (seq, uuid, published, org_id, event_type, outcome, actor_id, target_id, doc)
		SELECT s.base + e.i, e.uuid, e.published, e.org_id, e.event_type, e.outcome, e.actor_id, e.target_id, e.doc
		FROM s, unnest($2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bytea[])
			WITH ORDINALITY AS e (uuid, published, org_id, event_type, outcome, actor_id, target_id, doc, i)
		RETURNING org_id, event_type, outcome, published
	), counted AS (
		INSERT INTO event_counts (org_id, event_type, minute, outcome, n)
		SELECT org_id, event_type, ` + minuteOf + `, outcome, count(*) FROM ins GROUP BY 1, 2, 3, 4
		ON CONFLICT (org_id, event_type, minute, outcome) DO UPDATE SET n = event_counts.n + excluded.n
	)
	SELECT base FROM s`

// minuteOf is an event's minute in event_counts: its published time in
// unix seconds divided by 60, rounded down.
const minuteOf = `floor(extract(epoch FROM published) / 60)::bigint`

// AppendEvents appends the events in one transaction and sets their Seq,
// ascending in slice order. Every event needs a UUID (unique: a taken one
// fails the whole batch with store.ErrConflict) and a Published time.
func (s *Store) appendEvents(ctx context.Context, events []*store.Event) error {
	if len(events) == 0 {
		return nil
	}
	n := len(events)
	uuids, orgs, types, outcomes, actors, targets := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	published, docs := make([]time.Time, n), make([][]byte, n)
	seen := make(map[string]bool, n)
	for i, e := range events {
		switch {
		case e == nil:
			return fmt.Errorf("postgres: append events: event %d is nil", i)
		case e.UUID == "":
			return fmt.Errorf("postgres: append events: event %d has no UUID", i)
		case e.Published.IsZero():
			return fmt.Errorf("postgres: append event %s: no published time", e.UUID)
		case seen[e.UUID]:
			return fmt.Errorf("postgres: append events: %w: UUID %s twice in the batch", store.ErrConflict, e.UUID)
		}
		seen[e.UUID] = true
		uuids[i], orgs[i], types[i], outcomes[i], actors[i], targets[i] = e.UUID, e.OrgID, e.EventType, e.Outcome, e.ActorID, e.TargetID
		published[i] = e.Published
		if len(e.Doc) > 0 {
			docs[i] = e.Doc
		}
	}
	var base int64
	err := s.pool.QueryRow(ctx, appendEvents, n, uuids, published, orgs, types, outcomes, actors, targets, docs).Scan(&base)
	if err != nil {
		return fmt.Errorf("postgres: append events: %w", mapErr(err))
	}
	// Only now: a failed batch leaves the events as they were.
	for i, e := range events {
		e.Seq = base + int64(i) + 1
	}
	return nil
}

const eventCols = `seq, uuid, published, org_id, event_type, outcome, actor_id, target_id, doc`

// Events returns the events q selects, ordered by Seq. q.OrgID ""
// selects the events of no org. q.Limit must be positive.
func (s *Store) events(ctx context.Context, q store.EventQuery) ([]*store.Event, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("postgres: events: limit %d, want > 0", q.Limit)
	}
	query, args := eventsQuery(q)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: events: %w", err)
	}
	defer rows.Close()
	var out []*store.Event
	for rows.Next() {
		e := new(store.Event)
		if err := rows.Scan(&e.Seq, &e.UUID, &e.Published, &e.OrgID, &e.EventType, &e.Outcome, &e.ActorID, &e.TargetID, &e.Doc); err != nil {
			return nil, fmt.Errorf("postgres: events: %w", err)
		}
		e.Published = e.Published.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: events: %w", err)
	}
	return out, nil
}

// eventsQuery returns the SELECT of Events for q with only the conditions
// q sets, so that each shape is planned for what it asks (a generic plan
// of "event_type = $n OR $n is empty" could not use events_by_org_type), and
// its arguments.
func eventsQuery(q store.EventQuery) (string, []any) {
	var b strings.Builder
	b.WriteString(`SELECT ` + eventCols + ` FROM events WHERE org_id = $1`)
	args := []any{q.OrgID}
	cond := func(format string, v any) {
		args = append(args, v)
		fmt.Fprintf(&b, format, len(args))
	}
	if q.AfterSeq > 0 {
		cond(` AND seq > $%d`, q.AfterSeq)
	}
	if q.BeforeSeq > 0 {
		cond(` AND seq < $%d`, q.BeforeSeq)
	}
	if q.EventType != "" {
		cond(` AND event_type = $%d`, q.EventType)
	}
	if !q.Since.IsZero() {
		cond(` AND published >= $%d`, q.Since)
	}
	if !q.Until.IsZero() {
		cond(` AND published < $%d`, q.Until)
	}
	order := "seq"
	if q.Descending {
		order = "seq DESC"
	}
	cond(` ORDER BY `+order+` LIMIT $%d`, q.Limit)
	return b.String(), args
}

// defaultPruneBatch is how many events one PruneEvents transaction
// deletes at most (Store.pruneBatch), so that a large prune does not hold
// the log's lock, and keep appends waiting, for long.
const defaultPruneBatch = 10_000

// pruneEvents deletes up to $2 events published before $1 and takes them
// off their counts. It returns how many it deleted and the keys of the
// counts it brought to zero (deleted next: one statement cannot both
// update and delete a row).
const pruneEvents = `WITH gone AS (
		DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE published < $1 LIMIT $2)
		RETURNING org_id, event_type, outcome, ` + minuteOf + ` AS minute
	), c AS (
		SELECT org_id, event_type, minute, outcome, count(*) AS n FROM gone GROUP BY 1, 2, 3, 4
	), u AS (
		UPDATE event_counts e SET n = e.n - c.n FROM c
		WHERE e.org_id = c.org_id AND e.event_type = c.event_type AND e.minute = c.minute AND e.outcome = c.outcome
		RETURNING e.org_id, e.event_type, e.minute, e.outcome, e.n
	)
	SELECT (SELECT coalesce(sum(n), 0) FROM c)::bigint,
		array_agg(org_id), array_agg(event_type), array_agg(minute), array_agg(outcome)
	FROM u WHERE n <= 0`

const dropCounts = `DELETE FROM event_counts
	WHERE (org_id, event_type, minute, outcome) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]))
		AND n <= 0`

// PruneEvents deletes the events published before the given time, in
// transactions of about s.pruneBatch events each; if ctx ends midway it
// reports what it deleted so far with ctx's error.
func (s *Store) pruneEvents(ctx context.Context, before time.Time) (int64, error) {
	if before.IsZero() {
		return 0, nil
	}
	var total int64
	for {
		n, err := s.pruneOnce(ctx, before)
		total += n
		if err != nil || n < int64(s.pruneBatch) {
			return total, err
		}
	}
}

// pruneOnce deletes up to s.pruneBatch events in one transaction. It
// locks event_seq first, as AppendEvents does, so that appends and prunes
// take the count rows one at a time and never deadlock over them.
func (s *Store) pruneOnce(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(t pgx.Tx) error {
		if _, err := t.Exec(ctx, `SELECT value FROM meta WHERE key = 'event_seq' FOR UPDATE`); err != nil {
			return err
		}
		var orgs, types, outcomes []string
		var minutes []int64
		if err := t.QueryRow(ctx, pruneEvents, before, s.pruneBatch).Scan(&n, &orgs, &types, &minutes, &outcomes); err != nil {
			return err
		}
		if len(orgs) == 0 {
			return nil
		}
		_, err := t.Exec(ctx, dropCounts, orgs, types, minutes, outcomes)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: prune events: %w", err)
	}
	return n, nil
}
