package console_test

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/console"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// TestDashboardSignInChart: the dashboard shows the last 24 hours' sign-ins
// (LDAP binds and console sign-ins) as totals in words and an inline SVG
// chart of 24 hours, each with a title, the bars of this hour scaled to
// the tallest, and a table of the figures; nothing in it needs inline
// style or script.
func TestDashboardSignInChart(t *testing.T) {
	f := newFixture(t)
	b := f.browser(t)
	start := time.Now()
	b.signIn("admin", "admin-Password-1") // a success, by the console
	o, err := f.d.Org(ctx, "example")
	if err != nil {
		t.Fatal(err)
	}
	bind := func(login, pw string) error {
		_, err := f.d.Authenticate(ctx, directory.AuthRequest{OrgID: o.ID, Login: login, Password: []byte(pw),
			Client: directory.ClientInfo{IP: "192.0.2.10", TLS: true, Protocol: "ldap"}})
		return err
	}
	for _, s := range []struct {
		login, pw string
		ok        bool
	}{
		{"carol", "carol-Password-1", true},
		{"app-svc", "app-svc-Password-1", true},
		{"carol", "wrong", false},
		{"carol", "carol-Password-1", true},
		{"nobody", "whatever-1", false},
	} {
		if err := bind(s.login, s.pw); (err == nil) != s.ok {
			t.Fatalf("bind as %s: %v", s.login, err)
		}
	}
	// A failed console sign-in counts too.
	other := f.browser(t)
	_, page, _ := other.get("/console/signin")
	other.post("/console/signin", url.Values{"csrf": {csrfOf(t, page)}, "org": {"example"}, "login": {"viewer"}, "password": {"wrong"}})
	if err := f.d.Close(); err != nil { // writes the queued events
		t.Fatal(err)
	}

	code, page, h := b.get("/console/")
	if code != 200 {
		t.Fatalf("dashboard: %d\n%s", code, page)
	}
	// Sign-ins of the hour before, if one began since, are in its bars.
	oneHour := start.Truncate(time.Hour).Equal(time.Now().Truncate(time.Hour))
	for _, want := range []string{
		"Binds and failures in the last 24 h",
		"<strong>4</strong> successful sign-ins, <strong>3</strong> failed in the last 24 h",
		`role="img" aria-label="Bar chart of sign-ins per hour over the last 24 hours (UTC): 4 successful, 3 failed; the busiest hour, `,
		`preserveAspectRatio="none"`, `viewBox="0 0 480 101"`, `width="100%"`,
		"<summary>Sign-ins by hour (UTC)</summary>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the dashboard lacks %q:\n%s", want, page)
		}
	}
	svg := page[strings.Index(page, "<svg"):strings.Index(page, "</svg>")]
	if n := strings.Count(svg, "<g>"); n != 24 {
		t.Errorf("%d hours in the chart, want 24", n)
	}
	if n := strings.Count(svg, "<title>"); n != 24+2 {
		t.Errorf("%d titles, want one per hour and per bar (26)", n)
	}
	// The CSP allows neither inline style nor script: the chart uses none.
	if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	for _, bad := range []string{" style=", "<style", "<script"} {
		if strings.Contains(page, bad) {
			t.Errorf("the dashboard holds %q", bad)
		}
	}
	if n := strings.Count(page, "<tr><td>"); n != 24 {
		t.Errorf("%d rows in the table of hours, want 24", n)
	}

	if !oneHour {
		t.Log("an hour began during the test: not checking the bars")
		return
	}
	if !strings.Contains(svg, "UTC–now: 4 successful, 3 failed</title>") {
		t.Errorf("no title of this hour's figures:\n%s", svg)
	}
	// Every sign-in was this hour: its two bars, in the last slot, the
	// successes as tall as the chart and the failures scaled to them.
	rects := regexp.MustCompile(`<rect class="(ok|bad)" x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"`).FindAllStringSubmatch(svg, -1)
	want := [][]string{{"ok", "462", "0", "8", "100"}, {"bad", "471", "25", "8", "75"}}
	if len(rects) != len(want) {
		t.Fatalf("bars %q, want %q", rects, want)
	}
	for i, r := range rects {
		if strings.Join(r[1:], " ") != strings.Join(want[i], " ") {
			t.Errorf("bar %d: %q, want %q", i, r[1:], want[i])
		}
	}
	if !regexp.MustCompile(`<tr><td>\d\d:00 UTC–now</td><td>4</td><td>3</td><td>0</td></tr>`).MatchString(page) {
		t.Errorf("no row for this hour with its figures:\n%s", page)
	}
}

