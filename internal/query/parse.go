package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Expr is a parsed expression. A nil *Expr matches everything.
type Expr struct {
	root *node
}

type nodeKind uint8

const (
	kCmp nodeKind = iota
	kAnd
	kOr
	kNot
)

// node is one operator of the tree. And and or nodes are flattened: no
// child of an and node is an and node, nor of an or node an or node.
type node struct {
	kind nodeKind
	kids []*node // and, or: two or more; not: one

	// Comparisons.
	attr string
	typ  Type
	op   Op
	null bool      // the value is null
	str  string    // String and Time: the value as written (decoded)
	num  float64   // Number
	lit  string    // Number: the literal as written
	b    bool      // Bool
	t    time.Time // Time
	fold []rune    // String, for co, sw, ew and ordering: str case-folded
	kmp  []int     // co: the failure function of fold
}

// Parse parses s as an expression over the attributes opts declares; a nil
// opts knows no attribute. White space (space, tab, CR, LF) may surround
// any token and is needed only between two words. A declared attribute
// may be named like a keyword ("not", "and", "pr"): position decides,
// except that "not" followed by "(" always negates. Every error is an
// *Error.
func Parse(s string, opts *Options) (*Expr, error) {
	if opts == nil {
		opts = &Options{}
	}
	if max := orDefault(opts.MaxLen, DefaultMaxLen); len(s) > max {
		return nil, &Error{Offset: max, Msg: fmt.Sprintf("expression is %d bytes long; the limit is %d", len(s), max)}
	}
	p := &parser{
		s:        s,
		o:        opts,
		maxDepth: orDefault(opts.MaxDepth, DefaultMaxDepth),
		maxCmps:  orDefault(opts.MaxComparisons, DefaultMaxComparisons),
	}
	if strings.TrimLeft(s, " \t\r\n") == "" {
		return nil, &Error{Offset: 0, Msg: "empty expression"}
	}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.kind != tEOF {
		if t.kind == tRParen {
			return nil, p.fail(t.pos, `unbalanced ")"`)
		}
		return nil, p.fail(t.pos, `expected "and", "or" or end of expression, got %s`, describe(t))
	}
	return &Expr{root: n}, nil
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tWord   // keyword, attribute path, number, true, false or null
	tString // a JSON string
)

type token struct {
	kind tokKind
	pos  int
	text string // as written
	str  string // tString: decoded
}

type parser struct {
	s        string
	i        int // where the next token starts (before white space)
	o        *Options
	maxDepth int
	maxCmps  int
	cmps     int

	peeked bool
	tok    token
	err    error
}

func (p *parser) fail(off int, format string, args ...any) error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) peek() (token, error) {
	if !p.peeked {
		p.tok, p.err = p.lex()
		p.peeked = true
	}
	return p.tok, p.err
}

func (p *parser) next() (token, error) {
	t, err := p.peek()
	p.peeked = false
	return t, err
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '-' || c == '$' || c == '.' || c == ':' || c == '+'
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func (p *parser) lex() (token, error) {
	s := p.s
	i := p.i
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	if i == len(s) {
		p.i = i
		return token{kind: tEOF, pos: i}, nil
	}
	switch c := s[i]; {
	case c == '(':
		p.i = i + 1
		return token{kind: tLParen, pos: i, text: "("}, nil
	case c == ')':
		p.i = i + 1
		return token{kind: tRParen, pos: i, text: ")"}, nil
	case c == '"':
		return p.lexString(i)
	case isWordByte(c):
		j := i + 1
		for j < len(s) && isWordByte(s[j]) {
			j++
		}
		if j < len(s) && s[j] >= utf8.RuneSelf { // e.g. "profile.prénom"
			return token{}, p.badChar(j)
		}
		p.i = j
		return token{kind: tWord, pos: i, text: s[i:j]}, nil
	case c == '\'':
		return token{}, p.fail(i, `strings must be in double quotes, not '`)
	case c == '[':
		return token{}, p.fail(i, `value filters ("attr[…]") are not supported`)
	default:
		return token{}, p.badChar(i)
	}
}

func (p *parser) badChar(i int) error {
	r, size := utf8.DecodeRuneInString(p.s[i:])
	if r == utf8.RuneError && size == 1 {
		return p.fail(i, "invalid UTF-8 (byte 0x%02x)", p.s[i])
	}
	return p.fail(i, "unexpected character %q", r)
}

// lexString reads the JSON string starting at the '"' at start.
func (p *parser) lexString(start int) (token, error) {
	s := p.s
	var buf []byte // nil until the first escape
	chunk := start + 1
	for i := start + 1; ; {
		if i >= len(s) {
			return token{}, p.fail(start, "unterminated string")
		}
		switch c := s[i]; {
		case c == '"':
			str := s[chunk:i]
			if buf != nil {
				str = string(append(buf, str...))
			}
			p.i = i + 1
			return token{kind: tString, pos: start, text: s[start : i+1], str: str}, nil
		case c == '\\':
			buf = append(buf, s[chunk:i]...)
			r, n, err := p.escape(i)
			if err != nil {
				return token{}, err
			}
			buf = utf8.AppendRune(buf, r)
			i += n
			chunk = i
		case c < 0x20:
			return token{}, p.fail(i, `control character U+%04X in string; write it as \u%04x`, c, c)
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return token{}, p.fail(i, "invalid UTF-8 in string (byte 0x%02x)", c)
			}
			i += size
		}
	}
}

