// Package storecopy moves an installation from one store backend to
// another (dirgate migrate-store): every record of the directory and the
// whole system log, through the store.Store interface only, so that it
// works between any two backends. It copies into an empty store only, so
// that nothing is ever merged or overwritten, and proves the copy by
// comparing counts and SHA-256 checksums of both stores (Checksum).
//
// What it copies: orgs, users (every field: password hashes and their
// history, failed-login counters, last logins), groups, memberships,
// group links (nested groups), the orgs' counters of POSIX numbers (so
// that the target never hands out a number the source did), factors
// (their secrets stay sealed: the target's servers need the source's
// secret key), policies, API tokens (also the installation's,
// with their last use), integrations and their user and group links, and
// the system log events, also those of deleted orgs.
//
// How: the directory's records are read in one View of the source and
// written in one Update of the target, so they arrive whole or not at
// all. The events follow in batches (AppendEvents is a transaction of its
// own), org by org in the source's order. An event keeps its UUID,
// Published time and document; its Seq is handed out anew by the target
// (Seqs are per store and only order the log). A copy interrupted during
// the events leaves a target that is not empty, and so is refused by a
// second run: empty the target (a new database) and start again.
//
// Events of deleted orgs are found through the source's change feed (it
// names every org ever created); no org record holds them any more. So
// that the target's feed names those orgs as well, and a later copy (or
// Checksum) finds their events there too, the copy creates and deletes
// each such org in its Update: a tombstone, an org named "~deleted-ID"
// that exists for no reader.
package storecopy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dirgate/dirgate/internal/store"
)

// ErrNotEmpty is the error of a Copy into a store that already holds
// directory data or events.
var ErrNotEmpty = errors.New("storecopy: the target store is not empty")

// eventBatch is how many events one AppendEvents of the copy writes (a
// variable for tests).
var eventBatch = 1000

// Report is what a Copy did.
type Report struct {
	// Source and Target are the stores' summaries after the copy; they
	// are equal when Copy returns no error.
	Source, Target *Summary
	// DeletedOrgs is how many deleted orgs had events copied (and got a
	// tombstone in the target's change feed).
	DeletedOrgs int
}

// MismatchError is Copy's error when the target's summary differs from
// the source's after the copy.
type MismatchError struct {
	Source, Target *Summary
	Kinds          []string // the kinds that differ
}

func (e *MismatchError) Error() string {
	var parts []string
	for _, k := range e.Kinds {
		s, t := e.Source.Kind(k), e.Target.Kind(k)
		parts = append(parts, fmt.Sprintf("%s (source %d, checksum %s; target %d, checksum %s)",
			k, s.Count, short(s.SHA256), t.Count, short(t.SHA256)))
	}
	return "storecopy: after the copy the target differs from the source in " + strings.Join(parts, ", ") +
		" (was the source written to during the copy?)"
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "…"
	}
	return sum
}

// Copy copies everything from into to, which must be empty (else the
// error wraps ErrNotEmpty and to is left as it was), then compares both
// stores' summaries and fails with a *MismatchError if they differ.
// progress, if not nil, is called as the copy goes: with a kind of
// record and how many of it were written (for "events" as the count
// grows). Nobody should write to from while it runs: a write would make
// the summaries differ. Copy closes neither store.
//
// An error after the directory's Update (while copying events, or from
// the comparison) leaves a partial or differing target: the error says
// so, and the target must be emptied before another Copy.
func Copy(ctx context.Context, from, to store.Store, progress func(what string, n int)) (*Report, error) {
	if progress == nil {
		progress = func(string, int) {}
	}
	if err := checkEmpty(ctx, to); err != nil {
		return nil, err
	}
	snap, err := readSnapshot(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("storecopy: reading the source: %w", err)
	}
	eventOrgs, deleted, err := eventOrgIDs(ctx, from, snap.orgs)
	if err != nil {
		return nil, fmt.Errorf("storecopy: reading the source: %w", err)
	}
	// Only deleted orgs with events need a tombstone.
	var tombstones []string
	for _, id := range deleted {
		evs, err := from.Events(ctx, store.EventQuery{OrgID: id, Limit: 1})
		if err != nil {
			return nil, fmt.Errorf("storecopy: reading the source's events of deleted org %s: %w", id, err)
		}
		if len(evs) > 0 {
			tombstones = append(tombstones, id)
		}
	}
	if err := to.Update(ctx, func(tx store.Tx) error { return snap.write(tx, tombstones, progress) }); err != nil {
		return nil, fmt.Errorf("storecopy: writing the directory to the target (nothing was written): %w", err)
	}
	partial := func(err error) error {
		return fmt.Errorf("%w; the target now holds a partial copy: empty it (a new database or data directory) before copying again", err)
	}
	n := 0
	for _, org := range eventOrgs {
		if err := copyEvents(ctx, from, to, org, &n, progress); err != nil {
			return nil, partial(err)
		}
	}
	progress("events", n)

	rep := &Report{DeletedOrgs: len(tombstones)}
	if rep.Source, err = Checksum(ctx, from); err != nil {
		return nil, fmt.Errorf("storecopy: checksum of the source: %w", err)
	}
	if rep.Target, err = Checksum(ctx, to); err != nil {
		return nil, partial(fmt.Errorf("storecopy: checksum of the target: %w", err))
	}
	if kinds := rep.Source.Diff(rep.Target); len(kinds) > 0 {
		return rep, partial(&MismatchError{Source: rep.Source, Target: rep.Target, Kinds: kinds})
	}
	return rep, nil
}

