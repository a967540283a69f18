package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/store"
)

// hasPrefixFold is UsersPageWhere's prefix match as store.go states it.
func hasPrefixFold(v, prefix string) bool {
	return len(v) >= len(prefix) && strings.EqualFold(v[:len(prefix)], prefix)
}

// testUsersPageWhere pins UsersPageWhere against its definition, page by
// page: status and prefix filters, case folding (ASCII and not), LIKE's
// special characters taken literally, and other orgs left out.
func testUsersPageWhere(t *testing.T, s store.Store) {
	a, b := newOrg(1, "acme"), newOrg(2, "beta")
	logins := []string{"alice", "ALBERT", "al_x", "al%y", `al\z`, "bob", "Émile", "émilie", "zoë", "Øyvind", "øystein", "carol"}
	var users []*store.User
	update(t, s, func(tx store.Tx) error {
		for _, o := range []*store.Org{a, b} {
			if err := tx.CreateOrg(o); err != nil {
				return err
			}
		}
		for i, l := range logins {
			u := newUser(len(logins)-i, a.ID, strings.ToLower(l)) // ids in another order than logins
			u.Profile.Login, u.Profile.FirstName, u.Profile.LastName = l, "F"+l, "Last"
			u.Profile.Email = fmt.Sprintf("u%d@example.com", i)
			if i%3 == 0 {
				u.Status = store.StatusSuspended
			}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			users = append(users, u)
		}
		return tx.CreateUser(newUser(99, b.ID, "alien")) // another org's, matching "al"
	})
	want := func(status, prefix string) []string {
		var ids []string
		for n := 1; n <= len(logins); n++ {
			for _, u := range users {
				if u.ID != userID(n) || (status != "" && u.Status != status) {
					continue
				}
				p := u.Profile
				if prefix == "" || hasPrefixFold(p.Login, prefix) || hasPrefixFold(p.Email, prefix) ||
					hasPrefixFold(p.FirstName, prefix) || hasPrefixFold(p.LastName, prefix) {
					ids = append(ids, u.ID)
				}
			}
		}
		return ids
	}
	view(t, s, func(r store.Reader) error {
		for _, tc := range []struct{ status, prefix string }{
			{"", ""}, {"", "al"}, {"", "AL"}, {"", "al_"}, {"", "al%"}, {"", `al\`}, {"", "%"}, {"", "_"},
			{"", "émi"}, {"", "ÉMI"}, {"", "øy"}, {"", "ØY"}, {"", "zoë"}, {"", "fal"}, {"", "u1"}, {"", "last"},
			{"", "nobody"}, {store.StatusSuspended, ""}, {store.StatusSuspended, "al"}, {store.StatusActive, "é"},
		} {
			var got []string
			after := ""
			for range 20 {
				page, err := r.UsersPageWhere(a.ID, after, 2, tc.status, tc.prefix)
				if err != nil {
					t.Fatalf("UsersPageWhere(%q, %q): %v", tc.status, tc.prefix, err)
				}
				if len(page) > 2 {
					t.Fatalf("UsersPageWhere(%q, %q, 2) returned %d users", tc.status, tc.prefix, len(page))
				}
				if len(page) == 0 {
					break
				}
				got = append(got, userIDs(page)...)
				after = page[len(page)-1].ID
			}
			sameStrings(t, fmt.Sprintf("UsersPageWhere status %q prefix %q", tc.status, tc.prefix), got, want(tc.status, tc.prefix))
		}
		return nil
	})
}

// testGroupUsers pins GroupUsers: the members' records ordered by id,
// empty for a group without members.
func testGroupUsers(t *testing.T, s store.Store) {
	a := newOrg(1, "acme")
	g, empty := newGroup(1, a.ID, "eng"), newGroup(2, a.ID, "empty")
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateOrg(a); err != nil {
			return err
		}
		for _, n := range []int{3, 1, 2, 4} {
			if err := tx.CreateUser(newUser(n, a.ID, fmt.Sprintf("user%d", n))); err != nil {
				return err
			}
		}
		for _, gr := range []*store.Group{g, empty} {
			if err := tx.CreateGroup(gr); err != nil {
				return err
			}
		}
		for _, n := range []int{3, 1, 4} {
			if _, err := tx.AddMember(g.ID, userID(n)); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(r store.Reader) error {
		us, err := r.GroupUsers(g.ID)
		if err != nil {
			return err
		}
		sameStrings(t, "GroupUsers", userIDs(us), []string{userID(1), userID(3), userID(4)})
		if len(us) > 0 && us[0].Profile.Login != "user1" {
			t.Errorf("GroupUsers: first user %+v", us[0].Profile)
		}
		us, err = r.GroupUsers(empty.ID)
		if err != nil || len(us) != 0 {
			t.Errorf("GroupUsers of an empty group: %v %v", us, err)
		}
		return nil
	})
}
