package ldap

import "strings"

// Entry is a directory entry as filters see it. Attribute types may carry
// options ("cn;lang-en") and may be written as names in any case or OIDs.
type Entry struct {
	DN         string
	Attributes []Attribute
	// Types, when set, resolves attribute types the global Schema does not
	// know (a directory's custom profile attributes, say), so assertions on
	// them can be decided instead of being Undefined. It is asked only
	// after LookupAttributeType finds nothing, so it cannot redefine a
	// standard type, and a type it returns with userPassword's OID is
	// refused like userPassword. It must not retain its argument, and
	// should not allocate: Eval calls it per assertion and per attribute.
	Types func(desc string) *AttributeType
}

// lookupType resolves an attribute description with the global schema,
// then with the entry's own resolver.
func (e *Entry) lookupType(desc string) *AttributeType {
	if at := LookupAttributeType(desc); at != nil {
		return at
	}
	if e.Types != nil {
		return e.Types(desc)
	}
	return nil
}

// userPasswordOID identifies userPassword, which never matches a filter
// (DESIGN.md contract): otherwise a search could probe password hashes.
const userPasswordOID = "2.5.4.35"

// Match reports whether e matches f: only True matches (RFC 4511 §4.5.1.7).
func (f *Filter) Match(e *Entry) bool { return f.Eval(e) == True }

// Eval evaluates f against e with RFC 4511's three-valued logic. An
// assertion on an attribute type neither the schema nor e.Types knows, or
// with no matching rule of the needed kind, is Undefined; so is any
// assertion on userPassword. Approximate match uses the equality rule.
// Eval does not allocate except for extensible matches with dnAttributes
// or a substrings rule and for DN-valued comparisons.
func (f *Filter) Eval(e *Entry) Tristate {
	switch f.Kind {
	case FilterAnd:
		res := True
		for i := range f.Children {
			switch f.Children[i].Eval(e) {
			case False:
				return False
			case Undefined:
				res = Undefined
			}
		}
		return res
	case FilterOr:
		res := False
		for i := range f.Children {
			switch f.Children[i].Eval(e) {
			case True:
				return True
			case Undefined:
				res = Undefined
			}
		}
		return res
	case FilterNot:
		if len(f.Children) != 1 {
			return Undefined
		}
		switch f.Children[0].Eval(e) {
		case True:
			return False
		case False:
			return True
		}
		return Undefined
	case FilterPresent:
		return f.evalPresent(e)
	case FilterExtensibleMatch:
		return f.evalExtensible(e)
	}
	at := e.lookupType(f.Attr)
	if at == nil || at.OID == userPasswordOID {
		return Undefined
	}
	var r *MatchingRule
	switch f.Kind {
	case FilterEquality, FilterApprox:
		r = at.Equality
	case FilterGreaterOrEqual, FilterLessOrEqual:
		r = at.Ordering
	case FilterSubstrings:
		r = at.Substring
	}
	if r == nil {
		return Undefined
	}
	// Prepare the assertion once, not per value; substrings prepare their
	// parts per value (into stack buffers).
	var ab [96]byte
	var na []byte
	if f.Kind != FilterSubstrings {
		var ok bool
		if na, ok = r.appendNorm(ab[:0], f.Value, posWhole); !ok {
			return Undefined
		}
	}
	_, opts := SplitAttributeDescription(f.Attr)
	res := False
	for _, a := range e.Attributes {
		if !describes(at, opts, a.Type) {
			continue
		}
		for _, v := range a.Values {
			var t Tristate
			switch f.Kind {
			case FilterEquality, FilterApprox:
				t = r.equalPrepared(v, f.Value, na)
			case FilterSubstrings:
				t = r.substrings(v, f.Substrings)
			default:
				c, ok := r.comparePrepared(v, na)
				switch {
				case !ok:
					t = Undefined
				case f.Kind == FilterGreaterOrEqual:
					t = boolTri(c >= 0)
				default:
					t = boolTri(c <= 0)
				}
			}
			if t == True {
				return True
			}
			if t == Undefined {
				res = Undefined
			}
		}
	}
	return res
}

// evalPresent is True if e holds a value of the described attribute. A
// type the schema does not know is matched by name, so custom attributes
// an entry carries can still be tested for.
func (f *Filter) evalPresent(e *Entry) Tristate {
	at := e.lookupType(f.Attr)
	if at != nil && at.OID == userPasswordOID {
		return Undefined
	}
	typ, opts := SplitAttributeDescription(f.Attr)
	for _, a := range e.Attributes {
		if len(a.Values) == 0 {
			continue
		}
		if at != nil {
			if describes(at, opts, a.Type) {
				return True
			}
			continue
		}
		atyp, aopts := SplitAttributeDescription(a.Type)
		if strings.EqualFold(atyp, typ) && hasOptions(aopts, opts) {
			return True
		}
	}
	return False
}

// describes reports whether the attribute description desc (from an entry)
// is of type at and carries every option in opts: a filter on "cn" sees
// the values of "cn;lang-en", one on "cn;lang-en" only those.
func describes(at *AttributeType, opts, desc string) bool {
	typ, dopts := SplitAttributeDescription(desc)
	return isType(at, typ) && hasOptions(dopts, opts)
}

