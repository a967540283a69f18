package dit

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/dirgate/dirgate/internal/ldap"
)

// The equality indexes every org keeps, keyed by the value normalised with
// the type's equality matching rule. Posting lists hold entry numbers in
// entry order, so candidates come out in the order a scan would give.
const numIndexes = 10

var indexedAttrs [numIndexes]attrID

func init() {
	indexedAttrs = [numIndexes]attrID{idObjectClass, idUID, idMail, idCN, idUniqueIdentifier, idEntryUUID, idUniqueMember, idMemberOf,
		idUIDNumber, idGIDNumber}
}

// indexSlot returns the index of attribute id, or -1.
func indexSlot(id attrID) int {
	for i, a := range indexedAttrs {
		if a == id {
			return i
		}
	}
	return -1
}

// postings is one equality index: each key names a list of entry
// positions, sorted. The lists live in two flat arrays, and the keys map
// to list numbers, so that a patch that shifts entries rewrites the
// arrays (a copy) but not the map.
type postings struct {
	keys map[string]int32 // key -> list number
	off  []int32          // list l is at[off[l]:off[l+1]]
	at   []int32
	free []int32 // list numbers no key uses (their lists are empty)
}

// get returns the positions of the entries with key.
func (p *postings) get(key string) []int32 {
	l, ok := p.keys[key]
	if !ok {
		return nil
	}
	return p.at[p.off[l]:p.off[l+1]:p.off[l+1]]
}

// getBytes is get without converting key (nor allocating).
func (p *postings) getBytes(key []byte) []int32 {
	l, ok := p.keys[string(key)]
	if !ok {
		return nil
	}
	return p.at[p.off[l]:p.off[l+1]:p.off[l+1]]
}

// keyer computes index keys: a value normalised with its type's equality
// rule.
type keyer struct {
	// oc caches objectClass keys (the values repeat): lower-cased value
	// -> key. A patch starts from the view's map and copies it before
	// adding to it (own).
	oc  map[string]string
	own bool
}

// key is the index key of value v of attribute id; false when v is not a
// valid value of the type (it is not indexed).
func (k *keyer) key(id attrID, v string) (string, bool) {
	rule := globalAttrs[id].at.Equality
	var buf [256]byte
	switch {
	case rule.Syntax == ldap.SyntaxDN || rule.Syntax == ldap.SyntaxNameAndUID:
		return v, true // already normalised
	case caseIgnoring(rule):
		if f := foldSimpleASCII(buf[:0], v); f == nil {
			return rule.Normalize(v)
		} else if string(f) != v {
			return string(f), true
		}
		return v, true // v is its own key; share it
	case id == idObjectClass:
		lower := lowerInto(buf[:], v)
		if key, ok := k.oc[string(lower)]; ok {
			return key, true
		}
		key, ok := rule.Normalize(v)
		if ok && lower != nil {
			key = strings.Clone(key) // kept by the cache: v may share an entry's encoding
			if !k.own {
				k.oc, k.own = maps.Clone(k.oc), true
			}
			k.oc[string(lower)] = key
			k.oc[key] = key
		}
		return key, ok
	}
	return rule.Normalize(v)
}

// buildIndexes fills o.idx from the entries' match values, one index per
// goroutine (they are independent; most of the time is map lookups).
func (o *orgView) buildIndexes() {
	var wg sync.WaitGroup
	for slot := range o.idx {
		if len(o.entries) < parallelMin {
			o.buildIndex(slot)
			continue
		}
		wg.Go(func() { o.buildIndex(slot) })
	}
	wg.Wait()
}

