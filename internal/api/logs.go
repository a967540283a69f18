package api

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
)

// The system log: /api/v1/logs, Okta's LogEvent documents as stored.

const (
	logsDefaultLimit = 100
	logsMaxLimit     = directory.MaxEventsPage
)

func (s *Server) listLogs(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	limit, err := limitParam(r, logsDefaultLimit, logsMaxLimit)
	if err != nil {
		return err
	}
	var ef directory.EventFilter
	if ef.Since, err = timeParam(r, "since"); err != nil {
		return err
	}
	if ef.Until, err = timeParam(r, "until"); err != nil {
		return err
	}
	switch strings.ToUpper(q.Get("sortOrder")) {
	case "", "ASCENDING":
	case "DESCENDING":
		ef.Descending = true
	default:
		return validation("sortOrder", "sortOrder is ASCENDING or DESCENDING, not "+strconv.Quote(q.Get("sortOrder")))
	}
	var cursor int64
	if a := q.Get("after"); a != "" {
		if cursor, err = strconv.ParseInt(a, 10, 64); err != nil || cursor < 0 {
			return validation("after", "after is the cursor of a Link rel=\"next\", not "+strconv.Quote(a))
		}
	}
	// The cursor is the last event a page held: newer ones follow it
	// ascending, older ones descending.
	if ef.Descending {
		ef.BeforeSeq = cursor
	} else {
		ef.AfterSeq = cursor
	}
	match, err := s.eventMatcher(r, &ef)
	if err != nil {
		return err
	}
	// Read pages until limit events match or the log ends.
	var out []*directory.StoredEvent
	last := cursor
	for {
		ef.Limit = logsMaxLimit
		evs, err := s.dir.Events(c.ctx, c.org, ef)
		if err != nil {
			return err
		}
		for _, e := range evs {
			last = e.Seq
			if ef.Descending {
				ef.BeforeSeq = e.Seq
			} else {
				ef.AfterSeq = e.Seq
			}
			if match == nil || match(e) {
				out = append(out, e)
				if len(out) == limit {
					break
				}
			}
		}
		if len(out) == limit || len(evs) < logsMaxLimit {
			break
		}
	}
	// Polling (Okta): ascending without until, there is always a next link,
	// from the last event read; a client follows it to get what happens
	// next. Newest first ends with the oldest.
	next := ""
	if len(out) == limit || (ef.Until.IsZero() && !ef.Descending) {
		next = strconv.FormatInt(last, 10) // the last event read
	}
	var body bytes.Buffer
	body.WriteByte('[')
	for i, e := range out {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(e.Doc)
	}
	body.WriteString("]\n")
	s.setLinks(w, r, next)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(body.Bytes())
	return nil
}

// timeParam reads an ISO 8601 (RFC 3339) time parameter.
func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, validation(name, name+" must be an ISO 8601 time such as 2026-12-01T00:00:00.000Z, not "+strconv.Quote(v))
	}
	return t, nil
}
