package dit

import (
	"unsafe"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/ldap"
)

// An entry keeps its attributes once, encoded (entry.enc): filters,
// indexes and patches read the values back from there instead of from a
// second copy as Go strings, which would double the snapshot's memory.
// The strings returned share entry.enc, which is never modified once
// built (a patch builds a new entry), so they stay valid as long as they
// are referenced.

// appendEncoded appends to dst the values of the PartialAttribute in a,
// as strings sharing a's bytes.
func appendEncoded(dst []string, a []byte) []string {
	r := ber.NewReader(a)
	seq, err := r.Enter(ber.TagSequence)
	if err != nil {
		return dst
	}
	if err := seq.Skip(); err != nil { // the type
		return dst
	}
	set, err := seq.Enter(ber.TagSet)
	if err != nil {
		return dst
	}
	for !set.Empty() {
		v, err := set.OctetString(ber.TagOctetString)
		if err != nil {
			return dst
		}
		dst = append(dst, unsafe.String(unsafe.SliceData(v), len(v)))
	}
	return dst
}

// valueReader reads an entry's attributes in order with their match
// values: the normalised ones (entry.norms) for the spans that have
// them, the encoded ones for the others.
type valueReader struct {
	e  *entry
	nn int // values of e.norms read so far
}

// next appends the match values of span k to dst; spans must be read in
// order, from 0 (a span skipped with skip keeps the count right).
func (r *valueReader) next(dst []string, k int) []string {
	sp := r.e.spans[k]
	if !sp.norm {
		return appendEncoded(dst, r.e.enc[sp.start:sp.end])
	}
	n := r.count(k)
	dst = append(dst, r.e.norms[r.nn:r.nn+n]...)
	r.nn += n
	return dst
}

// skip passes over span k.
func (r *valueReader) skip(k int) {
	if r.e.spans[k].norm {
		r.nn += r.count(k)
	}
}

// count is the number of values span k holds.
func (r *valueReader) count(k int) int {
	sp := r.e.spans[k]
	rd := ber.NewReader(r.e.enc[sp.start:sp.end])
	seq, err := rd.Enter(ber.TagSequence)
	if err != nil {
		return 0
	}
	if seq.Skip() != nil {
		return 0
	}
	set, err := seq.Enter(ber.TagSet)
	if err != nil {
		return 0
	}
	n := 0
	for !set.Empty() && set.Skip() == nil {
		n++
	}
	return n
}

// matcher presents entries to a filter as ldap.Entry values, with the
// attributes the filter can test (a group's 100,000 members are not read
// for a filter on cn), reusing its buffers: testing an entry allocates
// nothing once they have grown.
type matcher struct {
	le   ldap.Entry
	vals []string
	ends []int
	// need: the attributes (by attrID) the filter names, once ready; all:
	// it names something only the whole entry can answer.
	need       []bool
	all, ready bool
}

// of returns e as f sees it (f nil: every attribute), valid until the
// next call. A matcher serves one filter until reset.
func (m *matcher) of(o *orgView, e *entry, f *ldap.Filter) *ldap.Entry {
	if !m.ready {
		m.prepare(o, f)
	}
	m.vals, m.ends = m.vals[:0], m.ends[:0]
	r := valueReader{e: e}
	for k, sp := range e.spans {
		if m.all || m.need[sp.id] {
			m.vals = r.next(m.vals, k)
		} else {
			r.skip(k)
		}
		m.ends = append(m.ends, len(m.vals))
	}
	attrs := m.le.Attributes[:0]
	start := 0
	for k, sp := range e.spans {
		if end := m.ends[k]; end > start {
			attrs = append(attrs, ldap.Attribute{Type: o.defs[sp.id].name, Values: m.vals[start:end:end]})
			start = end
		}
	}
	m.le = ldap.Entry{DN: e.dn, Attributes: attrs, Types: o.types}
	return &m.le
}

// prepare notes which attributes f can test.
func (m *matcher) prepare(o *orgView, f *ldap.Filter) {
	m.ready = true
	m.need = append(m.need[:0], make([]bool, len(o.defs))...)
	m.all = f == nil || !markNeeded(o, f, m.need)
}

// markNeeded marks in need the attributes f names; false when f has an
// assertion that any attribute may answer (an extensible match without a
// type), or on a type dit knows but cannot place.
func markNeeded(o *orgView, f *ldap.Filter, need []bool) bool {
	switch f.Kind {
	case ldap.FilterAnd, ldap.FilterOr, ldap.FilterNot:
		for i := range f.Children {
			if !markNeeded(o, &f.Children[i], need) {
				return false
			}
		}
		return true
	}
	if f.Attr == "" {
		return false
	}
	typ, opts := ldap.SplitAttributeDescription(f.Attr)
	if opts != "" {
		return true // entries carry no options: nothing is tested
	}
	if id, ok := o.attrID(typ); ok {
		need[id] = true
		return true
	}
	// A type no entry has is decided without the entry's attributes.
	return o.lookupType(typ) == nil
}

// reset drops the references m holds, keeping its buffers, to serve
// another filter.
func (m *matcher) reset() {
	clear(m.vals[:cap(m.vals)])
	clear(m.le.Attributes[:cap(m.le.Attributes)])
	m.le = ldap.Entry{Attributes: m.le.Attributes[:0]}
	m.vals, m.ends, m.ready = m.vals[:0], m.ends[:0], false
}
