// Package query parses and evaluates the list expressions of the
// management API: the filter and search parameters of
// GET /api/v1/users, /groups and /logs. Okta uses one grammar for all of
// them, SCIM 2's filter (RFC 7644 §3.4.2.2), so dirgate has one parser
// that each endpoint configures with the attributes it knows, their types
// and the operators it allows on each (Okta's filter allows only eq on most
// fields, search allows everything).
//
// Keywords (operators, and/or/not, true/false/null) are case-insensitive;
// attribute names are case-sensitive, as in Okta. String values compare
// case-insensitively, by Unicode simple case folding, as Okta does (and
// SCIM for attributes that are not caseExact). An absent attribute fails every comparison except ne, which it
// passes (SCIM's rule), so "not (a eq x)" and "a ne x" agree.
//
// Parse bounds the work an untrusted expression can cause (Options'
// limits) and reports every problem as an *Error with a byte offset.
// A parsed *Expr is immutable and safe for concurrent use.
package query

import (
	"fmt"
	"sort"
	"strings"
)

// Type is the type of an attribute. The zero Type is String.
type Type uint8

// Attribute types.
const (
	String Type = iota // compared case-insensitively
	Time               // an instant; values in expressions are RFC 3339 strings
	Bool               // true or false
	Number             // a float64; values in expressions are JSON numbers
)

var typeNames = [...]string{String: "string", Time: "time", Bool: "bool", Number: "number"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Op is a comparison operator.
type Op uint8

// Comparison operators, in the order error messages list them.
const (
	Eq Op = iota + 1 // equal
	Ne               // not equal
	Co               // contains (strings)
	Sw               // starts with (strings)
	Ew               // ends with (strings)
	Gt               // greater than
	Ge               // greater than or equal
	Lt               // less than
	Le               // less than or equal
	Pr               // present (and non-empty); takes no value
)

var opNames = [...]string{Eq: "eq", Ne: "ne", Co: "co", Sw: "sw", Ew: "ew", Gt: "gt", Ge: "ge", Lt: "lt", Le: "le", Pr: "pr"}

// String returns the operator's keyword in lower case.
func (o Op) String() string {
	if o >= Eq && o <= Pr {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// OpSet is a set of operators. The zero OpSet, in an Attr, means every
// operator the attribute's type supports.
type OpSet uint16

// Ops returns the set of the given operators.
func Ops(ops ...Op) OpSet {
	var s OpSet
	for _, o := range ops {
		if o >= Eq && o <= Pr {
			s |= 1 << o
		}
	}
	return s
}

// Has reports whether o is in s.
func (s OpSet) Has(o Op) bool { return o >= Eq && o <= Pr && s&(1<<o) != 0 }

// String lists the operators, comma-separated, in canonical order.
func (s OpSet) String() string {
	var b strings.Builder
	for o := Eq; o <= Pr; o++ {
		if s.Has(o) {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(o.String())
		}
	}
	return b.String()
}

// typeOps are the operators that make sense for each type.
var typeOps = [...]OpSet{
	String: Ops(Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le, Pr),
	Time:   Ops(Eq, Ne, Gt, Ge, Lt, Le, Pr),
	Bool:   Ops(Eq, Ne, Pr),
	Number: Ops(Eq, Ne, Gt, Ge, Lt, Le, Pr),
}

// Attr declares an attribute.
type Attr struct {
	Type Type
	// Ops restricts the operators allowed on the attribute; zero allows
	// every operator its Type supports.
	Ops OpSet
}

// allowed is the set of operators usable on a.
func (a Attr) allowed() OpSet {
	if int(a.Type) >= len(typeOps) {
		return 0
	}
	t := typeOps[a.Type]
	if a.Ops == 0 {
		return t
	}
	return a.Ops & t
}

// Prefix declares a family of attributes that share a leading path, such
// as a profile's attributes "profile.<name>".
type Prefix struct {
	// Path is the leading part including its separator, e.g. "profile.".
	Path string
	// Names maps the rest of the path (after Path) to its declaration.
	Names map[string]Attr
	// Resolve, if set, declares names that Names lacks; it gets the rest
	// of the path (never empty).
	Resolve func(name string) (Attr, bool)
}

// Default limits, used where Options leaves a limit zero.
const (
	DefaultMaxLen         = 4096 // bytes
	DefaultMaxDepth       = 32   // nested parentheses, not( … ) included
	DefaultMaxComparisons = 100
)

// Options says which attributes an expression may use and bounds its size.
// The zero value knows no attribute.
type Options struct {
	// Attrs declares attributes by their full path, e.g. "status".
	Attrs map[string]Attr
	// Prefixes declare families of attributes; they are tried in order
	// for a path that Attrs lacks.
	Prefixes []Prefix

	MaxLen         int // longest expression in bytes; 0 means DefaultMaxLen
	MaxDepth       int // deepest nesting of parentheses; 0 means DefaultMaxDepth
	MaxComparisons int // most comparisons; 0 means DefaultMaxComparisons
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// lookup finds the declaration of path.
func (o *Options) lookup(path string) (Attr, bool) {
	if a, ok := o.Attrs[path]; ok {
		return a, true
	}
	for _, p := range o.Prefixes {
		rest, ok := strings.CutPrefix(path, p.Path)
		if !ok || rest == "" {
			continue
		}
		if a, ok := p.Names[rest]; ok {
			return a, true
		}
		if p.Resolve != nil {
			if a, ok := p.Resolve(rest); ok {
				return a, true
			}
		}
	}
	return Attr{}, false
}

// known lists the declared attributes, sorted; a Prefix with a Resolve
// func appears as "<Path>*".
func (o *Options) known() []string {
	seen := map[string]bool{}
	for k := range o.Attrs {
		seen[k] = true
	}
	for _, p := range o.Prefixes {
		for k := range p.Names {
			if k != "" {
				seen[p.Path+k] = true
			}
		}
		if p.Resolve != nil {
			seen[p.Path+"*"] = true
		}
	}
	list := make([]string, 0, len(seen))
	for k := range seen {
		list = append(list, k)
	}
	sort.Strings(list)
	return list
}

// Error says why an expression is not valid and where.
type Error struct {
	Offset int    // byte offset of the problem in the expression
	Msg    string // what is wrong, phrased for the API caller
}

func (e *Error) Error() string { return fmt.Sprintf("at offset %d: %s", e.Offset, e.Msg) }
