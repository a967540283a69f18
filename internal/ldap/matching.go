package ldap

import (
	"bytes"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Tristate is the value of a filter evaluated against an entry: RFC 4511
// §4.5.1.7 has Undefined besides True and False, for assertions that cannot
// be decided (unknown attribute type, no suitable matching rule, a value
// the syntax does not allow). Only True makes an entry match.
type Tristate int8

// Tristate values. The zero value is False.
const (
	False Tristate = iota
	True
	Undefined
)

func (t Tristate) String() string {
	switch t {
	case False:
		return "FALSE"
	case True:
		return "TRUE"
	}
	return "Undefined"
}

func boolTri(b bool) Tristate {
	if b {
		return True
	}
	return False
}

// RuleUsage says which kind of assertion a matching rule serves.
type RuleUsage uint8

// Matching rule usages.
const (
	UsageEquality RuleUsage = iota
	UsageOrdering
	UsageSubstrings
)

// prepKind selects how values are prepared (normalised) for comparison.
// A switch on it, rather than a func field, keeps scratch buffers on the
// stack: the compiler cannot see through an indirect call.
type prepKind uint8

const (
	prepCaseIgnore prepKind = iota // Directory String, case folded
	prepCaseExact                  // Directory String
	prepIA5Ignore                  // IA5 (ASCII), case folded
	prepIA5Exact                   // IA5
	prepTelephone                  // case folded, spaces and hyphens dropped
	prepNumeric                    // digits, spaces dropped
	prepInteger                    // canonical decimal
	prepOctet                      // bytes as they are
	prepBoolean                    // TRUE or FALSE
	prepTime                       // GeneralizedTime as a fixed-width UTC instant
	prepUUID                       // lower-case 8-4-4-4-12 hex
	prepOID                        // numeric OID; known names resolved
	prepDN                         // NormalizeDN
)

// MatchingRule is an equality, ordering or substrings matching rule
// (RFC 4517, RFC 4530, RFC 2307).
type MatchingRule struct {
	OID    string
	Name   string
	Usage  RuleUsage
	Syntax string // OID of the assertion syntax
	prep   prepKind
}

// Syntax OIDs (RFC 4517 §3.3, RFC 4530).
const (
	SyntaxBoolean         = "1.3.6.1.4.1.1466.115.121.1.7"
	SyntaxCountryString   = "1.3.6.1.4.1.1466.115.121.1.11"
	SyntaxDN              = "1.3.6.1.4.1.1466.115.121.1.12"
	SyntaxDirectoryString = "1.3.6.1.4.1.1466.115.121.1.15"
	SyntaxGeneralizedTime = "1.3.6.1.4.1.1466.115.121.1.24"
	SyntaxIA5String       = "1.3.6.1.4.1.1466.115.121.1.26"
	SyntaxInteger         = "1.3.6.1.4.1.1466.115.121.1.27"
	SyntaxNameAndUID      = "1.3.6.1.4.1.1466.115.121.1.34"
	SyntaxNumericString   = "1.3.6.1.4.1.1466.115.121.1.36"
	SyntaxOID             = "1.3.6.1.4.1.1466.115.121.1.38"
	SyntaxOctetString     = "1.3.6.1.4.1.1466.115.121.1.40"
	SyntaxPrintableString = "1.3.6.1.4.1.1466.115.121.1.44"
	SyntaxTelephoneNumber = "1.3.6.1.4.1.1466.115.121.1.50"
	SyntaxSubstringAssert = "1.3.6.1.4.1.1466.115.121.1.58"
	SyntaxUUID            = "1.3.6.1.1.16.1"
)

func rule(oid, name string, u RuleUsage, syntax string, p prepKind) *MatchingRule {
	return &MatchingRule{OID: oid, Name: name, Usage: u, Syntax: syntax, prep: p}
}

// The matching rules dirgate implements.
var (
	ObjectIdentifierMatch        = rule("2.5.13.0", "objectIdentifierMatch", UsageEquality, SyntaxOID, prepOID)
	DistinguishedNameMatch       = rule("2.5.13.1", "distinguishedNameMatch", UsageEquality, SyntaxDN, prepDN)
	CaseIgnoreMatch              = rule("2.5.13.2", "caseIgnoreMatch", UsageEquality, SyntaxDirectoryString, prepCaseIgnore)
	CaseIgnoreOrderingMatch      = rule("2.5.13.3", "caseIgnoreOrderingMatch", UsageOrdering, SyntaxDirectoryString, prepCaseIgnore)
	CaseIgnoreSubstringsMatch    = rule("2.5.13.4", "caseIgnoreSubstringsMatch", UsageSubstrings, SyntaxSubstringAssert, prepCaseIgnore)
	CaseExactMatch               = rule("2.5.13.5", "caseExactMatch", UsageEquality, SyntaxDirectoryString, prepCaseExact)
	CaseExactOrderingMatch       = rule("2.5.13.6", "caseExactOrderingMatch", UsageOrdering, SyntaxDirectoryString, prepCaseExact)
	CaseExactSubstringsMatch     = rule("2.5.13.7", "caseExactSubstringsMatch", UsageSubstrings, SyntaxSubstringAssert, prepCaseExact)
	NumericStringMatch           = rule("2.5.13.8", "numericStringMatch", UsageEquality, SyntaxNumericString, prepNumeric)
	NumericStringOrderingMatch   = rule("2.5.13.9", "numericStringOrderingMatch", UsageOrdering, SyntaxNumericString, prepNumeric)
	NumericStringSubstringsMatch = rule("2.5.13.10", "numericStringSubstringsMatch", UsageSubstrings, SyntaxSubstringAssert, prepNumeric)
	BooleanMatch                 = rule("2.5.13.13", "booleanMatch", UsageEquality, SyntaxBoolean, prepBoolean)
	IntegerMatch                 = rule("2.5.13.14", "integerMatch", UsageEquality, SyntaxInteger, prepInteger)
	IntegerOrderingMatch         = rule("2.5.13.15", "integerOrderingMatch", UsageOrdering, SyntaxInteger, prepInteger)
	OctetStringMatch             = rule("2.5.13.17", "octetStringMatch", UsageEquality, SyntaxOctetString, prepOctet)
	OctetStringOrderingMatch     = rule("2.5.13.18", "octetStringOrderingMatch", UsageOrdering, SyntaxOctetString, prepOctet)
	TelephoneNumberMatch         = rule("2.5.13.20", "telephoneNumberMatch", UsageEquality, SyntaxTelephoneNumber, prepTelephone)
	TelephoneNumberSubstrings    = rule("2.5.13.21", "telephoneNumberSubstringsMatch", UsageSubstrings, SyntaxSubstringAssert, prepTelephone)
	UniqueMemberMatch            = rule("2.5.13.23", "uniqueMemberMatch", UsageEquality, SyntaxNameAndUID, prepDN)
	GeneralizedTimeMatch         = rule("2.5.13.27", "generalizedTimeMatch", UsageEquality, SyntaxGeneralizedTime, prepTime)
	GeneralizedTimeOrdering      = rule("2.5.13.28", "generalizedTimeOrderingMatch", UsageOrdering, SyntaxGeneralizedTime, prepTime)
	UUIDMatch                    = rule("1.3.6.1.1.16.2", "uuidMatch", UsageEquality, SyntaxUUID, prepUUID)
	UUIDOrderingMatch            = rule("1.3.6.1.1.16.3", "uuidOrderingMatch", UsageOrdering, SyntaxUUID, prepUUID)
	CaseExactIA5Match            = rule("1.3.6.1.4.1.1466.109.114.1", "caseExactIA5Match", UsageEquality, SyntaxIA5String, prepIA5Exact)
	CaseIgnoreIA5Match           = rule("1.3.6.1.4.1.1466.109.114.2", "caseIgnoreIA5Match", UsageEquality, SyntaxIA5String, prepIA5Ignore)
	CaseIgnoreIA5Substrings      = rule("1.3.6.1.4.1.1466.109.114.3", "caseIgnoreIA5SubstringsMatch", UsageSubstrings, SyntaxSubstringAssert, prepIA5Ignore)
	CaseExactIA5Substrings       = rule("1.3.6.1.4.1.4203.1.2.1", "caseExactIA5SubstringsMatch", UsageSubstrings, SyntaxSubstringAssert, prepIA5Exact) // OpenLDAP's OID
)

var matchingRules = func() map[string]*MatchingRule {
	m := map[string]*MatchingRule{}
	for _, r := range []*MatchingRule{
		ObjectIdentifierMatch, DistinguishedNameMatch, CaseIgnoreMatch, CaseIgnoreOrderingMatch,
		CaseIgnoreSubstringsMatch, CaseExactMatch, CaseExactOrderingMatch, CaseExactSubstringsMatch,
		NumericStringMatch, NumericStringOrderingMatch, NumericStringSubstringsMatch, BooleanMatch,
		IntegerMatch, IntegerOrderingMatch, OctetStringMatch, OctetStringOrderingMatch,
		TelephoneNumberMatch, TelephoneNumberSubstrings, UniqueMemberMatch, GeneralizedTimeMatch,
		GeneralizedTimeOrdering, UUIDMatch, UUIDOrderingMatch, CaseExactIA5Match, CaseIgnoreIA5Match,
		CaseIgnoreIA5Substrings, CaseExactIA5Substrings,
	} {
		m[r.OID] = r
		m[strings.ToLower(r.Name)] = r
	}
	return m
}()

// LookupMatchingRule finds a rule by name (case-insensitively) or OID;
// nil when dirgate does not implement it.
func LookupMatchingRule(nameOrOID string) *MatchingRule {
	var buf [64]byte
	if len(nameOrOID) > len(buf) {
		return nil
	}
	return matchingRules[string(appendLowerASCII(buf[:0], nameOrOID))]
}

func appendLowerASCII(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// Where a string sits, for insignificant space handling (RFC 4518 §2.6.1):
// leading spaces of a whole value or an initial substring and trailing ones
// of a whole value or a final substring do not count.
type spacePos uint8

const (
	posWhole spacePos = iota
	posInitial
	posAny
	posFinal
)

// Normalize returns the canonical form of v under r: two values match for
// equality iff their forms are equal. ok is false when v is not valid for
// the rule's syntax.
func (r *MatchingRule) Normalize(v string) (string, bool) {
	b, ok := r.appendNorm(nil, v, posWhole)
	return string(b), ok
}

// Compare orders a and b under r (-1, 0, +1); ok is false when either is
// not valid for the rule's syntax.
func (r *MatchingRule) Compare(a, b string) (int, bool) {
	var bb [96]byte
	nb, ok := r.appendNorm(bb[:0], b, posWhole)
	if !ok {
		return 0, false
	}
	return r.comparePrepared(a, nb)
}

// AppendNormalized appends v's normal form under r to dst (see
// Normalize), for callers that keep many of them in one buffer.
func (r *MatchingRule) AppendNormalized(dst []byte, v string) ([]byte, bool) {
	return r.appendNorm(dst, v, posWhole)
}

// CompareNormalized orders two values already in r's normal form (see
// Normalize), as Compare orders the values they came from.
func (r *MatchingRule) CompareNormalized(a, b []byte) int {
	if r.prep == prepInteger {
		return compareInteger(a, b)
	}
	return bytes.Compare(a, b)
}

// equal is the equality match of value against assertion.
func (r *MatchingRule) equal(value, assertion string) Tristate {
	var ab [96]byte
	na, ok := r.appendNorm(ab[:0], assertion, posWhole)
	if !ok {
		return Undefined
	}
	return r.equalPrepared(value, assertion, na)
}

// equalPrepared is equal with the assertion also given prepared (na), as
// filter evaluation prepares it once for all values.
func (r *MatchingRule) equalPrepared(value, assertion string, na []byte) Tristate {
	switch r.prep {
	case prepCaseIgnore, prepIA5Ignore:
		if simpleASCII(value) && simpleASCII(assertion) {
			return boolTri(strings.EqualFold(value, assertion))
		}
	case prepCaseExact, prepIA5Exact, prepOctet:
		if r.prep == prepOctet || (simpleASCII(value) && simpleASCII(assertion)) {
			return boolTri(value == assertion)
		}
	case prepOID:
		if strings.EqualFold(value, assertion) && value != "" && isAlpha(value[0]) {
			return True // the usual objectClass=name; other names may still be aliases
		}
	}
	c, ok := r.comparePrepared(value, na)
	if !ok {
		return Undefined
	}
	return boolTri(c == 0)
}

// comparePrepared orders value against a prepared assertion.
func (r *MatchingRule) comparePrepared(value string, na []byte) (int, bool) {
	var vb [96]byte
	nv, ok := r.appendNorm(vb[:0], value, posWhole)
	if !ok {
		return 0, false
	}
	if r.prep == prepInteger {
		return compareInteger(nv, na), true
	}
	return bytes.Compare(nv, na), true
}

// simpleASCII reports whether s is printable ASCII without insignificant
// spaces, so that preparing it changes nothing but case.
func simpleASCII(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || (c == ' ' && s[i-1] == ' ') {
			return false
		}
	}
	return true
}

// substrings matches value against the parts of a substrings assertion.
func (r *MatchingRule) substrings(value string, parts []Substring) Tristate {
	var vb, pb [128]byte
	v, ok := r.appendNorm(vb[:0], value, posWhole)
	if !ok {
		return Undefined
	}
	for i, p := range parts {
		pos := posAny
		switch p.Kind {
		case SubInitial:
			pos = posInitial
		case SubFinal:
			pos = posFinal
		}
		n, ok := r.appendNorm(pb[:0], p.Value, pos)
		if !ok {
			return Undefined
		}
		switch p.Kind {
		case SubInitial:
			if i != 0 || !bytes.HasPrefix(v, n) {
				return False
			}
			v = v[len(n):]
		case SubAny:
			j := bytes.Index(v, n)
			if j < 0 {
				return False
			}
			v = v[j+len(n):]
		case SubFinal:
			if i != len(parts)-1 || !bytes.HasSuffix(v, n) {
				return False
			}
		}
	}
	return True
}

// appendNorm appends the prepared form of v to dst.
func (r *MatchingRule) appendNorm(dst []byte, v string, pos spacePos) ([]byte, bool) {
	switch r.prep {
	case prepCaseIgnore, prepCaseExact:
		if !utf8.ValidString(v) {
			return dst, false
		}
		return appendSpaceFolded(dst, v, pos, r.prep == prepCaseIgnore), true
	case prepIA5Ignore, prepIA5Exact:
		for i := 0; i < len(v); i++ {
			if v[i] >= utf8.RuneSelf {
				return dst, false
			}
		}
		return appendSpaceFolded(dst, v, pos, r.prep == prepIA5Ignore), true
	case prepTelephone:
		if !utf8.ValidString(v) {
			return dst, false
		}
		start := len(dst)
		dst = appendSpaceFolded(dst, v, posAny, true)
		out := dst[:start]
		for _, c := range dst[start:] {
			if c != ' ' && c != '-' {
				out = append(out, c)
			}
		}
		return out, true
	case prepNumeric:
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case c == ' ':
			case isDigit(c):
				dst = append(dst, c)
			default:
				return dst, false
			}
		}
		return dst, true
	case prepInteger:
		return appendInteger(dst, v)
	case prepOctet:
		return append(dst, v...), true
	case prepBoolean:
		switch {
		case strings.EqualFold(v, "TRUE"):
			return append(dst, "TRUE"...), true
		case strings.EqualFold(v, "FALSE"):
			return append(dst, "FALSE"...), true
		}
		return dst, false
	case prepTime:
		t, ok := parseGeneralizedTime(v)
		if !ok {
			return dst, false
		}
		return t.UTC().AppendFormat(dst, "20060102150405.000000000Z"), true
	case prepUUID:
		return appendUUID(dst, v)
	case prepOID:
		return appendOID(dst, v)
	case prepDN:
		n, err := NormalizeDN(v)
		if err != nil {
			return dst, false
		}
		return append(dst, n...), true
	}
	return dst, false
}

