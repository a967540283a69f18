package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/store"
)

// testGroupLinks pins nested groups: AddGroupLink and RemoveGroupLink
// report whether the link changed and record one KindGroupLink change
// (the parent's id) when it did, none when not; GroupLinks, ChildGroups
// and ParentGroups are ordered byte-wise and empty (not an error) for a
// group without links or a missing one; a group in itself is
// ErrConflict, a missing group or a child of another org ErrNotFound,
// and such a failure leaves the transaction usable; DeleteGroup takes
// the group's links with it and records a KindGroupLink change for each
// parent, none for the children; DeleteOrg takes the org's links.
func testGroupLinks(t *testing.T, s store.Store) {
	acme, beta := orgID(1), orgID(2)
	// Byte order g1 < … < g5, which a locale's order is not ("00ga" <
	// "00gB" < "00gb" < "00gz" < "00gZ" in en-US).
	mk := func(c string) string { return "00g" + c + strings.Repeat("0", 16) }
	g1, g2, g3, g4, g5 := mk("B"), mk("Z"), mk("a"), mk("b"), mk("z")
	g6, g7 := groupID(6), groupID(7) // beta's
	missing := groupID(9)
	orgOf := map[string]string{g1: acme, g2: acme, g3: acme, g4: acme, g5: acme, g6: beta, g7: beta}
	groups := func(org string, ids ...string) func(tx store.Tx) error {
		return func(tx store.Tx) error {
			for i, id := range ids {
				g := newGroup(i, org, fmt.Sprint("group", id))
				g.ID = id
				if err := tx.CreateGroup(g); err != nil {
					return err
				}
			}
			return nil
		}
	}
	update(t, s, func(tx store.Tx) error {
		for _, err := range []error{
			tx.CreateOrg(newOrg(1, "acme")), tx.CreateOrg(newOrg(2, "beta")),
			groups(acme, g1, g2, g3, g4, g5)(tx), groups(beta, g6, g7)(tx),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})

	// link runs AddGroupLink (add) or RemoveGroupLink in an Update of its
	// own and checks what it reports and the change it records.
	link := func(add bool, parent, child string, wantChanged bool) {
		t.Helper()
		what := fmt.Sprintf("RemoveGroupLink(%s, %s)", parent, child)
		if add {
			what = fmt.Sprintf("AddGroupLink(%s, %s)", parent, child)
		}
		before := seq(t, s)
		var changed bool
		update(t, s, func(tx store.Tx) error {
			var err error
			if add {
				changed, err = tx.AddGroupLink(parent, child)
			} else {
				changed, err = tx.RemoveGroupLink(parent, child)
			}
			if err != nil {
				return err
			}
			// The transaction sees its own write.
			ids, err := tx.ChildGroups(parent)
			if err != nil {
				return err
			}
			if slices.Contains(ids, child) != add {
				t.Errorf("%s: ChildGroups(%s) in the transaction = %q", what, parent, ids)
			}
			return nil
		})
		if changed != wantChanged {
			t.Errorf("%s: changed = %v, want %v", what, changed, wantChanged)
		}
		if wantChanged {
			wantChange(t, s, what, before, orgOf[parent], store.KindGroupLink, parent)
		} else {
			wantSeq(t, s, before)
		}
	}
	// links are parent and child ids.
	type links = [][2]string
	asLinks := func(ls links) []store.GroupLink {
		var out []store.GroupLink
		for _, l := range ls {
			out = append(out, store.GroupLink{ParentID: l[0], ChildID: l[1]})
		}
		return out
	}
	// check reads in a View what is committed: the org's links, and each
	// group's children and parents.
	check := func(when string, want links) {
		t.Helper()
		view(t, s, func(r store.Reader) error {
			got, err := r.GroupLinks(acme)
			if err != nil {
				t.Fatalf("%s: GroupLinks: %v", when, err)
			}
			if !slices.Equal(got, asLinks(want)) {
				t.Errorf("%s: GroupLinks(acme) =\n %v\nwant\n %v", when, got, asLinks(want))
			}
			for _, g := range []string{g1, g2, g3, g4, g5, missing} {
				var children, parents []string
				for _, l := range want {
					if l[0] == g {
						children = append(children, l[1])
					}
					if l[1] == g {
						parents = append(parents, l[0])
					}
				}
				slices.Sort(parents)
				ids, err := r.ChildGroups(g)
				if err != nil {
					t.Errorf("%s: ChildGroups(%s): %v", when, g, err)
				}
				sameStrings(t, when+": ChildGroups("+g+")", ids, children)
				ids, err = r.ParentGroups(g)
				if err != nil {
					t.Errorf("%s: ParentGroups(%s): %v", when, g, err)
				}
				sameStrings(t, when+": ParentGroups("+g+")", ids, parents)
			}
			return nil
		})
	}
	check("no links", nil)

	// Added out of order, read back ordered.
	for _, l := range [][2]string{{g3, g5}, {g1, g4}, {g1, g2}, {g3, g2}, {g1, g3}, {g4, g5}} {
		link(true, l[0], l[1], true)
	}
	all := links{{g1, g2}, {g1, g3}, {g1, g4}, {g3, g2}, {g3, g5}, {g4, g5}}
	check("after adding", all)
	link(true, g1, g2, false)  // linked already
	link(false, g2, g1, false) // the other way round: no such link
	link(false, g5, g4, false) // neither
	link(true, g6, g7, true)   // beta's: a change in beta
	check("after adding again and removing absent links", all)
	view(t, s, func(r store.Reader) error {
		got, err := r.GroupLinks(beta)
		if err != nil || !slices.Equal(got, asLinks(links{{g6, g7}})) {
			t.Errorf("GroupLinks(beta) = %v, %v; want %v", got, err, links{{g6, g7}})
		}
		for _, org := range []string{orgID(9), ""} {
			if got, err := r.GroupLinks(org); err != nil || len(got) != 0 {
				t.Errorf("GroupLinks(%q) = %v, %v; want none", org, got, err)
			}
		}
		return nil
	})

	// Refused links: each one alone fails its Update and records
	// nothing; all of them in one Update leave it usable.
	refused := []struct {
		name string
		fn   func(tx store.Tx) (bool, error)
		want error
	}{
		{"AddGroupLink, in itself", func(tx store.Tx) (bool, error) { return tx.AddGroupLink(g1, g1) }, store.ErrConflict},
		{"RemoveGroupLink, in itself", func(tx store.Tx) (bool, error) { return tx.RemoveGroupLink(g1, g1) }, store.ErrConflict},
		{"AddGroupLink, missing parent", func(tx store.Tx) (bool, error) { return tx.AddGroupLink(missing, g1) }, store.ErrNotFound},
		{"AddGroupLink, missing child", func(tx store.Tx) (bool, error) { return tx.AddGroupLink(g1, missing) }, store.ErrNotFound},
		{"AddGroupLink, child of another org", func(tx store.Tx) (bool, error) { return tx.AddGroupLink(g1, g6) }, store.ErrNotFound},
		{"AddGroupLink, parent of another org", func(tx store.Tx) (bool, error) { return tx.AddGroupLink(g6, g1) }, store.ErrNotFound},
		{"RemoveGroupLink, missing parent", func(tx store.Tx) (bool, error) { return tx.RemoveGroupLink(missing, g1) }, store.ErrNotFound},
		{"RemoveGroupLink, missing child", func(tx store.Tx) (bool, error) { return tx.RemoveGroupLink(g1, missing) }, store.ErrNotFound},
		{"RemoveGroupLink, child of another org", func(tx store.Tx) (bool, error) { return tx.RemoveGroupLink(g1, g7) }, store.ErrNotFound},
	}
	before := seq(t, s)
	for _, tc := range refused {
		err := s.Update(ctx, func(tx store.Tx) error {
			changed, err := tc.fn(tx)
			if changed {
				t.Errorf("%s: reported a change", tc.name)
			}
			return err
		})
		wantIs(t, tc.name, err, tc.want)
	}
	wantSeq(t, s, before)
	update(t, s, func(tx store.Tx) error {
		for _, tc := range refused {
			_, err := tc.fn(tx)
			wantIs(t, tc.name+" (one Update)", err, tc.want)
		}
		_, err := tx.AddGroupLink(g2, g5)
		return err
	})
	wantChange(t, s, "AddGroupLink after refused ones", before, acme, store.KindGroupLink, g2)
	link(false, g2, g5, true)
	check("after the refused links", all)

	link(false, g1, g4, true)
	link(false, g1, g4, false)
	all = links{{g1, g2}, {g1, g3}, {g3, g2}, {g3, g5}, {g4, g5}}
	check("after removing", all)

	// A deleted group's links go with it; each group it was in gets a
	// change, the groups in it do not.
	deleteGroup := func(g string, parents ...string) {
		t.Helper()
		before := seq(t, s)
		update(t, s, func(tx store.Tx) error { return tx.DeleteGroup(g) })
		want := []store.Change{{OrgID: acme, Kind: store.KindGroup, ID: g}}
		for _, p := range parents {
			want = append(want, store.Change{OrgID: acme, Kind: store.KindGroupLink, ID: p})
		}
		wantChangesAnyOrder(t, s, "DeleteGroup("+g+")", before, want)
	}
	deleteGroup(g2, g1, g3) // a child only
	all = links{{g1, g3}, {g3, g5}, {g4, g5}}
	check("after deleting a child", all)
	deleteGroup(g4) // a parent only
	all = links{{g1, g3}, {g3, g5}}
	check("after deleting a parent", all)
	link(true, g1, g5, true)
	deleteGroup(g3, g1) // both
	all = links{{g1, g5}}
	check("after deleting a child and parent", all)

	// DeleteOrg takes the org's links, only them.
	before = seq(t, s)
	update(t, s, func(tx store.Tx) error { return tx.DeleteOrg(acme) })
	wantChange(t, s, "DeleteOrg", before, acme, store.KindOrg, acme)
	check("after DeleteOrg", nil)
	// Groups of the old ids start without links.
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateOrg(newOrg(1, "acme")); err != nil {
			return err
		}
		return groups(acme, g1, g5)(tx)
	})
	check("after recreating the groups", nil)
	view(t, s, func(r store.Reader) error {
		got, err := r.GroupLinks(beta)
		if err != nil || !slices.Equal(got, asLinks(links{{g6, g7}})) {
			t.Errorf("GroupLinks(beta) after DeleteOrg(acme) = %v, %v; want %v", got, err, links{{g6, g7}})
		}
		return nil
	})
}

// wantChangesAnyOrder checks that the changes after before are want
// (their Seq, and At, aside), in any order, with consecutive sequence
// numbers.
func wantChangesAnyOrder(t *testing.T, s store.Store, what string, before uint64, want []store.Change) {
	t.Helper()
	wantSeq(t, s, before+uint64(len(want)))
	got := changes(t, s, before, len(want)+10)
	for i, c := range got {
		if c.Seq != before+uint64(i)+1 || c.At.IsZero() {
			t.Errorf("%s: change %d = %+v, want seq %d and a time", what, i, c, before+uint64(i)+1)
		}
	}
	key := func(c store.Change) string { return c.OrgID + " " + string(c.Kind) + " " + c.ID }
	var g, w []string
	for _, c := range got {
		g = append(g, key(c))
	}
	for _, c := range want {
		w = append(w, key(c))
	}
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: changes %q, want %q (in any order)", what, g, w)
	}
}
