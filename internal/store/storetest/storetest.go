// Package storetest is the conformance suite that every store backend
// runs, so that the directory can rely on one behaviour whatever the
// backend. A backend's test calls Run with a function that opens a fresh,
// empty store.
//
// What the suite pins beyond the words of store.go:
//   - Times round-trip with at least millisecond precision and compare
//     Equal; the location may change (backends return UTC). Zero times
//     stay zero.
//   - nil and empty slices and maps (Roles, Profile.Custom,
//     CustomAttributes) are interchangeable: a backend may return either.
//   - "Ordered" means byte-wise, as Go's < orders strings (a PostgreSQL
//     backend needs COLLATE "C").
//   - Seq has no gaps: a rolled-back Update leaves no hole in the feed,
//     and Tx.Seq includes the transaction's own writes.
//   - Listing an org with no users, groups or memberships returns an empty
//     result, not ErrNotFound. AddMember of a missing group or user fails
//     with ErrNotFound; RemoveMember of a missing membership reports false.
//   - Group links: RemoveGroupLink of a missing link reports false (with
//     no error, when both groups are there in one org); the links of a
//     group without any (or of a missing group) are empty, not an error.
//     DeleteGroup records its changes (the group's, then one of each
//     parent) in an order the suite does not pin.
//   - POSIX numbers: NextPOSIXNumber refuses a range starting below 1
//     (0 is no number) with an error that is neither ErrNotFound nor
//     ErrExhausted, and never hands out math.MaxInt64 (the counter could
//     not move past it); ErrExhausted, like ErrConflict, leaves the
//     transaction usable. After DeleteOrg, POSIXCounter of the org's id
//     is ErrNotFound, and an org created again with that id starts from
//     0.
//   - Writers must not wait for open readers: an Update runs to completion
//     while a View is open (and the View keeps its snapshot).
//   - CreateFactor fails with ErrNotFound also when the user belongs to
//     another org than the factor's OrgID; UpdateFactor cannot move a
//     factor to another user. Listing the factors of a user without any
//     (or of a missing user) and the policies of an org without any is
//     empty, not ErrNotFound; so is Events of an org without events.
//   - Event.Seq ascends across batches and never goes back, even after
//     PruneEvents removed the newest events (a reader following the log
//     with AfterSeq misses nothing); it need not be gapless. A batch with
//     a taken UUID fails with ErrConflict and appends nothing. Events
//     with Limit <= 0 fails. PruneEvents with the zero time deletes
//     nothing. Event.Doc and Policy.Doc: nil and empty are
//     interchangeable.
//   - EventCounts counts exactly the events Events would return (pruned
//     ones not, also within a minute a prune cut through), as of the
//     transaction's snapshot; an event type listed twice counts once. A
//     query against store.CheckEventCountQuery fails.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// Run runs the suite. open must return a new, empty store for each call
// and may be called from parallel subtests; Run closes the stores.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Orgs", testOrgs},
		{"OrgSelfService", testOrgSelfService},
		{"Users", testUsers},
		{"Groups", testGroups},
		{"Conflicts", testConflicts},
		{"NotFound", testNotFound},
		{"Ordering", testOrdering},
		{"Membership", testMembership},
		{"DeleteRemovesMemberships", testDeleteRemovesMemberships},
		{"GroupLinks", testGroupLinks},
		{"POSIX", testPOSIX},
		{"ChangeFeed", testChangeFeed},
		{"FailedUpdate", testFailedUpdate},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ViewSnapshot", testViewSnapshot},
		{"RecordLogins", testRecordLogins},
		{"AuthState", testAuthState},
		{"Factors", testFactors},
		{"FactorsOrdering", testFactorsOrdering},
		{"FactorErrors", testFactorErrors},
		{"DeleteUserDeletesFactors", testDeleteUserDeletesFactors},
		{"Policies", testPolicies},
		{"PoliciesOrdering", testPoliciesOrdering},
		{"PolicyConflicts", testPolicyConflicts},
		{"FactorPolicyChanges", testFactorPolicyChanges},
		{"FailedUpdateFactorsPolicies", testFailedUpdateFactorsPolicies},
		{"EventsAppend", testEventsAppend},
		{"EventsQuery", testEventsQuery},
		{"EventsConflict", testEventsConflict},
		{"EventsPrune", testEventsPrune},
		{"EventsConcurrent", testEventsConcurrent},
		{"EventsNewestFirst", testEventsNewestFirst},
		{"EventCounts", testEventCounts},
		{"Tokens", testTokens},
		{"UsersPage", testUsersPage},
		{"UsersPageWhere", testUsersPageWhere},
		{"GroupUsers", testGroupUsers},
		{"Integrations", testIntegrations},
		{"DeleteOrg", testDeleteOrg},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
	t.Run("Close", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		update(t, s, func(tx store.Tx) error { return tx.CreateOrg(newOrg(1, "acme")) })
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
}

// --- fixtures

var (
	ctx = context.Background()
	cet = time.FixedZone("CET", 3600)
	// t0 has millisecond precision, the least a backend must keep.
	t0 = time.Date(2024, 3, 4, 5, 6, 7, 123_000_000, time.UTC)
)

func orgID(n int) string   { return fmt.Sprintf("00o%017d", n) }
func userID(n int) string  { return fmt.Sprintf("00u%017d", n) }
func groupID(n int) string { return fmt.Sprintf("00g%017d", n) }

func newOrg(n int, name string) *store.Org {
	return &store.Org{
		ID:               orgID(n),
		Name:             name,
		Suffix:           "dc=okta,dc=com",
		Created:          t0,
		CustomAttributes: []string{"employeeNumber", "costCenter"},
		MFASeparator:     "|",
	}
}

