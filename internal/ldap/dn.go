package ldap

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dirgate/dirgate/internal/ber"
)

// AVA is one attribute type and value assertion of an RDN. Type is the
// attribute type exactly as written (a descriptor or a numeric OID); Value is
// the decoded value, with escapes and #hex forms resolved.
type AVA struct {
	Type, Value string
}

// RDN is a relative distinguished name: one or more AVAs joined with '+'.
type RDN []AVA

// DN is a distinguished name. DN[0] is the leftmost, most specific RDN; the
// empty DN is the root.
type DN []RDN

// DNError says why a string is not a valid DN (RFC 4514) and where.
type DNError struct {
	DN     string // the input
	Offset int    // byte offset of the problem in DN
	Reason string
}

func (e *DNError) Error() string {
	in := e.DN
	if len(in) > 200 { // errors end up in logs and LDAP diagnostics
		in = in[:200] + "..."
	}
	return fmt.Sprintf("ldap: invalid DN %q: %s at offset %d", in, e.Reason, e.Offset)
}

// ParseDN parses the RFC 4514 string form of a DN. The empty string (or one
// of spaces only) is the root DN. Spaces around ',', '+' and '=' are
// tolerated, as OpenLDAP does; unescaped leading and trailing spaces of a
// value are dropped. The RFC 2253 ';' separator and RFC 1779 quoting are
// rejected. Values without escapes alias s.
func ParseDN(s string) (DN, error) {
	nAVA, nRDN := 1, 1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',':
			nRDN++
			nAVA++
		case '+':
			nAVA++
		}
	}
	var endBuf [16]int
	p := dnParser{s: s}
	avas, ends, err := p.parse(make([]AVA, 0, nAVA), endBuf[:0])
	if err != nil || len(ends) == 0 {
		return nil, err
	}
	d := make(DN, len(ends))
	start := 0
	for i, end := range ends {
		d[i] = RDN(avas[start:end:end])
		start = end
	}
	return d, nil
}

// NormalizeDN parses s and returns its canonical form (see DN.Normalize).
// It runs on every bind and search base, so it skips building a DN: for a
// plain ASCII DN of up to 16 AVAs its only allocation is the result, and
// an input that is already normal is returned as it is.
func NormalizeDN(s string) (string, error) {
	var avaBuf [16]AVA
	var endBuf [16]int
	p := dnParser{s: s}
	avas, ends, err := p.parse(avaBuf[:0], endBuf[:0])
	if err != nil {
		return "", err
	}
	if len(ends) == 0 {
		return "", nil
	}
	if alreadyNormal(s, avas) {
		return s, nil
	}
	b := make([]byte, 0, len(s)+8)
	start := 0
	for i, end := range ends {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendNormRDN(b, RDN(avas[start:end]))
		start = end
	}
	return bytesToString(b), nil
}

// normalByte marks the bytes that Normalize passes through unchanged in
// every position, so a parsed DN made only of them is already normal if its
// attribute types are canonical. Most bind DNs and search bases are.
var normalByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._@=," {
		t[c] = true
	}
	return t
}()

func alreadyNormal(s string, avas []AVA) bool {
	for i := 0; i < len(s); i++ {
		if !normalByte[s[i]] {
			return false
		}
	}
	for _, a := range avas {
		if canonicalAttrType(a.Type) != a.Type {
			return false
		}
	}
	return true
}

// dnParser walks one DN string.
type dnParser struct {
	s string
	i int
	// buf holds the decoded bytes of values with escapes or #hex forms;
	// values alias it. It is only appended to and truncated back to the end
	// of the last value returned, so bytes behind a returned value are never
	// rewritten. A decoded value is never longer than its text, so the
	// initial capacity of len(s) suffices.
	buf []byte
}

func (p *dnParser) fail(off int, format string, args ...any) error {
	return &DNError{DN: p.s, Offset: off, Reason: fmt.Sprintf(format, args...)}
}

func (p *dnParser) skipSpaces() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