// isType reports whether typ names at, without a map lookup.
func isType(at *AttributeType, typ string) bool {
	if typ == "" {
		return false
	}
	if isDigit(typ[0]) {
		return typ == at.OID
	}
	for _, n := range at.Names {
		if strings.EqualFold(typ, n) {
			return true
		}
	}
	return false
}

// hasOptions reports whether the ';'-separated option list have contains
// every option of want, case-insensitively.
func hasOptions(have, want string) bool {
	for want != "" {
		var o string
		o, want, _ = strings.Cut(want, ";")
		found := false
		for h := have; h != "" && !found; {
			var x string
			x, h, _ = strings.Cut(h, ";")
			found = strings.EqualFold(x, o)
		}
		if !found {
			return false
		}
	}
	return true
}

// evalExtensible implements extensibleMatch (RFC 4511 §4.5.1.7.7): the rule
// (or the type's equality rule) applied to the type's values, or to every
// attribute that supports the rule when there is no type; with
// dnAttributes also to the AVAs of the entry's DN. An ordering rule is
// True for values less than the assertion; a substrings rule takes the
// assertion in SubstringAssertion form ("ab*c*", '*' escaped as \2A).
func (f *Filter) evalExtensible(e *Entry) Tristate {
	var r *MatchingRule
	if f.MatchingRule != "" {
		if r = LookupMatchingRule(f.MatchingRule); r == nil {
			return Undefined
		}
	}
	var at *AttributeType
	opts := ""
	if f.Attr != "" {
		if at = e.lookupType(f.Attr); at == nil || at.OID == userPasswordOID {
			return Undefined
		}
		_, opts = SplitAttributeDescription(f.Attr)
		if r == nil {
			r = at.Equality
		}
	}
	if r == nil {
		return Undefined
	}
	var subsBuf [8]Substring
	var subs []Substring
	if r.Usage == UsageSubstrings {
		var ok bool
		if subs, ok = parseSubstringAssertion(subsBuf[:0], f.Value); !ok {
			return Undefined
		}
	}
	// applies reports whether values of the described type are tested.
	applies := func(desc string) bool {
		if at != nil {
			return describes(at, opts, desc)
		}
		t := e.lookupType(desc)
		return t != nil && t.OID != userPasswordOID && supports(t, r)
	}
	res := False
	test := func(v string) bool {
		var t Tristate
		switch r.Usage {
		case UsageEquality:
			t = r.equal(v, f.Value)
		case UsageOrdering:
			c, ok := r.Compare(v, f.Value)
			t = boolTri(c < 0)
			if !ok {
				t = Undefined
			}
		default:
			t = r.substrings(v, subs)
		}
		if t == Undefined {
			res = Undefined
		}
		return t == True
	}
	for _, a := range e.Attributes {
		if !applies(a.Type) {
			continue
		}
		for _, v := range a.Values {
			if test(v) {
				return True
			}
		}
	}
	if f.DNAttributes {
		dn, err := ParseDN(e.DN)
		if err != nil {
			return Undefined
		}
		for _, rdn := range dn {
			for _, ava := range rdn {
				if applies(ava.Type) && test(ava.Value) {
					return True
				}
			}
		}
	}
	return res
}

// supports reports whether values of type t can be tested with r: r
// compares values of t's syntax.
func supports(t *AttributeType, r *MatchingRule) bool {
	for _, tr := range [...]*MatchingRule{t.Equality, t.Ordering, t.Substring} {
		if tr == r {
			return true
		}
	}
	if r.Usage == UsageSubstrings {
		return t.Substring != nil && t.Substring.prep == r.prep
	}
	return t.Equality != nil && t.Equality.Syntax == r.Syntax
}

// parseSubstringAssertion splits the LDAP string form of a
// SubstringAssertion (RFC 4517 §3.3.30) into parts; "\2A" and "\5C" are
// a literal '*' and '\'. It needs at least one '*'.
func parseSubstringAssertion(dst []Substring, v string) ([]Substring, bool) {
	if !strings.Contains(v, "*") {
		return nil, false
	}
	var parts [16]string
	n := 0
	for rest := v; ; {
		i := strings.IndexByte(rest, '*')
		if n == len(parts) {
			return nil, false
		}
		if i < 0 {
			parts[n] = rest
			n++
			break
		}
		parts[n] = rest[:i]
		n++
		rest = rest[i+1:]
	}
	for k, p := range parts[:n] {
		if strings.Contains(p, `\`) {
			p = strings.NewReplacer(`\2A`, "*", `\2a`, "*", `\5C`, `\`, `\5c`, `\`).Replace(p)
		}
		kind := SubAny
		switch {
		case k == 0:
			kind = SubInitial
		case k == n-1:
			kind = SubFinal
		}
		if p != "" || kind == SubAny {
			dst = append(dst, Substring{Kind: kind, Value: p})
		}
	}
	return dst, true
}
