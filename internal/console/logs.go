package console

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
)

// The system log, newest first: filter by time, event type, user and
// outcome; each event expands to its whole document.

const logPage = 50

type logsData struct {
	Since, Until, Type, User, Outcome string
	Events                            []eventRow
	Next                              string
}

type eventRow struct {
	Published, Type, Message, Actor, Target, Outcome, Reason, Doc string
}

func eventRowOf(e *directory.StoredEvent) eventRow {
	row := eventSummary(e)
	row.Doc = prettyDoc(e)
	return row
}

// eventSummary is an event's row without its document.
func eventSummary(e *directory.StoredEvent) eventRow {
	row := eventRow{Published: e.Published.UTC().Format("2006-01-02 15:04:05 UTC"), Type: e.EventType, Outcome: e.Outcome}
	var le directory.LogEvent
	if json.Unmarshal(e.Doc, &le) == nil {
		row.Message, row.Actor, row.Reason = le.DisplayMessage, le.Actor.AlternateID, le.Outcome.Reason
		var ts []string
		for _, t := range le.Target {
			ts = append(ts, t.DisplayName)
		}
		row.Target = strings.Join(ts, ", ")
	}
	return row
}

// prettyDoc is an event's document, indented.
func prettyDoc(e *directory.StoredEvent) string {
	var pretty strings.Builder
	var v any
	if json.Unmarshal(e.Doc, &v) == nil {
		enc := json.NewEncoder(&pretty)
		enc.SetIndent("", "  ")
		enc.Encode(v)
	}
	return pretty.String()
}

// recentEvents returns up to n of the org's newest events.
func (s *Server) recentEvents(q *request, n int) ([]eventRow, error) {
	evs, err := s.dir.Events(q.ctx, q.p.Org.Name, directory.EventFilter{Descending: true, Limit: n})
	if err != nil {
		return nil, err
	}
	rows := make([]eventRow, len(evs))
	for i, e := range evs {
		rows[i] = eventRowOf(e)
	}
	return rows, nil
}

// parseLocal reads a datetime-local input (UTC).
func parseLocal(v string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func (s *Server) logs(w http.ResponseWriter, r *http.Request, q *request) error {
	qv := r.URL.Query()
	d := logsData{Since: qv.Get("since"), Until: qv.Get("until"), Type: strings.TrimSpace(qv.Get("type")),
		User: strings.TrimSpace(qv.Get("user")), Outcome: qv.Get("outcome")}
	ef := directory.EventFilter{Descending: true, Limit: directory.MaxEventsPage, EventType: d.Type}
	var problems []string
	if d.Since != "" {
		t, ok := parseLocal(d.Since)
		if !ok {
			problems = append(problems, "“From” is not a time")
		}
		ef.Since = t
	}
	if d.Until != "" {
		t, ok := parseLocal(d.Until)
		if !ok {
			problems = append(problems, "“To” is not a time")
		}
		ef.Until = t
	}
	if b := qv.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			problems = append(problems, "the page cursor is not valid")
		}
		ef.BeforeSeq = n
	}
	v := s.view(q, "System log", "logs", &d)
	if len(problems) > 0 {
		v.Error = strings.Join(problems, "; ") + "."
		s.render(w, http.StatusBadRequest, "logs", v)
		return nil
	}
	// One read a page: the newest events of the selection, of which user
	// and outcome (matched here) keep some. When they keep less than a
	// page, the page ends where the read did and its Older link goes on
	// from there: a rare match never walks the whole log in one request.
	filtered := d.User != "" || d.Outcome != ""
	if !filtered {
		ef.Limit = logPage + 1 // the one more tells whether there is an older page
	}
	evs, err := s.dir.Events(q.ctx, q.p.Org.Name, ef)
	if err != nil {
		return err
	}
	looked := 0 // how many of evs the page looked at
	for _, e := range evs {
		if len(d.Events) == logPage {
			break
		}
		looked++
		if d.Outcome != "" && e.Outcome != d.Outcome {
			continue
		}
		row := eventSummary(e)
		if d.User != "" && !strings.EqualFold(row.Actor, d.User) && !strings.Contains(strings.ToLower(row.Target), strings.ToLower(d.User)) {
			continue
		}
		row.Doc = prettyDoc(e)
		d.Events = append(d.Events, row)
	}
	if looked > 0 && (looked < len(evs) || len(evs) == ef.Limit) {
		d.Next = strconv.FormatInt(evs[looked-1].Seq, 10) // older events may match
	}
	s.render(w, http.StatusOK, "logs", v)
	return nil
}