// newUser returns a user with every field set.
func newUser(n int, org, login string) *store.User {
	return &store.User{
		ID:       userID(n),
		OrgID:    org,
		Status:   store.StatusActive,
		Type:     store.TypePerson,
		LoginKey: login,
		Profile: store.Profile{
			Login:        login,
			Email:        login + "@example.com",
			FirstName:    "First " + login,
			LastName:     "Last",
			DisplayName:  "Display " + login,
			NickName:     "nick",
			Title:        "Engineer",
			Department:   "R&D",
			Organization: "Acme",
			MobilePhone:  "+1 555 0100",
			PrimaryPhone: "+1 555 0101",
			Custom:       map[string]string{"employeeNumber": "42", "costCenter": "cc-7"},
		},
		PasswordHash:    "{SSHA}c2FsdHNhbHQ=",
		Roles:           []string{"READ_ONLY_ADMIN", "ORG_ADMIN"},
		Created:         t0,
		Activated:       t0.Add(time.Second),
		StatusChanged:   t0.Add(2 * time.Second).In(cet),
		LastLogin:       t0.Add(3*time.Second + 5*time.Millisecond),
		LastUpdated:     t0.Add(4 * time.Second),
		PasswordChanged: t0.Add(5 * time.Second),
		FailedLogins:    2,
		LastFailedLogin: t0.Add(6*time.Second + 9*time.Millisecond).In(cet),
		PasswordHistory: []string{"{SSHA}b2xkZXI=", "{SSHA}b2xkZXN0"},
	}
}

func newGroup(n int, org, name string) *store.Group {
	return &store.Group{
		ID:                    groupID(n),
		OrgID:                 org,
		NameKey:               name,
		Name:                  "Name " + name,
		Description:           "the " + name + " group",
		Created:               t0,
		LastUpdated:           t0.Add(time.Minute),
		LastMembershipUpdated: t0.Add(time.Hour).In(cet),
	}
}

// --- helpers

