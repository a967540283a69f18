package ldap

// FilterKind is the CHOICE of a Filter (RFC 4511 §4.5.1.7).
type FilterKind uint8

// Filter kinds, numbered as their context tags.
const (
	FilterAnd             FilterKind = 0
	FilterOr              FilterKind = 1
	FilterNot             FilterKind = 2
	FilterEquality        FilterKind = 3
	FilterSubstrings      FilterKind = 4
	FilterGreaterOrEqual  FilterKind = 5
	FilterLessOrEqual     FilterKind = 6
	FilterPresent         FilterKind = 7
	FilterApprox          FilterKind = 8
	FilterExtensibleMatch FilterKind = 9
)

// Filter is a search filter tree. Which fields are used depends on Kind:
// And/Or use Children (Not has exactly one child); Present uses Attr;
// Equality, GreaterOrEqual, LessOrEqual and Approx use Attr and Value;
// Substrings uses Attr and Substrings; ExtensibleMatch uses MatchingRule,
// Attr (either may be empty, not both), Value and DNAttributes.
type Filter struct {
	Kind         FilterKind
	Children     []Filter
	Attr         string
	Value        string
	Substrings   []Substring
	MatchingRule string
	DNAttributes bool
}

// SubstringKind says where a substring assertion part sits.
type SubstringKind uint8

// Substring parts, numbered as their context tags.
const (
	SubInitial SubstringKind = 0
	SubAny     SubstringKind = 1
	SubFinal   SubstringKind = 2
)

// Substring is one part of a substrings assertion.
type Substring struct {
	Kind  SubstringKind
	Value string
}
