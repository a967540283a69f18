package directory

import (
	"context"
	"slices"
	"strings"

	"github.com/dirgate/dirgate/internal/store"
)

// Nested groups: a group may be a member of another, its members (users,
// and the members of the groups in it, all the way down) being members of
// the parent through it. Okta has none; in dirgate the LDAP interface
// shows them (uniqueMember lists the groups in a group, and the
// LDAP_MATCHING_RULE_IN_CHAIN rule resolves the chain), while Okta's API
// keeps listing users only. Links never form a cycle: putting a group in
// one of the groups it contains, or in itself, is refused.

// AddGroupToGroup puts group childRef in group parentRef (ids or names);
// it reports whether it was not already there.
func (d *Directory) AddGroupToGroup(ctx context.Context, org, parentRef, childRef string) (bool, error) {
	return d.groupLink(ctx, org, parentRef, childRef, true)
}

// RemoveGroupFromGroup takes group childRef out of group parentRef; it
// reports whether it was there.
func (d *Directory) RemoveGroupFromGroup(ctx context.Context, org, parentRef, childRef string) (bool, error) {
	return d.groupLink(ctx, org, parentRef, childRef, false)
}

func (d *Directory) groupLink(ctx context.Context, org, parentRef, childRef string, add bool) (bool, error) {
	var parent, child *Group
	var changed bool
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		if parent, err = groupByRef(tx, o, parentRef); err != nil {
			return err
		}
		if child, err = groupByRef(tx, o, childRef); err != nil {
			return err
		}
		if add {
			changed, err = linkGroups(tx, parent, child)
		} else {
			changed, err = tx.RemoveGroupLink(parent.ID, child.ID)
		}
		if err != nil || !changed {
			return err
		}
		parent.LastMembershipUpdated = d.now().UTC()
		return tx.UpdateGroup(parent)
	})
	if err != nil {
		return false, storeErr(err)
	}
	if changed {
		ev := EventGroupGroupRemove
		if add {
			ev = EventGroupGroupAdd
		}
		d.auditWrite(ctx, nil, parent.OrgID, ev, groupTarget(child), groupTarget(parent))
	}
	return changed, nil
}

// linkGroups puts child in parent unless that would make a cycle: parent
// is child, or among the groups child contains.
func linkGroups(tx store.Tx, parent, child *Group) (bool, error) {
	if parent.ID == child.ID {
		return false, invalid("group", "group %s cannot be a member of itself", parent.Name)
	}
	in, err := containsGroup(tx, child.ID, parent.ID)
	if err != nil {
		return false, err
	}
	if in {
		return false, invalid("group", "group %s cannot be a member of %s: %s is already in %s, and groups do not form cycles",
			child.Name, parent.Name, parent.Name, child.Name)
	}
	return tx.AddGroupLink(parent.ID, child.ID)
}

// containsGroup reports whether group id contains group want, directly
// or through groups it contains.
func containsGroup(r store.Reader, id, want string) (bool, error) {
	seen := map[string]bool{id: true}
	next := []string{id}
	for len(next) > 0 {
		g := next[len(next)-1]
		next = next[:len(next)-1]
		kids, err := r.ChildGroups(g)
		if err != nil {
			return false, err
		}
		for _, k := range kids {
			if k == want {
				return true, nil
			}
			if !seen[k] {
				seen[k] = true
				next = append(next, k)
			}
		}
	}
	return false, nil
}

// ChildGroups lists the groups directly in a group, ordered by name.
func (d *Directory) ChildGroups(ctx context.Context, org, ref string) ([]*Group, error) {
	return d.linkedGroups(ctx, org, ref, store.Reader.ChildGroups)
}

// ParentGroups lists the groups a group is directly in, ordered by name.
func (d *Directory) ParentGroups(ctx context.Context, org, ref string) ([]*Group, error) {
	return d.linkedGroups(ctx, org, ref, store.Reader.ParentGroups)
}

func (d *Directory) linkedGroups(ctx context.Context, org, ref string, list func(store.Reader, string) ([]string, error)) ([]*Group, error) {
	var out []*Group
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		g, err := groupByRef(r, o, ref)
		if err != nil {
			return err
		}
		ids, err := list(r, g.ID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			h, err := r.Group(id)
			if err != nil {
				return err
			}
			out = append(out, h)
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	slices.SortFunc(out, func(a, b *Group) int { return strings.Compare(a.NameKey, b.NameKey) })
	return out, nil
}