// parse appends the AVAs of p.s to avas and, for each RDN, the index in
// avas just past its last AVA to ends.
func (p *dnParser) parse(avas []AVA, ends []int) ([]AVA, []int, error) {
	s := p.s
	p.skipSpaces()
	if p.i == len(s) {
		return avas, ends, nil
	}
	for {
		typ, err := p.attrType()
		if err != nil {
			return nil, nil, err
		}
		p.skipSpaces()
		if p.i == len(s) {
			return nil, nil, p.fail(p.i, "missing '=' after attribute type %q", typ)
		}
		if s[p.i] != '=' {
			return nil, nil, p.fail(p.i, "unexpected %q after attribute type %q (want '=')", s[p.i], typ)
		}
		p.i++
		p.skipSpaces()
		val, err := p.value()
		if err != nil {
			return nil, nil, err
		}
		avas = append(avas, AVA{Type: typ, Value: val})
		if p.i == len(s) {
			return avas, append(ends, len(avas)), nil
		}
		// value() stops only at the end, ',' or '+'.
		sep := s[p.i]
		if sep == ',' {
			ends = append(ends, len(avas))
		}
		p.i++
		p.skipSpaces()
		if p.i == len(s) {
			return nil, nil, p.fail(p.i, "DN ends after %q (want an attribute type)", sep)
		}
	}
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// attrType reads a descriptor (ALPHA *(ALPHA / DIGIT / '-')) or a numeric
// OID (number 1*('.' number), no leading zeros), RFC 4512 §1.4.
func (p *dnParser) attrType() (string, error) {
	s, start := p.s, p.i
	c := s[p.i]
	switch {
	case isAlpha(c):
		p.i++
		for p.i < len(s) && (isAlpha(s[p.i]) || isDigit(s[p.i]) || s[p.i] == '-') {
			p.i++
		}
	case isDigit(c):
		dots := 0
		for {
			n := p.i
			for p.i < len(s) && isDigit(s[p.i]) {
				p.i++
			}
			switch {
			case p.i == n:
				return "", p.fail(p.i, "numeric OID attribute type has an empty component")
			case s[n] == '0' && p.i-n > 1:
				return "", p.fail(n, "numeric OID attribute type has a component with a leading zero")
			}
			if p.i == len(s) || s[p.i] != '.' {
				break
			}
			p.i++
			dots++
		}
		if dots == 0 || (p.i < len(s) && (isAlpha(s[p.i]) || s[p.i] == '-')) {
			return "", p.fail(start, "attribute type starts with a digit but is not a numeric OID")
		}
	case c == ',' || c == '+':
		return "", p.fail(p.i, "empty RDN (unexpected %q)", c)
	case c == '=':
		return "", p.fail(p.i, "empty attribute type")
	default:
		return "", p.fail(p.i, "invalid character %q at start of attribute type", c)
	}
	return s[start:p.i], nil
}

// value reads an attribute value and leaves p.i at the end of input or at
// the ',' or '+' that ends it.
func (p *dnParser) value() (string, error) {
	s := p.s
	if p.i < len(s) && s[p.i] == '#' {
		return p.hexValue()
	}
	start, end := p.i, p.i // end: just past the last byte that is not an unescaped space
	high := false
	for ; p.i < len(s); p.i++ {
		switch c := s[p.i]; c {
		case ',', '+':
			goto done
		case '\\':
			return p.escapedValue(start)
		case ' ':
			continue
		case '"', ';', '<', '>', 0:
			return "", p.unescaped(c)
		default:
			if c >= utf8.RuneSelf {
				high = true
			}
			end = p.i + 1
		}
	}
done:
	v := s[start:end]
	if high && !utf8.ValidString(v) {
		return "", p.fail(start+invalidUTF8At(v), "value is not valid UTF-8")
	}
	return v, nil
}

func (p *dnParser) unescaped(c byte) error {
	switch c {
	case ';':
		return p.fail(p.i, "unescaped ';' (RFC 4514 separates RDNs with ',' only; write '\\;' for a literal ';')")
	case 0:
		return p.fail(p.i, "unescaped NUL in value (write '\\00')")
	}
	return p.fail(p.i, "unescaped %q in value (write '\\%c')", c, c)
}

func invalidUTF8At(v string) int {
	for i, r := range v {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(v[i:]); n == 1 {
				return i
			}
		}
	}
	return 0
}

