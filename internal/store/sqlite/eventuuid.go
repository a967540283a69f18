package sqlite

// Event UUIDs are unique. A unique index over every event's UUID, even
// filled by one statement per batch, costs about 1.1 µs of CPU per event,
// as much as all else AppendEvents does; so the keys of UUIDs that arrive
// in ascending order, as the directory's (version 7, time-ordered) do,
// are kept in runs instead, and only the others in that index:
//
//   - A UUID in canonical form (lower-case hex with hyphens) is keyed by
//     its 16 bytes, which sort as the string does; any other string is
//     keyed by itself, as TEXT, which SQLite never finds equal to a BLOB.
//   - event_uuid_runs: each row holds the sorted 16-byte keys of one
//     batch, between lo and hi. The runs' ranges never overlap.
//   - H, the hi of the last run (by lo), is above every BLOB key of
//     event_uuids, and never goes down: pruning keeps the last run, even
//     empty.
//   - Each stored key is in one place only: in a run, or in event_uuids.
//
// So a batch's keys above H cannot be taken: they become a new run, for
// one seek and one row however many they are. Keys at or below H (late
// ones, as when two processes append, or random version 4 UUIDs) and TEXT
// keys are checked against the one run whose range may hold each, and go
// to event_uuids, whose primary key rejects the taken ones.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/dirgate/dirgate/internal/store"
)

const (
	// insertUUIDs inserts the keys of the JSON array ?1: hex strings, of
	// a BLOB key if they start with 'b', of a TEXT key if with 't' (valid
	// JSON whatever bytes a UUID holds). One statement for all keys:
	// measured against one INSERT per key (2.3 µs a key), a multi-row
	// VALUES list and a recursive CTE over packed keys, it is as fast as
	// the best (about 1.1 µs a key) and also takes TEXT keys.
	insertUUIDs = `INSERT INTO event_uuids (uuid) ` + keysOfJSON
	deleteUUIDs = `DELETE FROM event_uuids WHERE uuid IN (` + keysOfJSON + `)`
	keysOfJSON  = `SELECT CASE substr(value, 1, 1) WHEN 'b' THEN unhex(substr(value, 2))
		ELSE CAST(unhex(substr(value, 2)) AS TEXT) END FROM json_each(?1)`

	lastRun   = `SELECT id, lo, hi FROM event_uuid_runs ORDER BY lo DESC LIMIT 1`
	stabRun   = `SELECT id, lo, hi FROM event_uuid_runs WHERE lo <= ?1 ORDER BY lo DESC LIMIT 1`
	runKeys   = `SELECT keys FROM event_uuid_runs WHERE id = ?1`
	insertRun = `INSERT INTO event_uuid_runs (lo, hi, keys) VALUES (?1, ?2, ?3)`
)

// uuidKey is a UUID in canonical form as its 16 bytes.
type uuidKey = [16]byte

// parseUUID returns the bytes of a UUID in canonical form, and false for
// any other string.
func parseUUID(s string) (b uuidKey, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return b, false
	}
	bad := byte(0)
	for i, at := range uuidBytesAt {
		hi, lo := lowerHex[s[at]], lowerHex[s[at+1]]
		bad |= hi | lo
		b[i] = hi<<4 | lo&0xf
	}
	return b, bad&0xf0 == 0
}

// uuidBytesAt are where the 16 bytes of a canonical UUID start.
var uuidBytesAt = [16]int{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// lowerHex is the value of each lower-case hex digit, 0xff for any other
// byte.
var lowerHex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

// formatUUID is the canonical form of a 16-byte key.
func formatUUID(k []byte) string {
	h := hex.EncodeToString(k)
	if len(k) != 16 {
		return h
	}
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// uuidKeys are the keys of a batch's UUIDs.
type uuidKeys struct {
	blobs []uuidKey // sorted
	texts []string  // the UUIDs keyed as TEXT
}

func batchKeys(events []*store.Event) uuidKeys {
	k := uuidKeys{blobs: make([]uuidKey, 0, len(events))}
	for _, e := range events {
		if b, ok := parseUUID(e.UUID); ok {
			k.blobs = append(k.blobs, b)
		} else {
			k.texts = append(k.texts, e.UUID)
		}
	}
	// The directory's UUIDs come nearly sorted, which sorts fast.
	slices.SortFunc(k.blobs, func(a, b uuidKey) int { return bytes.Compare(a[:], b[:]) })
	return k
}

// duplicate reports a UUID the batch holds twice.
func (k uuidKeys) duplicate() (string, bool) {
	for i := 1; i < len(k.blobs); i++ {
		if k.blobs[i] == k.blobs[i-1] {
			return formatUUID(k.blobs[i][:]), true
		}
	}
	seen := make(map[string]bool, len(k.texts))
	for _, t := range k.texts {
		if seen[t] {
			return t, true
		}
		seen[t] = true
	}
	return "", false
}

// keysJSON is the argument of insertUUIDs and deleteUUIDs.
func keysJSON(blobs []uuidKey, texts []string) string {
	b := make([]byte, 0, 2+len(blobs)*36+len(texts)*40)
	b = append(b, '[')
	for i := range blobs {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, `"b`...)
		b = hex.AppendEncode(b, blobs[i][:])
		b = append(b, '"')
	}
	for _, t := range texts {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, `"t`...)
		b = hex.AppendEncode(b, []byte(t))
		b = append(b, '"')
	}
	return string(append(b, ']'))
}