// checkEmpty fails unless s has never held directory data (its change
// sequence is 0, so no org was ever created in it) and holds no
// installation token and no events of no org (the only events a store
// without orgs can be asked for).
func checkEmpty(ctx context.Context, s store.Store) error {
	seq, err := s.Seq(ctx)
	if err != nil {
		return fmt.Errorf("storecopy: reading the target: %w", err)
	}
	var orgs []*store.Org
	var tokens []*store.Token
	err = s.View(ctx, func(r store.Reader) error {
		var err error
		if orgs, err = r.Orgs(); err != nil {
			return err
		}
		tokens, err = r.Tokens("")
		return err
	})
	if err != nil {
		return fmt.Errorf("storecopy: reading the target: %w", err)
	}
	evs, err := s.Events(ctx, store.EventQuery{OrgID: "", Limit: 1})
	if err != nil {
		return fmt.Errorf("storecopy: reading the target's events: %w", err)
	}
	var what []string
	if len(orgs) > 0 {
		what = append(what, fmt.Sprintf("%d orgs", len(orgs)))
	}
	if len(tokens) > 0 {
		what = append(what, fmt.Sprintf("%d installation API tokens", len(tokens)))
	}
	if len(evs) > 0 {
		what = append(what, "system log events")
	}
	if seq > 0 && len(what) == 0 {
		what = append(what, fmt.Sprintf("change sequence %d: it held directory data before", seq))
	}
	if len(what) > 0 {
		return fmt.Errorf("%w (%s): the copy goes into an empty store only, so that nothing is merged or overwritten; "+
			"start with a new, empty database (or data directory)", ErrNotEmpty, strings.Join(what, ", "))
	}
	return nil
}

// snapshot is the directory's records (everything but the system log)
// as one View read them.
type snapshot struct {
	orgs        []*store.Org
	users       []*store.User
	groups      []*store.Group
	memberships []store.Membership
	groupLinks  []store.GroupLink
	// posixCounters are the counters that are not 0 (never allocated).
	posixCounters []posixCounter
	factors       []*store.Factor
	policies      []*store.Policy
	tokens        []*store.Token // the orgs' and the installation's
	integrations  []*store.Integration
	syncUsers     []store.SyncLink
	syncGroups    []store.SyncLink
}

func readSnapshot(ctx context.Context, s store.Store) (*snapshot, error) {
	var snap *snapshot
	err := s.View(ctx, func(r store.Reader) error {
		snap = &snapshot{}
		var err error
		if snap.orgs, err = r.Orgs(); err != nil {
			return fmt.Errorf("orgs: %w", err)
		}
		for _, o := range snap.orgs {
			if err := snap.readOrg(r, o.ID); err != nil {
				return fmt.Errorf("org %s (%s): %w", o.Name, o.ID, err)
			}
		}
		ts, err := r.Tokens("")
		if err != nil {
			return fmt.Errorf("installation tokens: %w", err)
		}
		snap.tokens = append(snap.tokens, ts...)
		return nil
	})
	return snap, err
}