// testClock is a clock the test sets and servers read.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// clockedFixture is newFixture's org, admin and user with a clock the
// directory and the console share.
func clockedFixture(t *testing.T, clk *testClock) *fixture {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "dirgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := directory.New(directory.Config{Store: st, Password: password.Params{Memory: 64, Time: 1, Threads: 1}, LoginFlushInterval: time.Hour, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(); st.Close() })
	if _, err := d.CreateOrg(ctx, directory.OrgInput{Name: "example"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ login, role string }{{"admin", directory.RoleOrgAdmin}, {"carol", ""}} {
		in := directory.UserInput{Profile: directory.Profile{Login: u.login}, Password: []byte(u.login + "-Password-1")}
		if u.role != "" {
			in.Roles = []string{u.role}
		}
		if _, err := d.CreateUser(ctx, "example", in); err != nil {
			t.Fatal(err)
		}
	}
	s, err := console.New(console.Config{Directory: d, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{d: d, srv: httptest.NewTLSServer(s.Handler())}
	t.Cleanup(f.srv.Close)
	return f
}

// TestDashboardChartHours: sign-ins of different hours of the last 24
// land in their hours' bars, scaled to the busiest figure; older ones
// are not counted.
func TestDashboardChartHours(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 30, 0, 0, time.UTC)
	clk := &testClock{t: now}
	f := clockedFixture(t, clk)
	o, err := f.d.Org(ctx, "example")
	if err != nil {
		t.Fatal(err)
	}
	first := now.Truncate(time.Hour).Add(-23 * time.Hour) // 13:00 the day before
	for _, s := range []struct {
		at     time.Time
		n      int
		pw     string
		failed bool
	}{
		{first.Add(-time.Minute), 7, "carol-Password-1", false}, // 25 hours ago: not counted
		{first.Add(5 * time.Minute), 10, "carol-Password-1", false},
		{first.Add(12*time.Hour + 59*time.Minute), 2, "wrong", true},
		{now.Add(-10 * time.Minute), 5, "carol-Password-1", false},
		{now.Add(-9 * time.Minute), 1, "wrong", true},
	} {
		clk.set(s.at)
		for range s.n {
			_, err := f.d.Authenticate(ctx, directory.AuthRequest{OrgID: o.ID, Login: "carol", Password: []byte(s.pw),
				Client: directory.ClientInfo{IP: "192.0.2.10", Protocol: "ldap"}})
			if (err != nil) != s.failed {
				t.Fatalf("bind at %v: %v", s.at, err)
			}
		}
	}
	clk.set(now)
	b := f.browser(t)
	b.signIn("admin", "admin-Password-1")
	if err := f.d.Close(); err != nil { // writes the queued events
		t.Fatal(err)
	}
	_, page, _ := b.get("/console/")
	if !strings.Contains(page, "<strong>16</strong> successful sign-ins, <strong>3</strong> failed in the last 24 h") {
		t.Errorf("totals:\n%s", page)
	}
	if !strings.Contains(page, "the busiest hour, 13:00–14:00 UTC, had 10 successful and 0 failed") {
		t.Errorf("no busiest hour in the chart's label:\n%s", page)
	}
	if !strings.Contains(page, `<div class="chart-axis" aria-hidden="true"><span>13:00</span><span>19:00</span><span>01:00</span><span>07:00</span></div>`) {
		t.Errorf("axis labels:\n%s", page)
	}
	var got []string
	for _, r := range regexp.MustCompile(`<rect class="(ok|bad)" x="(\d+)" y="\d+" width="\d+" height="(\d+)"`).FindAllStringSubmatch(page, -1) {
		got = append(got, fmt.Sprintf("%s@%s:%s", r[1], r[2], r[3]))
	}
	// Slots of 20: hour 0 at 0, hour 12 at 240, hour 23 at 460; the
	// successes' bar 2 in, the failures' 11.
	want := []string{"ok@2:100", "bad@251:20", "ok@462:60", "bad@471:10"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("bars %q, want %q", got, want)
	}
	for _, row := range []string{
		"<tr><td>13:00–14:00 UTC</td><td>10</td><td>0</td><td>0</td></tr>",
		"<tr><td>01:00–02:00 UTC</td><td>0</td><td>2</td><td>0</td></tr>",
		"<tr><td>12:00 UTC–now</td><td>6</td><td>1</td><td>0</td></tr>",
	} {
		if !strings.Contains(page, row) {
			t.Errorf("no row %q:\n%s", row, page)
		}
	}
}