// uuidRun is a row of event_uuid_runs.
type uuidRun struct {
	id     int64
	lo, hi []byte
	keys   []byte // the 16-byte keys, sorted
	gone   map[uuidKey]bool
}

func (r *uuidRun) covers(k []byte) bool {
	return bytes.Compare(r.lo, k) <= 0 && bytes.Compare(k, r.hi) <= 0
}

func (r *uuidRun) has(k []byte) bool {
	lo, hi := 0, len(r.keys)/16
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(r.keys[16*m:16*m+16], k); {
		case c == 0:
			return true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}

// uuidRuns reads the runs of one write transaction, each once.
type uuidRuns struct {
	ctx              context.Context
	stab, keys, last *sql.Stmt
	loaded           []*uuidRun
}

func (s *Store) uuidRuns(ctx context.Context, tx *sql.Tx) *uuidRuns {
	return &uuidRuns{ctx: ctx, stab: tx.StmtContext(ctx, s.ev.stabRun), keys: tx.StmtContext(ctx, s.ev.runKeys),
		last: tx.StmtContext(ctx, s.ev.lastRun)}
}

// lastRun returns the run with the greatest lo, nil if there is none.
func (rs *uuidRuns) lastRun() (*uuidRun, error) {
	var r uuidRun
	err := rs.last.QueryRowContext(rs.ctx).Scan(&r.id, &r.lo, &r.hi)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &r, err
}

// find returns the run whose range holds k, nil if none does.
func (rs *uuidRuns) find(k []byte) (*uuidRun, error) {
	for _, r := range rs.loaded {
		if r.covers(k) {
			return r, nil
		}
	}
	var r uuidRun
	err := rs.stab.QueryRowContext(rs.ctx, k).Scan(&r.id, &r.lo, &r.hi)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !r.covers(k)) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := rs.keys.QueryRowContext(rs.ctx, r.id).Scan(&r.keys); err != nil {
		return nil, err
	}
	if len(r.keys)%16 != 0 {
		return nil, fmt.Errorf("corrupt UUID run %d: %d bytes", r.id, len(r.keys))
	}
	rs.loaded = append(rs.loaded, &r)
	return &r, nil
}