// escape decodes the escape sequence at s[i] == '\\' and returns the rune
// and the sequence's length.
func (p *parser) escape(i int) (rune, int, error) {
	s := p.s
	if i+1 >= len(s) {
		return 0, 0, p.fail(i, "unterminated string")
	}
	switch c := s[i+1]; c {
	case '"', '\\', '/':
		return rune(c), 2, nil
	case 'b':
		return '\b', 2, nil
	case 'f':
		return '\f', 2, nil
	case 'n':
		return '\n', 2, nil
	case 'r':
		return '\r', 2, nil
	case 't':
		return '\t', 2, nil
	case 'u':
		r, ok := hex4(s, i+2)
		if !ok {
			return 0, 0, p.fail(i, `invalid \u escape (want \u and four hex digits)`)
		}
		if !utf16.IsSurrogate(r) {
			return r, 6, nil
		}
		if r < 0xdc00 { // a high surrogate: a low one must follow
			if i+7 < len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
				if r2, ok := hex4(s, i+8); ok && r2 >= 0xdc00 && r2 <= 0xdfff {
					return utf16.DecodeRune(r, r2), 12, nil
				}
			}
		}
		return 0, 0, p.fail(i, `unpaired surrogate \u%s in string`, s[i+2:i+6])
	default:
		r, _ := utf8.DecodeRuneInString(s[i+1:])
		return 0, 0, p.fail(i, `invalid escape \%c in string (want \", \\, \/, \b, \f, \n, \r, \t or \uXXXX)`, r)
	}
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// describe names a token for an error message.
func describe(t token) string {
	const max = 40
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tString:
		if len(t.text) > max {
			n := max
			for n > 0 && !utf8.RuneStart(t.text[n]) {
				n--
			}
			return "string " + t.text[:n] + `…"`
		}
		return "string " + t.text
	}
	if len(t.text) > max {
		return strconv.Quote(t.text[:max]) + "…"
	}
	return strconv.Quote(t.text)
}

func isKeyword(t token, kw string) bool { return t.kind == tWord && strings.EqualFold(t.text, kw) }

// or reads and-terms separated by "or"; depth is the nesting of the
// parentheses around it.
func (p *parser) or(depth int) (*node, error) {
	n, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		if !isKeyword(t, "or") {
			return n, nil
		}
		p.next()
		m, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		n = join(kOr, n, m)
	}
}

func (p *parser) and(depth int) (*node, error) {
	n, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		if !isKeyword(t, "and") {
			return n, nil
		}
		p.next()
		m, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		n = join(kAnd, n, m)
	}
}

// join combines a and b under an and or or node, flattening.
func join(kind nodeKind, a, b *node) *node {
	var kids []*node
	if a.kind == kind {
		kids = a.kids
	} else {
		kids = []*node{a}
	}
	if b.kind == kind {
		kids = append(kids, b.kids...)
	} else {
		kids = append(kids, b)
	}
	return &node{kind: kind, kids: kids}
}

func (p *parser) unary(depth int) (*node, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case tLParen:
		return p.group(t, depth)
	case tWord:
		if strings.EqualFold(t.text, "not") {
			u, err := p.peek()
			if err != nil {
				return nil, err
			}
			if u.kind == tLParen {
				p.next()
				n, err := p.group(u, depth)
				if err != nil {
					return nil, err
				}
				return &node{kind: kNot, kids: []*node{n}}, nil
			}
			if _, ok := p.o.lookup(t.text); !ok {
				return nil, p.fail(u.pos, `expected "(" after "not", got %s`, describe(u))
			}
		}
		return p.comparison(t)
	}
	return nil, p.fail(t.pos, `expected an attribute name, "not" or "(", got %s`, describe(t))
}

// group reads the rest of a parenthesised expression whose "(" is open.
func (p *parser) group(open token, depth int) (*node, error) {
	if depth+1 > p.maxDepth {
		return nil, p.fail(open.pos, "expression nests deeper than %d levels of parentheses", p.maxDepth)
	}
	n, err := p.or(depth + 1)
	if err != nil {
		return nil, err
	}
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.kind != tRParen {
		if t.kind == tEOF {
			return nil, p.fail(t.pos, `expected ")" to close the "(" at offset %d, got end of expression`, open.pos)
		}
		return nil, p.fail(t.pos, `expected "and", "or" or ")", got %s`, describe(t))
	}
	return n, nil
}

const opList = "eq, ne, co, sw, ew, gt, ge, lt, le, pr"

func parseOp(w string) (Op, bool) {
	if len(w) != 2 {
		return 0, false
	}
	for o := Eq; o <= Pr; o++ {
		if strings.EqualFold(w, opNames[o]) {
			return o, true
		}
	}
	return 0, false
}

