package storetest

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/dirgate/dirgate/internal/store"
)

// testPOSIX pins POSIX numbers. User.UIDNumber and Group.GIDNumber
// round-trip through create and update in every read that returns users
// and groups; a non-zero number taken by another user (group) of the org
// is ErrConflict from CreateUser and UpdateUser (CreateGroup and
// UpdateGroup), and leaves the transaction usable; 0 (none) is never
// taken, and a number of another org is not either.
//
// NextPOSIXNumber hands out lo, lo+1, … and jumps to a higher lo (never
// back for a lower one); past hi it is ErrExhausted, which leaves the
// counter and the transaction as they were; the counters of the two
// kinds and of two orgs are apart; a rolled-back Update leaves the
// counter where it was; deleting the user that held a number does not
// give it out again; it records no change. POSIXCounter reads the
// counter (0 before the first allocation), in the transaction and after.
// An unknown org is ErrNotFound for both; an unknown kind and a range
// starting below 1 are errors that are neither ErrNotFound nor
// ErrExhausted. math.MaxInt64 is never handed out (the counter cannot
// move past it).
//
// DeleteOrg deletes the org's counters: POSIXCounter of the deleted id is
// ErrNotFound, and an org created again with the same id (and name)
// starts from 0, as both kinds of backend can show.
func testPOSIX(t *testing.T, s store.Store) {
	acme, beta, missing := orgID(1), orgID(2), orgID(9)
	ann, bob, cat, dan := newUser(1, acme, "ann"), newUser(2, acme, "bob"), newUser(3, acme, "cat"), newUser(4, beta, "dan")
	ann.UIDNumber, dan.UIDNumber = 1000, 1000 // bob and cat have none: 0 twice
	eng, ops, sre, all := newGroup(1, acme, "eng"), newGroup(2, acme, "ops"), newGroup(3, acme, "sre"), newGroup(4, beta, "all")
	eng.GIDNumber, all.GIDNumber = 2000, 2000
	users, groups := []*store.User{ann, bob, cat, dan}, []*store.Group{eng, ops, sre, all}
	update(t, s, func(tx store.Tx) error {
		for _, err := range []error{tx.CreateOrg(newOrg(1, "acme")), tx.CreateOrg(newOrg(2, "beta"))} {
			if err != nil {
				return err
			}
		}
		for _, u := range users {
			if err := tx.CreateUser(u); err != nil {
				return err
			}
		}
		for _, g := range groups {
			if err := tx.CreateGroup(g); err != nil {
				return err
			}
		}
		for _, m := range [][2]string{{eng.ID, ann.ID}, {eng.ID, bob.ID}, {eng.ID, cat.ID}, {all.ID, dan.ID}} {
			if _, err := tx.AddMember(m[0], m[1]); err != nil {
				return err
			}
		}
		return nil
	})
	checkPOSIXNumbers(t, s, "created", users, groups)

	// Updates set, change and clear numbers; bob takes the number ann
	// gives up in the same transaction.
	ann.UIDNumber, bob.UIDNumber, cat.UIDNumber = 1005, 1000, 1001
	eng.GIDNumber, ops.GIDNumber = 0, 2000
	update(t, s, func(tx store.Tx) error {
		for _, u := range []*store.User{ann, bob, cat} {
			if err := tx.UpdateUser(u); err != nil {
				return err
			}
		}
		for _, g := range []*store.Group{eng, ops} {
			if err := tx.UpdateGroup(g); err != nil {
				return err
			}
		}
		// An update that keeps the user's (group's) own number.
		cat.Profile.Title, ops.Description = "Manager", "the ops team"
		if err := tx.UpdateUser(cat); err != nil {
			return err
		}
		return tx.UpdateGroup(ops)
	})
	checkPOSIXNumbers(t, s, "updated", users, groups)

	// A taken number is a conflict that writes nothing and leaves the
	// transaction usable.
	before := seq(t, s)
	update(t, s, func(tx store.Tx) error {
		eve := newUser(5, acme, "eve")
		eve.UIDNumber = 1005
		wantIs(t, "CreateUser with ann's uidNumber", tx.CreateUser(eve), store.ErrConflict)
		c := *cat
		c.UIDNumber = 1000
		wantIs(t, "UpdateUser to bob's uidNumber", tx.UpdateUser(&c), store.ErrConflict)
		web := newGroup(5, acme, "web")
		web.GIDNumber = 2000
		wantIs(t, "CreateGroup with ops' gidNumber", tx.CreateGroup(web), store.ErrConflict)
		g := *sre
		g.GIDNumber = 2000
		wantIs(t, "UpdateGroup to ops' gidNumber", tx.UpdateGroup(&g), store.ErrConflict)
		// Another org's number and no number are free.
		eve.UIDNumber = 0
		if err := tx.CreateUser(eve); err != nil {
			return fmt.Errorf("CreateUser with no uidNumber: %w", err)
		}
		d := *dan
		d.UIDNumber = 1005
		if err := tx.UpdateUser(&d); err != nil {
			return fmt.Errorf("UpdateUser to ann's uidNumber in another org: %w", err)
		}
		if err := tx.DeleteUser(eve.ID); err != nil {
			return err
		}
		return tx.UpdateUser(dan) // back to 1000
	})
	wantSeq(t, s, before+4)
	checkPOSIXNumbers(t, s, "after the conflicts", users, groups)
	view(t, s, func(r store.Reader) error {
		_, err := r.Group(groupID(5))
		wantIs(t, "the group CreateGroup refused", err, store.ErrNotFound)
		return nil
	})

	testPOSIXCounters(t, s, acme, beta, missing)
}

