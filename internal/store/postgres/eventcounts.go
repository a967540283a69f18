package postgres

import (
	"fmt"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// EventCounts sums the rows of event_counts (kept by AppendEvents and
// PruneEvents, events.go) of the org, the types and the minutes of q,
// grouped by bucket and outcome: it reads about one row per type, outcome
// and minute of the range, whatever the number of events. Within a View
// it counts as of the View's snapshot, as the counts change in the
// transactions that change the log.
func (r *reader) EventCounts(q store.EventCountQuery) ([]store.EventBucket, error) {
	if err := store.CheckEventCountQuery(q); err != nil {
		return nil, err
	}
	since, width := unixMinute(q.Since), int64(q.Width/time.Minute)
	rows, err := r.tx.Query(r.ctx, `SELECT (minute - $1) / $2 AS bucket, outcome, sum(n)::bigint FROM event_counts
		WHERE org_id = $3 AND event_type = ANY ($4) AND minute >= $1 AND minute < $5
		GROUP BY bucket, outcome HAVING sum(n) > 0 ORDER BY bucket, outcome`,
		since, width, q.OrgID, q.EventTypes, unixMinute(q.Until))
	if err != nil {
		return nil, fmt.Errorf("postgres: event counts: %w", err)
	}
	defer rows.Close()
	var out []store.EventBucket
	for rows.Next() {
		var b store.EventBucket
		var i int64
		if err := rows.Scan(&i, &b.Outcome, &b.Count); err != nil {
			return nil, fmt.Errorf("postgres: event counts: %w", err)
		}
		b.Start = time.Unix((since+i*width)*60, 0).UTC()
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: event counts: %w", err)
	}
	return out, nil
}

// unixMinute is t, a whole minute, in unix minutes.
func unixMinute(t time.Time) int64 {
	s := t.Unix()
	m := s / 60
	if s%60 < 0 {
		m--
	}
	return m
}
