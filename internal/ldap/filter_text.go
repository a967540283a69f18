package ldap

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dirgate/dirgate/internal/ber"
)

// FilterError says why a string is not a valid RFC 4515 filter and where.
type FilterError struct {
	Filter string // the input
	Offset int    // byte offset of the problem in Filter
	Reason string
}

func (e *FilterError) Error() string {
	in := e.Filter
	if len(in) > 200 { // errors end up in logs and LDAP diagnostics
		in = in[:200] + "..."
	}
	return fmt.Sprintf("ldap: invalid filter %q: %s at offset %d", in, e.Reason, e.Offset)
}

// maxFilterDepth bounds the nesting of parenthesised filters so that any
// filter ParseFilter accepts can be sent in a SearchRequest and decoded:
// there the filter starts two levels down (LDAPMessage, SearchRequest), and
// a substrings filter enters one more level, all within ber.MaxDepth.
const maxFilterDepth = ber.MaxDepth - 3

// ParseFilter parses the RFC 4515 string form of a search filter. The empty
// and/or of RFC 4526 ("(&)", "(|)") are accepted, and so is a single item
// without its outer parentheses ("uid=jdoe"), as ldapsearch and most client
// libraries allow. Values without escapes alias s.
func ParseFilter(s string) (Filter, error) {
	p := filterParser{s: s}
	if s == "" {
		return Filter{}, p.fail(0, "empty filter")
	}
	var f Filter
	var err error
	if s[0] != '(' {
		f, err = p.item(1)
	} else {
		f, err = p.filter(1)
	}
	if err != nil {
		return Filter{}, err
	}
	if p.i != len(s) {
		return Filter{}, p.fail(p.i, "trailing characters after filter")
	}
	return f, nil
}

type filterParser struct {
	s string
	i int
}

