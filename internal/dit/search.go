package dit

import (
	"context"
	"io"
	"slices"
	"sync"

	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

var errInvalidBase = ldapserver.Fail(ldap.InvalidDNSyntax, "invalid base DN")

// noSuchObject answers a DN that does not name a visible entry; matched
// is the nearest existing ancestor's DN (only within the user's org).
func noSuchObject(matched string) error {
	return &ldapserver.ResultError{Code: ldap.NoSuchObject, MatchedDN: matched, Diagnostic: "no such entry"}
}

// find locates the entry with normalised DN norm in the org. When there is
// none it returns the error to answer: noSuchObject with the nearest
// existing ancestor as matchedDN, or without one when norm lies outside
// the org.
func (o *orgView) find(norm string) (int32, error) {
	if s, ok := o.byNorm[norm]; ok {
		return o.pos[s], nil
	}
	if !ldap.IsDescendantNorm(norm, o.baseNorm) {
		return 0, noSuchObject("")
	}
	for rest := norm; ; {
		k := nextSeparator(rest)
		if k < 0 {
			return 0, noSuchObject(o.base)
		}
		rest = rest[k+1:]
		if s, ok := o.byNorm[rest]; ok {
			return 0, noSuchObject(o.entries[o.pos[s]].dn)
		}
	}
}

// nextSeparator returns the index of the first ',' separating RDNs in a
// normalised DN (normalised values escape ',' as "\,"), or -1.
func nextSeparator(norm string) int {
	for i := 0; i < len(norm); i++ {
		switch norm[i] {
		case '\\':
			i++
		case ',':
			return i
		}
	}
	return -1
}

// entryWriter is what a cursor writes to: *ldapserver.EntryWriter, or a
// buffer in tests and benchmarks.
type entryWriter interface {
	Begin(dn string)
	Raw(attrs []byte)
	End()
}

// selection is a search's attribute list, resolved once.
type selection struct {
	allUser, allOp bool
	bits           []uint64 // attribute IDs asked for by name
}

func (s *selection) parse(attrs []string, o *orgView) {
	s.allUser, s.allOp = len(attrs) == 0, false
	words := (len(o.defs) + 63) / 64
	if cap(s.bits) < words {
		s.bits = make([]uint64, words)
	}
	s.bits = s.bits[:words]
	clear(s.bits)
	for _, a := range attrs {
		switch a {
		case "*":
			s.allUser = true
		case "+":
			s.allOp = true
		case "1.1":
		default:
			if id, ok := o.attrID(a); ok {
				s.bits[id/64] |= 1 << (id % 64)
			}
		}
	}
}

func (s *selection) has(id attrID) bool { return s.bits[id/64]&(1<<(id%64)) != 0 }

// write appends e's selected attributes: runs of adjacent pre-encoded
// attributes go out in one Raw call; typesOnly writes each type's
// pre-encoded empty attribute.
func (s *selection) write(w entryWriter, e *entry, defs []*attrDef, typesOnly bool) {
	allUser, allOp := s.allUser, s.allOp
	if e.showAll && (allUser || allOp) {
		allUser, allOp = true, true
	}
	if allUser && allOp && !typesOnly {
		if len(e.enc) > 0 {
			w.Raw(e.enc)
		}
		return
	}
	start, end := -1, -1
	for k, sp := range e.spans {
		if !(k < e.nUser && allUser || k >= e.nUser && allOp || s.has(sp.id)) {
			continue
		}
		if typesOnly {
			w.Raw(defs[sp.id].typesOnly)
			continue
		}
		if end == int(sp.start) {
			end = int(sp.end)
			continue
		}
		if start >= 0 {
			w.Raw(e.enc[start:end])
		}
		start, end = int(sp.start), int(sp.end)
	}
	if start >= 0 {
		w.Raw(e.enc[start:end])
	}
}

// cursor walks the candidates of one search in entry order. Cursors are
// pooled: a search allocates none once the pool is warm.
type cursor struct {
	org       *orgView
	filter    *ldap.Filter
	typesOnly bool
	sel       selection

	one      *entry  // a lone entry to test (RootDSE, cn=schema)
	cands    []int32 // candidates, when useCands
	useCands bool
	exact    bool  // the candidates are the filter's matches (plan)
	pos      int32 // next position in cands, or next entry of a scan
	lo, hi   int32 // the scope
	oneLevel bool
	depth    uint8 // with oneLevel: the children's depth

	self    [1]int32
	scratch []int32 // OR unions
	m       matcher // entries as the filter sees them

	// stamp gives each entry's response controls (a synchronisation's
	// Sync State, sync.go); nil for none.
	stamp func(e *entry) []ldap.Control

	// keys and arena hold, with a virtual list view, the first sort
	// key's normalised value of each sorted match; vlv is its answer.
	keys  []sortVal
	arena []byte
	vlv   *ldap.Control

	sort   *sortRequest // the sort control, if any (sort.go)
	sorted []int32      // with sort: the matches in order, returned from spos
	spos   int
}

var cursorPool = sync.Pool{New: func() any { return new(cursor) }}

// ctxEvery is how many entries a cursor tests between looks at ctx, so a
// scan that matches little still honours the time limit and abandon.
const ctxEvery = 4096

func (c *cursor) Next(ctx context.Context, w *ldapserver.EntryWriter) error { return c.next(ctx, w) }

func (c *cursor) next(ctx context.Context, w entryWriter) error {
	if c.sorted != nil {
		if c.spos >= len(c.sorted) {
			return io.EOF
		}
		c.write(w, &c.org.entries[c.sorted[c.spos]])
		c.spos++
		return nil
	}
	e, _, err := c.nextMatch(ctx)
	if err != nil {
		return err
	}
	c.write(w, e)
	return nil
}

// nextMatch returns the next entry the search returns and its position
// (-1 for the RootDSE and cn=schema), or io.EOF.
func (c *cursor) nextMatch(ctx context.Context) (*entry, int32, error) {
	if e := c.one; e != nil {
		c.one = nil
		if c.filter.Match(c.m.of(c.org, e, c.filter)) {
			return e, -1, nil
		}
		return nil, 0, io.EOF
	}
	for n := 1; ; n++ {
		if n%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, 0, err
			}
		}
		var i int32
		if c.useCands {
			if int(c.pos) >= len(c.cands) {
				return nil, 0, io.EOF
			}
			i = c.cands[c.pos]
			c.pos++
			if i >= c.hi {
				c.pos = int32(len(c.cands)) // sorted: nothing further is in scope
				return nil, 0, io.EOF
			}
			if i < c.lo {
				continue
			}
		} else {
			if c.pos >= c.hi {
				return nil, 0, io.EOF
			}
			i = c.pos
			c.pos++
		}
		e := &c.org.entries[i]
		if c.oneLevel && e.depth != c.depth {
			continue
		}
		if !c.exact && !c.filter.Match(c.m.of(c.org, e, c.filter)) {
			continue
		}
		return e, i, nil
	}
}