// escapedValue decodes a value that contains escapes, from start; p.i is at
// the first backslash.
func (p *dnParser) escapedValue(start int) (string, error) {
	s := p.s
	if p.buf == nil {
		p.buf = make([]byte, 0, len(s))
	}
	b0 := len(p.buf)
	p.buf = append(p.buf, s[start:p.i]...)
	keep := len(p.buf) // drop unescaped trailing spaces; trailing spaces of the prefix are not trailing
	for p.i < len(s) {
		c := s[p.i]
		switch c {
		case ',', '+':
			goto done
		case '\\':
			if p.i+1 == len(s) {
				return "", p.fail(p.i, "unterminated escape '\\' at end of DN")
			}
			d := s[p.i+1]
			switch {
			case strings.IndexByte("\"+,;<> #=\\", d) >= 0:
				p.buf = append(p.buf, d)
				p.i += 2
			case isHex(d):
				if p.i+2 == len(s) || !isHex(s[p.i+2]) {
					return "", p.fail(p.i, "invalid hex escape (want '\\' and two hex digits)")
				}
				p.buf = append(p.buf, unhex(d)<<4|unhex(s[p.i+2]))
				p.i += 3
			default:
				r, _ := utf8.DecodeRuneInString(s[p.i+1:])
				return "", p.fail(p.i, "invalid escape: '\\' followed by %q", r)
			}
			keep = len(p.buf)
		case ' ':
			p.buf = append(p.buf, c)
			p.i++
		case '"', ';', '<', '>', 0:
			return "", p.unescaped(c)
		default:
			p.buf = append(p.buf, c)
			p.i++
			keep = len(p.buf)
		}
	}
done:
	p.buf = p.buf[:keep]
	v := p.buf[b0:keep]
	if !utf8.Valid(v) {
		return "", p.fail(start, "value is not valid UTF-8 after decoding escapes")
	}
	return bytesToString(v), nil
}

// hexValue decodes a '#' hexstring value: the BER encoding of the value
// (RFC 4514 §2.4). A primitive universal string type is reduced to its
// contents; anything else is kept as the raw encoded bytes.
func (p *dnParser) hexValue() (string, error) {
	s := p.s
	hash := p.i
	p.i++
	start := p.i
	for p.i < len(s) && isHex(s[p.i]) {
		p.i++
	}
	n := p.i - start
	switch {
	case n == 0:
		return "", p.fail(hash, "'#' not followed by hex digits")
	case n%2 != 0:
		return "", p.fail(hash, "odd number of hex digits after '#'")
	}
	p.skipSpaces()
	if p.i < len(s) && s[p.i] != ',' && s[p.i] != '+' {
		return "", p.fail(p.i, "unexpected %q after '#' hex value", s[p.i])
	}
	if p.buf == nil {
		p.buf = make([]byte, 0, len(s))
	}
	b0 := len(p.buf)
	for j := start; j < start+n; j += 2 {
		p.buf = append(p.buf, unhex(s[j])<<4|unhex(s[j+1]))
	}
	return bytesToString(berStringContents(p.buf[b0:])), nil
}

// berStringContents returns the contents of raw if it is exactly one
// primitive universal string element (OCTET STRING, UTF8String and the
// 8-bit ASN.1 string types); otherwise raw itself.
func berStringContents(raw []byte) []byte {
	r := ber.NewReader(raw)
	tag, c, err := r.Next()
	if err != nil || !r.Empty() || tag.Class() != ber.ClassUniversal || tag.IsConstructed() {
		return raw
	}
	switch tag.Number() {
	case 4, 12, 18, 19, 20, 22, 25, 26, 27: // OCTET STRING, UTF8, Numeric, Printable, Teletex, IA5, Graphic, Visible, General
		return c
	}
	return raw
}