func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t *testing.T, s store.Store, fn func(r store.Reader) error) {
	t.Helper()
	if err := s.View(ctx, fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func seq(t *testing.T, s store.Store) uint64 {
	t.Helper()
	n, err := s.Seq(ctx)
	if err != nil {
		t.Fatalf("Seq: %v", err)
	}
	return n
}

func changes(t *testing.T, s store.Store, since uint64, limit int) []store.Change {
	t.Helper()
	c, err := s.ChangesSince(ctx, since, limit)
	if err != nil {
		t.Fatalf("ChangesSince(%d, %d): %v", since, limit, err)
	}
	return c
}

func wantIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

func wantSeq(t *testing.T, s store.Store, want uint64) {
	t.Helper()
	if got := seq(t, s); got != want {
		t.Errorf("Seq = %d, want %d", got, want)
	}
}

// normTime drops location and monotonic reading so DeepEqual means Equal.
func normTime(t time.Time) time.Time { return t.UTC() }

func normSlice(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func normOrg(o *store.Org) store.Org {
	c := *o
	c.Created = normTime(c.Created)
	c.CustomAttributes = normSlice(c.CustomAttributes)
	return c
}

func normUser(u *store.User) store.User {
	c := *u
	c.Roles = normSlice(c.Roles)
	c.PasswordHistory = normSlice(c.PasswordHistory)
	if len(c.Profile.Custom) == 0 {
		c.Profile.Custom = nil
	}
	for _, p := range []*time.Time{&c.Created, &c.Activated, &c.StatusChanged, &c.LastLogin, &c.LastUpdated, &c.PasswordChanged, &c.LastFailedLogin} {
		*p = normTime(*p)
	}
	return c
}

func normGroup(g *store.Group) store.Group {
	c := *g
	c.Created = normTime(c.Created)
	c.LastUpdated = normTime(c.LastUpdated)
	c.LastMembershipUpdated = normTime(c.LastMembershipUpdated)
	return c
}

func sameOrg(t *testing.T, what string, got, want *store.Org) {
	t.Helper()
	if g, w := normOrg(got), normOrg(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func sameUser(t *testing.T, what string, got, want *store.User) {
	t.Helper()
	if g, w := normUser(got), normUser(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func sameGroup(t *testing.T, what string, got, want *store.Group) {
	t.Helper()
	if g, w := normGroup(got), normGroup(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func sameStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func userIDs(us []*store.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}

func loginKeys(us []*store.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.LoginKey)
	}
	return out
}

// --- tests

func testOrgs(t *testing.T, s store.Store) {
	a := newOrg(1, "acme")
	b := newOrg(2, "beta")
	b.CustomAttributes = nil
	b.Created = t0.In(cet)
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateOrg(a); err != nil {
			return err
		}
		if err := tx.CreateOrg(b); err != nil {
			return err
		}
		got, err := tx.Org(a.ID) // a transaction reads its own writes
		if err != nil {
			return err
		}
		sameOrg(t, "Org in Update", got, a)
		return nil
	})
	view(t, s, func(r store.Reader) error {
		for _, want := range []*store.Org{a, b} {
			got, err := r.Org(want.ID)
			if err != nil {
				t.Fatalf("Org(%s): %v", want.ID, err)
			}
			sameOrg(t, "Org", got, want)
			got, err = r.OrgByName(want.Name)
			if err != nil {
				t.Fatalf("OrgByName(%s): %v", want.Name, err)
			}
			sameOrg(t, "OrgByName", got, want)
		}
		all, err := r.Orgs()
		if err != nil {
			t.Fatalf("Orgs: %v", err)
		}
		if len(all) != 2 {
			t.Fatalf("Orgs returned %d orgs, want 2", len(all))
		}
		for _, o := range all {
			switch o.ID {
			case a.ID:
				sameOrg(t, "Orgs[a]", o, a)
			case b.ID:
				sameOrg(t, "Orgs[b]", o, b)
			default:
				t.Errorf("Orgs returned unknown org %s", o.ID)
			}
		}
		return nil
	})

	a2 := *a
	a2.Name = "acme2"
	a2.Suffix = "dc=example,dc=org"
	a2.Created = t0.Add(time.Hour)
	a2.CustomAttributes = []string{"badge"}
	a2.MFASeparator = ""
	update(t, s, func(tx store.Tx) error { return tx.UpdateOrg(&a2) })
	view(t, s, func(r store.Reader) error {
		got, err := r.Org(a.ID)
		if err != nil {
			t.Fatalf("Org after UpdateOrg: %v", err)
		}
		sameOrg(t, "Org after UpdateOrg", got, &a2)
		_, err = r.OrgByName("acme")
		wantIs(t, "OrgByName(old name)", err, store.ErrNotFound)
		if _, err := r.OrgByName("acme2"); err != nil {
			t.Errorf("OrgByName(new name): %v", err)
		}
		return nil
	})
}

func testUsers(t *testing.T, s store.Store) {
	org := newOrg(1, "acme")
	full := newUser(1, org.ID, "ann")
	bare := &store.User{ // zero times, no roles, no custom attributes
		ID:       userID(2),
		OrgID:    org.ID,
		Status:   store.StatusStaged,
		Type:     store.TypeServiceAccount,
		LoginKey: "svc",
		Profile:  store.Profile{Login: "svc"},
	}
	update(t, s, func(tx store.Tx) error {
		for _, err := range []error{tx.CreateOrg(org), tx.CreateUser(full), tx.CreateUser(bare)} {
			if err != nil {
				return err
			}
		}
		got, err := tx.User(full.ID)
		if err != nil {
			return err
		}
		sameUser(t, "User in Update", got, full)
		return nil
	})
	view(t, s, func(r store.Reader) error {
		for _, want := range []*store.User{full, bare} {
			got, err := r.User(want.ID)
			if err != nil {
				t.Fatalf("User(%s): %v", want.ID, err)
			}
			sameUser(t, "User", got, want) // zero times included
			got, err = r.UserByLogin(org.ID, want.LoginKey)
			if err != nil {
				t.Fatalf("UserByLogin(%s): %v", want.LoginKey, err)
			}
			sameUser(t, "UserByLogin", got, want)
		}
		return nil
	})

	// UpdateUser replaces every field, and clears lists.
	u2 := &store.User{
		ID:       full.ID,
		OrgID:    org.ID,
		Status:   store.StatusSuspended,
		Type:     store.TypeServiceAccount,
		LoginKey: "ann.new",
		Profile: store.Profile{
			Login:        "Ann.New",
			Email:        "new@example.org",
			FirstName:    "F2",
			LastName:     "L2",
			DisplayName:  "D2",
			NickName:     "N2",
			Title:        "T2",
			Department:   "Dep2",
			Organization: "O2",
			MobilePhone:  "M2",
			PrimaryPhone: "P2",
			Custom:       map[string]string{},
		},
		PasswordHash:    "{ARGON2}$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
		Roles:           []string{},
		Created:         t0.Add(time.Millisecond),
		Activated:       time.Time{},
		StatusChanged:   t0.Add(10 * time.Second),
		LastLogin:       t0.Add(11 * time.Second),
		LastUpdated:     t0.Add(12 * time.Second),
		PasswordChanged: t0.Add(13 * time.Second),
		FailedLogins:    0,
		LastFailedLogin: time.Time{},
		PasswordHistory: []string{},
	}
	update(t, s, func(tx store.Tx) error { return tx.UpdateUser(u2) })
	view(t, s, func(r store.Reader) error {
		got, err := r.User(full.ID)
		if err != nil {
			t.Fatalf("User after UpdateUser: %v", err)
		}
		sameUser(t, "User after UpdateUser", got, u2)
		_, err = r.UserByLogin(org.ID, "ann")
		wantIs(t, "UserByLogin(old login)", err, store.ErrNotFound)
		got, err = r.UserByLogin(org.ID, "ann.new")
		if err != nil {
			t.Fatalf("UserByLogin(new login): %v", err)
		}
		sameUser(t, "UserByLogin(new login)", got, u2)
		return nil
	})

	// Returned records are copies.
	view(t, s, func(r store.Reader) error {
		got, err := r.User(bare.ID)
		if err != nil {
			t.Fatal(err)
		}
		got.Profile.Email = "changed@example.com"
		again, err := r.User(bare.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameUser(t, "User after changing a returned copy", again, bare)
		return nil
	})
}

func testGroups(t *testing.T, s store.Store) {
	org := newOrg(1, "acme")
	g := newGroup(1, org.ID, "admins")
	bare := &store.Group{ID: groupID(2), OrgID: org.ID, NameKey: "empty", Name: "empty"}
	update(t, s, func(tx store.Tx) error {
		for _, err := range []error{tx.CreateOrg(org), tx.CreateGroup(g), tx.CreateGroup(bare)} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(r store.Reader) error {
		for _, want := range []*store.Group{g, bare} {
			got, err := r.Group(want.ID)
			if err != nil {
				t.Fatalf("Group(%s): %v", want.ID, err)
			}
			sameGroup(t, "Group", got, want)
			got, err = r.GroupByName(org.ID, want.NameKey)
			if err != nil {
				t.Fatalf("GroupByName(%s): %v", want.NameKey, err)
			}
			sameGroup(t, "GroupByName", got, want)
		}
		return nil
	})
	g2 := &store.Group{
		ID:                    g.ID,
		OrgID:                 org.ID,
		NameKey:               "operators",
		Name:                  "Operators",
		Description:           "",
		Created:               t0.Add(time.Second),
		LastUpdated:           t0.Add(2 * time.Second),
		LastMembershipUpdated: time.Time{},
	}
	update(t, s, func(tx store.Tx) error { return tx.UpdateGroup(g2) })
	view(t, s, func(r store.Reader) error {
		got, err := r.Group(g.ID)
		if err != nil {
			t.Fatalf("Group after UpdateGroup: %v", err)
		}
		sameGroup(t, "Group after UpdateGroup", got, g2)
		_, err = r.GroupByName(org.ID, "admins")
		wantIs(t, "GroupByName(old name)", err, store.ErrNotFound)
		return nil
	})
}

// conflictFixture: orgs acme and beta; users ann, bob and groups admins,
// devs in acme.
func conflictFixture(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		a, b := newOrg(1, "acme"), newOrg(2, "beta")
		for _, err := range []error{
			tx.CreateOrg(a), tx.CreateOrg(b),
			tx.CreateUser(newUser(1, a.ID, "ann")), tx.CreateUser(newUser(2, a.ID, "bob")),
			tx.CreateGroup(newGroup(1, a.ID, "admins")), tx.CreateGroup(newGroup(2, a.ID, "devs")),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func testConflicts(t *testing.T, s store.Store) {
	conflictFixture(t, s)
	acme, beta := orgID(1), orgID(2)
	tests := []struct {
		name     string
		fn       func(tx store.Tx) error
		conflict bool
	}{
		{"org name taken", func(tx store.Tx) error { return tx.CreateOrg(newOrg(3, "acme")) }, true},
		{"org id taken", func(tx store.Tx) error { return tx.CreateOrg(newOrg(1, "gamma")) }, true},
		{"user id taken in another org", func(tx store.Tx) error { return tx.CreateUser(newUser(1, beta, "zed")) }, true},
		{"login taken in org", func(tx store.Tx) error { return tx.CreateUser(newUser(3, acme, "ann")) }, true},
		{"group id taken in another org", func(tx store.Tx) error { return tx.CreateGroup(newGroup(1, beta, "ops")) }, true},
		{"group name taken in org", func(tx store.Tx) error { return tx.CreateGroup(newGroup(3, acme, "admins")) }, true},
		{"rename org to a taken name", func(tx store.Tx) error {
			o := newOrg(1, "beta")
			return tx.UpdateOrg(o)
		}, true},
		{"change login to a taken one", func(tx store.Tx) error {
			u := newUser(2, acme, "ann")
			return tx.UpdateUser(u)
		}, true},
		{"rename group to a taken name", func(tx store.Tx) error {
			return tx.UpdateGroup(newGroup(2, acme, "admins"))
		}, true},
		{"same login in another org", func(tx store.Tx) error { return tx.CreateUser(newUser(4, beta, "ann")) }, false},
		{"same group name in another org", func(tx store.Tx) error { return tx.CreateGroup(newGroup(4, beta, "admins")) }, false},
	}
	for _, tc := range tests {
		before := seq(t, s)
		err := s.Update(ctx, tc.fn)
		if !tc.conflict {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			wantSeq(t, s, before+1)
			continue
		}
		wantIs(t, tc.name, err, store.ErrConflict)
		wantSeq(t, s, before)
	}
	view(t, s, func(r store.Reader) error {
		us, err := r.Users(acme)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "logins of acme after conflicts", loginKeys(us), []string{"ann", "bob"})
		o, err := r.Org(acme)
		if err != nil {
			t.Fatal(err)
		}
		if o.Name != "acme" {
			t.Errorf("org renamed to %q by a failed update", o.Name)
		}
		return nil
	})
}

func testNotFound(t *testing.T, s store.Store) {
	conflictFixture(t, s)
	acme := orgID(1)
	before := seq(t, s)
	reads := []struct {
		name string
		fn   func(r store.Reader) error
	}{
		{"Org", func(r store.Reader) error { _, err := r.Org(orgID(9)); return err }},
		{"OrgByName", func(r store.Reader) error { _, err := r.OrgByName("nope"); return err }},
		{"User", func(r store.Reader) error { _, err := r.User(userID(9)); return err }},
		{"UserByLogin", func(r store.Reader) error { _, err := r.UserByLogin(acme, "nope"); return err }},
		{"UserByLogin in another org", func(r store.Reader) error { _, err := r.UserByLogin(orgID(2), "ann"); return err }},
		{"Group", func(r store.Reader) error { _, err := r.Group(groupID(9)); return err }},
		{"GroupByName", func(r store.Reader) error { _, err := r.GroupByName(acme, "nope"); return err }},
		{"GroupByName in another org", func(r store.Reader) error { _, err := r.GroupByName(orgID(2), "admins"); return err }},
	}
	for _, tc := range reads {
		err := s.View(ctx, tc.fn)
		wantIs(t, tc.name, err, store.ErrNotFound)
	}
	writes := []struct {
		name string
		fn   func(tx store.Tx) error
	}{
		{"UpdateOrg", func(tx store.Tx) error { return tx.UpdateOrg(newOrg(9, "nine")) }},
		{"UpdateUser", func(tx store.Tx) error { return tx.UpdateUser(newUser(9, acme, "nine")) }},
		{"UpdateGroup", func(tx store.Tx) error { return tx.UpdateGroup(newGroup(9, acme, "nine")) }},
		{"DeleteUser", func(tx store.Tx) error { return tx.DeleteUser(userID(9)) }},
		{"DeleteGroup", func(tx store.Tx) error { return tx.DeleteGroup(groupID(9)) }},
		{"AddMember missing group", func(tx store.Tx) error { _, err := tx.AddMember(groupID(9), userID(1)); return err }},
		{"AddMember missing user", func(tx store.Tx) error { _, err := tx.AddMember(groupID(1), userID(9)); return err }},
	}
	for _, tc := range writes {
		err := s.Update(ctx, tc.fn)
		wantIs(t, tc.name, err, store.ErrNotFound)
	}
	wantSeq(t, s, before)

	// Lists of an org without records are empty, not an error.
	view(t, s, func(r store.Reader) error {
		for _, org := range []string{orgID(2), orgID(9)} {
			us, err := r.Users(org)
			if err != nil || len(us) != 0 {
				t.Errorf("Users(%s) = %d users, %v; want none", org, len(us), err)
			}
			gs, err := r.Groups(org)
			if err != nil || len(gs) != 0 {
				t.Errorf("Groups(%s) = %d groups, %v; want none", org, len(gs), err)
			}
			ms, err := r.Memberships(org)
			if err != nil || len(ms) != 0 {
				t.Errorf("Memberships(%s) = %v, %v; want none", org, ms, err)
			}
		}
		ids, err := r.GroupMembers(groupID(9))
		if err != nil || len(ids) != 0 {
			t.Errorf("GroupMembers(missing) = %v, %v; want none", ids, err)
		}
		ids, err = r.UserGroups(userID(9))
		if err != nil || len(ids) != 0 {
			t.Errorf("UserGroups(missing) = %v, %v; want none", ids, err)
		}
		return nil
	})
}

func testOrdering(t *testing.T, s store.Store) {
	acme, beta := newOrg(1, "acme"), newOrg(2, "beta")
	// Byte order, not a locale's: "Zed" < "ann", "bob-x" < "bob.x" < "bob_x".
	logins := []string{"dave", "ann", "Zed", "bob.x", "bob", "bob_x", "bob-x", "éclair", "carl10", "carl1", "carl2"}
	names := []string{"ops", "Admins", "dev-team", "dev.team", "dev_team", "zeta", "alpha"}
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateOrg(acme); err != nil {
			return err
		}
		if err := tx.CreateOrg(beta); err != nil {
			return err
		}
		// ids ascend while logins do not, so id order never passes for
		// login order.
		for i, l := range logins {
			if err := tx.CreateUser(newUser(i+1, acme.ID, l)); err != nil {
				return err
			}
		}
		if err := tx.CreateUser(newUser(100, beta.ID, "aaa")); err != nil {
			return err
		}
		for i, n := range names {
			if err := tx.CreateGroup(newGroup(i+1, acme.ID, n)); err != nil {
				return err
			}
		}
		if err := tx.CreateGroup(newGroup(100, beta.ID, "aaa")); err != nil {
			return err
		}
		// Memberships added in no particular order.
		for _, m := range [][2]int{{3, 5}, {1, 9}, {3, 1}, {1, 2}, {7, 11}, {1, 5}, {3, 10}} {
			if _, err := tx.AddMember(groupID(m[0]), userID(m[1])); err != nil {
				return err
			}
		}
		_, err := tx.AddMember(groupID(100), userID(100))
		return err
	})
	view(t, s, func(r store.Reader) error {
		us, err := r.Users(acme.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "Users login keys", loginKeys(us), slices.Sorted(slices.Values(logins)))
		gs, err := r.Groups(acme.ID)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, g := range gs {
			keys = append(keys, g.NameKey)
		}
		sameStrings(t, "Groups name keys", keys, slices.Sorted(slices.Values(names)))

		ms, err := r.Memberships(acme.ID)
		if err != nil {
			t.Fatal(err)
		}
		var want []store.Membership
		for _, m := range [][2]int{{1, 2}, {1, 5}, {1, 9}, {3, 1}, {3, 5}, {3, 10}, {7, 11}} {
			want = append(want, store.Membership{GroupID: groupID(m[0]), UserID: userID(m[1])})
		}
		if !slices.Equal(ms, want) {
			t.Errorf("Memberships = %v, want %v", ms, want)
		}
		ids, err := r.GroupMembers(groupID(3))
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "GroupMembers", ids, []string{userID(1), userID(5), userID(10)})
		ids, err = r.UserGroups(userID(5))
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "UserGroups", ids, []string{groupID(1), groupID(3)})
		return nil
	})
}

func testMembership(t *testing.T, s store.Store) {
	conflictFixture(t, s)
	acme, g, u := orgID(1), groupID(1), userID(1)
	tests := []struct {
		name    string
		add     bool
		changed bool
		members []string
	}{
		{"add", true, true, []string{u}},
		{"add again", true, false, []string{u}},
		{"remove", false, true, nil},
		{"remove again", false, false, nil},
	}
	for _, tc := range tests {
		before := seq(t, s)
		var changed bool
		update(t, s, func(tx store.Tx) error {
			var err error
			if tc.add {
				changed, err = tx.AddMember(g, u)
			} else {
				changed, err = tx.RemoveMember(g, u)
			}
			return err
		})
		if changed != tc.changed {
			t.Errorf("%s: changed = %v, want %v", tc.name, changed, tc.changed)
		}
		if !tc.changed {
			wantSeq(t, s, before)
			continue
		}
		wantSeq(t, s, before+1)
		c := changes(t, s, before, 10)
		want := []store.Change{{Seq: before + 1, OrgID: acme, Kind: store.KindMembership, ID: g}}
		if len(c) != 1 || c[0].Seq != want[0].Seq || c[0].OrgID != acme || c[0].Kind != store.KindMembership || c[0].ID != g {
			t.Errorf("%s: changes = %+v, want %+v", tc.name, c, want)
		}
		view(t, s, func(r store.Reader) error {
			ids, err := r.GroupMembers(g)
			if err != nil {
				t.Fatal(err)
			}
			sameStrings(t, tc.name+": GroupMembers", ids, tc.members)
			ids, err = r.UserGroups(u)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != len(tc.members) {
				t.Errorf("%s: UserGroups = %v", tc.name, ids)
			}
			return nil
		})
	}

	before := seq(t, s)
	var changed bool
	update(t, s, func(tx store.Tx) error {
		var err error
		changed, err = tx.RemoveMember(groupID(9), userID(9))
		return err
	})
	if changed {
		t.Error("RemoveMember of unknown ids reported a change")
	}
	wantSeq(t, s, before)
}

func testDeleteRemovesMemberships(t *testing.T, s store.Store) {
	conflictFixture(t, s)
	acme := orgID(1)
	u1, u2, g1, g2 := userID(1), userID(2), groupID(1), groupID(2)
	update(t, s, func(tx store.Tx) error {
		for _, m := range [][2]string{{g1, u1}, {g1, u2}, {g2, u1}, {g2, u2}} {
			if _, err := tx.AddMember(m[0], m[1]); err != nil {
				return err
			}
		}
		return nil
	})

	before := seq(t, s)
	update(t, s, func(tx store.Tx) error { return tx.DeleteUser(u1) })
	wantSeq(t, s, before+1)
	if c := changes(t, s, before, 10); len(c) != 1 || c[0].Kind != store.KindUser || c[0].ID != u1 || c[0].OrgID != acme {
		t.Errorf("DeleteUser changes = %+v, want one user change of %s", c, u1)
	}
	view(t, s, func(r store.Reader) error {
		_, err := r.User(u1)
		wantIs(t, "User after DeleteUser", err, store.ErrNotFound)
		ids, err := r.GroupMembers(g1)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "GroupMembers after DeleteUser", ids, []string{u2})
		ids, err = r.UserGroups(u1)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "UserGroups of deleted user", ids, nil)
		return nil
	})

	before = seq(t, s)
	update(t, s, func(tx store.Tx) error { return tx.DeleteGroup(g1) })
	wantSeq(t, s, before+1)
	if c := changes(t, s, before, 10); len(c) != 1 || c[0].Kind != store.KindGroup || c[0].ID != g1 || c[0].OrgID != acme {
		t.Errorf("DeleteGroup changes = %+v, want one group change of %s", c, g1)
	}
	view(t, s, func(r store.Reader) error {
		_, err := r.Group(g1)
		wantIs(t, "Group after DeleteGroup", err, store.ErrNotFound)
		ids, err := r.UserGroups(u2)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "UserGroups after DeleteGroup", ids, []string{g2})
		ids, err = r.GroupMembers(g1)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "GroupMembers of deleted group", ids, nil)
		ms, err := r.Memberships(acme)
		if err != nil {
			t.Fatal(err)
		}
		if want := []store.Membership{{GroupID: g2, UserID: u2}}; !slices.Equal(ms, want) {
			t.Errorf("Memberships = %v, want %v", ms, want)
		}
		return nil
	})

	// The freed login and group name can be taken again.
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateUser(newUser(10, acme, "ann")); err != nil {
			return err
		}
		return tx.CreateGroup(newGroup(10, acme, "admins"))
	})
}