func (snap *snapshot) readOrg(r store.Reader, orgID string) error {
	users, err := r.Users(orgID)
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	snap.users = append(snap.users, users...)
	for _, u := range users {
		fs, err := r.Factors(u.ID)
		if err != nil {
			return fmt.Errorf("factors of user %s: %w", u.ID, err)
		}
		snap.factors = append(snap.factors, fs...)
	}
	groups, err := r.Groups(orgID)
	if err != nil {
		return fmt.Errorf("groups: %w", err)
	}
	snap.groups = append(snap.groups, groups...)
	ms, err := r.Memberships(orgID)
	if err != nil {
		return fmt.Errorf("memberships: %w", err)
	}
	snap.memberships = append(snap.memberships, ms...)
	ls, err := r.GroupLinks(orgID)
	if err != nil {
		return fmt.Errorf("group links: %w", err)
	}
	snap.groupLinks = append(snap.groupLinks, ls...)
	for _, kind := range posixKinds {
		next, err := r.POSIXCounter(orgID, kind)
		if err != nil {
			return fmt.Errorf("POSIX %s counter: %w", kind, err)
		}
		if next != 0 {
			snap.posixCounters = append(snap.posixCounters, posixCounter{OrgID: orgID, Kind: kind, Next: next})
		}
	}
	ps, err := r.Policies(orgID)
	if err != nil {
		return fmt.Errorf("policies: %w", err)
	}
	snap.policies = append(snap.policies, ps...)
	ts, err := r.Tokens(orgID)
	if err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	snap.tokens = append(snap.tokens, ts...)
	ins, err := r.Integrations(orgID)
	if err != nil {
		return fmt.Errorf("integrations: %w", err)
	}
	snap.integrations = append(snap.integrations, ins...)
	for _, in := range ins {
		us, err := r.SyncUsers(in.ID)
		if err != nil {
			return fmt.Errorf("user links of integration %s: %w", in.ID, err)
		}
		snap.syncUsers = append(snap.syncUsers, us...)
		gs, err := r.SyncGroups(in.ID)
		if err != nil {
			return fmt.Errorf("group links of integration %s: %w", in.ID, err)
		}
		snap.syncGroups = append(snap.syncGroups, gs...)
	}
	return nil
}

