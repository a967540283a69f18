package dit

import (
	"slices"

	"github.com/dirgate/dirgate/internal/ldap"
)

// The equality indexes every org keeps, keyed by the value normalised with
// the type's equality matching rule. Posting lists hold entry numbers in
// entry order, so candidates come out in the order a scan would give.
const numIndexes = 8

var indexedAttrs [numIndexes]attrID

func init() {
	indexedAttrs = [numIndexes]attrID{idObjectClass, idUID, idMail, idCN, idUniqueIdentifier, idEntryUUID, idUniqueMember, idMemberOf}
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

// buildIndexes fills o.idx from the entries' match values.
func (o *orgView) buildIndexes() {
	for i := range o.idx {
		o.idx[i] = map[string][]int32{}
	}
	o.idx[indexSlot(idUID)] = make(map[string][]int32, o.nUsers)
	o.idx[indexSlot(idMail)] = make(map[string][]int32, o.nUsers)
	o.idx[indexSlot(idCN)] = make(map[string][]int32, len(o.entries))
	o.idx[indexSlot(idUniqueIdentifier)] = make(map[string][]int32, len(o.entries))
	o.idx[indexSlot(idEntryUUID)] = make(map[string][]int32, len(o.entries))
	o.idx[indexSlot(idUniqueMember)] = make(map[string][]int32, o.nUsers)
	o.ocKeys = map[string]string{} // objectClass values repeat: normalise each once
	for i := range o.entries {
		e := &o.entries[i]
		for k, sp := range e.spans {
			slot := indexSlot(sp.id)
			if slot < 0 {
				continue
			}
			rule := globalAttrs[sp.id].at.Equality
			dnValued := rule.Syntax == ldap.SyntaxDN || rule.Syntax == ldap.SyntaxNameAndUID
			m := o.idx[slot]
			for _, v := range e.le.Attributes[k].Values {
				key, ok := v, true
				var buf [256]byte
				switch {
				case dnValued: // already normalised
				case caseIgnoring(rule):
					if k := foldSimpleASCII(buf[:0], v); k == nil {
						key, ok = rule.Normalize(v)
					} else if string(k) != v {
						key = string(k)
					} // else: v is its own key; share it
				case sp.id == idObjectClass:
					lower := lowerInto(buf[:], v)
					if key, ok = o.ocKeys[string(lower)]; !ok {
						if key, ok = rule.Normalize(v); ok {
							o.ocKeys[string(lower)] = key
							o.ocKeys[key] = key
						}
					}
				default:
					key, ok = rule.Normalize(v)
				}
				if !ok {
					continue
				}
				if l := m[key]; len(l) == 0 || l[len(l)-1] != int32(i) {
					m[key] = append(l, int32(i))
				}
			}
		}
	}
}

// plan picks candidate entries for f from the indexes: an equality (or
// approximate) assertion on an indexed type, an AND with at least one
// indexable child (its shortest list), or an OR whose children all are
// (their union, built in *scratch). ok is false when f needs a scan.
// Candidates are a superset of the matches: the caller confirms each with
// f.Match.
func (o *orgView) plan(f *ldap.Filter, scratch *[]int32) (cands []int32, ok bool) {
	switch f.Kind {
	case ldap.FilterEquality, ldap.FilterApprox:
		return o.lookup(f)
	case ldap.FilterAnd:
		var best []int32
		found := false
		for i := range f.Children {
			c, ok := o.planLeaf(&f.Children[i])
			if ok && (!found || len(c) < len(best)) {
				best, found = c, true
			}
		}
		return best, found
	case ldap.FilterOr:
		if len(f.Children) == 0 {
			return nil, true // an empty OR is False
		}
		lists := make([][]int32, 0, len(f.Children))
		total := 0
		for i := range f.Children {
			c, ok := o.planLeaf(&f.Children[i])
			if !ok {
				return nil, false
			}
			lists = append(lists, c)
			total += len(c)
		}
		u := (*scratch)[:0]
		for _, l := range lists {
			u = append(u, l...)
		}
		slices.Sort(u)
		u = slices.Compact(u)
		*scratch = u
		return u, true
	}
	return nil, false
}

// planLeaf plans an AND or OR child: equality leaves and nested ANDs
// and ORs of them are indexable (a nested OR's union is allocated).
func (o *orgView) planLeaf(f *ldap.Filter) ([]int32, bool) {
	switch f.Kind {
	case ldap.FilterEquality, ldap.FilterApprox:
		return o.lookup(f)
	case ldap.FilterAnd:
		return o.plan(f, nil)
	case ldap.FilterOr:
		var u []int32
		return o.plan(f, &u)
	}
	return nil, false
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
	m := o.idx[slot]
	// Fast paths that do not allocate: the commonest lookups (uid, mail,
	// cn; objectClass) are simple ASCII values or known class names.
	var buf [128]byte
	switch {
	case id == idObjectClass:
		if lower := lowerInto(buf[:], f.Value); lower != nil {
			if key, ok := o.ocKeys[string(lower)]; ok {
				return m[key], true
			}
		}
	case caseIgnoring(at.Equality):
		if k := foldSimpleASCII(buf[:0], f.Value); k != nil {
			return m[string(k)], true
		}
	}
	key, valid := at.Equality.Normalize(f.Value)
	if !valid {
		return nil, true // Undefined for every entry
	}
	return m[key], true
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
