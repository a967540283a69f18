package ldap

import (
	"errors"

	"github.com/dirgate/dirgate/internal/ber"
)

// Server-side sorting of search results (RFC 2891).
const (
	OIDSortRequest  = "1.2.840.113556.1.4.473"
	OIDSortResponse = "1.2.840.113556.1.4.474"
)

var (
	tagSortOrderingRule = ber.Context(0, false)
	tagSortReverse      = ber.Context(1, false)
	tagSortAttr         = ber.Context(0, false)
	errSortNoKeys       = errors.New("ldap: sort control without sort keys")
)

// SortKey is one key of a sort request. The strings alias the control
// value.
type SortKey struct {
	Attr         string // an attribute description
	OrderingRule string // a matching rule's name or OID; "" for the type's own
	Reverse      bool
}

// ParseSortKeys decodes a sort request control value:
//
//	SortKeyList ::= SEQUENCE OF SEQUENCE {
//	    attributeType   AttributeDescription,
//	    orderingRule    [0] MatchingRuleId OPTIONAL,
//	    reverseOrder    [1] BOOLEAN DEFAULT FALSE }
//
// At least one key is required; at most max are accepted (more is an
// error: each key costs every sorted entry a comparison).
func ParseSortKeys(value []byte, max int) ([]SortKey, error) {
	r := ber.NewReader(value)
	list, err := r.Enter(ber.TagSequence)
	if err != nil {
		return nil, err
	}
	if err := r.Finish(); err != nil {
		return nil, err
	}
	var keys []SortKey
	for !list.Empty() {
		if len(keys) == max {
			return nil, errors.New("ldap: too many sort keys")
		}
		seq, err := list.Enter(ber.TagSequence)
		if err != nil {
			return nil, err
		}
		attr, err := seq.OctetString(ber.TagOctetString)
		if err != nil {
			return nil, err
		}
		k := SortKey{Attr: string(attr)}
		if t, err := seq.Peek(); err == nil && t == tagSortOrderingRule {
			rule, err := seq.OctetString(tagSortOrderingRule)
			if err != nil {
				return nil, err
			}
			k.OrderingRule = string(rule)
		}
		if t, err := seq.Peek(); err == nil && t == tagSortReverse {
			if k.Reverse, err = seq.Bool(tagSortReverse); err != nil {
				return nil, err
			}
		}
		if err := seq.Finish(); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errSortNoKeys
	}
	return keys, nil
}

// AppendSortKeys appends a sort request control value (for clients and
// tests).
func AppendSortKeys(dst []byte, keys []SortKey) []byte {
	e := ber.Encoder{Buf: dst}
	e.Begin(ber.TagSequence)
	for _, k := range keys {
		e.Begin(ber.TagSequence)
		e.String(ber.TagOctetString, k.Attr)
		if k.OrderingRule != "" {
			e.String(tagSortOrderingRule, k.OrderingRule)
		}
		if k.Reverse {
			e.Bool(tagSortReverse, true)
		}
		e.End()
	}
	e.End()
	return e.Buf
}

// SortResultControl is the sort response control:
//
//	SortResult ::= SEQUENCE {
//	    sortResult    ENUMERATED { success (0), ... },
//	    attributeType [0] AttributeDescription OPTIONAL }
//
// attr names the key that could not be sorted by ("" for none).
func SortResultControl(code ResultCode, attr string) Control {
	e := ber.Encoder{}
	e.Begin(ber.TagSequence)
	e.Int(ber.TagEnumerated, int64(code))
	if attr != "" {
		e.String(tagSortAttr, attr)
	}
	e.End()
	return Control{OID: OIDSortResponse, Value: e.Buf, HasValue: true}
}