// checkPOSIXNumbers compares users and groups (and so their numbers)
// with what each reader returns: User, UserByLogin, Users, UsersPage,
// UsersPageWhere, GroupUsers, Group, GroupByName and Groups.
func checkPOSIXNumbers(t *testing.T, s store.Store, when string, users []*store.User, groups []*store.Group) {
	t.Helper()
	view(t, s, func(r store.Reader) error {
		byID := map[string]*store.User{}
		for _, u := range users {
			byID[u.ID] = u
			got, err := r.User(u.ID)
			if err != nil {
				return err
			}
			sameUser(t, when+": User", got, u)
			if got, err = r.UserByLogin(u.OrgID, u.LoginKey); err != nil {
				return err
			}
			sameUser(t, when+": UserByLogin", got, u)
		}
		lists := map[string]func(orgID string) ([]*store.User, error){
			"Users":     r.Users,
			"UsersPage": func(orgID string) ([]*store.User, error) { return r.UsersPage(orgID, "", 100) },
			"UsersPageWhere": func(orgID string) ([]*store.User, error) {
				return r.UsersPageWhere(orgID, "", 100, store.StatusActive, "")
			},
		}
		seen := map[string]int{}
		for name, list := range lists {
			for _, org := range []string{orgID(1), orgID(2)} {
				us, err := list(org)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				for _, got := range us {
					if want := byID[got.ID]; want != nil {
						sameUser(t, when+": "+name, got, want)
						seen[name]++
					}
				}
			}
		}
		for _, g := range groups {
			got, err := r.Group(g.ID)
			if err != nil {
				return err
			}
			sameGroup(t, when+": Group", got, g)
			if got, err = r.GroupByName(g.OrgID, g.NameKey); err != nil {
				return err
			}
			sameGroup(t, when+": GroupByName", got, g)
			us, err := r.GroupUsers(g.ID)
			if err != nil {
				return err
			}
			for _, got := range us {
				sameUser(t, when+": GroupUsers", got, byID[got.ID])
				seen["GroupUsers"]++
			}
		}
		for _, org := range []string{orgID(1), orgID(2)} {
			gs, err := r.Groups(org)
			if err != nil {
				return err
			}
			for _, got := range gs {
				for _, want := range groups {
					if want.ID == got.ID {
						sameGroup(t, when+": Groups", got, want)
						seen["Groups"]++
					}
				}
			}
		}
		for name, want := range map[string]int{"Users": len(users), "UsersPage": len(users), "UsersPageWhere": len(users),
			"GroupUsers": 4, "Groups": len(groups)} {
			if seen[name] != want {
				t.Errorf("%s: %s returned %d of the users (groups), want %d", when, name, seen[name], want)
			}
		}
		return nil
	})
}

