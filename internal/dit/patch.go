package dit

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"sort"
	"strings"
	"unsafe"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/store"
)

// Patching: a refresh whose changes in an org touch only users, groups
// and memberships reads just those records (Source.LoadDelta) and derives
// the org's new view from the current one. Entries that did not change
// are copied with their encoding; those whose memberships alone changed
// get the one attribute re-encoded; the named users and groups are built
// as buildOrg builds them. The indexes, the maps and the memberships are
// carried over and patched. The result is what buildOrg would build from
// the same data (TestPatchMatchesBuild); when a patch cannot tell, it
// gives up and the org is rebuilt.

// minPinnedBytes is how much memory patches may leave pinned in an org's
// view before it is rebuilt, however small the org (see orgView.pinned).
const minPinnedBytes = 4 << 20

// patchTries is how many times a patch reads the changed records when
// what it reads names further ones (writes racing with the refresh).
const patchTries = 3

// orgChanges are the changes of one org a refresh applies.
type orgChanges struct {
	users, groups []string
	policies      bool   // the org's policies changed
	full          string // when set, why the org must be rebuilt
}

func (c *orgChanges) add(ch store.Change) {
	switch ch.Kind {
	case store.KindUser:
		c.users = append(c.users, ch.ID)
	case store.KindGroup, store.KindMembership:
		c.groups = append(c.groups, ch.ID)
	case store.KindPolicy:
		c.policies = true
	case store.KindOrg:
		c.full = "the org changed"
	default:
		c.full = "a change of kind " + string(ch.Kind)
	}
}

// patchOrg returns old patched with the changes, or nil and why it
// cannot be.
func (d *DIT) patchOrg(ctx context.Context, old *orgView, c *orgChanges) (*orgView, string, error) {
	if c.full != "" {
		return nil, c.full, nil
	}
	if old.pinned > max(old.built, minPinnedBytes) {
		return nil, "memory held by earlier patches", nil
	}
	users, groups := sortedSet(c.users), sortedSet(c.groups)
	if len(groups) > 0 && old.nest != nil {
		// Nested groups number the groups: a change of any rebuilds.
		return nil, "a group of an org with nested groups changed", nil
	}
	if len(users)+len(groups) == 0 { // policies alone: the entries stay
		delta, _, err := d.src.LoadDelta(ctx, old.org.ID, nil, nil)
		if err != nil {
			return nil, "", err
		}
		if !sameOrg(delta.Org, old.org) {
			return nil, "the org changed", nil
		}
		o := *old
		o.signIn = keepSignIn(old.signIn, delta.SignIn)
		return &o, "", nil
	}
	limit := max(64, len(old.entries)/4)
	for range patchTries {
		if len(users)+len(groups) > limit {
			return nil, "too many changes", nil
		}
		delta, _, err := d.src.LoadDelta(ctx, old.org.ID, users, groups)
		if err != nil {
			return nil, "", err
		}
		if !sameOrg(delta.Org, old.org) {
			return nil, "the org changed", nil
		}
		p := &patcher{old: old, delta: delta, users: users, groups: groups,
			namedU: setOf(users), namedG: setOf(groups)}
		moreU, moreG, why := p.check()
		if why != "" {
			return nil, why, nil
		}
		if len(moreU)+len(moreG) == 0 {
			o, why := p.patch()
			return o, why, nil
		}
		users, groups = sortedSet(append(users, moreU...)), sortedSet(append(groups, moreG...))
	}
	return nil, "the memberships kept changing while read", nil
}

// keepSignIn keeps the org's compiled policies when a change left them
// as they were, so that sign-ins remembered under them stay remembered.
func keepSignIn(old, cur *directory.SignIn) *directory.SignIn {
	if old.Same(cur) {
		return old
	}
	return cur
}