// write creates the snapshot's records in tx, parents first, then a
// tombstone (created and deleted) for each org id of tombstones.
func (snap *snapshot) write(tx store.Tx, tombstones []string, progress func(string, int)) error {
	step := func(what string, n int, fn func(i int) error) error {
		for i := range n {
			if err := fn(i); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		progress(what, n)
		return nil
	}
	memberships := func(i int) error {
		m := snap.memberships[i]
		changed, err := tx.AddMember(m.GroupID, m.UserID)
		if err == nil && !changed {
			err = fmt.Errorf("group %s, user %s: %w", m.GroupID, m.UserID, store.ErrConflict)
		}
		return err
	}
	groupLinks := func(i int) error {
		l := snap.groupLinks[i]
		changed, err := tx.AddGroupLink(l.ParentID, l.ChildID)
		if err == nil && !changed {
			err = fmt.Errorf("group %s in group %s: %w", l.ChildID, l.ParentID, store.ErrConflict)
		}
		return err
	}
	tombstone := func(i int) error {
		id := tombstones[i]
		if err := tx.CreateOrg(&store.Org{ID: id, Name: TombstoneName(id)}); err != nil {
			return err
		}
		return tx.DeleteOrg(id)
	}
	steps := []struct {
		what string
		n    int
		fn   func(i int) error
	}{
		{KindOrgs, len(snap.orgs), func(i int) error { return tx.CreateOrg(snap.orgs[i]) }},
		{KindUsers, len(snap.users), func(i int) error { return tx.CreateUser(snap.users[i]) }},
		{KindGroups, len(snap.groups), func(i int) error { return tx.CreateGroup(snap.groups[i]) }},
		{KindMemberships, len(snap.memberships), memberships},
		{KindGroupLinks, len(snap.groupLinks), groupLinks},
		{KindPOSIXCounters, len(snap.posixCounters), func(i int) error { return setPOSIXCounter(tx, snap.posixCounters[i]) }},
		{KindFactors, len(snap.factors), func(i int) error { return tx.CreateFactor(snap.factors[i]) }},
		{KindPolicies, len(snap.policies), func(i int) error { return tx.CreatePolicy(snap.policies[i]) }},
		{KindTokens, len(snap.tokens), func(i int) error { return tx.CreateToken(snap.tokens[i]) }},
		{KindIntegrations, len(snap.integrations), func(i int) error { return tx.CreateIntegration(snap.integrations[i]) }},
		{KindSyncUsers, len(snap.syncUsers), func(i int) error { return tx.PutSyncUser(snap.syncUsers[i]) }},
		{KindSyncGroups, len(snap.syncGroups), func(i int) error { return tx.PutSyncGroup(snap.syncGroups[i]) }},
		{"deleted orgs", len(tombstones), tombstone},
	}
	for _, s := range steps {
		if err := step(s.what, s.n, s.fn); err != nil {
			return err
		}
	}
	return nil
}

// posixKinds are the kinds of POSIX number an org has a counter of.
var posixKinds = []string{store.POSIXUID, store.POSIXGID}

// posixCounter is one org's counter of one kind of POSIX number, as
// POSIXCounter reads it (and as the checksum serialises it).
type posixCounter struct {
	OrgID, Kind string
	Next        int64
}

// setPOSIXCounter sets c in tx, a target whose counter of c is still 0
// (the org is new): an allocation of exactly c.Next-1 leaves the counter
// at c.Next. Store.Tx has no setter, and needs none: a counter that is
// not 0 is one past a number allocated, at least 1, so it is at least 2.
func setPOSIXCounter(tx store.Tx, c posixCounter) error {
	if c.Next < 2 {
		return fmt.Errorf("org %s: POSIX %s counter %d: not one a store hands out", c.OrgID, c.Kind, c.Next)
	}
	n, err := tx.NextPOSIXNumber(c.OrgID, c.Kind, c.Next-1, c.Next-1)
	if err != nil {
		return fmt.Errorf("org %s: POSIX %s counter %d: %w", c.OrgID, c.Kind, c.Next, err)
	}
	if n != c.Next-1 {
		return fmt.Errorf("org %s: POSIX %s counter %d: the target allocated %d, want %d", c.OrgID, c.Kind, c.Next, n, c.Next-1)
	}
	return nil
}

// TombstoneName is the name of the org a copy creates and deletes again
// so that the target's change feed names a deleted org whose events it
// copied. The "~" keeps it apart from every real org's name.
func TombstoneName(id string) string { return "~deleted-" + strings.ToLower(id) }

// eventOrgIDs returns the org ids whose events the store may hold,
// sorted: "" (events of no org), the orgs' and those of the deleted orgs
// the change feed names; deleted is the last ones, sorted.
func eventOrgIDs(ctx context.Context, s store.Store, orgs []*store.Org) (all, deleted []string, err error) {
	live := map[string]bool{"": true}
	for _, o := range orgs {
		live[o.ID] = true
	}
	gone := map[string]bool{}
	const page = 10000
	for since := uint64(0); ; {
		cs, err := s.ChangesSince(ctx, since, page)
		if err != nil {
			return nil, nil, fmt.Errorf("change feed: %w", err)
		}
		if len(cs) == 0 {
			break
		}
		for _, c := range cs {
			if !live[c.OrgID] {
				gone[c.OrgID] = true
			}
		}
		since = cs[len(cs)-1].Seq
	}
	for id := range live {
		all = append(all, id)
	}
	for id := range gone {
		deleted = append(deleted, id)
		all = append(all, id)
	}
	slices.Sort(all)
	slices.Sort(deleted)
	return all, deleted, nil
}

// copyEvents appends the org's events of from to to, in batches, in
// from's order; *n counts them.
func copyEvents(ctx context.Context, from, to store.Store, orgID string, n *int, progress func(string, int)) error {
	for after := int64(0); ; {
		evs, err := from.Events(ctx, store.EventQuery{OrgID: orgID, AfterSeq: after, Limit: eventBatch})
		if err != nil {
			return fmt.Errorf("storecopy: reading the source's events of org %q: %w", orgID, err)
		}
		if len(evs) == 0 {
			return nil
		}
		after = evs[len(evs)-1].Seq
		batch := make([]*store.Event, len(evs))
		for i, e := range evs {
			c := *e
			c.Seq = 0 // the target's to hand out
			batch[i] = &c
		}
		if err := to.AppendEvents(ctx, batch); err != nil {
			return fmt.Errorf("storecopy: writing events of org %q to the target: %w", orgID, err)
		}
		before := *n / (10 * eventBatch)
		*n += len(batch)
		if *n/(10*eventBatch) != before {
			progress("events", *n)
		}
	}
}
