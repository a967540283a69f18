package query

import (
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Value is an attribute's value as Match sees it. The zero Value is the
// empty string.
type Value struct {
	typ Type
	b   bool
	n   float64
	s   string
	t   time.Time
}

// StringValue returns a String value.
func StringValue(s string) Value { return Value{typ: String, s: s} }

// TimeValue returns a Time value. A zero t counts as empty for pr; an
// attribute that is unset should rather be reported absent.
func TimeValue(t time.Time) Value { return Value{typ: Time, t: t} }

// BoolValue returns a Bool value.
func BoolValue(b bool) Value { return Value{typ: Bool, b: b} }

// NumberValue returns a Number value.
func NumberValue(f float64) Value { return Value{typ: Number, n: f} }

// Type returns v's type.
func (v Value) Type() Type { return v.typ }

// String formats v as it would appear in an expression, for debugging.
func (v Value) String() string {
	switch v.typ {
	case Time:
		return string(appendQuoted(nil, v.t.Format(time.RFC3339Nano)))
	case Bool:
		return strconv.FormatBool(v.b)
	case Number:
		return strconv.FormatFloat(v.n, 'g', -1, 64)
	}
	return string(appendQuoted(nil, v.s))
}

func (v Value) empty() bool {
	switch v.typ {
	case String:
		return v.s == ""
	case Time:
		return v.t.IsZero()
	}
	return false
}

// Match reports whether the record that get describes satisfies e. get
// returns an attribute's value and whether the record has it; it is called
// with the attribute paths as written in the expression, at most once per
// comparison. A value whose Type is not the attribute's declared type
// counts as absent. A nil e matches everything.
//
// Comparisons: strings compare case-insensitively (Unicode simple folding),
// and gt, ge, lt and le order them by folded code point; times compare as
// instants. pr is true when the attribute is present and not empty (an
// empty string, a zero time). On an absent attribute every comparison is
// false except ne, which is true; "eq null" is true when pr would be false,
// "ne null" when it would be true.
func (e *Expr) Match(get func(attr string) (Value, bool)) bool {
	if e == nil || e.root == nil {
		return true
	}
	return e.root.match(get)
}

func (n *node) match(get func(string) (Value, bool)) bool {
	switch n.kind {
	case kAnd:
		for _, k := range n.kids {
			if !k.match(get) {
				return false
			}
		}
		return true
	case kOr:
		for _, k := range n.kids {
			if k.match(get) {
				return true
			}
		}
		return false
	case kNot:
		return !n.kids[0].match(get)
	}
	v, ok := get(n.attr)
	present := ok && v.typ == n.typ
	if n.op == Pr || n.null {
		set := present && !v.empty()
		return set == (n.op != Eq)
	}
	if !present {
		return n.op == Ne
	}
	switch n.typ {
	case String:
		switch n.op {
		case Eq:
			return strings.EqualFold(v.s, n.str)
		case Ne:
			return !strings.EqualFold(v.s, n.str)
		case Sw:
			return hasPrefixFold(v.s, n.fold)
		case Ew:
			return hasSuffixFold(v.s, n.fold)
		case Co:
			return containsFold(v.s, n.fold, n.kmp)
		}
		return ordered(n.op, compareFold(v.s, n.fold))
	case Time:
		return ordered(n.op, v.t.Compare(n.t))
	case Bool:
		return (v.b == n.b) == (n.op == Eq)
	case Number:
		switch n.op {
		case Eq:
			return v.n == n.num
		case Ne:
			return v.n != n.num
		case Gt:
			return v.n > n.num
		case Ge:
			return v.n >= n.num
		case Lt:
			return v.n < n.num
		case Le:
			return v.n <= n.num
		}
	}
	return false
}

// ordered applies op to the result c of a three-way comparison.
func ordered(op Op, c int) bool {
	switch op {
	case Eq:
		return c == 0
	case Ne:
		return c != 0
	case Gt:
		return c > 0
	case Ge:
		return c >= 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	}
	return false
}

// foldRune maps r to the smallest rune of its simple case-folding orbit,
// so that two runes are equal under strings.EqualFold exactly when their
// foldRune are equal.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return r
	}
	min := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < min {
			min = f
		}
	}
	return min
}

func foldString(s string) []rune {
	f := make([]rune, 0, len(s))
	for _, r := range s {
		f = append(f, foldRune(r))
	}
	return f
}

func hasPrefixFold(s string, p []rune) bool {
	i := 0
	for _, r := range s {
		if i == len(p) {
			return true
		}
		if foldRune(r) != p[i] {
			return false
		}
		i++
	}
	return i == len(p)
}

func hasSuffixFold(s string, p []rune) bool {
	for i := len(p) - 1; i >= 0; i-- {
		if s == "" {
			return false
		}
		r, size := utf8.DecodeLastRuneInString(s)
		if foldRune(r) != p[i] {
			return false
		}
		s = s[:len(s)-size]
	}
	return true
}

// containsFold reports whether s contains p, by Knuth-Morris-Pratt with
// p's failure function fail: linear in len(s) whatever p is.
func containsFold(s string, p []rune, fail []int) bool {
	if len(p) == 0 {
		return true
	}
	j := 0
	for _, r := range s {
		c := foldRune(r)
		for j > 0 && p[j] != c {
			j = fail[j-1]
		}
		if p[j] == c {
			j++
			if j == len(p) {
				return true
			}
		}
	}
	return false
}

func kmpTable(p []rune) []int {
	fail := make([]int, len(p))
	k := 0
	for i := 1; i < len(p); i++ {
		for k > 0 && p[i] != p[k] {
			k = fail[k-1]
		}
		if p[i] == p[k] {
			k++
		}
		fail[i] = k
	}
	return fail
}

// compareFold compares s, folded, with p.
func compareFold(s string, p []rune) int {
	i := 0
	for _, r := range s {
		if i == len(p) {
			return 1
		}
		if c := foldRune(r); c != p[i] {
			if c < p[i] {
				return -1
			}
			return 1
		}
		i++
	}
	if i < len(p) {
		return -1
	}
	return 0
}

// Attrs returns the attribute paths e uses, sorted, each once.
func (e *Expr) Attrs() []string {
	if e == nil || e.root == nil {
		return nil
	}
	seen := map[string]bool{}
	var walk func(*node)
	walk = func(n *node) {
		if n.kind == kCmp {
			seen[n.attr] = true
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(e.root)
	list := make([]string, 0, len(seen))
	for a := range seen {
		list = append(list, a)
	}
	sort.Strings(list)
	return list
}

// Equalities returns the string attributes that e requires to equal a
// value: the "attr eq "value"" comparisons that are e itself or operands
// of its top-level and. A record matching e has each attribute equal to
// its value, ignoring case, so an index looked up case-insensitively may
// narrow the candidates; Match must still decide. If one attribute has
// several such comparisons, the first is kept. It returns nil if there are
// none.
func (e *Expr) Equalities() map[string]string {
	if e == nil || e.root == nil {
		return nil
	}
	kids := []*node{e.root}
	if e.root.kind == kAnd {
		kids = e.root.kids
	}
	var m map[string]string
	for _, n := range kids {
		if n.kind != kCmp || n.op != Eq || n.typ != String || n.null {
			continue
		}
		if _, dup := m[n.attr]; dup {
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[n.attr] = n.str
	}
	return m
}
