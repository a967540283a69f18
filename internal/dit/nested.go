package dit

import (
	"slices"

	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/store"
)

// Nested groups in the snapshot. A group's uniqueMember lists its users,
// then the groups in it; memberOf (of users and of groups) lists the
// groups an entry is directly in, or with the org's TransitiveMemberOf
// every group it is in through others. The chain is resolved once per
// snapshot at the level of groups (each group's ancestors and
// descendants), so a request costs what its answer does:
// LDAP_MATCHING_RULE_IN_CHAIN in a filter becomes an OR of equality
// assertions on memberOf or uniqueMember, which the indexes answer.

// OIDInChain is LDAP_MATCHING_RULE_IN_CHAIN (Active Directory's
// transitive match).
const OIDInChain = "1.2.840.113556.1.4.1941"

// nesting is an org's group links, by number among the groups, each list
// sorted: children and parents are the direct links, below and above
// their transitive closures (a group in neither of its own).
type nesting struct {
	children, parents, below, above csr
}

// buildNesting resolves links between the groups numbered through
// byGroupID (positions from gFirst); nil when there are none.
func buildNesting(links []store.GroupLink, byGroupID map[string]int32, gFirst, nG int) *nesting {
	pairs := make([]membership, 0, len(links))
	for _, l := range links {
		p, ok1 := byGroupID[l.ParentID]
		c, ok2 := byGroupID[l.ChildID]
		if ok1 && ok2 && p != c {
			// membership{u, g} here is {parent, child}.
			pairs = append(pairs, membership{p - int32(gFirst), c - int32(gFirst)})
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	n := &nesting{}
	n.children = groupPairs(pairs, nG, func(m membership) (int32, int32) { return m.u, m.g })
	n.parents = groupPairs(pairs, nG, func(m membership) (int32, int32) { return m.g, m.u })
	n.below = closure(&n.children, nG)
	n.above = closure(&n.parents, nG)
	return n
}

// closure is, for each of n nodes, every node reachable from it through
// next (sorted, itself left out). The directory refuses cycles; should a
// store hold one anyway, it ends the walk rather than loop.
func closure(next *csr, n int) csr {
	off := make([]int32, n+1)
	var flat []int32
	seen := make([]int32, n) // walk number+1 that reached a node
	var stack []int32
	for i := range n {
		start := len(flat)
		stack = append(stack[:0], next.list(i)...)
		for len(stack) > 0 {
			g := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[g] == int32(i)+1 || g == int32(i) {
				continue
			}
			seen[g] = int32(i) + 1
			flat = append(flat, g)
			stack = append(stack, next.list(int(g))...)
		}
		slices.Sort(flat[start:])
		off[i+1] = int32(len(flat))
	}
	return csr{off: off, flat: slices.Clip(flat)}
}

// childrenOf lists the groups directly in group g.
func (n *nesting) childrenOf(g int32) []int32 {
	if n == nil {
		return nil
	}
	return n.children.list(int(g))
}

// memberOf is the memberOf of an entry directly in the groups direct:
// those, or with transitive every group they are in too (sorted).
func (n *nesting) memberOf(direct []int32, transitive bool) []int32 {
	if n == nil || !transitive || len(direct) == 0 {
		return direct
	}
	all := slices.Clone(direct)
	for _, g := range direct {
		all = append(all, n.above.list(int(g))...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// groupMemberOf is group g's memberOf.
func (n *nesting) groupMemberOf(g int32, transitive bool) []int32 {
	if n == nil {
		return nil
	}
	if transitive {
		return n.above.list(int(g))
	}
	return n.parents.list(int(g))
}

// addGroupDNs adds attribute id listing the DNs of groups gs.
func (o *orgView) addGroupDNs(b *builder, id attrID, gs []int32, group func(int32) *entry) {
	if len(gs) > 0 {
		disp, match := memberDNs(b, nil, gs, nil, group)
		b.addOwned(id, disp, match)
	}
}

// addMembers adds uniqueMember: the DNs of the users, then of the groups.
func (o *orgView) addMembers(b *builder, users, groups []int32, user, group func(int32) *entry) {
	if len(users)+len(groups) > 0 {
		disp, match := memberDNs(b, users, groups, user, group)
		b.addOwned(idUniqueMember, disp, match)
	}
}

// memberDNs lists the DNs (as served, and normalised) of the users, then
// of the groups, in b's scratch space.
func memberDNs(b *builder, users, groups []int32, user, group func(int32) *entry) (disp, match []string) {
	n := len(users) + len(groups)
	disp, match = b.tmpVals(n), b.tmpVals(n)
	for k, u := range users {
		e := user(u)
		disp[k], match[k] = e.dn, e.norm
	}
	for k, g := range groups {
		e := group(g)
		disp[len(users)+k], match[len(users)+k] = e.dn, e.norm
	}
	return disp, match
}

// hasInChain reports whether f uses LDAP_MATCHING_RULE_IN_CHAIN.
func hasInChain(f *ldap.Filter) bool {
	if f.Kind == ldap.FilterExtensibleMatch {
		return f.MatchingRule == OIDInChain
	}
	for i := range f.Children {
		if hasInChain(&f.Children[i]) {
			return true
		}
	}
	return false
}

// inChain returns f with each LDAP_MATCHING_RULE_IN_CHAIN assertion on
// memberOf or uniqueMember replaced by what it means in this org:
//
//   - (memberOf:1.2.840.113556.1.4.1941:=G): the entries in G through any
//     chain: those whose memberOf holds G or a group below it;
//   - (uniqueMember:1.2.840.113556.1.4.1941:=X): the groups X is in
//     through any chain: those whose uniqueMember holds X or a group X
//     is in.
//
// A value that names no group (or member) of the org matches nothing; the
// rule on another attribute is left to the filter's own evaluation
// (undefined: it matches nothing either).
func (o *orgView) inChain(f *ldap.Filter) ldap.Filter {
	if f.Kind != ldap.FilterExtensibleMatch {
		out := *f
		if len(f.Children) > 0 {
			out.Children = make([]ldap.Filter, len(f.Children))
			for i := range f.Children {
				out.Children[i] = o.inChain(&f.Children[i])
			}
		}
		return out
	}
	if f.MatchingRule != OIDInChain || f.DNAttributes {
		return *f
	}
	var id attrID
	switch at := ldap.LookupAttributeType(f.Attr); at {
	case globalAttrs[idMemberOf].at:
		id = idMemberOf
	case globalAttrs[idUniqueMember].at:
		id = idUniqueMember
	default:
		return *f
	}
	none := ldap.Filter{Kind: ldap.FilterOr} // (|): absolute false
	norm, err := ldap.NormalizeDN(f.Value)
	if err != nil {
		return none
	}
	s, ok := o.byNorm[norm]
	if !ok {
		return none
	}
	q := o.pos[s]
	e := &o.entries[q]
	gFirst := int32(o.ous[1]) + 1
	var gs []int32 // the groups whose DNs the OR lists
	switch {
	case id == idMemberOf && e.kind == kindGroup:
		g := q - gFirst
		gs = append([]int32{g}, o.nest.belowOf(g)...)
	case id == idUniqueMember && e.kind == kindGroup:
		gs = o.nest.aboveOf(q - gFirst)
	case id == idUniqueMember && e.kind == kindUser:
		gs = o.nest.memberOf(o.memberOf.list(int(q)-2), true)
	default:
		return none
	}
	or := ldap.Filter{Kind: ldap.FilterOr, Children: make([]ldap.Filter, 0, len(gs)+1)}
	if id == idUniqueMember {
		or.Children = append(or.Children, ldap.Filter{Kind: ldap.FilterEquality, Attr: f.Attr, Value: e.norm})
	}
	for _, g := range gs {
		or.Children = append(or.Children, ldap.Filter{Kind: ldap.FilterEquality, Attr: f.Attr, Value: o.entries[gFirst+g].norm})
	}
	return or
}

// belowOf lists the groups below group g.
func (n *nesting) belowOf(g int32) []int32 {
	if n == nil {
		return nil
	}
	return n.below.list(int(g))
}

// aboveOf lists the groups above group g.
func (n *nesting) aboveOf(g int32) []int32 {
	if n == nil {
		return nil
	}
	return n.above.list(int(g))
}