// appendSpaceFolded appends v with runs of white space made one space and
// leading/trailing space dropped as pos says, case folded if fold is set.
func appendSpaceFolded(dst []byte, v string, pos spacePos, fold bool) []byte {
	space := false
	first := true
	for i := 0; i < len(v); {
		c := v[i]
		var r rune
		if c < utf8.RuneSelf {
			r = rune(c)
			i++
		} else {
			var n int
			r, n = utf8.DecodeRuneInString(v[i:])
			i += n
		}
		if r == ' ' || (r >= 0x09 && r <= 0x0d) || (r >= utf8.RuneSelf && unicode.IsSpace(r)) {
			space = true
			continue
		}
		if space && (!first || pos == posAny || pos == posFinal) {
			dst = append(dst, ' ')
		}
		space, first = false, false
		switch {
		case r < utf8.RuneSelf:
			c = byte(r)
			if fold && c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		case fold:
			dst = utf8.AppendRune(dst, foldRune(r))
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	if space && (pos == posAny || pos == posInitial) {
		dst = append(dst, ' ')
	}
	return dst
}

// appendInteger checks the Integer syntax (RFC 4517 §3.3.16: no leading
// zeros, no "-0") and appends v.
func appendInteger(dst []byte, v string) ([]byte, bool) {
	d := strings.TrimPrefix(v, "-")
	if d == "" || (d[0] == '0' && len(v) > 1) {
		return dst, false
	}
	for i := 0; i < len(d); i++ {
		if !isDigit(d[i]) {
			return dst, false
		}
	}
	return append(dst, v...), true
}

// compareInteger orders two canonical integers of any length.
func compareInteger[T string | []byte](a, b T) int {
	na, nb := len(a) > 0 && a[0] == '-', len(b) > 0 && b[0] == '-'
	switch {
	case na && !nb:
		return -1
	case !na && nb:
		return 1
	case na:
		return -compareInteger(a[1:], b[1:])
	}
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	for i := 0; i < len(a); i++ { // same length: digit by digit
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// parseGeneralizedTime reads RFC 4517 §3.3.13 GeneralizedTime:
// YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|(+|-)HH[MM]). The fraction applies
// to the last unit given.
func parseGeneralizedTime(v string) (time.Time, bool) {
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if !isDigit(s[i]) {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	if len(v) < 11 {
		return time.Time{}, false
	}
	var f [6]int // year month day hour minute second
	i := 0
	for k, w := range [6]int{4, 2, 2, 2, 2, 2} {
		if k >= 4 && (i+w > len(v) || !isDigit(v[i])) {
			break
		}
		n, ok := num(v[i : i+w])
		if !ok {
			return time.Time{}, false
		}
		f[k] = n
		i += w
	}
	unit := time.Hour
	switch i {
	case 12:
		unit = time.Minute
	case 14:
		unit = time.Second
	}
	var frac time.Duration
	if i < len(v) && (v[i] == '.' || v[i] == ',') {
		i++
		s := i
		for i < len(v) && isDigit(v[i]) {
			i++
		}
		if i == s || i-s > 18 {
			return time.Time{}, false
		}
		n, _ := num(v[s:i])
		x := float64(n)
		for range i - s {
			x /= 10
		}
		frac = time.Duration(x * float64(unit))
	}
	if i == len(v) {
		return time.Time{}, false
	}
	var off int
	switch v[i] {
	case 'Z':
		i++
	case '+', '-':
		sign := 1
		if v[i] == '-' {
			sign = -1
		}
		rest := v[i+1:]
		if len(rest) != 2 && len(rest) != 4 {
			return time.Time{}, false
		}
		hh, ok1 := num(rest[:2])
		mm, ok2 := num(rest[2:])
		if !ok1 || !ok2 || hh > 23 || mm > 59 {
			return time.Time{}, false
		}
		off = sign * (hh*3600 + mm*60)
		i = len(v)
	default:
		return time.Time{}, false
	}
	if i != len(v) || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60 {
		return time.Time{}, false
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], 0, time.UTC)
	if t.Day() != f[2] && f[5] != 60 { // 31 February
		return time.Time{}, false
	}
	return t.Add(frac - time.Duration(off)*time.Second), true
}

// appendUUID checks the UUID syntax (RFC 4122 string form) and appends it
// in lower case.
func appendUUID(dst []byte, v string) ([]byte, bool) {
	if len(v) != 36 {
		return dst, false
	}
	for i := 0; i < 36; i++ {
		c := v[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return dst, false
			}
		} else if !isHex(c) {
			return dst, false
		}
	}
	return appendLowerASCII(dst, v), true
}

// objectClassOIDs maps the lower-cased names of the object classes dirgate
// serves to their OIDs, so that (objectClass=2.5.6.6) matches "person".
var objectClassOIDs = map[string]string{
	"top":                  "2.5.6.0",
	"alias":                "2.5.6.1",
	"country":              "2.5.6.2",
	"locality":             "2.5.6.3",
	"organization":         "2.5.6.4",
	"organizationalunit":   "2.5.6.5",
	"person":               "2.5.6.6",
	"organizationalperson": "2.5.6.7",
	"groupofnames":         "2.5.6.9",
	"groupofuniquenames":   "2.5.6.17",
	"subschema":            "2.5.20.1",
	"inetorgperson":        "2.16.840.1.113730.3.2.2",
	"dcobject":             "1.3.6.1.4.1.1466.344",
	"extensibleobject":     "1.3.6.1.4.1.1466.101.120.111",
	"posixaccount":         "1.3.6.1.1.1.2.0",
	"shadowaccount":        "1.3.6.1.1.1.2.1",
	"posixgroup":           "1.3.6.1.1.1.2.2",
}

// appendOID appends a numeric OID as it is and a descriptor as the OID of
// the object class, attribute type or matching rule it names, or lower
// cased when unknown.
func appendOID(dst []byte, v string) ([]byte, bool) {
	if v == "" {
		return dst, false
	}
	if isDigit(v[0]) {
		p := filterParser{s: v}
		if _, err := p.oid(); err != nil || p.i != len(v) {
			return dst, false
		}
		return append(dst, v...), true
	}
	for i := 0; i < len(v); i++ {
		if !isKeyChar(v[i]) {
			return dst, false
		}
	}
	start := len(dst)
	dst = appendLowerASCII(dst, v)
	if oid, ok := descrOIDs()[string(dst[start:])]; ok {
		return append(dst[:start], oid...), true
	}
	return dst, true
}

// descrOIDs maps every lower-cased object class, attribute type and
// matching rule name to its OID: one map lookup per descriptor. Built on
// first use since it reads Schema, which is initialised after this file's
// variables may be.
var descrOIDs = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, len(objectClassOIDs)+len(attributeTypes)+len(matchingRules))
	for k, v := range matchingRules {
		m[k] = v.OID
	}
	for k, v := range attributeTypes {
		m[k] = v.OID
	}
	for k, v := range objectClassOIDs {
		m[k] = v
	}
	return m
})
