package dit

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
	"github.com/dirgate/dirgate/internal/store"
)

// Content synchronisation (RFC 4533): a search with the Sync Request
// control returns its entries with a Sync State control, and a cookie
// naming the change sequence of the snapshot they came from
// ("dirgate1:<org id>:<seq>").
//
//   - Without a usable cookie, the refresh is the whole content, in the
//     present phase: the client drops what it holds and was not sent.
//   - With a cookie, when every change since it was a user's or a group's
//     own (not a membership, not the org's settings) and the entries it
//     names are all still there, only those are sent: changed entries
//     that match as add, those that no longer match as delete (the delete
//     phase). Anything else refreshes the whole content.
//   - refreshOnly ends with a Sync Done control; refreshAndPersist ends the
//     refresh with a Sync Info message, and then sends each change as it
//     reaches the snapshot (add, modify, delete, each entry judged in the
//     snapshots before and after), then a new cookie. A change it cannot
//     follow entry by entry (the org's settings, chains of nested groups
//     under an IN_CHAIN filter or transitive memberOf, more than maxSyncChanges at
//     once) ends the search with e-syncRefreshRequired (4096), and the
//     client starts again.
//
// The bound user's rights are read again at every step: a user no longer
// active ends its synchronisation.

const (
	cookiePrefix = "dirgate1:"
	// maxSyncChanges is how many changes a synchronisation follows one
	// by one; more, and the client refreshes.
	maxSyncChanges = 1000
)

var errRefreshRequired = ldapserver.Fail(ldap.ESyncRefreshRequired,
	"the directory changed in a way this synchronisation cannot follow entry by entry: start again without a cookie")

// syncCursor is a search with the Sync Request control.
type syncCursor struct {
	d       *DIT
	id      *ldapserver.Identity
	req     *ldap.SearchRequest
	mode    ldap.SyncMode
	orgID   string
	baseRaw string // the request's base, normalised

	inner *cursor // the refresh's entries, until it is done
	// todo are the entries of a delta refresh or a persist step still to
	// send, and done says the refresh (or step) ended with its message.
	todo       []syncItem
	present    bool // the refresh is the whole content (present phase)
	done       bool
	persisting bool // the refresh is over: steps follow

	// seq and view are the snapshot the client is at.
	seq  uint64
	view *orgView
}

// syncItem is one entry to send with its state; e nil for a deleted
// entry (dn and uuid say which).
type syncItem struct {
	state ldap.SyncState
	e     *entry
	o     *orgView
	dn    string
	uuid  [16]byte
}

var (
	_ ldapserver.Cursor     = (*syncCursor)(nil)
	_ ldapserver.Persistent = (*syncCursor)(nil)
)

// syncRequestOf finds and parses the Sync Request control; ok false when
// there is none.
func syncRequestOf(controls []ldap.Control) (r ldap.SyncRequest, ok bool, err error) {
	for i := range controls {
		if controls[i].OID == ldap.OIDSyncRequest {
			r, err := ldap.ParseSyncRequest(controls[i].Value)
			return r, true, err
		}
	}
	return r, false, nil
}

// syncSearch starts a content synchronisation.
func (d *DIT) syncSearch(ctx context.Context, id *ldapserver.Identity, req *ldap.SearchRequest, controls []ldap.Control, sr ldap.SyncRequest) (ldapserver.Cursor, error) {
	snap := d.snap.Load()
	a, err := snap.accessOf(id)
	if err != nil {
		return nil, err
	}
	base, err := ldap.NormalizeDN(req.BaseObject)
	if err != nil {
		return nil, errInvalidBase
	}
	if base == "" || base == schemaNorm {
		return nil, ldapserver.Fail(ldap.UnwillingToPerform, "synchronise the entries of a naming context, not the root DSE or cn=schema")
	}
	c := &syncCursor{d: d, id: id, req: req, mode: sr.Mode, orgID: a.org.org.ID, baseRaw: base, seq: snap.seq, view: a.org}
	if seq, ok := c.parseCookie(sr.Cookie); ok && !sr.ReloadHint && c.deltaRefresh(ctx, a, seq) {
		return c, nil
	}
	inner, err := d.searchWith(ctx, id, req, controls)
	if err != nil {
		return nil, err
	}
	inner.stamp = func(e *entry) []ldap.Control {
		return []ldap.Control{ldap.SyncStateControl(ldap.SyncAdd, uuidOf(inner.org, e), nil)}
	}
	c.inner, c.present, c.view = inner, true, inner.org
	return c, nil
}