// claimUUIDs takes the UUIDs of a batch (distinct) for its events, or
// fails with store.ErrConflict if one is taken.
func (s *Store) claimUUIDs(ctx context.Context, tx *sql.Tx, keys uuidKeys) error {
	blobs, texts := keys.blobs, keys.texts
	rs := s.uuidRuns(ctx, tx)
	last, err := rs.lastRun()
	if err != nil {
		return err
	}
	split := 0
	if last != nil {
		split, _ = slices.BinarySearchFunc(blobs, last.hi, func(k uuidKey, hi []byte) int {
			if bytes.Compare(k[:], hi) <= 0 {
				return -1
			}
			return 1
		})
	}
	late, fresh := blobs[:split], blobs[split:]
	for i := range late {
		r, err := rs.find(late[i][:])
		if err != nil {
			return err
		}
		if r != nil && r.has(late[i][:]) {
			return fmt.Errorf("%w: UUID %s is taken", store.ErrConflict, formatUUID(late[i][:]))
		}
	}
	if len(late)+len(texts) > 0 {
		keys := keysJSON(late, texts)
		if _, err := tx.StmtContext(ctx, s.ev.uuids).ExecContext(ctx, keys); err != nil {
			err = mapErr(err)
			if errors.Is(err, store.ErrConflict) {
				if taken := takenUUID(ctx, tx, keys); taken != "" {
					err = fmt.Errorf("%w: UUID %s is taken", store.ErrConflict, taken)
				}
			}
			return err
		}
	}
	if len(fresh) > 0 {
		packed := make([]byte, 0, 16*len(fresh))
		for i := range fresh {
			packed = append(packed, fresh[i][:]...)
		}
		if _, err := tx.StmtContext(ctx, s.ev.insertRun).ExecContext(ctx, fresh[0][:], fresh[len(fresh)-1][:], packed); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// takenUUID names a UUID of keys (as for insertUUIDs) that event_uuids
// holds, for the error of a batch that failed on one.
func takenUUID(ctx context.Context, tx *sql.Tx, keys string) string {
	var key any
	if err := tx.QueryRowContext(ctx, `SELECT uuid FROM event_uuids WHERE uuid IN (`+keysOfJSON+`) LIMIT 1`, keys).Scan(&key); err != nil {
		return ""
	}
	switch k := key.(type) {
	case []byte:
		return formatUUID(k)
	case string:
		return k
	}
	return ""
}

// uuidFreer frees the UUIDs of pruned events, in one write transaction;
// flush writes what it gathered.
type uuidFreer struct {
	runs  *uuidRuns
	blobs []uuidKey // in event_uuids
	texts []string
}

func (s *Store) uuidFreer(ctx context.Context, tx *sql.Tx) *uuidFreer {
	return &uuidFreer{runs: s.uuidRuns(ctx, tx)}
}

func (f *uuidFreer) free(events []*store.Event) error {
	for _, e := range events {
		k, ok := parseUUID(e.UUID)
		if !ok {
			f.texts = append(f.texts, e.UUID)
			continue
		}
		r, err := f.runs.find(k[:])
		if err != nil {
			return err
		}
		if r != nil && r.has(k[:]) {
			if r.gone == nil {
				r.gone = map[uuidKey]bool{}
			}
			r.gone[k] = true
		} else {
			f.blobs = append(f.blobs, k)
		}
	}
	return nil
}

func (f *uuidFreer) flush(ctx context.Context, tx *sql.Tx) error {
	if len(f.blobs)+len(f.texts) > 0 {
		if _, err := tx.ExecContext(ctx, deleteUUIDs, keysJSON(f.blobs, f.texts)); err != nil {
			return err
		}
	}
	last, err := f.runs.lastRun()
	if err != nil {
		return err
	}
	for _, r := range f.runs.loaded {
		if len(r.gone) == 0 {
			continue
		}
		keys := r.keys[:0:0]
		for i := 0; i < len(r.keys); i += 16 {
			if !r.gone[uuidKey(r.keys[i:i+16])] {
				keys = append(keys, r.keys[i:i+16]...)
			}
		}
		// The last run stays, even empty: its hi is H.
		if len(keys) == 0 && (last == nil || r.id != last.id) {
			_, err = tx.ExecContext(ctx, `DELETE FROM event_uuid_runs WHERE id = ?`, r.id)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE event_uuid_runs SET keys = ? WHERE id = ?`, keys, r.id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// packUUIDs is part of migration 4: it keys the UUIDs of the table events
// as AppendEvents would have, canonical ones in runs of runKeysMax, in
// order, the others in event_uuids.
func packUUIDs(ctx context.Context, tx *sql.Tx) error {
	const runKeysMax = 1000
	rows, err := tx.QueryContext(ctx, `SELECT uuid FROM events ORDER BY uuid`) // canonical ones sort as their bytes
	if err != nil {
		return err
	}
	defer rows.Close()
	var run []byte
	var texts []string
	flushRun := func() error {
		if len(run) == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, insertRun, run[:16], run[len(run)-16:], run)
		run = nil
		return err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		k, ok := parseUUID(id)
		if !ok {
			texts = append(texts, id)
			continue
		}
		run = append(run, k[:]...)
		if len(run) == 16*runKeysMax {
			if err := flushRun(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := flushRun(); err != nil {
		return err
	}
	if len(texts) > 0 {
		if _, err := tx.ExecContext(ctx, insertUUIDs, keysJSON(nil, texts)); err != nil {
			return err
		}
	}
	return nil
}
