package postgres

import (
	"errors"
	"fmt"
	"math"

	"github.com/dirgate/dirgate/internal/store"

	"github.com/jackc/pgx/v5"
)

// POSIX numbers (migration 0004): users.uid_number and groups.gid_number
// (0 for none; partial unique indexes, which the writes check before
// they could fail: users.go, groups.go), and the org's counters in
// posix_counters, a row per org and kind once a number was allocated.

// checkPOSIXKind fails for a kind other than store.POSIXUID and
// store.POSIXGID (a caller's mistake: not store.ErrNotFound).
func checkPOSIXKind(kind string) error {
	if kind != store.POSIXUID && kind != store.POSIXGID {
		return fmt.Errorf("postgres: POSIX number kind %q: want %q or %q", kind, store.POSIXUID, store.POSIXGID)
	}
	return nil
}

// POSIXCounter is the org's counter of kind: 0 when it never allocated
// one, store.ErrNotFound when the org is missing.
func (r *reader) POSIXCounter(orgID, kind string) (int64, error) {
	if err := checkPOSIXKind(kind); err != nil {
		return 0, err
	}
	var next int64
	err := r.queryRow(`SELECT COALESCE((SELECT next FROM posix_counters WHERE org_id = $1 AND kind = $2), 0)
		FROM orgs WHERE id = $1`, orgID, kind).Scan(&next)
	if err != nil {
		return 0, notFound(err, "org", orgID)
	}
	return next, nil
}

// nextPOSIXNumber allocates max(counter, $3) of org $1 and kind $2 when
// that is at most $4, and moves the counter past it, in one statement:
// the upsert locks the counter's row, so transactions of several nodes
// (which the writer lock serialises anyway) never get the same number.
// It writes nothing, and returns no row, when the org is missing or the
// range is exhausted.
const nextPOSIXNumber = `INSERT INTO posix_counters (org_id, kind, next)
	SELECT id, $2::text, $3::bigint + 1 FROM orgs WHERE id = $1
	ON CONFLICT (org_id, kind) DO UPDATE SET next = GREATEST(posix_counters.next, $3::bigint) + 1
		WHERE GREATEST(posix_counters.next, $3::bigint) <= $4::bigint
	RETURNING next - 1`

// NextPOSIXNumber allocates max(counter, lo) and moves the counter past
// it. lo must be at least 1 (0 is no number). The counter cannot move
// past math.MaxInt64, so that number is never allocated: a range ending
// there ends one below it. The refusals (an unknown kind, a missing org,
// store.ErrExhausted) run no failing statement, so they leave the
// transaction usable.
func (t *tx) NextPOSIXNumber(orgID, kind string, lo, hi int64) (int64, error) {
	what := fmt.Sprintf("next POSIX %s number of org %q", kind, orgID)
	if err := checkPOSIXKind(kind); err != nil {
		return 0, err
	}
	if lo < 1 {
		return 0, fmt.Errorf("postgres: %s: range %d..%d starts below 1", what, lo, hi)
	}
	hi = min(hi, math.MaxInt64-1) // so that next, at most hi+1, fits
	if lo > hi {
		// Nothing to allocate, whatever the counter: say why without
		// computing lo+1.
		if _, err := t.POSIXCounter(orgID, kind); err != nil {
			return 0, t.fail(err)
		}
		return 0, fmt.Errorf("postgres: %s: none left in %d..%d: %w", what, lo, hi, store.ErrExhausted)
	}
	var n int64
	err := t.queryRow(nextPOSIXNumber, orgID, kind, lo, hi).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		next, err := t.POSIXCounter(orgID, kind)
		if err != nil {
			return 0, t.fail(err)
		}
		return 0, fmt.Errorf("postgres: %s: none left in %d..%d (next %d): %w", what, lo, hi, max(next, lo), store.ErrExhausted)
	}
	if err != nil {
		return 0, t.fail(fmt.Errorf("postgres: %s: %w", what, mapErr(err)))
	}
	return n, nil
}