// buildIndex fills o.idx[slot].
func (o *orgView) buildIndex(slot int) {
	id := indexedAttrs[slot]
	k := keyer{oc: map[string]string{}, own: true}
	// Sized for what the index will hold (keys; entry-key pairs), so that
	// building 100,000 users' indexes does not grow them step by step.
	size, pairs := 0, len(o.entries)
	switch id {
	case idUID, idMail:
		size = o.nUsers
	case idUniqueMember:
		size, pairs = o.nUsers, len(o.members.flat)
	case idMemberOf:
		size, pairs = len(o.entries)-o.nUsers, len(o.memberOf.flat)
	case idCN, idUniqueIdentifier, idEntryUUID:
		size = len(o.entries)
	case idObjectClass:
		pairs = 4 * len(o.entries)
	case idUIDNumber, idGIDNumber:
		if !o.org.LDAP.POSIX.Enabled { // no entry has them: no need to look
			o.idx[slot] = postings{keys: map[string]int32{}, off: []int32{0}}
			return
		}
		size = o.nUsers
	}
	p := &o.idx[slot]
	p.keys = make(map[string]int32, size)
	type hit struct{ l, i int32 }
	hits := make([]hit, 0, pairs)
	last := make([]int32, 0, size) // per list, the last entry added
	var vals []string
	for i := range o.entries {
		e := &o.entries[i]
		r := valueReader{e: e}
		for a, sp := range e.spans {
			if sp.id != id {
				r.skip(a)
				continue
			}
			vals = r.next(vals[:0], a)
			for _, v := range vals {
				key, ok := k.key(id, v)
				if !ok {
					continue
				}
				l, found := p.keys[key]
				if !found {
					l = int32(len(last))
					p.keys[key] = l
					last = append(last, -1)
				}
				if last[l] != int32(i) {
					last[l] = int32(i)
					hits = append(hits, hit{l, int32(i)})
				}
			}
			break
		}
	}
	lists := len(last)
	p.off = make([]int32, lists+1)
	for _, h := range hits {
		p.off[h.l+1]++
	}
	for l := 1; l <= lists; l++ {
		p.off[l] += p.off[l-1]
	}
	p.at = make([]int32, len(hits))
	fill := slices.Clone(p.off[:lists])
	for _, h := range hits {
		p.at[fill[h.l]] = h.i
		fill[h.l]++
	}
	if id == idObjectClass {
		o.ocKeys = k.oc
	}
}

// keyPos is an index key and an entry position.
type keyPos struct {
	key string
	pos int32
}

// listPos is a list number and an entry position.
type listPos struct{ l, pos int32 }

func compareListPos(a, b listPos) int {
	return cmp.Or(cmp.Compare(a.l, b.l), cmp.Compare(a.pos, b.pos))
}