// cookie names the snapshot the client is at.
func (c *syncCursor) cookie() []byte {
	return []byte(cookiePrefix + c.orgID + ":" + strconv.FormatUint(c.seq, 10))
}

// parseCookie reads a cookie of this org; false for another's, a
// malformed one, or one from the future (a store restored from a backup).
func (c *syncCursor) parseCookie(cookie []byte) (uint64, bool) {
	rest, ok := strings.CutPrefix(string(cookie), cookiePrefix+c.orgID+":")
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseUint(rest, 10, 64)
	if err != nil || seq > c.seq {
		return 0, false
	}
	return seq, true
}

// deltaRefresh prepares the refresh from the client's seq, and reports
// false when it must be the whole content.
func (c *syncCursor) deltaRefresh(ctx context.Context, a access, seq uint64) bool {
	if seq == c.seq {
		return true
	}
	changes, err := c.d.src.ChangesSince(ctx, seq, maxSyncChanges+1)
	if err != nil || len(changes) > maxSyncChanges {
		return false
	}
	o := a.org
	f := c.filterFor(o)
	var todo []syncItem
	for _, ch := range changes {
		if ch.OrgID != c.orgID || !inView(ch.Kind) || ch.Kind == store.KindPolicy {
			continue
		}
		if ch.Kind != store.KindUser && ch.Kind != store.KindGroup {
			return false // memberships and settings touch entries the change does not name
		}
		e := o.entryOf(ch.Kind, ch.ID)
		if e == nil {
			return false // gone: its DN is not known any more
		}
		state := ldap.SyncAdd
		if !c.matches(a, o, e, &f) {
			state = ldap.SyncDelete
		}
		todo = appendItem(todo, syncItem{state: state, e: e, o: o, dn: e.dn, uuid: uuidOf(o, e)})
	}
	c.todo = todo
	return true
}

// appendItem adds it to items unless the entry is there already (a
// record changed twice).
func appendItem(items []syncItem, it syncItem) []syncItem {
	for i := range items {
		if items[i].uuid == it.uuid {
			items[i] = it
			return items
		}
	}
	return append(items, it)
}

// entryOf finds a user's or group's entry by record id.
func (o *orgView) entryOf(k store.Kind, id string) *entry {
	m := o.byUserID
	if k == store.KindGroup || k == store.KindMembership || k == store.KindGroupLink {
		m = o.byGroupID
	}
	s, ok := m[id]
	if !ok || o.pos[s] < 0 {
		return nil
	}
	return &o.entries[o.pos[s]]
}

// filterFor is the request's filter as o answers it (IN_CHAIN resolved).
func (c *syncCursor) filterFor(o *orgView) ldap.Filter {
	if hasInChain(&c.req.Filter) {
		return o.inChain(&c.req.Filter)
	}
	return c.req.Filter
}

// matches reports whether e of o is in the synchronised content: in the
// search's scope, visible to the bound user, and matching f.
func (c *syncCursor) matches(a access, o *orgView, e *entry, f *ldap.Filter) bool {
	if i := o.indexOf(e); i < 0 || !a.visibleIn(o, i) {
		return false
	}
	switch c.req.Scope {
	case ldap.ScopeBaseObject:
		if e.norm != c.baseRaw {
			return false
		}
	case ldap.ScopeSingleLevel:
		if k := nextSeparator(e.norm); k < 0 || e.norm[k+1:] != c.baseRaw {
			return false
		}
	default:
		if !ldap.IsDescendantNorm(e.norm, c.baseRaw) {
			return false
		}
	}
	var m matcher
	return f.Match(m.of(o, e, f))
}