func testChangeFeed(t *testing.T, s store.Store) {
	wantSeq(t, s, 0)
	view(t, s, func(r store.Reader) error {
		if n, err := r.Seq(); err != nil || n != 0 {
			t.Errorf("Reader.Seq of an empty store = %d, %v; want 0", n, err)
		}
		return nil
	})
	if c := changes(t, s, 0, 10); len(c) != 0 {
		t.Errorf("ChangesSince of an empty store = %+v", c)
	}

	org := newOrg(1, "acme")
	u := newUser(1, org.ID, "ann")
	g := newGroup(1, org.ID, "admins")
	steps := []struct {
		kind store.Kind
		id   string
		fn   func(tx store.Tx) error
	}{
		{store.KindOrg, org.ID, func(tx store.Tx) error { return tx.CreateOrg(org) }},
		{store.KindUser, u.ID, func(tx store.Tx) error { return tx.CreateUser(u) }},
		{store.KindUser, u.ID, func(tx store.Tx) error { u.Status = store.StatusSuspended; return tx.UpdateUser(u) }},
		{store.KindGroup, g.ID, func(tx store.Tx) error { return tx.CreateGroup(g) }},
		{store.KindGroup, g.ID, func(tx store.Tx) error { g.Description = "x"; return tx.UpdateGroup(g) }},
		{store.KindMembership, g.ID, func(tx store.Tx) error { _, err := tx.AddMember(g.ID, u.ID); return err }},
		{store.KindMembership, g.ID, func(tx store.Tx) error { _, err := tx.RemoveMember(g.ID, u.ID); return err }},
		{store.KindOrg, org.ID, func(tx store.Tx) error { org.Suffix = "dc=x"; return tx.UpdateOrg(org) }},
		{store.KindUser, u.ID, func(tx store.Tx) error { return tx.DeleteUser(u.ID) }},
		{store.KindGroup, g.ID, func(tx store.Tx) error { return tx.DeleteGroup(g.ID) }},
	}
	var want []store.Change
	for i, st := range steps {
		n := uint64(i + 1)
		update(t, s, func(tx store.Tx) error {
			if err := st.fn(tx); err != nil {
				return err
			}
			if got, err := tx.Seq(); err != nil || got != n {
				t.Errorf("step %d: Tx.Seq after the write = %d, %v; want %d", n, got, err, n)
			}
			return nil
		})
		wantSeq(t, s, n)
		want = append(want, store.Change{Seq: n, OrgID: org.ID, Kind: st.kind, ID: st.id})
	}
	check := func(what string, got, want []store.Change) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d changes, want %d: %+v", what, len(got), len(want), got)
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.Seq != w.Seq || g.OrgID != w.OrgID || g.Kind != w.Kind || g.ID != w.ID {
				t.Errorf("%s[%d] = %+v, want %+v", what, i, g, w)
			}
			if g.At.IsZero() {
				t.Errorf("%s[%d].At is zero", what, i)
			}
		}
	}
	check("ChangesSince(0, 100)", changes(t, s, 0, 100), want)
	check("ChangesSince(3, 2)", changes(t, s, 3, 2), want[3:5])
	check("ChangesSince(0, 1)", changes(t, s, 0, 1), want[:1])
	check("ChangesSince(last, 10)", changes(t, s, uint64(len(want)), 10), nil)

	// Several writes in one Update take consecutive numbers.
	before := seq(t, s)
	o2 := newOrg(2, "beta")
	update(t, s, func(tx store.Tx) error {
		for i, write := range []func() error{
			func() error { return tx.CreateOrg(o2) },
			func() error { return tx.CreateUser(newUser(2, o2.ID, "bob")) },
			func() error { return tx.CreateGroup(newGroup(2, o2.ID, "ops")) },
		} {
			if err := write(); err != nil {
				return err
			}
			if got, _ := tx.Seq(); got != before+uint64(i)+1 {
				t.Errorf("Tx.Seq after write %d = %d, want %d", i+1, got, before+uint64(i)+1)
			}
		}
		return nil
	})
	wantSeq(t, s, before+3)
	check("ChangesSince after a 3-write Update", changes(t, s, before, 10), []store.Change{
		{Seq: before + 1, OrgID: o2.ID, Kind: store.KindOrg, ID: o2.ID},
		{Seq: before + 2, OrgID: o2.ID, Kind: store.KindUser, ID: userID(2)},
		{Seq: before + 3, OrgID: o2.ID, Kind: store.KindGroup, ID: groupID(2)},
	})
	view(t, s, func(r store.Reader) error {
		if n, err := r.Seq(); err != nil || n != before+3 {
			t.Errorf("Reader.Seq = %d, %v; want %d", n, err, before+3)
		}
		return nil
	})
}