// String returns the RFC 4514 form of d with minimal escaping. Parsing it
// gives back d exactly.
func (d DN) String() string {
	n := 0
	for _, rdn := range d {
		for _, a := range rdn {
			n += len(a.Type) + len(a.Value) + 2
		}
	}
	b := make([]byte, 0, n+4)
	for i, rdn := range d {
		if i > 0 {
			b = append(b, ',')
		}
		b = rdn.appendTo(b)
	}
	return bytesToString(b)
}

// String returns the RFC 4514 form of r.
func (r RDN) String() string { return bytesToString(r.appendTo(nil)) }

func (r RDN) appendTo(b []byte) []byte {
	for j, a := range r {
		if j > 0 {
			b = append(b, '+')
		}
		b = append(b, a.Type...)
		b = append(b, '=')
		b = appendDNValue(b, a.Value)
	}
	return b
}

// EscapeDNValue escapes s for use as an attribute value in a DN string, as
// DN.String does. A string that is not valid UTF-8 becomes the #hex form of
// an OCTET STRING, since RFC 4514 strings are UTF-8.
func EscapeDNValue(s string) string {
	if utf8.ValidString(s) && !needsEscape(s) {
		return s
	}
	return bytesToString(appendDNValue(make([]byte, 0, len(s)+8), s))
}

func needsEscape(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == ' ' || s[0] == '#' || s[len(s)-1] == ' ' {
		return true
	}
	for i := 0; i < len(s); i++ {
		if escapeByte(s[i]) {
			return true
		}
	}
	return false
}

// escapeByte reports whether c must be escaped anywhere in a value.
func escapeByte(c byte) bool {
	switch c {
	case '"', '+', ',', ';', '<', '>', '\\', 0:
		return true
	}
	return false
}

const hexDigits = "0123456789abcdef"

func appendDNValue(b []byte, v string) []byte {
	if !utf8.ValidString(v) {
		return appendHexOctetString(b, v)
	}
	for i := 0; i < len(v); i++ {
		b = appendEscapedByte(b, v[i], i == 0, i == len(v)-1)
	}
	return b
}

func appendEscapedByte(b []byte, c byte, first, last bool) []byte {
	switch {
	case c == 0:
		return append(b, '\\', '0', '0')
	case escapeByte(c), first && (c == ' ' || c == '#'), last && c == ' ':
		return append(b, '\\', c)
	}
	return append(b, c)
}

