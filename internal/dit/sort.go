package dit

import (
	"context"
	"io"
	"slices"

	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

// Server-side sorting (RFC 2891). A sorted search reads all its matches
// from the snapshot when it starts, orders them by the keys' ordering
// rules and then streams them like any other search (a paged one keeps
// the order between pages). An entry without a key's attribute sorts as
// larger than any value (RFC 2891 §2.2): last, or first when reversed; of a
// multi-valued attribute the smallest value counts, the largest when the
// order is reversed. When it cannot sort (an unknown type, no ordering
// rule), a critical control fails the search with unavailableCriticalExtension
// and a non-critical one returns the entries unsorted; either way the
// sort response control says why.

// maxSortKeys bounds the keys of one request: each costs every sorted
// entry a comparison.
const maxSortKeys = 8

// sortKey is a request's key resolved in an org.
type sortKey struct {
	id      attrID
	rule    *ldap.MatchingRule
	reverse bool
}

// sortVal is one key's value of one match: normalised, in the arena at
// [off:end]; ok false when the entry has none.
type sortVal struct {
	off, end int32
	ok       bool
}

// sortRequest is what a search's sort control asks: keys resolved, or
// the reason it cannot be honoured.
type sortRequest struct {
	keys     []sortKey
	code     ldap.ResultCode // Success, or why it cannot sort
	attr     string          // the key at fault
	critical bool
}

// parseSort reads the sort control of a search in o, or returns nil
// when there is none.
func parseSort(o *orgView, controls []ldap.Control) *sortRequest {
	ct := ldap.FindControl(controls, ldap.OIDSortRequest)
	if ct == nil {
		return nil
	}
	sr := &sortRequest{critical: ct.Critical}
	keys, err := ldap.ParseSortKeys(ct.Value, maxSortKeys)
	if err != nil {
		sr.code = ldap.ProtocolError
		return sr
	}
	for _, k := range keys {
		id, ok := o.attrID(k.Attr)
		at := o.lookupType(k.Attr)
		if !ok || at == nil {
			sr.code, sr.attr = ldap.NoSuchAttribute, k.Attr
			return sr
		}
		rule := at.Ordering
		if k.OrderingRule != "" {
			r := ldap.LookupMatchingRule(k.OrderingRule)
			if r == nil || r.Usage != ldap.UsageOrdering || rule == nil || r.Syntax != rule.Syntax {
				rule = nil
			} else {
				rule = r
			}
		}
		if rule == nil {
			sr.code, sr.attr = ldap.InappropriateMatching, k.Attr
			return sr
		}
		sr.keys = append(sr.keys, sortKey{id: id, rule: rule, reverse: k.Reverse})
	}
	return sr
}

// failure is the error that ends a search whose critical sort control
// cannot be honoured, or nil.
func (sr *sortRequest) failure() error {
	if sr == nil || sr.code == ldap.Success || !sr.critical {
		return nil
	}
	return &ldapserver.ResultError{Code: ldap.UnavailableCriticalExtension,
		Diagnostic: "the results cannot be sorted as asked: " + sr.code.String() + " " + sr.attr,
		Controls:   []ldap.Control{ldap.SortResultControl(sr.code, sr.attr)}}
}

// sortMatches reads every match of c and orders them, so that c then
// returns them in that order. The keys' normalised values go to one
// arena, so a sort allocates a few growing buffers, not per entry.
func (c *cursor) sortMatches(ctx context.Context, sr *sortRequest, keepKeys bool) error {
	nk := len(sr.keys)
	var items []int32
	var vals []sortVal
	var arena []byte
	var buf []string
	for {
		e, i, err := c.nextMatch(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if i < 0 {
			c.one = e // the RootDSE or cn=schema: alone, nothing to order
			return nil
		}
		items = append(items, i)
		for _, key := range sr.keys {
			best := sortVal{}
			buf = c.org.values(e, key.id, buf[:0])
			for _, raw := range buf {
				start := len(arena)
				next, ok := key.rule.AppendNormalized(arena, raw)
				if !ok {
					arena = next[:start]
					continue
				}
				arena = next
				v := sortVal{off: int32(start), end: int32(len(arena)), ok: true}
				if !best.ok || key.rule.CompareNormalized(arena[v.off:v.end], arena[best.off:best.end]) < 0 != key.reverse {
					best = v
				}
			}
			vals = append(vals, best)
		}
	}
	order := make([]int32, len(items)) // positions in items
	for k := range order {
		order[k] = int32(k)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		for k, key := range sr.keys {
			av, bv := vals[int(a)*nk+k], vals[int(b)*nk+k]
			var d int
			switch {
			case av.ok && bv.ok:
				d = key.rule.CompareNormalized(arena[av.off:av.end], arena[bv.off:bv.end])
			case av.ok:
				d = -1 // a value sorts before none
			case bv.ok:
				d = 1
			}
			if key.reverse {
				d = -d
			}
			if d != 0 {
				return d
			}
		}
		return 0
	})
	c.sorted = make([]int32, len(order))
	for k, p := range order {
		c.sorted[k] = items[p]
	}
	if keepKeys { // for a virtual list view's greaterThanOrEqual (vlv.go)
		c.keys = make([]sortVal, len(order))
		for k, p := range order {
			c.keys[k] = vals[int(p)*nk]
		}
		c.arena = arena
	}
	return nil
}

// values appends e's raw values of attribute id to dst.
func (o *orgView) values(e *entry, id attrID, dst []string) []string {
	for _, sp := range e.spans {
		if sp.id == id {
			return appendEncoded(dst, e.enc[sp.start:sp.end])
		}
	}
	return dst
}