var errBoom = errors.New("storetest: boom")

func testFailedUpdate(t *testing.T, s store.Store) {
	conflictFixture(t, s)
	acme := orgID(1)
	tests := []struct {
		name  string
		panic bool
	}{
		{"fn returns an error", false},
		{"fn panics", true},
	}
	for i, tc := range tests {
		before := seq(t, s)
		n := 50 + i
		var err error
		var recovered any
		func() {
			defer func() { recovered = recover() }()
			err = s.Update(ctx, func(tx store.Tx) error {
				o := newOrg(1, "renamed")
				for _, err := range []error{
					tx.CreateUser(newUser(n, acme, "temp")),
					tx.CreateGroup(newGroup(n, acme, "temp")),
					tx.UpdateOrg(o),
					tx.DeleteUser(userID(2)),
				} {
					if err != nil {
						return err
					}
				}
				if _, err := tx.AddMember(groupID(n), userID(n)); err != nil {
					return err
				}
				if tc.panic {
					panic(errBoom)
				}
				return fmt.Errorf("wrapped: %w", errBoom)
			})
		}()
		if tc.panic {
			if recovered != errBoom {
				t.Errorf("%s: Update did not re-panic with fn's value: recovered %v, err %v", tc.name, recovered, err)
			}
		} else {
			if recovered != nil {
				t.Fatalf("%s: Update panicked: %v", tc.name, recovered)
			}
			wantIs(t, tc.name, err, errBoom)
		}
		wantSeq(t, s, before)
		if c := changes(t, s, before, 10); len(c) != 0 {
			t.Errorf("%s: changes after a failed Update: %+v", tc.name, c)
		}
		view(t, s, func(r store.Reader) error {
			_, err := r.User(userID(n))
			wantIs(t, tc.name+": created user", err, store.ErrNotFound)
			_, err = r.Group(groupID(n))
			wantIs(t, tc.name+": created group", err, store.ErrNotFound)
			if _, err := r.User(userID(2)); err != nil {
				t.Errorf("%s: deleted user is gone: %v", tc.name, err)
			}
			o, err := r.Org(acme)
			if err != nil {
				t.Fatal(err)
			}
			if o.Name != "acme" {
				t.Errorf("%s: org renamed to %q", tc.name, o.Name)
			}
			return nil
		})
		// The store still works, and the sequence has no hole.
		update(t, s, func(tx store.Tx) error { return tx.CreateUser(newUser(60+i, acme, fmt.Sprintf("after%d", i))) })
		if c := changes(t, s, before, 10); len(c) != 1 || c[0].Seq != before+1 {
			t.Errorf("%s: next change = %+v, want seq %d", tc.name, c, before+1)
		}
	}
}