// comparison reads the operator and value after the attribute path at.
func (p *parser) comparison(at token) (*node, error) {
	if !isLetter(at.text[0]) {
		return nil, p.fail(at.pos, `expected an attribute name, "not" or "(", got %s`, describe(at))
	}
	a, ok := p.o.lookup(at.text)
	if !ok {
		return nil, p.unknown(at)
	}
	p.cmps++
	if p.cmps > p.maxCmps {
		return nil, p.fail(at.pos, "expression has more than %d comparisons", p.maxCmps)
	}
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	op, ok := Op(0), false
	if t.kind == tWord {
		op, ok = parseOp(t.text)
	}
	if !ok {
		return nil, p.fail(t.pos, "expected an operator (%s), got %s", opList, describe(t))
	}
	allowed := a.allowed()
	if allowed == 0 {
		return nil, p.fail(at.pos, "attribute %q has an unsupported type (%v)", at.text, a.Type)
	}
	if !allowed.Has(op) {
		return nil, p.fail(t.pos, "operator %s is not allowed on %q (allowed: %s)", op, at.text, allowed)
	}
	n := &node{kind: kCmp, attr: at.text, typ: a.Type, op: op}
	if op == Pr {
		return n, nil
	}
	v, err := p.next()
	if err != nil {
		return nil, err
	}
	return n, p.value(n, v)
}

// unknown reports an undeclared attribute.
func (p *parser) unknown(at token) error {
	if strings.EqualFold(at.text, "and") || strings.EqualFold(at.text, "or") {
		return p.fail(at.pos, `expected an attribute name, "not" or "(", got %s`, describe(at))
	}
	known := p.o.known()
	hint := ""
	for _, k := range known {
		if strings.EqualFold(k, at.text) {
			hint = fmt.Sprintf(" (attribute names are case-sensitive: did you mean %q?)", k)
			break
		}
	}
	if len(known) == 0 {
		return p.fail(at.pos, "unknown attribute %q; no attributes can be used here", at.text)
	}
	return p.fail(at.pos, "unknown attribute %q%s; known attributes: %s", at.text, hint, strings.Join(known, ", "))
}

// value reads the value v of comparison n.
func (p *parser) value(n *node, v token) error {
	want := func() error {
		var w string
		switch n.typ {
		case String:
			w = `a string in double quotes`
		case Time:
			w = `an RFC 3339 time in double quotes, such as "2024-01-01T00:00:00Z"`
		case Bool:
			w = "true or false"
		case Number:
			w = "a number"
		}
		return p.fail(v.pos, "%q is a %v attribute: want %s, got %s", n.attr, n.typ, w, describe(v))
	}
	switch v.kind {
	case tString:
		switch n.typ {
		case String:
			n.str = v.str
			if n.op != Eq && n.op != Ne {
				n.fold = foldString(v.str)
				if n.op == Co {
					n.kmp = kmpTable(n.fold)
				}
			}
			return nil
		case Time:
			t, ok := parseTime(v.str)
			if !ok {
				return p.fail(v.pos, `%q is a time attribute: %s is not an RFC 3339 time (such as "2024-01-01T00:00:00Z" or "2024-01-01T09:30:00.000+02:00")`, n.attr, describe(token{kind: tWord, text: v.str}))
			}
			n.str, n.t = v.str, t
			return nil
		}
		return want()
	case tWord:
		switch w := v.text; {
		case strings.EqualFold(w, "null"):
			if n.op != Eq && n.op != Ne {
				return p.fail(v.pos, "null can only be compared with eq or ne")
			}
			n.null = true
			return nil
		case strings.EqualFold(w, "true"), strings.EqualFold(w, "false"):
			if n.typ != Bool {
				return want()
			}
			n.b = len(w) == 4
			return nil
		case w[0] == '-' || '0' <= w[0] && w[0] <= '9':
			if !validNumber(w) {
				return p.fail(v.pos, "invalid number %s", describe(v))
			}
			if n.typ != Number {
				return want()
			}
			f, err := strconv.ParseFloat(w, 64)
			if err != nil {
				return p.fail(v.pos, "number %s is out of range", describe(v))
			}
			n.num, n.lit = f, w
			return nil
		}
		if n.typ == Bool || n.typ == Number {
			return want()
		}
		return p.fail(v.pos, `expected a value (a string in double quotes, a number, true, false or null), got %s; quote strings: %s`, describe(v), appendQuoted(nil, clip(v.text)))
	}
	return p.fail(v.pos, "expected a value (a string in double quotes, a number, true, false or null), got %s", describe(v))
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] // words are ASCII
	}
	return s
}

// validNumber reports whether s is a JSON number.
func validNumber(s string) bool {
	i := 0
	digits := func() int {
		j := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// parseTime parses an RFC 3339 date-time, with or without fractional
// seconds. time.Parse also takes a comma before the fraction, which
// RFC 3339 does not.
func parseTime(s string) (time.Time, bool) {
	if strings.IndexByte(s, ',') >= 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