// indexOf is e's position in o (e points into o.entries), or -1.
func (o *orgView) indexOf(e *entry) int32 {
	if e.sid < 0 || int(e.sid) >= len(o.pos) {
		return -1
	}
	i := o.pos[e.sid]
	if i < 0 || &o.entries[i] != e {
		return -1
	}
	return i
}

// visibleIn reports whether the user a resolved to sees entry i of o
// (a's own org view may be an older one).
func (a *access) visibleIn(o *orgView, i int32) bool {
	if a.all {
		return true
	}
	return o.entries[i].kind == kindUser && o.entries[i].id == a.org.entries[a.self].id
}

// uuidOf is e's entryUUID.
func uuidOf(o *orgView, e *entry) [16]byte {
	var buf [1]string
	v := o.values(e, idEntryUUID, buf[:0])
	if len(v) == 0 {
		return [16]byte{}
	}
	u, err := uuid.Parse(v[0])
	if err != nil {
		return [16]byte{}
	}
	return [16]byte(u)
}

// Next implements ldapserver.Cursor: the refresh's entries, then the
// message that ends it; in the persist stage each step's entries, then a
// new cookie.
func (c *syncCursor) Next(ctx context.Context, w *ldapserver.EntryWriter) error {
	if c.inner != nil {
		err := c.inner.next(ctx, w)
		if err != io.EOF {
			return err
		}
		c.inner.Close()
		c.inner = nil
	}
	if len(c.todo) > 0 {
		it := c.todo[0]
		c.todo = c.todo[1:]
		c.write(w, it)
		return nil
	}
	if c.done {
		return io.EOF
	}
	c.done = true
	if c.mode == ldap.SyncRefreshOnly {
		return io.EOF // the Sync Done control goes with the result
	}
	if c.persisting {
		w.Intermediate(ldap.OIDSyncInfo, ldap.SyncInfoNewCookie(c.cookie()))
	} else {
		w.Intermediate(ldap.OIDSyncInfo, ldap.SyncInfoRefreshDone(c.cookie(), c.present))
	}
	return nil
}

func (c *syncCursor) write(w *ldapserver.EntryWriter, it syncItem) {
	ctl := []ldap.Control{ldap.SyncStateControl(it.state, it.uuid, nil)}
	w.Begin(it.dn)
	if it.e != nil && it.state != ldap.SyncDelete {
		var sel selection
		sel.parse(c.req.Attributes, it.o)
		sel.write(w, it.e, it.o.defs, c.req.TypesOnly)
	}
	w.EndWith(ctl)
}

// ResultControls implements ldapserver.ResultControler: a refreshOnly
// synchronisation's Sync Done control.
func (c *syncCursor) ResultControls() []ldap.Control {
	if c.mode != ldap.SyncRefreshOnly {
		return nil
	}
	return []ldap.Control{ldap.SyncDoneControl(c.cookie(), !c.present)}
}

// Close implements ldapserver.Cursor.
func (c *syncCursor) Close() {
	if c.inner != nil {
		c.inner.Close()
		c.inner = nil
	}
	c.todo, c.view = nil, nil
}