func testConcurrentWriters(t *testing.T, s store.Store) {
	const writers, perWriter = 8, 25
	org := newOrg(1, "acme")
	update(t, s, func(tx store.Tx) error { return tx.CreateOrg(org) })
	base := seq(t, s)

	done := make(chan struct{})
	var readerErr error
	var readerWG sync.WaitGroup
	readerWG.Add(1)
	go func() { // every snapshot is consistent: one change per user
		defer readerWG.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			err := s.View(ctx, func(r store.Reader) error {
				n1, err := r.Seq()
				if err != nil {
					return err
				}
				us, err := r.Users(org.ID)
				if err != nil {
					return err
				}
				n2, err := r.Seq()
				if err != nil {
					return err
				}
				if n1 != n2 || uint64(len(us)) != n1-base {
					return fmt.Errorf("inconsistent view: seq %d then %d, %d users", n1, n2, len(us))
				}
				return nil
			})
			if err != nil {
				readerErr = err
				return
			}
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				n := 1000 + w*perWriter + i
				errs <- s.Update(ctx, func(tx store.Tx) error {
					return tx.CreateUser(newUser(n, org.ID, fmt.Sprintf("user%04d", n)))
				})
			}
		}()
	}
	wg.Wait()
	close(done)
	readerWG.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Update: %v", err)
		}
	}
	if readerErr != nil {
		t.Errorf("concurrent View: %v", readerErr)
	}

	total := uint64(writers * perWriter)
	wantSeq(t, s, base+total)
	c := changes(t, s, base, int(total)+10)
	if uint64(len(c)) != total {
		t.Fatalf("%d changes, want %d", len(c), total)
	}
	seen := map[string]bool{}
	for i, ch := range c {
		if ch.Seq != base+uint64(i)+1 {
			t.Errorf("change %d has seq %d, want %d", i, ch.Seq, base+uint64(i)+1)
		}
		if ch.Kind != store.KindUser || ch.OrgID != org.ID {
			t.Errorf("change %d = %+v", i, ch)
		}
		if seen[ch.ID] {
			t.Errorf("user %s recorded twice", ch.ID)
		}
		seen[ch.ID] = true
	}
	view(t, s, func(r store.Reader) error {
		us, err := r.Users(org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(us)) != total {
			t.Errorf("%d users, want %d", len(us), total)
		}
		for _, id := range userIDs(us) {
			if !seen[id] {
				t.Errorf("user %s has no change", id)
			}
		}
		return nil
	})
}

