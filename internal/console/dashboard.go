package console

import (
	"fmt"
	"net/http"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
)

// The dashboard: people by status, groups, the last day's sign-ins as a
// small chart, and the newest events.

type dashboardData struct {
	Counts  []statusCount
	Total   int
	Groups  int
	SignIns signInChart
	Events  []eventRow
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, q *request) error {
	counts, err := s.dir.UserCounts(q.ctx, q.p.Org.Name)
	if err != nil {
		return err
	}
	d := dashboardData{}
	for _, st := range statuses {
		d.Counts = append(d.Counts, statusCount{st, counts[st]})
		d.Total += counts[st]
	}
	gs, err := s.dir.Groups(q.ctx, q.p.Org.Name)
	if err != nil {
		return err
	}
	d.Groups = len(gs)
	// The last 24 hours: the 23 whole hours before this one, and this one
	// so far (one read of the store's counts, however many sign-ins).
	now := s.now().UTC()
	stats, err := s.dir.SignInStats(q.ctx, q.p.Org.Name, now.Truncate(time.Hour).Add(-(chartHours-1)*time.Hour), now)
	if err != nil {
		return err
	}
	d.SignIns = newSignInChart(stats, now)
	if d.Events, err = s.recentEvents(q, 10); err != nil {
		return err
	}
	s.render(w, http.StatusOK, "dashboard", s.view(q, "Dashboard", "dashboard", d))
	return nil
}

// The chart of sign-ins is an inline SVG (no script, no inline style: the
// CSP allows neither) whose geometry is worked out here, in the units of
// its viewBox: a slot of slotW per hour holding two bars of barW,
// successes then failures, up to barsH tall over a baseline 1 high. The
// SVG stretches to the page's width at a fixed height
// (preserveAspectRatio="none"), so its text, which would stretch too, is
// in the HTML around it.
const (
	chartHours = 24
	slotW      = 20
	barW       = 8
	barsH      = 100
	// minBarH keeps a figure that is not zero visible next to a large one.
	minBarH = 2
	// axisEvery is how many hours apart the axis labels are.
	axisEvery = 6
)

// signInChart is the dashboard's chart of the last 24 hours' sign-ins.
type signInChart struct {
	Hours                       []chartHour
	Successes, Failures, Denied int64 // the totals
	Max                         int64 // the figure of the tallest bar: the scale
	// Summary says what the chart shows, for screen readers (its
	// aria-label); the page says the totals in words too.
	Summary string
	// Axis labels every axisEvery hours, from the first.
	Axis []string
	// Width and Height are the viewBox's, SlotW an hour's; BaseY is the
	// baseline's top.
	Width, Height, SlotW, BaseY int
}

// chartHour is one hour of the chart: its figures and bars.
type chartHour struct {
	Label                       string // "13:00–14:00 UTC"
	Successes, Failures, Denied int64
	SlotX                       int // the slot's left edge
	OK, Bad                     chartBar
}

// chartBar is a bar's rectangle; H is 0 for a figure of 0 (no bar).
type chartBar struct{ X, Y, W, H int }

// newSignInChart lays out stats (oldest first, the last hour that of now).
func newSignInChart(stats []directory.HourStat, now time.Time) signInChart {
	c := signInChart{Width: len(stats) * slotW, Height: barsH + 1, SlotW: slotW, BaseY: barsH}
	var peak directory.HourStat
	for _, h := range stats {
		c.Successes += h.Successes
		c.Failures += h.Failures
		c.Denied += h.Denied
		c.Max = max(c.Max, h.Successes, h.Failures)
		if h.Successes+h.Failures > peak.Successes+peak.Failures {
			peak = h
		}
	}
	for i, h := range stats {
		x := i * slotW
		ch := chartHour{Label: hourLabel(h.Start, now), Successes: h.Successes, Failures: h.Failures, Denied: h.Denied, SlotX: x,
			OK: c.bar(x+2, h.Successes), Bad: c.bar(x+2+barW+1, h.Failures)}
		c.Hours = append(c.Hours, ch)
		if i%axisEvery == 0 {
			c.Axis = append(c.Axis, h.Start.Format("15:04"))
		}
	}
	c.Summary = fmt.Sprintf("Bar chart of sign-ins per hour over the last 24 hours (UTC): %d successful, %d failed", c.Successes, c.Failures)
	if peak.Successes+peak.Failures > 0 {
		c.Summary += fmt.Sprintf("; the busiest hour, %s, had %d successful and %d failed",
			hourLabel(peak.Start, now), peak.Successes, peak.Failures)
	}
	return c
}

// bar is the bar of figure n at x, scaled to c.Max.
func (c *signInChart) bar(x int, n int64) chartBar {
	b := chartBar{X: x, W: barW}
	if n > 0 && c.Max > 0 {
		b.H = max(int((n*barsH*2+c.Max)/(c.Max*2)), minBarH) // rounded
	}
	b.Y = barsH - b.H
	return b
}

// hourLabel names the hour starting at start: "13:00–14:00 UTC", and the
// hour of now "12:00 UTC–now".
func hourLabel(start, now time.Time) string {
	end := start.Add(time.Hour)
	if end.After(now) {
		return start.Format("15:04") + " UTC–now"
	}
	return start.Format("15:04") + "–" + end.Format("15:04") + " UTC"
}
