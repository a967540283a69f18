package ldap

import (
	"errors"
	"fmt"

	"github.com/dirgate/dirgate/internal/ber"
)

// Filter tags (RFC 4511 §4.5.1): and/or are SET OF (constructed), not wraps
// one filter, the assertions are SEQUENCE-shaped, present is a primitive
// AttributeDescription.
const (
	tagFilterAnd        = 0xa0
	tagFilterOr         = 0xa1
	tagFilterNot        = 0xa2
	tagFilterEquality   = 0xa3
	tagFilterSubstrings = 0xa4
	tagFilterGreater    = 0xa5
	tagFilterLess       = 0xa6
	tagFilterPresent    = 0x87
	tagFilterApprox     = 0xa8
	tagFilterExtensible = 0xa9

	tagMatchingRule = 0x81 // [1] in MatchingRuleAssertion
	tagMatchType    = 0x82 // [2]
	tagMatchValue   = 0x83 // [3]
	tagDNAttributes = 0x84 // [4]
)

var (
	errEmptySubstrings = errors.New("substrings filter has no parts")
	errSubstringOrder  = errors.New("substrings: initial must come first and final last, at most once each")
	errNotChildren     = errors.New("not filter must hold exactly one filter")
	errExtensibleEmpty = errors.New("extensible match needs a matching rule or an attribute type")
)

// DecodeFilter reads exactly one Filter element from r. Nesting is bounded
// by ber.MaxDepth; strings alias the message.
func DecodeFilter(r *ber.Reader) (Filter, error) {
	tag, c, err := r.Next()
	if err != nil {
		return Filter{}, err
	}
	sub, err := r.Sub(c)
	if err != nil {
		return Filter{}, err
	}
	return decodeFilterBody(tag, c, &sub)
}

func decodeFilterBody(tag ber.Tag, c []byte, r *ber.Reader) (Filter, error) {
	var f Filter
	switch tag {
	case tagFilterAnd, tagFilterOr:
		f.Kind = FilterAnd
		if tag == tagFilterOr {
			f.Kind = FilterOr
		}
		// An empty and/or is RFC 4526's absolute true/false: allowed.
		if n := countElements(*r); n > 0 {
			f.Children = make([]Filter, 0, n)
			for !r.Empty() {
				child, err := DecodeFilter(r)
				if err != nil {
					return f, err
				}
				f.Children = append(f.Children, child)
			}
		}
		return f, nil
	case tagFilterNot:
		f.Kind = FilterNot
		if countElements(*r) != 1 {
			return f, errNotChildren
		}
		child, err := DecodeFilter(r)
		if err != nil {
			return f, err
		}
		f.Children = []Filter{child}
		return f, nil
	case tagFilterEquality, tagFilterGreater, tagFilterLess, tagFilterApprox:
		f.Kind = FilterKind(tag.Number())
		a, err := str(r, "attributeDesc")
		if err != nil {
			return f, err
		}
		v, err := str(r, "assertionValue")
		if err != nil {
			return f, err
		}
		f.Attr, f.Value = a, v
	case tagFilterPresent:
		f.Kind = FilterPresent
		f.Attr = bytesToString(c)
		return f, nil // primitive: c is the value, not elements
	case tagFilterSubstrings:
		f.Kind = FilterSubstrings
		a, err := str(r, "type")
		if err != nil {
			return f, err
		}
		f.Attr = a
		parts, err := r.Enter(ber.TagSequence)
		if err != nil {
			return f, fmt.Errorf("substrings: %w", err)
		}
		n := countElements(parts)
		if n == 0 {
			return f, errEmptySubstrings
		}
		f.Substrings = make([]Substring, 0, n)
		for i := 0; !parts.Empty(); i++ {
			t, v, err := parts.Next()
			if err != nil {
				return f, err
			}
			k := SubstringKind(t.Number())
			if t.Class() != ber.ClassContext || t.IsConstructed() || k > SubFinal ||
				(k == SubInitial && i != 0) || (k == SubFinal && i != n-1) {
				return f, errSubstringOrder
			}
			f.Substrings = append(f.Substrings, Substring{Kind: k, Value: bytesToString(v)})
		}
	case tagFilterExtensible:
		f.Kind = FilterExtensibleMatch
		for _, opt := range [...]struct {
			tag ber.Tag
			dst *string
		}{{tagMatchingRule, &f.MatchingRule}, {tagMatchType, &f.Attr}} {
			if t, err := r.Peek(); err == nil && t == opt.tag {
				v, err := r.OctetString(opt.tag)
				if err != nil {
					return f, err
				}
				*opt.dst = bytesToString(v)
			}
		}
		v, err := r.OctetString(tagMatchValue)
		if err != nil {
			return f, fmt.Errorf("matchValue: %w", err)
		}
		f.Value = bytesToString(v)
		if !r.Empty() {
			if f.DNAttributes, err = r.Bool(tagDNAttributes); err != nil {
				return f, fmt.Errorf("dnAttributes: %w", err)
			}
		}
		if f.MatchingRule == "" && f.Attr == "" {
			return f, errExtensibleEmpty
		}
	default:
		return f, fmt.Errorf("unknown filter choice %v", tag)
	}
	return f, r.Finish()
}

// Encode appends the filter's BER form.
func (f *Filter) Encode(e *ber.Encoder) {
	switch f.Kind {
	case FilterAnd, FilterOr, FilterNot:
		e.Begin(ber.Context(byte(f.Kind), true))
		for i := range f.Children {
			f.Children[i].Encode(e)
		}
		e.End()
	case FilterEquality, FilterGreaterOrEqual, FilterLessOrEqual, FilterApprox:
		e.Begin(ber.Context(byte(f.Kind), true))
		e.String(ber.TagOctetString, f.Attr)
		e.String(ber.TagOctetString, f.Value)
		e.End()
	case FilterPresent:
		e.String(tagFilterPresent, f.Attr)
	case FilterSubstrings:
		e.Begin(tagFilterSubstrings)
		e.String(ber.TagOctetString, f.Attr)
		e.Begin(ber.TagSequence)
		for _, s := range f.Substrings {
			e.String(ber.Context(byte(s.Kind), false), s.Value)
		}
		e.End()
		e.End()
	case FilterExtensibleMatch:
		e.Begin(tagFilterExtensible)
		if f.MatchingRule != "" {
			e.String(tagMatchingRule, f.MatchingRule)
		}
		if f.Attr != "" {
			e.String(tagMatchType, f.Attr)
		}
		e.String(tagMatchValue, f.Value)
		if f.DNAttributes {
			e.Bool(tagDNAttributes, true)
		}
		e.End()
	}
}