func sortedSet(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func setOf(s []string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, x := range s {
		m[x] = true
	}
	return m
}

// sameOrg reports whether the org record still describes view's.
func sameOrg(a, b *directory.Org) bool {
	return a != nil && b != nil && a.ID == b.ID && a.Name == b.Name && a.Suffix == b.Suffix &&
		a.Created.Equal(b.Created) && slices.Equal(a.CustomAttributes, b.CustomAttributes)
}

// patcher derives one org's new view.
type patcher struct {
	old            *orgView
	delta          *directory.Delta
	users, groups  []string // named, sorted
	namedU, namedG map[string]bool

	// The new layout.
	nU, nG, n int
	gFirst    int32   // the first group's position
	newPos    []int32 // old position -> new; -1: gone
	from      []int32 // new position -> old; -1: new entry
	es        []entry
	full      []bool // new position: built from a record
	renamed   []bool // new position: the DN is not the old entry's
	jobsU     []jobUser
	jobsG     []jobGroup
	side      map[int32]*entry // new position -> the entry built there
	memberOf  csr              // the new memberships
	members   csr
	gone      []int32 // old positions
	inserted  []int32 // new positions
}

type jobUser struct {
	pos int32
	u   *directory.User
}

type jobGroup struct {
	pos int32
	g   *directory.Group
}

// check compares the memberships read with the view's and returns the
// further users and groups to read: the memberships a record lists are
// authoritative for that record, so a named user's group that was not
// named must agree with the view (else it changed too and is read), and
// the members and groups of named records must be known.
func (p *patcher) check() (moreU, moreG []string, why string) {
	old, delta := p.old, p.delta
	oGFirst := 3 + old.nUsers
	for _, id := range p.users {
		if delta.Users[id] == nil {
			continue
		}
		cur := delta.UserGroups[id]
		var had map[string]bool
		if s, ok := old.byUserID[id]; ok {
			gs := old.memberOf.list(int(old.pos[s]) - 2)
			had = make(map[string]bool, len(gs))
			for _, g := range gs {
				had[old.entries[oGFirst+int(g)].id] = true
			}
		}
		for _, gid := range cur {
			if p.namedG[gid] {
				if delta.Groups[gid] != nil && !sortedHas(delta.GroupMembers[gid], id) {
					return nil, nil, "a user's and a group's memberships disagree"
				}
				continue
			}
			if _, known := old.byGroupID[gid]; !known || !had[gid] {
				moreG = append(moreG, gid)
			}
		}
		for gid := range had {
			if !p.namedG[gid] && !sortedHas(cur, gid) {
				moreG = append(moreG, gid)
			}
		}
	}
	for _, id := range p.groups {
		if delta.Groups[id] == nil {
			continue
		}
		for _, uid := range delta.GroupMembers[id] {
			if p.namedU[uid] {
				if delta.Users[uid] != nil && !sortedHas(delta.UserGroups[uid], id) {
					return nil, nil, "a user's and a group's memberships disagree"
				}
				continue
			}
			if _, known := old.byUserID[uid]; !known {
				moreU = append(moreU, uid)
			}
		}
	}
	return moreU, moreG, ""
}

func sortedHas(s []string, x string) bool {
	_, ok := slices.BinarySearch(s, x)
	return ok
}

// patch builds the new view; nil and why when it cannot.
func (p *patcher) patch() (*orgView, string) {
	old := p.old
	oNU, oN := old.nUsers, len(old.entries)
	oGFirst := 3 + oNU
	p.newPos = make([]int32, oN)
	p.from = make([]int32, 0, oN+len(p.users)+len(p.groups))

	// The layout: the old entries in order, without the gone ones, and
	// the new ones where they sort. A named record keeps its place when
	// its sort key is the same (it is re-encoded there); otherwise its
	// old entry goes and a new one is inserted.
	inPlaceU := map[int32]*directory.User{}
	type insUser struct {
		u       *directory.User
		sid, at int32
	}
	var insU []insUser
	for _, id := range p.users {
		u := p.delta.Users[id]
		s, had := old.byUserID[id]
		if had {
			q := old.pos[s]
			if u != nil && u.LoginKey == old.entries[q].key {
				inPlaceU[q] = u
				continue
			}
			p.gone = append(p.gone, q)
		} else {
			s = -1
		}
		if u != nil {
			at := 2 + int32(sort.Search(oNU, func(i int) bool {
				e := &old.entries[2+i]
				return compareKeys(e.key, e.id, u.LoginKey, u.ID) > 0
			}))
			insU = append(insU, insUser{u, s, at})
		}
	}
	slices.SortFunc(insU, func(a, b insUser) int { return compareKeys(a.u.LoginKey, a.u.ID, b.u.LoginKey, b.u.ID) })
	inPlaceG := map[int32]*directory.Group{}
	type insGroup struct {
		g       *directory.Group
		sid, at int32
	}
	var insG []insGroup
	for _, id := range p.groups {
		g := p.delta.Groups[id]
		s, had := old.byGroupID[id]
		if had {
			q := old.pos[s]
			if g != nil && g.NameKey == old.entries[q].key {
				inPlaceG[q] = g
				continue
			}
			p.gone = append(p.gone, q)
		} else {
			s = -1
		}
		if g != nil {
			at := int32(oGFirst + sort.Search(oN-oGFirst, func(i int) bool {
				e := &old.entries[oGFirst+i]
				return compareKeys(e.key, e.id, g.NameKey, g.ID) > 0
			}))
			insG = append(insG, insGroup{g, s, at})
		}
	}
	slices.SortFunc(insG, func(a, b insGroup) int { return compareKeys(a.g.NameKey, a.g.ID, b.g.NameKey, b.g.ID) })
	slices.Sort(p.gone)

	sids := map[int32]int32{} // new position -> sid, for inserted entries
	gi := 0
	keep := func(q int32) {
		if gi < len(p.gone) && p.gone[gi] == q {
			p.newPos[q] = -1
			gi++
			return
		}
		p.newPos[q] = int32(len(p.from))
		p.from = append(p.from, q)
	}
	insert := func(sid int32) int32 {
		at := int32(len(p.from))
		p.from = append(p.from, -1)
		p.inserted = append(p.inserted, at)
		sids[at] = sid
		return at
	}
	keep(0)
	keep(1)
	ii := 0
	for q := int32(2); ; q++ {
		for ii < len(insU) && insU[ii].at == q {
			p.jobsU = append(p.jobsU, jobUser{insert(insU[ii].sid), insU[ii].u})
			ii++
		}
		if q == int32(2+oNU) {
			break
		}
		keep(q)
	}
	p.nU = len(p.from) - 2
	keep(int32(oGFirst - 1))
	p.gFirst = int32(len(p.from))
	ii = 0
	for q := int32(oGFirst); ; q++ {
		for ii < len(insG) && insG[ii].at == q {
			p.jobsG = append(p.jobsG, jobGroup{insert(insG[ii].sid), insG[ii].g})
			ii++
		}
		if q == int32(oN) {
			break
		}
		keep(q)
	}
	p.n = len(p.from)
	p.nG = p.n - int(p.gFirst)
	for q, u := range inPlaceU {
		p.jobsU = append(p.jobsU, jobUser{p.newPos[q], u})
	}
	for q, g := range inPlaceG {
		p.jobsG = append(p.jobsG, jobGroup{p.newPos[q], g})
	}
	slices.SortFunc(p.jobsU, func(a, b jobUser) int { return int(a.pos - b.pos) })
	slices.SortFunc(p.jobsG, func(a, b jobGroup) int { return int(a.pos - b.pos) })

	// The entries built anew (the named ones, and those whose memberships
	// read differently) are built aside, so that a patch that changes
	// nothing LDAP shows copies nothing.
	p.full = make([]bool, p.n)
	p.renamed = make([]bool, p.n)
	p.side = make(map[int32]*entry, len(p.jobsU)+len(p.jobsG))
	nextSID := int32(len(old.pos))
	for _, at := range p.inserted {
		s := sids[at]
		if s < 0 {
			s = nextSID
			nextSID++
		}
		p.side[at] = &entry{sid: s}
		p.renamed[at] = true
	}
	aside := func(q int32) *entry {
		e := p.side[q]
		if e == nil {
			c := old.entries[p.from[q]]
			e = &c
			p.side[q] = e
		}
		return e
	}
	for _, j := range p.jobsU {
		e := aside(j.pos)
		if err := old.layUser(e, j.u); err != nil {
			return nil, err.Error()
		}
		p.full[j.pos] = true
		if f := p.from[j.pos]; f >= 0 {
			p.renamed[j.pos] = e.dn != old.entries[f].dn || e.norm != old.entries[f].norm
		}
	}
	for _, j := range p.jobsG {
		e := aside(j.pos)
		if err := old.layGroup(e, j.g); err != nil {
			return nil, err.Error()
		}
		p.full[j.pos] = true
		if f := p.from[j.pos]; f >= 0 {
			p.renamed[j.pos] = e.dn != old.entries[f].dn || e.norm != old.entries[f].norm
		}
	}

	// The memberships, and the other users and groups whose memberships
	// now read differently (another member or group, or one renamed):
	// their one attribute is rebuilt.
	var spliceU, spliceG []int32
	var memberOf, members csr
	if p.sameMemberships() {
		memberOf, members = old.memberOf, old.members
		for _, j := range p.jobsU {
			if p.renamed[j.pos] {
				for _, g := range old.memberOf.list(int(j.pos) - 2) {
					if q := p.gFirst + g; !p.full[q] {
						spliceG = append(spliceG, q)
					}
				}
			}
		}
		for _, j := range p.jobsG {
			if p.renamed[j.pos] {
				for _, u := range old.members.list(int(j.pos - p.gFirst)) {
					if q := 2 + u; !p.full[q] {
						spliceU = append(spliceU, q)
					}
				}
			}
		}
		spliceU, spliceG = sortedInts(spliceU), sortedInts(spliceG)
	} else {
		memberOf, members = p.memberships()
		for i := range p.nU {
			q := 2 + int32(i)
			f := p.from[q]
			if f < 0 || p.full[q] {
				continue
			}
			was, now := old.memberOf.list(int(f)-2), memberOf.list(i)
			same := len(was) == len(now)
			for k := 0; same && k < len(now); k++ {
				same = p.newPos[oGFirst+int(was[k])]-p.gFirst == now[k] && !p.renamed[p.gFirst+now[k]]
			}
			if !same {
				spliceU = append(spliceU, q)
			}
		}
		for i := range p.nG {
			q := p.gFirst + int32(i)
			f := p.from[q]
			if f < 0 || p.full[q] {
				continue
			}
			was, now := old.members.list(int(f)-oGFirst), members.list(i)
			same := len(was) == len(now)
			for k := 0; same && k < len(now); k++ {
				same = p.newPos[2+was[k]]-2 == now[k] && !p.renamed[2+now[k]]
			}
			if !same {
				spliceG = append(spliceG, q)
			}
		}
	}
	p.memberOf, p.members = memberOf, members
	if len(spliceG) > 0 && old.posix() {
		// A group's memberUid lists its users' logins, which splicing
		// uniqueMember does not rewrite.
		return nil, "a member of a POSIX group was renamed or went"
	}
	ous := 0
	if p.nU != oNU {
		ous++
	}
	if p.nG != oN-oGFirst {
		ous++
	}

	b := newBuilder(old, max(1, len(p.jobsU)+len(p.jobsG)+len(spliceU)+len(spliceG)+ous))
	group := func(g int32) *entry { return p.at(p.gFirst + g) }
	user := func(u int32) *entry { return p.at(2 + u) }
	var changed []int32 // new positions of old entries whose content changed
	for _, j := range p.jobsU {
		e := p.side[j.pos]
		old.encodeUser(b, e, j.u, memberOf.list(int(j.pos)-2), group)
		if f := p.from[j.pos]; f >= 0 {
			if sameEntry(e, &old.entries[f]) {
				delete(p.side, j.pos)
			} else {
				changed = append(changed, j.pos)
			}
		}
	}
	for _, j := range p.jobsG {
		e := p.side[j.pos]
		old.encodeGroup(b, e, j.g, j.pos-p.gFirst, members.list(int(j.pos-p.gFirst)), user, group)
		if f := p.from[j.pos]; f >= 0 {
			if sameEntry(e, &old.entries[f]) {
				delete(p.side, j.pos)
			} else {
				changed = append(changed, j.pos)
			}
		}
	}
	for _, q := range spliceU {
		gs := old.nest.memberOf(memberOf.list(int(q)-2), old.org.LDAP.TransitiveMemberOf)
		disp, match := memberDNs(b, nil, gs, nil, group)
		if !b.splice(aside(q), idMemberOf, disp, match, idEntryDN, true) {
			return nil, "a user entry without entryDN"
		}
		changed = append(changed, q)
	}
	for _, q := range spliceG {
		disp, match := memberDNs(b, members.list(int(q-p.gFirst)), old.nest.childrenOf(q-p.gFirst), user, group)
		if !b.splice(aside(q), idUniqueMember, disp, match, idUniqueIdentifier, false) {
			return nil, "a group entry without uniqueIdentifier"
		}
		changed = append(changed, q)
	}
	if p.nU != oNU {
		old.encodeOU(b, aside(1), "users", p.nU)
		changed = append(changed, 1)
	}
	if p.nG != oN-oGFirst {
		old.encodeOU(b, aside(p.gFirst-1), "groups", p.nG)
		changed = append(changed, p.gFirst-1)
	}
	if len(changed) == 0 && len(p.gone) == 0 && len(p.inserted) == 0 {
		return old, "" // nothing LDAP shows changed (a password hash, say)
	}

	// The entries: copied in runs, then those built aside.
	es := make([]entry, p.n)
	for i := 0; i < p.n; {
		f := p.from[i]
		if f < 0 {
			i++
			continue
		}
		j := i + 1
		for j < p.n && p.from[j] == f+int32(j-i) {
			j++
		}
		copy(es[i:j], old.entries[f:int(f)+j-i])
		i = j
	}
	for q, e := range p.side {
		es[q] = *e
	}
	p.es = es

	o := *old
	o.signIn = keepSignIn(old.signIn, p.delta.SignIn)
	o.entries, o.nUsers = es, p.nU
	o.memberOf, o.members = memberOf, members
	o.place()
	o.pos = make([]int32, nextSID)
	for i := range o.pos {
		o.pos[i] = -1
	}
	for i := range es {
		o.pos[es[i].sid] = int32(i)
	}
	if why := p.maps(&o, changed); why != "" {
		return nil, why
	}
	p.indexes(&o, changed)
	o.pinned = old.pinned + b.tail()
	for _, f := range p.gone {
		if e := &old.entries[f]; !e.own {
			o.pinned += e.footprint()
		}
	}
	for _, q := range changed {
		if e := &old.entries[p.from[q]]; !e.own {
			o.pinned += e.footprint()
		}
	}
	return &o, ""
}

// at is the entry at new position q while the new view is being built.
func (p *patcher) at(q int32) *entry {
	if p.full[q] {
		if e := p.side[q]; e != nil {
			return e
		} // else rebuilt as it was
	}
	return &p.old.entries[p.from[q]]
}

func sortedInts(s []int32) []int32 {
	slices.Sort(s)
	return slices.Compact(s)
}

// sameMemberships reports whether the memberships are as they were: no
// entry came or went, and the named records' memberships read as the
// view has them.
func (p *patcher) sameMemberships() bool {
	old, delta := p.old, p.delta
	if len(p.gone) > 0 || len(p.inserted) > 0 {
		return false
	}
	oGFirst := 3 + old.nUsers
	for _, j := range p.jobsU {
		was, now := old.memberOf.list(int(j.pos)-2), delta.UserGroups[j.u.ID]
		if len(was) != len(now) {
			return false
		}
		for _, gid := range now {
			s, ok := old.byGroupID[gid]
			if _, in := slices.BinarySearch(was, old.pos[s]-int32(oGFirst)); !ok || !in {
				return false
			}
		}
	}
	for _, j := range p.jobsG {
		was, now := old.members.list(int(j.pos)-oGFirst), delta.GroupMembers[j.g.ID]
		if len(was) != len(now) {
			return false
		}
		for _, uid := range now {
			s, ok := old.byUserID[uid]
			if _, in := slices.BinarySearch(was, old.pos[s]-2); !ok || !in {
				return false
			}
		}
	}
	return true
}

// sameEntry reports whether e, rebuilt, is what old was.
func sameEntry(e, old *entry) bool {
	return bytes.Equal(e.enc, old.enc) && e.dn == old.dn && e.norm == old.norm &&
		e.active == old.active && e.viewAll == old.viewAll && e.login == old.login &&
		sameCredential(e.cred, old.cred)
}

func sameCredential(a, b *directory.Credential) bool {
	return a == b || (a != nil && b != nil && *a == *b)
}

// memberships returns the new memberships both ways: those of the named
// records as read, the others as they were.
func (p *patcher) memberships() (memberOf, members csr) {
	old, delta := p.old, p.delta
	oNU := old.nUsers
	oGFirst := 3 + oNU
	namedOldU := make([]bool, oNU)
	for _, id := range p.users {
		if s, ok := old.byUserID[id]; ok {
			namedOldU[old.pos[s]-2] = true
		}
	}
	namedOldG := make([]bool, len(old.entries)-oGFirst)
	for _, id := range p.groups {
		if s, ok := old.byGroupID[id]; ok {
			namedOldG[int(old.pos[s])-oGFirst] = true
		}
	}
	pairs := make([]membership, 0, len(old.memberOf.flat)+64)
	for i := range oNU {
		if namedOldU[i] {
			continue
		}
		u := p.newPos[2+i] - 2
		for _, g := range old.memberOf.list(i) {
			if !namedOldG[g] {
				pairs = append(pairs, membership{u, p.newPos[oGFirst+int(g)] - p.gFirst})
			}
		}
	}
	for _, j := range p.jobsU {
		for _, gid := range delta.UserGroups[j.u.ID] {
			if p.namedG[gid] {
				continue // the group's members say
			}
			if s, ok := old.byGroupID[gid]; ok {
				pairs = append(pairs, membership{j.pos - 2, p.newPos[old.pos[s]] - p.gFirst})
			}
		}
	}
	named := make(map[string]int32, len(p.jobsU))
	for _, j := range p.jobsU {
		named[j.u.ID] = j.pos
	}
	for _, j := range p.jobsG {
		g := j.pos - p.gFirst
		for _, uid := range delta.GroupMembers[j.g.ID] {
			at := int32(-1)
			if p.namedU[uid] {
				if q, ok := named[uid]; ok {
					at = q
				}
			} else if s, ok := old.byUserID[uid]; ok {
				at = p.newPos[old.pos[s]]
			}
			if at >= 0 {
				pairs = append(pairs, membership{at - 2, g})
			}
		}
	}
	return memberships(pairs, p.nU, p.nG)
}

// maps patches o's maps by DN and by id; why when two entries would have
// the same DN (buildOrg serves the first, which a patch does not track).
func (p *patcher) maps(o *orgView, changed []int32) string {
	old := p.old
	byNorm, own := old.byNorm, false
	del := func(e *entry) bool {
		if old.dupNorms[e.norm] {
			return false
		}
		if s, ok := byNorm[e.norm]; ok && s == e.sid {
			if !own {
				byNorm, own = maps.Clone(byNorm), true
			}
			delete(byNorm, e.norm)
		}
		return true
	}
	var add []int32
	for _, f := range p.gone {
		if !del(&old.entries[f]) {
			return "an entry whose DN another has went"
		}
	}
	for _, q := range changed {
		if oe := &old.entries[p.from[q]]; oe.norm != p.es[q].norm {
			if !del(oe) {
				return "an entry whose DN another has was renamed"
			}
			add = append(add, q)
		}
	}
	for _, q := range append(add, p.inserted...) {
		e := &p.es[q]
		if _, taken := byNorm[e.norm]; taken || old.dupNorms[e.norm] {
			return "two entries would have the same DN"
		}
		if !own {
			byNorm, own = maps.Clone(byNorm), true
		}
		byNorm[e.norm] = e.sid
	}
	o.byNorm = byNorm

	patchIDs := func(m map[string]int32, named []string, exists func(string) bool) map[string]int32 {
		own := false
		for _, id := range named {
			_, had := m[id]
			if had == exists(id) {
				continue
			}
			if !own {
				m, own = maps.Clone(m), true
			}
			if had {
				delete(m, id)
			} else {
				m[id] = -1 // set below
			}
		}
		return m
	}
	o.byUserID = patchIDs(old.byUserID, p.users, func(id string) bool { return p.delta.Users[id] != nil })
	o.byGroupID = patchIDs(old.byGroupID, p.groups, func(id string) bool { return p.delta.Groups[id] != nil })
	for _, q := range p.inserted {
		e := &p.es[q]
		m := o.byGroupID
		if e.kind == kindUser {
			m = o.byUserID
		}
		if m[e.id] != e.sid {
			m[e.id] = e.sid // a new record (a moved one kept its sid)
		}
	}
	return ""
}

// indexes patches o's indexes: the keys of the gone entries go, those of
// the inserted ones come, and those of the changed ones that differ.
func (p *patcher) indexes(o *orgView, changed []int32) {
	old := p.old
	k := keyer{oc: old.ocKeys}
	var drops, adds [numIndexes][]keyPos
	var vals []string
	// keys appends e's index keys. The keys added are copies when they
	// would share e's encoding: an index key can outlive its entry (the
	// key stays while other entries have it), and would keep a patch's
	// block, made for few entries, alive with it.
	keys := func(dst *[numIndexes][]keyPos, e *entry, pos int32, only *[numIndexes]bool, add bool) {
		r := valueReader{e: e}
		for a, sp := range e.spans {
			slot := indexSlot(sp.id)
			if slot < 0 || only != nil && !only[slot] {
				r.skip(a)
				continue
			}
			vals = r.next(vals[:0], a)
			for _, v := range vals {
				if key, ok := k.key(sp.id, v); ok {
					if add && !sp.norm && unsafe.StringData(key) == unsafe.StringData(v) {
						key = strings.Clone(key)
					}
					dst[slot] = append(dst[slot], keyPos{key, pos})
				}
			}
		}
	}
	for _, f := range p.gone {
		keys(&drops, &old.entries[f], f, nil, false)
	}
	for _, q := range p.inserted {
		keys(&adds, &p.es[q], q, nil, true)
	}
	oGFirst := 3 + old.nUsers
	var wasBuf, nowBuf []string
	for _, q := range changed {
		f := p.from[q]
		e := &p.es[q]
		var was, now [numIndexes][]string
		was, wasBuf = indexedValues(&old.entries[f], wasBuf[:0])
		now, nowBuf = indexedValues(e, nowBuf[:0])
		// A membership attribute can hold 100,000 DNs: what it lost and
		// gained is read from the memberships, not by comparing values.
		// (Values are the members' DNs, all different while no two
		// entries share one.)
		slot := -1
		if len(old.dupNorms) == 0 {
			switch e.kind {
			case kindUser:
				slot = indexSlot(idMemberOf)
				p.memberKeys(&drops[slot], &adds[slot], f, q, old.memberOf.list(int(f)-2), oGFirst, p.memberOf.list(int(q)-2), p.gFirst)
			case kindGroup:
				slot = indexSlot(idUniqueMember)
				p.memberKeys(&drops[slot], &adds[slot], f, q, old.members.list(int(f)-oGFirst), 2, p.members.list(int(q-p.gFirst)), 2)
			}
		}
		var differ [numIndexes]bool
		any := false
		for s := range differ {
			differ[s] = s != slot && !slices.Equal(was[s], now[s])
			any = any || differ[s]
		}
		if any {
			keys(&drops, &old.entries[f], f, &differ, false)
			keys(&adds, e, q, &differ, true)
		}
	}
	identity := len(p.gone) == 0 && len(p.inserted) == 0
	for slot := range o.idx {
		if identity && len(drops[slot]) == 0 && len(adds[slot]) == 0 {
			continue // shared
		}
		o.idx[slot] = old.idx[slot].patch(p.newPos, identity, drops[slot], adds[slot])
	}
	o.ocKeys = k.oc
}

// memberKeys appends to drops and adds the index keys a membership
// attribute loses and gains: the entry was at old position f, a member of
// (or with members) was, numbers from old position oBase; it is at q with
// now, numbers from new position nBase. The keys are the DNs.
func (p *patcher) memberKeys(drops, adds *[]keyPos, f, q int32, was []int32, oBase int, now []int32, nBase int32) {
	i, j := 0, 0
	for i < len(was) || j < len(now) {
		a, b := int32(-1), int32(-1)
		if i < len(was) {
			if a = p.newPos[oBase+int(was[i])]; a < 0 {
				*drops = append(*drops, keyPos{p.old.entries[oBase+int(was[i])].norm, f})
				i++
				continue
			}
		}
		if j < len(now) {
			b = nBase + now[j]
		}
		switch {
		case a >= 0 && a == b:
			if was, now := p.old.entries[oBase+int(was[i])].norm, p.es[b].norm; was != now {
				*drops = append(*drops, keyPos{was, f})
				*adds = append(*adds, keyPos{now, q})
			}
			i++
			j++
		case a >= 0 && (b < 0 || a < b):
			*drops = append(*drops, keyPos{p.old.entries[oBase+int(was[i])].norm, f})
			i++
		default:
			*adds = append(*adds, keyPos{p.es[b].norm, q})
			j++
		}
	}
}

// indexedValues returns the match values of e's indexed attributes, read
// into buf (returned, grown).
func indexedValues(e *entry, buf []string) (v [numIndexes][]string, _ []string) {
	var ends [numIndexes][2]int
	r := valueReader{e: e}
	for a, sp := range e.spans {
		slot := indexSlot(sp.id)
		if slot < 0 {
			r.skip(a)
			continue
		}
		start := len(buf)
		buf = r.next(buf, a)
		ends[slot] = [2]int{start, len(buf)}
	}
	for slot, se := range ends {
		if se[1] > se[0] {
			v[slot] = buf[se[0]:se[1]]
		}
	}
	return v, buf
}

// splice sets e, a copy of an old entry, to carry the values display
// (sent) and match (matched) of attribute id instead of those it has; no
// values: without the attribute. An attribute e lacks goes right after
// the anchor attribute, or right before it. The other attributes keep
// their bytes. False when e has neither the attribute nor the anchor.
func (b *builder) splice(e *entry, id attrID, display, match []string, anchor attrID, after bool) bool {
	k0, ka := -1, -1
	for k, sp := range e.spans {
		switch sp.id {
		case id:
			k0 = k
		case anchor:
			ka = k
		}
	}
	add := len(display) > 0
	ins := k0
	var cut0, cut1 uint32 // the bytes replaced
	if k0 >= 0 {
		cut0, cut1 = e.spans[k0].start, e.spans[k0].end
	} else {
		if ka < 0 {
			return false
		}
		ins = ka
		if after {
			ins++
		}
		cut0 = uint32(len(e.enc))
		if ins < len(e.spans) {
			cut0 = e.spans[ins].start
		}
		cut1 = cut0
	}
	var enc []byte
	var own bool
	nb := 0 // the new attribute's length
	if size := len(e.enc) - int(cut1-cut0) + encodedSize(b.defs[id].name, display); size >= b.blockBytes/2 {
		// Big (a group of many members): encoded in place, in a buffer of
		// the entry's own.
		enc, own = make([]byte, 0, size), true
		b.bytes += size
		enc = append(enc, e.enc[:cut0]...)
		if add {
			b.enc.Reset()
			b.enc.Buf = enc
			ldap.AppendPartialAttribute(&b.enc, b.defs[id].name, display)
			enc, b.enc.Buf = b.enc.Buf, nil
			nb = len(enc) - int(cut0)
		}
		enc = append(enc, e.enc[cut1:]...)
		enc = enc[:len(enc):len(enc)]
	} else {
		var attr []byte
		if add {
			b.enc.Reset()
			b.enc.Buf = b.reserve(encodedSize(b.defs[id].name, display))
			ldap.AppendPartialAttribute(&b.enc, b.defs[id].name, display)
			attr = b.enc.Buf
			b.scratch, b.enc.Buf = attr[:0], nil
			nb = len(attr)
		}
		enc, own = b.carve(len(e.enc) - int(cut1-cut0) + nb)
		w := copy(enc, e.enc[:cut0])
		w += copy(enc[w:], attr)
		copy(enc[w:], e.enc[cut1:])
	}
	shift := uint32(nb) - (cut1 - cut0) // modular: adds or subtracts

	n := len(e.spans)
	if k0 >= 0 {
		n--
	}
	if add {
		n++
	}
	// The norms: those of the spans before the cut, the new attribute's
	// (when they differ from what is sent), those after.
	norm := add && !sameValues(display, match)
	r := valueReader{e: e}
	n0, n1 := 0, 0 // e.norms[n0:n1] are the replaced attribute's
	for k := range e.spans {
		if k == ins {
			n0 = r.nn
		}
		r.skip(k)
		if k == ins {
			n1 = r.nn
		}
	}
	if ins >= len(e.spans) {
		n0, n1 = len(e.norms), len(e.norms)
	}
	if k0 < 0 {
		n1 = n0 // nothing replaced: the anchor's norms stay
	}
	norms := e.norms
	if norm || n1 > n0 {
		kept := len(e.norms) - (n1 - n0)
		if norm {
			kept += len(match)
		}
		norms = nil
		if kept > 0 {
			norms = b.vals(kept)
			w := copy(norms, e.norms[:n0])
			if norm {
				w += copy(norms[w:], match)
			}
			copy(norms[w:], e.norms[n1:])
		}
	}
	spans := b.spans.make(n, b.blockAttrs)
	j := 0
	for k := 0; k <= len(e.spans); k++ {
		if k == ins && add {
			spans[j] = span{id: id, norm: norm, start: cut0, end: cut0 + uint32(nb)}
			j++
		}
		if k == len(e.spans) {
			break
		}
		if k == k0 {
			continue
		}
		sp := e.spans[k]
		if k >= ins {
			sp.start, sp.end = sp.start+shift, sp.end+shift
		}
		spans[j] = sp
		j++
	}
	if !b.defs[id].oper {
		if k0 >= 0 {
			e.nUser--
		}
		if add {
			e.nUser++
		}
	}
	e.enc, e.own, e.spans, e.norms = enc, own, spans, norms
	b.dropTmp()
	return true
}
