package directory_test

import (
	"context"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store"
)

// TestSignInStats: sign-ins at different times of a fake clock land in
// their hours, successes apart from every other outcome (DENY counted as
// a failure and as denied); hours without any are there with zeros; the
// range is whole hours of UTC; it reads the store once.
func TestSignInStats(t *testing.T) {
	var cs *countingStore
	a := newAuditDir(t, func(st store.Store) store.Store { cs = &countingStore{Store: st}; return cs }, directory.Config{})
	ctx := context.Background()
	mustUser(t, a.d, "alice", "password-alice", "")
	mustUser(t, a.d, "carol", "password-carol", "")
	ok(a.d.CreateGroup(ctx, "example", directory.GroupInput{Name: "contractors"}))(t)
	ok(a.d.AddMember(ctx, "example", "contractors", "carol"))(t)
	ok(a.d.ApplyPolicies(ctx, "example", parse(t, `
kind: sign-on
name: Contractors
priority: 1
people: {groups: {include: [contractors]}}
rules: [{name: Deny, priority: 1, action: deny}]
`), directory.PolicyUpsert))(t)

	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range []struct {
		at        time.Duration // after midnight of Dec 1
		login, pw string
	}{
		{-12*time.Hour - 30*time.Minute, "alice", "password-alice"}, // 11:30 the day before: outside
		{-10*time.Hour - 50*time.Minute, "alice", "password-alice"}, // 13:10 the day before: the first hour
		{9*time.Hour + 15*time.Minute, "alice", "password-alice"},
		{9*time.Hour + 40*time.Minute, "alice", "wrong-password"},
		{10*time.Hour + 5*time.Minute, "alice", "password-alice"},
		{10*time.Hour + 6*time.Minute, "alice", "password-alice"},
		{10*time.Hour + 30*time.Minute, "carol", "password-carol"}, // denied by the policy
		{11*time.Hour + 59*time.Minute + 59*time.Second, "nobody", "password"},
		{12 * time.Hour, "alice", "password-alice"},
	} {
		a.clk.t = day.Add(s.at)
		a.auth(s.login, s.pw)
	}
	a.d.Close() // writes the queued events

	now := day.Add(12*time.Hour + 30*time.Minute)
	since := now.Truncate(time.Hour).Add(-23 * time.Hour) // the console's last 24 hours
	v := cs.views.Load()
	stats, err := a.d.SignInStats(ctx, "example", since, now)
	if err != nil {
		t.Fatal(err)
	}
	if n := cs.views.Load() - v; n != 1 {
		t.Errorf("SignInStats read the store %d times, want once", n)
	}
	if len(stats) != 24 {
		t.Fatalf("%d hours, want 24: %+v", len(stats), stats)
	}
	want := map[int]directory.HourStat{
		0:  {Successes: 1},
		20: {Successes: 1, Failures: 1},
		21: {Successes: 2, Failures: 1, Denied: 1},
		22: {Failures: 1},
		23: {Successes: 1},
	}
	for i, s := range stats {
		if ws := day.Add(-11 * time.Hour).Add(time.Duration(i) * time.Hour); !s.Start.Equal(ws) || s.Start.Location() != time.UTC {
			t.Errorf("hour %d starts %v, want %v (UTC)", i, s.Start, ws)
		}
		w := want[i]
		if s.Successes != w.Successes || s.Failures != w.Failures || s.Denied != w.Denied {
			t.Errorf("hour %d (%s): %d/%d/%d successes/failures/denied, want %d/%d/%d", i, s.Start.Format("15:04"),
				s.Successes, s.Failures, s.Denied, w.Successes, w.Failures, w.Denied)
		}
	}

	// Bounds widen to whole hours, in UTC whatever their zone.
	ist := time.FixedZone("IST", 5*3600+1800)
	stats = ok(a.d.SignInStats(ctx, "example", day.Add(10*time.Hour+20*time.Minute).In(ist), day.Add(10*time.Hour+21*time.Minute).In(ist)))(t)
	if len(stats) != 1 || !stats[0].Start.Equal(day.Add(10*time.Hour)) || stats[0].Successes != 2 || stats[0].Failures != 1 {
		t.Errorf("10:20 to 10:21: %+v, want the hour of 10:00", stats)
	}

	for _, bad := range []struct {
		what         string
		org          string
		since, until time.Time
		code         directory.Code
	}{
		{"until before since", "example", now, since, directory.CodeInvalid},
		{"an empty range", "example", now, now, directory.CodeInvalid},
		{"no since", "example", time.Time{}, now, directory.CodeInvalid},
		{"32 days", "example", now.Add(-32 * 24 * time.Hour), now, directory.CodeInvalid},
		{"an unknown org", "nosuch", since, now, directory.CodeNotFound},
	} {
		if _, err := a.d.SignInStats(ctx, bad.org, bad.since, bad.until); directory.CodeOf(err) != bad.code {
			t.Errorf("%s: %v, want code %v", bad.what, err, bad.code)
		}
	}
}
