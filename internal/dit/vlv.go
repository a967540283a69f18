package dit

import (
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

// Virtual list view (draft-ietf-ldapext-ldapv3-vlv-09): with a sort
// control, a search returns a window of its sorted matches: beforeCount
// entries before the target and afterCount after it, the target being an
// offset (scaled when the client's idea of the count differs) or the
// first entry whose first sort key is at or after a value. The sorted
// matches are there already (sort.go): the window is a slice of them.
// The response says where the target is and how many matches there are;
// contextIDs are not kept (each request is answered afresh).

// viewList narrows c's sorted matches to the window the request vc asks.
func (c *cursor) viewList(vc *ldap.Control, controls []ldap.Control) error {
	fail := func(code ldap.ResultCode, why string) error {
		return &ldapserver.ResultError{Code: code, Diagnostic: why,
			Controls: []ldap.Control{ldap.VLVResponseControl(0, 0, code)}}
	}
	v, err := ldap.ParseVLVRequest(vc.Value)
	if err != nil {
		return fail(ldap.ProtocolError, "malformed virtual list view request")
	}
	if ldap.FindControl(controls, ldap.OIDPagedResults) != nil {
		return fail(ldap.UnwillingToPerform, "use the virtual list view or paged results, not both")
	}
	if c.sort == nil || c.sort.code != ldap.Success || c.sorted == nil {
		return fail(ldap.SortControlMissing, "a virtual list view needs a sort control this server can honour")
	}
	n := len(c.sorted)
	var target int // 0-based; n when past the end
	if v.ByOffset {
		if v.Offset < 1 {
			return fail(ldap.OffsetRangeError, "the offset starts at 1")
		}
		target = v.Offset - 1
		if v.Count > 0 && v.Count != n { // the client's list had another size: scale
			target = int(int64(v.Offset-1) * int64(n) / int64(v.Count))
		}
		target = min(target, max(n-1, 0))
	} else {
		target = c.firstAtOrAfter(v.Value)
	}
	lo, hi := max(0, target-v.Before), min(n, target+v.After+1)
	c.sorted = c.sorted[lo:hi:hi]
	c.keys, c.arena = nil, nil
	r := ldap.VLVResponseControl(target+1, n, ldap.Success)
	c.vlv = &r
	return nil
}

// firstAtOrAfter is the position of the first sorted match whose first
// key sorts at or after value (n when none does), by the order of the
// sort: reversed keys reversed, matches without the key last.
func (c *cursor) firstAtOrAfter(value []byte) int {
	key := c.sort.keys[0]
	v, ok := key.rule.AppendNormalized(nil, string(value))
	if !ok {
		return len(c.sorted)
	}
	lo, hi := 0, len(c.sorted)
	for lo < hi {
		m := (lo + hi) / 2
		k := c.keys[m]
		before := false // c.sorted[m] sorts before value
		if k.ok {
			d := key.rule.CompareNormalized(c.arena[k.off:k.end], v)
			if key.reverse {
				d = -d
			}
			before = d < 0
		}
		if before {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