// patch returns p after a patch of the entries: newPos maps each old
// position to the new one (-1: the entry is gone; identity: nothing
// moved), drops are the (key, old position) an entry that stays leaves
// (those of gone entries may be listed too: they tell which keys may have
// lost their last entry), adds the (key, new position) entries join.
// Positions must keep their order: a moved entry is gone and added.
func (p *postings) patch(newPos []int32, identity bool, drops, adds []keyPos) postings {
	np := postings{keys: p.keys, free: p.free}
	owned := false
	own := func() {
		if !owned {
			np.keys, np.free, owned = maps.Clone(p.keys), slices.Clone(p.free), true
		}
	}
	oldLists := len(p.off) - 1
	lists := oldLists
	dl := make([]listPos, 0, len(drops))
	for _, d := range drops {
		if l, ok := p.keys[d.key]; ok {
			dl = append(dl, listPos{l, d.pos})
		}
	}
	al := make([]listPos, 0, len(adds))
	for _, a := range adds {
		l, ok := np.keys[a.key]
		if !ok {
			own()
			if n := len(np.free); n > 0 {
				l, np.free = np.free[n-1], np.free[:n-1]
			} else {
				l = int32(lists)
				lists++
			}
			np.keys[a.key] = l
		}
		al = append(al, listPos{l, a.pos})
	}
	slices.SortFunc(dl, compareListPos)
	dl = slices.Compact(dl)
	slices.SortFunc(al, compareListPos)
	al = slices.Compact(al)

	np.off = make([]int32, lists+1)
	np.at = make([]int32, 0, len(p.at)+len(al))
	di, ai := 0, 0
	for l := 0; l < lists; {
		// The lists before the next one touched are copied (or remapped)
		// as a run.
		next := int32(lists)
		if di < len(dl) {
			next = dl[di].l
		}
		if ai < len(al) {
			next = min(next, al[ai].l)
		}
		if end := min(int(next), oldLists); l < end {
			if identity {
				delta := int32(len(np.at)) - p.off[l]
				np.at = append(np.at, p.at[p.off[l]:p.off[end]]...)
				for ; l < end; l++ {
					np.off[l] = p.off[l] + delta
				}
			} else {
				for ; l < end; l++ {
					np.off[l] = int32(len(np.at))
					for _, q := range p.at[p.off[l]:p.off[l+1]] {
						if nq := newPos[q]; nq >= 0 {
							np.at = append(np.at, nq)
						}
					}
				}
			}
			continue
		}
		for ; l < int(next); l++ { // new lists not touched: free ones
			np.off[l] = int32(len(np.at))
		}
		if l >= lists {
			break
		}
		// List l is touched: merge its remaining entries with those added.
		np.off[l] = int32(len(np.at))
		dj := di
		for dj < len(dl) && dl[dj].l == int32(l) {
			dj++
		}
		aj := ai
		for aj < len(al) && al[aj].l == int32(l) {
			aj++
		}
		if l < oldLists {
			for _, q := range p.at[p.off[l]:p.off[l+1]] {
				if di < dj && dl[di].pos < q {
					for di < dj && dl[di].pos < q {
						di++
					}
				}
				if di < dj && dl[di].pos == q {
					continue
				}
				nq := newPos[q]
				if nq < 0 {
					continue
				}
				for ai < aj && al[ai].pos < nq {
					np.at = append(np.at, al[ai].pos)
					ai++
				}
				if ai < aj && al[ai].pos == nq {
					ai++ // already there
				}
				np.at = append(np.at, nq)
			}
		}
		for ; ai < aj; ai++ {
			np.at = append(np.at, al[ai].pos)
		}
		di = dj
		l++
	}
	np.off[lists] = int32(len(np.at))
	// Keys whose list is now empty go; their numbers are reused.
	for _, d := range drops {
		l, ok := np.keys[d.key]
		if ok && np.off[l] == np.off[l+1] {
			own()
			delete(np.keys, d.key)
			np.free = append(np.free, l)
		}
	}
	return np
}

// plan picks candidate entries for f from the indexes: an equality (or
// approximate) assertion on an indexed type, an AND with at least one
// indexable child (its shortest list), or an OR whose children all are
// (their union, built in *scratch). ok is false when f needs a scan.
// Candidates are a superset of the matches, which the caller confirms
// with f.Match, unless exact: then they are the matches (an equality, or
// an AND or OR of exact children, intersected or united in *scratch), and
// confirming them, which for a group with many members means comparing
// with every value, is skipped.
func (o *orgView) plan(f *ldap.Filter, scratch *[]int32) (cands []int32, ok, exact bool) {
	switch f.Kind {
	case ldap.FilterEquality:
		c, ok := o.lookup(f)
		return c, ok, ok
	case ldap.FilterApprox:
		c, ok := o.lookup(f)
		return c, ok, false
	case ldap.FilterAnd:
		var best []int32
		found, all := false, len(f.Children) > 0
		var lists [4][]int32 // the exact children's, when few
		nExact := 0
		for i := range f.Children {
			c, ok, ex := o.planLeaf(&f.Children[i])
			if ok && (!found || len(c) < len(best)) {
				best, found = c, true
			}
			if !ex || nExact == len(lists) {
				all = false
				continue
			}
			lists[nExact] = c
			nExact++
		}
		if !found || !all || scratch == nil {
			return best, found, false
		}
		return intersect(lists[:nExact], best, scratch), true, true
	case ldap.FilterOr:
		if len(f.Children) == 0 {
			return nil, true, true // an empty OR is False
		}
		lists := make([][]int32, 0, len(f.Children))
		total, exact := 0, true
		for i := range f.Children {
			c, ok, ex := o.planLeaf(&f.Children[i])
			if !ok {
				return nil, false, false
			}
			lists = append(lists, c)
			total += len(c)
			exact = exact && ex
		}
		u := (*scratch)[:0]
		for _, l := range lists {
			u = append(u, l...)
		}
		slices.Sort(u)
		u = slices.Compact(u)
		*scratch = u
		return u, true, exact
	}
	return nil, false, false
}