// ResultControls implements ldapserver.ResultControler: the sort
// response control when the search asked for sorting.
func (c *cursor) ResultControls() []ldap.Control {
	if c.sort == nil {
		return nil
	}
	out := []ldap.Control{ldap.SortResultControl(c.sort.code, c.sort.attr)}
	if c.vlv != nil {
		out = append(out, *c.vlv)
	}
	return out
}

func (c *cursor) write(w entryWriter, e *entry) {
	w.Begin(e.dn)
	c.sel.write(w, e, c.org.defs, c.typesOnly)
	if c.stamp != nil {
		if ew, ok := w.(controlEnder); ok {
			ew.EndWith(c.stamp(e))
			return
		}
	}
	w.End()
}

// controlEnder is an entryWriter that closes entries with controls
// (ldapserver.EntryWriter).
type controlEnder interface {
	EndWith(controls []ldap.Control)
}

func (c *cursor) Close() {
	bits, scratch, m := c.sel.bits, c.scratch[:0], c.m
	m.reset()
	*c = cursor{}
	c.sel.bits, c.scratch, c.m = bits, scratch, m
	cursorPool.Put(c)
}

// search starts a search as the bound identity id; it never calls the
// Source.
func (d *DIT) search(id *ldapserver.Identity, req *ldap.SearchRequest) (*cursor, error) {
	a, err := d.snap.Load().accessOf(id)
	if err != nil {
		return nil, err
	}
	o := a.org
	// A base that is an entry's normalised DN (as clients mostly send the
	// naming context) is its own normal form: no need to parse it.
	norm := req.BaseObject
	if _, known := o.byNorm[norm]; !known {
		if norm, err = ldap.NormalizeDN(req.BaseObject); err != nil {
			return nil, errInvalidBase
		}
	}
	var base int32
	special := (*entry)(nil)
	switch norm {
	case "":
		if req.Scope != ldap.ScopeBaseObject {
			return nil, noSuchObject("")
		}
		special = &o.rootDSE
	case schemaNorm:
		special = &o.schema
	default:
		if base, err = o.find(norm); err != nil {
			return nil, err
		}
	}
	c := cursorPool.Get().(*cursor)
	c.org, c.filter, c.typesOnly = o, &req.Filter, req.TypesOnly
	if hasInChain(&req.Filter) {
		f := o.inChain(&req.Filter)
		c.filter = &f
	}
	c.sel.parse(req.Attributes, o)
	if special != nil {
		if req.Scope != ldap.ScopeSingleLevel {
			c.one = special
		}
		return c, nil // lo == hi == 0: nothing else
	}
	be := &o.entries[base]
	switch req.Scope {
	case ldap.ScopeBaseObject:
		c.lo, c.hi = base, base+1
	case ldap.ScopeSingleLevel:
		c.lo, c.hi = be.lo+1, be.hi
		c.oneLevel, c.depth = true, be.depth+1
	default:
		c.lo, c.hi = be.lo, be.hi
	}
	switch {
	case !a.all:
		c.self[0] = a.self
		c.cands, c.useCands = c.self[:], true
	case c.hi-c.lo <= 1:
		// A base search or a leaf: nothing to plan.
	default:
		if cands, ok, exact := o.plan(c.filter, &c.scratch); ok {
			c.cands, c.useCands, c.exact = cands, true, exact
		} else if c.oneLevel && be.kind == kindBase {
			c.cands, c.useCands = o.ous, true
		}
	}
	if c.useCands {
		p, _ := slices.BinarySearch(c.cands, c.lo)
		c.pos = int32(p)
	} else {
		c.pos = c.lo
	}
	return c, nil
}
