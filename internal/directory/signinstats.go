package directory

import (
	"context"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// Sign-in statistics, from the system log's counts (store.Reader's
// EventCounts): the console's chart of the last day's binds and failures.

// HourStat is one hour of an org's sign-ins.
//
// A sign-in is one Authenticate call, which the system log records as one
// EventAuthViaLDAP event whatever the protocol (an LDAP bind, a console
// sign-in): a push sign-in's MFA events (push.go) are steps of it, not
// sign-ins of their own. It succeeded when the event's outcome is
// ResultSuccess; every other outcome is a failure: FAILURE (a wrong
// password or one-time code, an unknown user, a user not ACTIVE or locked
// out, a client throttled after too many failures, a declined or
// unanswered push) and DENY (a sign-on policy refused the sign-in).
type HourStat struct {
	Start     time.Time // the hour's start, in UTC
	Successes int64
	Failures  int64 // every outcome but SUCCESS
	Denied    int64 // of Failures, those a sign-on policy denied (DENY)
}

// MaxSignInStatsHours is the most hours one SignInStats call covers (31
// days).
const MaxSignInStatsHours = 31 * 24

// SignInStats counts the org's sign-ins (see HourStat) in each hour of
// [since, until), widened to whole hours of UTC (since rounded down,
// until up, so that an until of now includes the current hour so far).
// It returns an HourStat for every hour, oldest first, zeros included, and
// reads the store once. Sign-ins of the last fraction of a second may not
// be counted yet: the system log is written in batches (audit.go).
func (d *Directory) SignInStats(ctx context.Context, org string, since, until time.Time) ([]HourStat, error) {
	start, end := since.UTC().Truncate(time.Hour), until.UTC().Truncate(time.Hour)
	if end.Before(until) {
		end = end.Add(time.Hour)
	}
	if since.IsZero() || until.IsZero() || !since.Before(until) {
		return nil, errf(CodeInvalid, "sign-in statistics need a time range, since before until")
	}
	n := int(end.Sub(start) / time.Hour)
	if n > MaxSignInStatsHours {
		return nil, errf(CodeInvalid, "sign-in statistics cover at most %d hours, not %d", MaxSignInStatsHours, n)
	}
	var buckets []store.EventBucket
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		buckets, err = r.EventCounts(store.EventCountQuery{OrgID: o.ID, EventTypes: []string{EventAuthViaLDAP},
			Since: start, Until: end, Width: time.Hour})
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	out := make([]HourStat, n)
	for i := range out {
		out[i].Start = start.Add(time.Duration(i) * time.Hour)
	}
	for _, b := range buckets {
		i := int(b.Start.Sub(start) / time.Hour)
		if i < 0 || i >= n {
			continue // not a bucket the query asked for
		}
		if b.Outcome == ResultSuccess {
			out[i].Successes += b.Count
			continue
		}
		out[i].Failures += b.Count
		if b.Outcome == ResultDeny {
			out[i].Denied += b.Count
		}
	}
	return out, nil
}