// intersect returns the entries of shortest that are in every list, in
// *scratch (sorted lists; each member of shortest is looked up by binary
// search, so the cost follows the shortest list).
func intersect(lists [][]int32, shortest []int32, scratch *[]int32) []int32 {
	out := (*scratch)[:0]
	for _, x := range shortest {
		in := true
		for _, l := range lists {
			if _, found := slices.BinarySearch(l, x); !found {
				in = false
				break
			}
		}
		if in {
			out = append(out, x)
		}
	}
	*scratch = out
	return out
}

// planLeaf plans an AND or OR child: equality leaves and nested ANDs
// and ORs of them are indexable (a nested AND's intersection or OR's
// union is allocated).
func (o *orgView) planLeaf(f *ldap.Filter) ([]int32, bool, bool) {
	switch f.Kind {
	case ldap.FilterEquality, ldap.FilterApprox:
		return o.plan(f, nil)
	case ldap.FilterAnd, ldap.FilterOr:
		var u []int32
		return o.plan(f, &u)
	}
	return nil, false, false
}

// lookup is the posting list of an equality assertion.
func (o *orgView) lookup(f *ldap.Filter) ([]int32, bool) {
	at := ldap.LookupAttributeType(f.Attr)
	if at == nil {
		if o.lookupType(f.Attr) != nil {
			return nil, false // a custom attribute: not indexed
		}
		return nil, true // an unknown type matches nothing
	}
	if isUserPassword(at) {
		return nil, true
	}
	if _, opts := ldap.SplitAttributeDescription(f.Attr); opts != "" {
		return nil, false
	}
	id, known := globalByType[at]
	slot := -1
	if known {
		slot = indexSlot(id)
	}
	if slot < 0 {
		return nil, false
	}
	m := &o.idx[slot]
	// Fast paths that do not allocate: the commonest lookups (uid, mail,
	// cn; objectClass) are simple ASCII values or known class names.
	var buf [128]byte
	switch {
	case id == idObjectClass:
		if lower := lowerInto(buf[:], f.Value); lower != nil {
			if key, ok := o.ocKeys[string(lower)]; ok {
				return m.get(key), true
			}
		}
	case caseIgnoring(at.Equality):
		if k := foldSimpleASCII(buf[:0], f.Value); k != nil {
			return m.getBytes(k), true
		}
	}
	key, valid := at.Equality.Normalize(f.Value)
	if !valid {
		return nil, true // Undefined for every entry
	}
	return m.get(key), true
}

// caseIgnoring reports whether r prepares values by folding case and
// insignificant space (RFC 4518), as caseIgnoreMatch and
// caseIgnoreIA5Match do.
func caseIgnoring(r *ldap.MatchingRule) bool {
	return r == ldap.CaseIgnoreMatch || r == ldap.CaseIgnoreIA5Match
}

// foldSimpleASCII appends v lower-cased when v is printable ASCII without
// leading, trailing or repeated spaces: for such a value that is exactly
// what a case-ignoring rule's Normalize returns (the same shortcut the
// ldap package's filter evaluation takes). nil when v is not that simple
// or does not fit.
func foldSimpleASCII(dst []byte, v string) []byte {
	if v == "" || len(v) > cap(dst) || v[0] == ' ' || v[len(v)-1] == ' ' {
		return nil
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c < 0x20 || c >= 0x7f, c == ' ' && v[i-1] == ' ':
			return nil
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