func testViewSnapshot(t *testing.T, s store.Store) {
	org := newOrg(1, "acme")
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateOrg(org); err != nil {
			return err
		}
		return tx.CreateUser(newUser(1, org.ID, "ann"))
	})
	view(t, s, func(r store.Reader) error {
		n1, err := r.Seq()
		if err != nil {
			t.Fatal(err)
		}
		us, err := r.Users(org.ID)
		if err != nil || len(us) != 1 {
			t.Fatalf("Users = %d, %v; want 1", len(us), err)
		}
		// A write commits while this View is open...
		update(t, s, func(tx store.Tx) error {
			if err := tx.CreateUser(newUser(2, org.ID, "bob")); err != nil {
				return err
			}
			return tx.CreateGroup(newGroup(1, org.ID, "admins"))
		})
		// ...and the View does not see it.
		n2, err := r.Seq()
		if err != nil {
			t.Fatal(err)
		}
		if n2 != n1 {
			t.Errorf("Seq changed inside a View: %d then %d", n1, n2)
		}
		us, err = r.Users(org.ID)
		if err != nil || len(us) != 1 {
			t.Errorf("Users inside the View = %d, %v; want 1", len(us), err)
		}
		_, err = r.User(userID(2))
		wantIs(t, "User written after the View began", err, store.ErrNotFound)
		gs, err := r.Groups(org.ID)
		if err != nil || len(gs) != 0 {
			t.Errorf("Groups inside the View = %d, %v; want 0", len(gs), err)
		}
		return nil
	})
	view(t, s, func(r store.Reader) error {
		us, err := r.Users(org.ID)
		if err != nil || len(us) != 2 {
			t.Errorf("Users after the View = %d, %v; want 2", len(us), err)
		}
		return nil
	})
}