// testPOSIXCounters is testPOSIX's part on NextPOSIXNumber and
// POSIXCounter; acme's users ann (1005), bob (1000) and cat (1001) and
// beta's dan (1000) have numbers.
func testPOSIXCounters(t *testing.T, s store.Store, acme, beta, missing string) {
	uid, gid := store.POSIXUID, store.POSIXGID
	counter := func(r store.Reader, org, kind string) int64 {
		t.Helper()
		n, err := r.POSIXCounter(org, kind)
		if err != nil {
			t.Fatalf("POSIXCounter(%s, %s): %v", org, kind, err)
		}
		return n
	}
	// next allocates in tx and checks the number.
	next := func(tx store.Tx, org, kind string, lo, hi, want int64) {
		t.Helper()
		n, err := tx.NextPOSIXNumber(org, kind, lo, hi)
		if err != nil || n != want {
			t.Errorf("NextPOSIXNumber(%s, %s, %d, %d) = %d, %v; want %d", org, kind, lo, hi, n, err, want)
		}
	}
	exhausted := func(tx store.Tx, org, kind string, lo, hi int64) {
		t.Helper()
		n, err := tx.NextPOSIXNumber(org, kind, lo, hi)
		if !errors.Is(err, store.ErrExhausted) {
			t.Errorf("NextPOSIXNumber(%s, %s, %d, %d) = %d, %v; want ErrExhausted", org, kind, lo, hi, n, err)
		}
	}
	view(t, s, func(r store.Reader) error {
		for _, org := range []string{acme, beta} {
			for _, kind := range []string{uid, gid} {
				if n := counter(r, org, kind); n != 0 {
					t.Errorf("POSIXCounter(%s, %s) before any allocation = %d, want 0", org, kind, n)
				}
			}
		}
		return nil
	})

	before := seq(t, s)
	update(t, s, func(tx store.Tx) error {
		next(tx, acme, uid, 100, 102, 100)
		next(tx, acme, uid, 100, 102, 101)
		if n := counter(tx, acme, uid); n != 102 {
			t.Errorf("POSIXCounter in the transaction = %d, want 102", n)
		}
		next(tx, acme, uid, 100, 102, 102)
		exhausted(tx, acme, uid, 100, 102)
		exhausted(tx, acme, uid, 50, 99)
		if n := counter(tx, acme, uid); n != 103 {
			t.Errorf("POSIXCounter after ErrExhausted = %d, want 103", n)
		}
		next(tx, acme, uid, 500, 600, 500) // a higher lo jumps
		next(tx, acme, uid, 100, 600, 501) // a lower one does not go back
		// The other kind and the other org have counters of their own.
		next(tx, acme, gid, 100, 200, 100)
		next(tx, beta, uid, 100, 200, 100)
		next(tx, beta, gid, math.MaxInt64-1, math.MaxInt64, math.MaxInt64-1)
		exhausted(tx, beta, gid, math.MaxInt64-1, math.MaxInt64)
		return nil
	})
	wantSeq(t, s, before) // no change recorded
	if c := changes(t, s, before, 10); len(c) != 0 {
		t.Errorf("NextPOSIXNumber recorded changes %+v", c)
	}
	view(t, s, func(r store.Reader) error {
		for _, c := range []struct {
			org, kind string
			want      int64
		}{{acme, uid, 502}, {acme, gid, 101}, {beta, uid, 101}, {beta, gid, math.MaxInt64}} {
			if n := counter(r, c.org, c.kind); n != c.want {
				t.Errorf("POSIXCounter(%s, %s) after the commit = %d, want %d", c.org, c.kind, n, c.want)
			}
		}
		return nil
	})

	// A rolled-back Update leaves the counter where it was.
	errRollBack := errors.New("roll back")
	err := s.Update(ctx, func(tx store.Tx) error {
		next(tx, acme, gid, 100, 200, 101)
		next(tx, acme, gid, 100, 200, 102)
		return errRollBack
	})
	wantIs(t, "Update that returns an error", err, errRollBack)

	// Errors: unknown org, unknown kind, a range below 1; none of them
	// spoils the transaction.
	update(t, s, func(tx store.Tx) error {
		_, err := tx.NextPOSIXNumber(missing, uid, 100, 200)
		wantIs(t, "NextPOSIXNumber of a missing org", err, store.ErrNotFound)
		_, err = tx.NextPOSIXNumber(missing, uid, 300, 200)
		wantIs(t, "NextPOSIXNumber of a missing org, empty range", err, store.ErrNotFound)
		_, err = tx.POSIXCounter(missing, uid)
		wantIs(t, "POSIXCounter of a missing org", err, store.ErrNotFound)
		for what, err := range map[string]error{
			"NextPOSIXNumber of an unknown kind": func() error { _, err := tx.NextPOSIXNumber(acme, "home", 100, 200); return err }(),
			"POSIXCounter of an unknown kind":    func() error { _, err := tx.POSIXCounter(acme, "home"); return err }(),
			"NextPOSIXNumber from 0":             func() error { _, err := tx.NextPOSIXNumber(acme, uid, 0, 200); return err }(),
		} {
			if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExhausted) {
				t.Errorf("%s: err = %v, want an error, neither ErrNotFound nor ErrExhausted", what, err)
			}
		}
		next(tx, acme, gid, 100, 200, 101) // as if the rolled-back Update had not been
		return nil
	})

	// A deleted user's number is not handed out again.
	update(t, s, func(tx store.Tx) error {
		n, err := tx.NextPOSIXNumber(acme, uid, 100, 600)
		if err != nil {
			return err
		}
		u := newUser(6, acme, "fay")
		u.UIDNumber = n
		return tx.CreateUser(u)
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteUser(userID(6)) })
	update(t, s, func(tx store.Tx) error {
		next(tx, acme, uid, 100, 600, 503)
		return nil
	})

	// DeleteOrg takes the counters with it.
	update(t, s, func(tx store.Tx) error { return tx.DeleteOrg(acme) })
	view(t, s, func(r store.Reader) error {
		for _, kind := range []string{uid, gid} {
			_, err := r.POSIXCounter(acme, kind)
			wantIs(t, "POSIXCounter of a deleted org", err, store.ErrNotFound)
		}
		if n := counter(r, beta, uid); n != 101 {
			t.Errorf("POSIXCounter of the other org after DeleteOrg = %d, want 101", n)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateOrg(newOrg(1, "acme")); err != nil {
			return err
		}
		for _, kind := range []string{uid, gid} {
			if n := counter(tx, acme, kind); n != 0 {
				t.Errorf("POSIXCounter(%s) of an org created again with the deleted one's id = %d, want 0", kind, n)
			}
		}
		next(tx, acme, uid, 100, 200, 100)
		return nil
	})
}