func (p *filterParser) fail(off int, format string, args ...any) error {
	return &FilterError{Filter: p.s, Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// filter reads "(" filtercomp ")"; depth counts the filters enclosing it
// and itself.
func (p *filterParser) filter(depth int) (Filter, error) {
	s := p.s
	open := p.i
	if p.i == len(s) {
		return Filter{}, p.fail(p.i, "unexpected end of filter (want '(')")
	}
	if s[p.i] != '(' {
		return Filter{}, p.fail(p.i, "unexpected %q (want '(')", s[p.i])
	}
	if depth > maxFilterDepth {
		return Filter{}, p.fail(p.i, "filter nested deeper than %d levels", maxFilterDepth)
	}
	p.i++
	if p.i == len(s) {
		return Filter{}, p.fail(open, "unbalanced '('")
	}
	var f Filter
	var err error
	switch s[p.i] {
	case '&', '|':
		f.Kind = FilterAnd
		if s[p.i] == '|' {
			f.Kind = FilterOr
		}
		p.i++
		for p.i < len(s) && s[p.i] == '(' {
			child, err := p.filter(depth + 1)
			if err != nil {
				return Filter{}, err
			}
			f.Children = append(f.Children, child)
		}
	case '!':
		f.Kind = FilterNot
		p.i++
		child, err := p.filter(depth + 1)
		if err != nil {
			return Filter{}, err
		}
		f.Children = []Filter{child}
	default:
		if f, err = p.item(depth); err != nil {
			return Filter{}, err
		}
	}
	if p.i == len(s) {
		return Filter{}, p.fail(open, "unbalanced '(' (missing ')')")
	}
	if s[p.i] != ')' {
		return Filter{}, p.fail(p.i, "unexpected %q (want ')')", s[p.i])
	}
	p.i++
	return f, nil
}

// item reads a simple, present, substrings or extensible assertion and
// stops at the ')' that ends it or at the end of input.
func (p *filterParser) item(depth int) (Filter, error) {
	s := p.s
	var f Filter
	if p.i < len(s) && s[p.i] != ':' {
		attr, err := p.attrDesc()
		if err != nil {
			return f, err
		}
		f.Attr = attr
	}
	if p.i == len(s) {
		return f, p.fail(p.i, "unexpected end of filter after attribute %q (want '=', '~=', '>=', '<=' or ':')", f.Attr)
	}
	switch c := s[p.i]; c {
	case '=':
		p.i++
		return p.equalityOrSubstrings(f)
	case '~', '>', '<':
		if p.i+1 == len(s) || s[p.i+1] != '=' {
			return f, p.fail(p.i, "%q not followed by '='", c)
		}
		p.i += 2
		f.Kind = FilterApprox
		if c == '>' {
			f.Kind = FilterGreaterOrEqual
		} else if c == '<' {
			f.Kind = FilterLessOrEqual
		}
		start := p.i
		v, err := p.value()
		if err != nil {
			return f, err
		}
		if p.i < len(s) && s[p.i] == '*' {
			return f, p.fail(p.i, "unescaped '*' in %s value starting at offset %d (write '\\2a')", f.Kind, start)
		}
		f.Value = v
		return f, nil
	case ':':
		return p.extensible(f)
	default:
		return f, p.fail(p.i, "unexpected %q after attribute %q (want '=', '~=', '>=', '<=' or ':')", c, f.Attr)
	}
}

func (p *filterParser) equalityOrSubstrings(f Filter) (Filter, error) {
	s := p.s
	v, err := p.value()
	if err != nil {
		return f, err
	}
	if p.i == len(s) || s[p.i] != '*' {
		f.Kind, f.Value = FilterEquality, v
		return f, nil
	}
	// A '*' follows: present or substrings.
	p.i++
	if v == "" && (p.i == len(s) || s[p.i] == ')') {
		f.Kind = FilterPresent
		return f, nil
	}
	f.Kind = FilterSubstrings
	if v != "" {
		f.Substrings = append(f.Substrings, Substring{Kind: SubInitial, Value: v})
	}
	for {
		v, err := p.value()
		if err != nil {
			return f, err
		}
		if p.i < len(s) && s[p.i] == '*' {
			p.i++
			f.Substrings = append(f.Substrings, Substring{Kind: SubAny, Value: v})
			continue
		}
		if v != "" {
			f.Substrings = append(f.Substrings, Substring{Kind: SubFinal, Value: v})
		}
		return f, nil
	}
}

// extensible reads the rest of an extensible match after the optional
// attribute: [":dn"] [":" rule] ":=" value.
func (p *filterParser) extensible(f Filter) (Filter, error) {
	s := p.s
	f.Kind = FilterExtensibleMatch
	for p.i < len(s) && s[p.i] == ':' && (p.i+1 == len(s) || s[p.i+1] != '=') {
		p.i++
		start := p.i
		tok, err := p.oid()
		if err != nil {
			return f, err
		}
		switch {
		case strings.EqualFold(tok, "dn") && !f.DNAttributes && f.MatchingRule == "":
			f.DNAttributes = true
		case f.MatchingRule == "":
			f.MatchingRule = tok
		default:
			return f, p.fail(start, "unexpected %q in extensible match (want ':=')", tok)
		}
	}
	if p.i+1 >= len(s) || s[p.i] != ':' || s[p.i+1] != '=' {
		return f, p.fail(p.i, "extensible match needs ':=' before its value")
	}
	if f.Attr == "" && f.MatchingRule == "" {
		return f, p.fail(p.i, "extensible match needs an attribute or a matching rule")
	}
	p.i += 2
	start := p.i
	v, err := p.value()
	if err != nil {
		return f, err
	}
	if p.i < len(s) && s[p.i] == '*' {
		return f, p.fail(p.i, "unescaped '*' in extensible match value starting at offset %d (write '\\2a')", start)
	}
	f.Value = v
	return f, nil
}

func isKeyChar(c byte) bool { return isAlpha(c) || isDigit(c) || c == '-' }

// oid reads a descriptor or a numeric OID (RFC 4512 §1.4).
func (p *filterParser) oid() (string, error) {
	s, start := p.s, p.i
	if p.i == len(s) {
		return "", p.fail(p.i, "unexpected end of filter (want an attribute type or OID)")
	}
	switch c := s[p.i]; {
	case isAlpha(c):
		for p.i < len(s) && isKeyChar(s[p.i]) {
			p.i++
		}
	case isDigit(c):
		for {
			n := p.i
			for p.i < len(s) && isDigit(s[p.i]) {
				p.i++
			}
			if p.i == n {
				return "", p.fail(p.i, "numeric OID has an empty component")
			}
			if s[n] == '0' && p.i-n > 1 {
				return "", p.fail(n, "numeric OID has a component with a leading zero")
			}
			if p.i == len(s) || s[p.i] != '.' {
				break
			}
			p.i++
		}
		if p.i < len(s) && (isAlpha(s[p.i]) || s[p.i] == '-') {
			return "", p.fail(start, "name starts with a digit but is not a numeric OID")
		}
	case c == '=' || c == '~' || c == '>' || c == '<' || c == ':' || c == ')' || c == '(':
		return "", p.fail(p.i, "missing attribute type before %q", c)
	default:
		return "", p.fail(p.i, "invalid character %q in attribute type", c)
	}
	return s[start:p.i], nil
}

// attrDesc reads an attribute description: a type and ";"-separated options.
func (p *filterParser) attrDesc() (string, error) {
	start := p.i
	if _, err := p.oid(); err != nil {
		return "", err
	}
	for p.i < len(p.s) && p.s[p.i] == ';' {
		p.i++
		n := p.i
		for p.i < len(p.s) && isKeyChar(p.s[p.i]) {
			p.i++
		}
		if p.i == n {
			return "", p.fail(n, "empty attribute option after ';'")
		}
	}
	return p.s[start:p.i], nil
}

// value reads an assertion value up to ')', an unescaped '*' (which the
// caller then inspects) or the end of input.
// '\XX' escapes are decoded; a value without escapes aliases the input.
func (p *filterParser) value() (string, error) {
	s, start := p.s, p.i
	var buf []byte
	for p.i < len(s) {
		switch c := s[p.i]; c {
		case ')', '*':
			goto done
		case '(':
			return "", p.fail(p.i, "unescaped '(' in value (write '\\28')")
		case 0:
			return "", p.fail(p.i, "unescaped NUL in value (write '\\00')")
		case '\\':
			if p.i+2 >= len(s) || !isHex(s[p.i+1]) || !isHex(s[p.i+2]) {
				return "", p.fail(p.i, "invalid escape (want '\\' and two hex digits)")
			}
			if buf == nil {
				buf = append(make([]byte, 0, len(s)-start), s[start:p.i]...)
			}
			buf = append(buf, unhex(s[p.i+1])<<4|unhex(s[p.i+2]))
			p.i += 3
		default:
			if buf != nil {
				buf = append(buf, c)
			}
			p.i++
		}
	}
done:
	if buf == nil {
		return s[start:p.i], nil
	}
	return bytesToString(buf), nil
}

// String returns the RFC 4515 form of f with minimal escaping: only '*',
// '(', ')', '\', NUL and bytes that are not part of valid UTF-8 are written
// as \XX. Parsing it gives back an equal filter.
func (f *Filter) String() string {
	return bytesToString(f.appendTo(make([]byte, 0, 32)))
}

func (f *Filter) appendTo(b []byte) []byte {
	b = append(b, '(')
	switch f.Kind {
	case FilterAnd, FilterOr, FilterNot:
		b = append(b, "&|!"[f.Kind])
		for i := range f.Children {
			b = f.Children[i].appendTo(b)
		}
	case FilterEquality:
		b = append(b, f.Attr...)
		b = append(b, '=')
		b = appendFilterValue(b, f.Value)
	case FilterApprox, FilterGreaterOrEqual, FilterLessOrEqual:
		b = append(b, f.Attr...)
		op := byte('~')
		if f.Kind == FilterGreaterOrEqual {
			op = '>'
		} else if f.Kind == FilterLessOrEqual {
			op = '<'
		}
		b = append(b, op, '=')
		b = appendFilterValue(b, f.Value)
	case FilterPresent:
		b = append(b, f.Attr...)
		b = append(b, "=*"...)
	case FilterSubstrings:
		b = append(b, f.Attr...)
		b = append(b, '=')
		if len(f.Substrings) == 0 || f.Substrings[0].Kind != SubInitial {
			b = append(b, '*')
		}
		for _, sub := range f.Substrings {
			b = appendFilterValue(b, sub.Value)
			if sub.Kind != SubFinal {
				b = append(b, '*')
			}
		}
	case FilterExtensibleMatch:
		b = append(b, f.Attr...)
		if f.DNAttributes {
			b = append(b, ":dn"...)
		}
		if f.MatchingRule != "" {
			b = append(b, ':')
			b = append(b, f.MatchingRule...)
		}
		b = append(b, ":="...)
		b = appendFilterValue(b, f.Value)
	}
	return append(b, ')')
}

// EscapeFilterValue escapes s for use as an assertion value in a filter
// string, as Filter.String does: callers building filters from user input
// must use it, or '*' and ')' change the filter's meaning.
func EscapeFilterValue(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < utf8.RuneSelf && !filterEscapeByte(c) {
			continue
		}
		return bytesToString(appendFilterValue(make([]byte, 0, len(s)+8), s))
	}
	return s
}

func filterEscapeByte(c byte) bool {
	return c == '*' || c == '(' || c == ')' || c == '\\' || c == 0
}

func appendFilterValue(b []byte, v string) []byte {
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			if filterEscapeByte(c) {
				b = append(b, '\\', hexDigits[c>>4], hexDigits[c&15])
			} else {
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, '\\', hexDigits[c>>4], hexDigits[c&15])
		} else {
			b = append(b, v[i:i+n]...)
		}
		i += n
	}
	return b
}

func (k FilterKind) String() string {
	switch k {
	case FilterAnd:
		return "and"
	case FilterOr:
		return "or"
	case FilterNot:
		return "not"
	case FilterEquality:
		return "equality"
	case FilterSubstrings:
		return "substrings"
	case FilterGreaterOrEqual:
		return "greaterOrEqual"
	case FilterLessOrEqual:
		return "lessOrEqual"
	case FilterPresent:
		return "present"
	case FilterApprox:
		return "approxMatch"
	case FilterExtensibleMatch:
		return "extensibleMatch"
	}
	return fmt.Sprintf("FilterKind(%d)", uint8(k))
}