// Wait implements ldapserver.Persistent: it returns once a newer snapshot
// changed what the client holds, with the changes ready for Next.
func (c *syncCursor) Wait(ctx context.Context) error {
	if c.mode != ldap.SyncRefreshAndPersist {
		return io.EOF
	}
	c.persisting = true
	for {
		next := c.d.published()
		snap := c.d.snap.Load()
		if snap.seq > c.seq {
			moved, err := c.step(ctx, snap)
			if err != nil {
				return err
			}
			if moved {
				return nil
			}
			continue
		}
		select {
		case <-next:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// step works out what changed between the client's snapshot and snap,
// and reports whether there is anything to send.
func (c *syncCursor) step(ctx context.Context, snap *snapshot) (bool, error) {
	a, err := snap.accessOf(c.id)
	if err != nil {
		return false, err
	}
	o := snap.orgs[c.orgID]
	if o == nil || a.org != o {
		return false, errRefreshRequired
	}
	old := c.view
	changes, err := c.d.src.ChangesSince(ctx, c.seq, maxSyncChanges+1)
	if err != nil {
		return false, ldapError(err)
	}
	if len(changes) > maxSyncChanges {
		return false, errRefreshRequired
	}
	users, groups := map[string]bool{}, map[string]bool{}
	chained := hasInChain(&c.req.Filter) || o.org.LDAP.TransitiveMemberOf
	for _, ch := range changes {
		if ch.OrgID != c.orgID || !inView(ch.Kind) || ch.Kind == store.KindPolicy {
			continue
		}
		switch ch.Kind {
		case store.KindUser:
			users[ch.ID] = true
			// A user renamed or deleted changes its groups' uniqueMember,
			// with no change naming them.
			for _, v := range []*orgView{old, o} {
				v.groupsOfUser(ch.ID, groups)
			}
		case store.KindGroup:
			groups[ch.ID] = true
		case store.KindMembership, store.KindGroupLink:
			if chained && (old.nest != nil || o.nest != nil || ch.Kind == store.KindGroupLink) {
				return false, errRefreshRequired
			}
			groups[ch.ID] = true
			for _, v := range []*orgView{old, o} {
				v.relatedOf(ch.ID, users, groups)
			}
		default:
			return false, errRefreshRequired // the org's settings
		}
	}
	fOld, fNew := c.filterFor(old), c.filterFor(o)
	oldAccess, err := c.oldAccess(old)
	if err != nil {
		oldAccess = a
	}
	for _, set := range []struct {
		k   store.Kind
		ids map[string]bool
	}{{store.KindUser, users}, {store.KindGroup, groups}} {
		for id := range set.ids {
			was, now := old.entryOf(set.k, id), o.entryOf(set.k, id)
			in := was != nil && c.matches(oldAccess, old, was, &fOld)
			switch {
			case now != nil && c.matches(a, o, now, &fNew):
				state := ldap.SyncModify
				if !in {
					state = ldap.SyncAdd
				}
				if in && sameEntry(now, was) {
					continue
				}
				c.todo = appendItem(c.todo, syncItem{state: state, e: now, o: o, dn: now.dn, uuid: uuidOf(o, now)})
			case in:
				c.todo = appendItem(c.todo, syncItem{state: ldap.SyncDelete, dn: was.dn, uuid: uuidOf(old, was)})
			}
		}
	}
	c.seq, c.view, c.done = snap.seq, o, false
	return len(c.todo) > 0, nil
}

// oldAccess is the bound user's access as the older view o had it.
func (c *syncCursor) oldAccess(o *orgView) (access, error) {
	s := &snapshot{orgs: map[string]*orgView{c.orgID: o}}
	return s.accessOf(c.id)
}

// relatedOf adds to users and groups the members of group id in o, and
// the groups linked to it (their memberOf names it).
func (o *orgView) relatedOf(id string, users, groups map[string]bool) {
	e := o.entryOf(store.KindGroup, id)
	if e == nil {
		return
	}
	g := o.indexOf(e) - (o.ous[1] + 1)
	for _, u := range o.members.list(int(g)) {
		users[o.entries[2+u].id] = true
	}
	if o.nest != nil {
		for _, k := range o.nest.childrenOf(g) {
			groups[o.entries[o.ous[1]+1+k].id] = true
		}
	}
}

// groupsOfUser adds to groups the groups user id is in, in o.
func (o *orgView) groupsOfUser(id string, groups map[string]bool) {
	e := o.entryOf(store.KindUser, id)
	if e == nil {
		return
	}
	gFirst := o.ous[1] + 1
	for _, g := range o.memberOf.list(int(o.indexOf(e)) - 2) {
		groups[o.entries[gFirst+g].id] = true
	}
}

// String names the cursor in logs.
func (c *syncCursor) String() string {
	return fmt.Sprintf("sync(%s, seq %d)", c.orgID, c.seq)
}
