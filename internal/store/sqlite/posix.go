package sqlite

import (
	"database/sql"
	"fmt"
	"math"

	"github.com/dirgate/dirgate/internal/store"
)

// POSIX numbers (migration 0012): users.uid_number and groups.gid_number
// (0 for none; partial unique indexes refuse a number taken in the org,
// which mapErr turns into store.ErrConflict), and the org's counters in
// posix_counters, a row per org and kind once a number was allocated.

// checkPOSIXKind fails for a kind other than store.POSIXUID and
// store.POSIXGID (a caller's mistake: not store.ErrNotFound).
func checkPOSIXKind(kind string) error {
	if kind != store.POSIXUID && kind != store.POSIXGID {
		return fmt.Errorf("sqlite: POSIX number kind %q: want %q or %q", kind, store.POSIXUID, store.POSIXGID)
	}
	return nil
}

// POSIXCounter is the org's counter of kind: 0 when it never allocated
// one, store.ErrNotFound when the org is missing.
func (r *reader) POSIXCounter(orgID, kind string) (int64, error) {
	if err := checkPOSIXKind(kind); err != nil {
		return 0, err
	}
	var next sql.NullInt64
	err := r.queryRow(`SELECT (SELECT next FROM posix_counters WHERE org_id = ?1 AND kind = ?2) FROM orgs WHERE id = ?1`,
		orgID, kind).Scan(&next)
	if err != nil {
		return 0, notFound(err, "org", orgID)
	}
	return next.Int64, nil
}

// NextPOSIXNumber allocates max(counter, lo) and moves the counter past
// it. lo must be at least 1 (0 is no number). The counter cannot move
// past math.MaxInt64, so that number is never allocated: a range ending
// there ends one below it. Only the write of the counter can leave the
// transaction failed; the refusals (an unknown kind, a missing org,
// store.ErrExhausted) leave it as it was.
func (t *tx) NextPOSIXNumber(orgID, kind string, lo, hi int64) (int64, error) {
	what := fmt.Sprintf("next POSIX %s number of org %q", kind, orgID)
	if err := checkPOSIXKind(kind); err != nil {
		return 0, err
	}
	if lo < 1 {
		return 0, fmt.Errorf("sqlite: %s: range %d..%d starts below 1", what, lo, hi)
	}
	next, err := t.POSIXCounter(orgID, kind)
	if err != nil {
		return 0, t.fail(err)
	}
	n := max(next, lo)
	if n > min(hi, math.MaxInt64-1) {
		return 0, fmt.Errorf("sqlite: %s: none left in %d..%d (next %d): %w", what, lo, hi, n, store.ErrExhausted)
	}
	if _, err := t.exec(`INSERT INTO posix_counters (org_id, kind, next) VALUES (?, ?, ?)
		ON CONFLICT (org_id, kind) DO UPDATE SET next = excluded.next`, orgID, kind, n+1); err != nil {
		return 0, t.fail(fmt.Errorf("sqlite: %s: %w", what, mapErr(err)))
	}
	return n, nil
}