// appendHexOctetString appends '#' and the hex of v encoded as a BER OCTET
// STRING, the only form RFC 4514 has for values that are not UTF-8.
func appendHexOctetString(b []byte, v string) []byte {
	var hdr [10]byte
	b = append(b, '#')
	for _, c := range ber.AppendHeader(hdr[:0], ber.TagOctetString, len(v)) {
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	for i := 0; i < len(v); i++ {
		b = append(b, hexDigits[v[i]>>4], hexDigits[v[i]&15])
	}
	return b
}

// Normalize returns the canonical string of d, for comparing DNs and as a
// map key: attribute types lower-cased and mapped to their short names,
// values compared as caseIgnoreMatch does (case folded; leading, trailing
// and repeated spaces insignificant, RFC 4518 §2.6.1), then escaped as
// String does; the AVAs of a multi-valued RDN sorted; RDNs joined with ','
// and no spaces. Values that are not UTF-8 are kept as octets in #hex form.
func (d DN) Normalize() string {
	if len(d) == 0 {
		return ""
	}
	n := 0
	for _, rdn := range d {
		for _, a := range rdn {
			n += len(a.Type) + len(a.Value) + 2
		}
	}
	b := make([]byte, 0, n+4)
	for i, rdn := range d {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendNormRDN(b, rdn)
	}
	return bytesToString(b)
}

func appendNormRDN(b []byte, r RDN) []byte {
	if len(r) == 1 {
		return appendNormAVA(b, r[0])
	}
	parts := make([]string, len(r))
	for i, a := range r {
		parts[i] = bytesToString(appendNormAVA(nil, a))
	}
	slices.Sort(parts)
	for i, p := range parts {
		if i > 0 {
			b = append(b, '+')
		}
		b = append(b, p...)
	}
	return b
}

func appendNormAVA(b []byte, a AVA) []byte {
	start := len(b)
	for i := 0; i < len(a.Type); i++ {
		c := a.Type[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	lower := bytesToString(b[start:])
	if name := canonicalAttrType(lower); name != lower {
		b = append(b[:start], name...)
	}
	b = append(b, '=')
	return appendNormValue(b, a.Value)
}

// appendNormValue appends v prepared for caseIgnoreMatch (the same
// preparation the matching rule uses) and escaped.
func appendNormValue(b []byte, v string) []byte {
	if !utf8.ValidString(v) {
		return appendHexOctetString(b, v)
	}
	var scratch [128]byte // most values fit: no allocation on the bind path
	prepared := appendSpaceFolded(scratch[:0], v, posWhole, true)
	for i, c := range prepared {
		if c >= utf8.RuneSelf {
			b = append(b, c) // part of a multi-byte rune: never escaped
			continue
		}
		b = appendEscapedByte(b, c, i == 0, false)
	}
	return b
}

// foldRune maps r to one representative of its simple case-folding orbit:
// the smallest lower(upper(x)) over the orbit's members x, so that e.g.
// 'ſ', 's' and 'S' (or 'K' and the Kelvin sign) fold to 's', and runes
// that fold together without an upper case form between them (U+0390 and
// U+1FD3 since Unicode 16) fold alike too. Idempotent: the result is in
// the orbit and is its own representative.
func foldRune(r rune) rune {
	best := lowerUpper(r)
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if x := lowerUpper(f); x < best {
			best = x
		}
	}
	return best
}

// lowerUpper is lower(upper(r)), iterated to a fixed point.
func lowerUpper(r rune) rune {
	for range 4 {
		f := unicode.ToLower(unicode.ToUpper(r))
		if f == r {
			break
		}
		r = f
	}
	return r
}

// Equal reports whether d and o name the same entry (compared normalised).
func (d DN) Equal(o DN) bool {
	if len(d) != len(o) {
		return false
	}
	return d.Normalize() == o.Normalize()
}

// RDN returns the leftmost RDN of d, or nil for the root DN.
func (d DN) RDN() RDN {
	if len(d) == 0 {
		return nil
	}
	return d[0]
}

// Parent returns d without its leftmost RDN; the root's parent is the root.
func (d DN) Parent() DN {
	if len(d) == 0 {
		return nil
	}
	return d[1:]
}

// IsDescendantOf reports whether d lies strictly below ancestor: a DN is not
// its own descendant; every non-root DN descends from the root.
func (d DN) IsDescendantOf(ancestor DN) bool {
	return len(d) > len(ancestor) && d[len(d)-len(ancestor):].Equal(ancestor)
}

// IsChildOf reports whether d lies exactly one level below parent.
func (d DN) IsChildOf(parent DN) bool {
	return len(d) == len(parent)+1 && d[1:].Equal(parent)
}

// IsDescendantNorm is IsDescendantOf on two Normalize outputs, without
// parsing: ancestor must be a suffix of dn that starts right after an
// unescaped ','. It does not allocate.
func IsDescendantNorm(dn, ancestor string) bool {
	if ancestor == "" {
		return dn != ""
	}
	k := len(dn) - len(ancestor) - 1 // where the separating ',' must be
	if k < 1 || dn[k] != ',' || dn[k+1:] != ancestor {
		return false
	}
	// Normalised output escapes ',' only as "\,", so the ',' is a separator
	// iff an even number of backslashes precede it.
	bs := 0
	for j := k - 1; j >= 0 && dn[j] == '\\'; j-- {
		bs++
	}
	return bs%2 == 0
}