func testRecordLogins(t *testing.T, s store.Store) {
	org := newOrg(1, "acme")
	u1, u2 := newUser(1, org.ID, "ann"), newUser(2, org.ID, "bob")
	u2.LastLogin = time.Time{}
	update(t, s, func(tx store.Tx) error {
		for _, err := range []error{tx.CreateOrg(org), tx.CreateUser(u1), tx.CreateUser(u2)} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	before := seq(t, s)
	at1 := t0.Add(24 * time.Hour).In(cet)
	at2 := t0.Add(48*time.Hour + 7*time.Millisecond)
	if err := s.RecordLogins(ctx, map[string]time.Time{u1.ID: at1, u2.ID: at2, userID(99): at1}); err != nil {
		t.Fatalf("RecordLogins: %v", err)
	}
	for _, m := range []map[string]time.Time{nil, {}} {
		if err := s.RecordLogins(ctx, m); err != nil {
			t.Errorf("RecordLogins(%v): %v", m, err)
		}
	}
	wantSeq(t, s, before)
	if c := changes(t, s, before, 10); len(c) != 0 {
		t.Errorf("RecordLogins recorded changes: %+v", c)
	}
	u1.LastLogin, u2.LastLogin = at1, at2
	view(t, s, func(r store.Reader) error {
		for _, want := range []*store.User{u1, u2} {
			got, err := r.User(want.ID)
			if err != nil {
				t.Fatal(err)
			}
			sameUser(t, "User after RecordLogins", got, want) // LastUpdated untouched too
		}
		_, err := r.User(userID(99))
		wantIs(t, "unknown user after RecordLogins", err, store.ErrNotFound)
		return nil
	})
	// A later write of the record keeps the last login; a newer login
	// replaces it; a deleted user's login is forgotten, and recording one
	// for it is not an error.
	u1.Profile.Title = "after the login"
	update(t, s, func(tx store.Tx) error { return tx.UpdateUser(u1) })
	at3 := at2.Add(time.Hour)
	if err := s.RecordLogins(ctx, map[string]time.Time{u2.ID: at3}); err != nil {
		t.Fatal(err)
	}
	u2.LastLogin = at3
	view(t, s, func(r store.Reader) error {
		for _, want := range []*store.User{u1, u2} {
			got, err := r.User(want.ID)
			if err != nil {
				t.Fatal(err)
			}
			sameUser(t, "User after an update and a second RecordLogins", got, want)
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteUser(u2.ID) })
	if err := s.RecordLogins(ctx, map[string]time.Time{u2.ID: at3}); err != nil {
		t.Errorf("RecordLogins of a deleted user: %v", err)
	}
	update(t, s, func(tx store.Tx) error { u2.LastLogin = time.Time{}; return tx.CreateUser(u2) })
	view(t, s, func(r store.Reader) error {
		got, err := r.User(u2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastLogin.IsZero() {
			t.Errorf("a user created again with a deleted one's id has its last login %v", got.LastLogin)
		}
		return nil
	})
}
