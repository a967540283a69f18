package dit

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

// sink is an entryWriter that keeps only the last entry's bytes, as a
// server's reused response buffer would.
type sink struct {
	buf     []byte
	entries int
}

func (s *sink) Begin(dn string) { s.buf = append(s.buf[:0], dn...) }
func (s *sink) Raw(b []byte)    { s.buf = append(s.buf, b...) }
func (s *sink) End()            { s.entries++ }

// searchAll runs req to the end into w and returns the entry count.
func searchAll(tb testing.TB, d *DIT, who *ldapserver.Identity, req *ldap.SearchRequest, w *sink) int {
	c, err := d.search(who, req)
	if err != nil {
		tb.Fatal(err)
	}
	n := w.entries
	for {
		if err := c.next(context.Background(), w); err != nil {
			if err != io.EOF {
				tb.Fatal(err)
			}
			break
		}
	}
	c.Close()
	return w.entries - n
}

func mustFilter(tb testing.TB, s string) ldap.Filter {
	f, err := ldap.ParseFilter(s)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// TestSearchAllocs is the allocation budget of the commonest search: a uid
// lookup (pg_hba's search+bind) returning one pre-encoded entry: none,
// once the cursor pool is warm.
func TestSearchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation budgets do not hold under the race detector (sync.Pool drops items)")
	}
	d := newDIT(t, fixture())
	tests := []struct {
		name   string
		req    ldap.SearchRequest
		budget float64
	}{
		{"uid, all attributes", ldap.SearchRequest{BaseObject: acmeBase, Scope: ldap.ScopeWholeSubtree,
			Filter: mustFilter(t, "(uid=alice@acme.example)")}, 0},
		{"uid and objectClass, three attributes", ldap.SearchRequest{BaseObject: usersOU, Scope: ldap.ScopeSingleLevel,
			Filter: mustFilter(t, "(&(objectClass=inetOrgPerson)(uid=Alice@acme.example))"), Attributes: []string{"cn", "mail", "memberOf"}}, 0},
		{"base, everything", ldap.SearchRequest{BaseObject: aliceDN, Scope: ldap.ScopeBaseObject,
			Filter: mustFilter(t, "(objectClass=*)"), Attributes: []string{"*", "+"}}, 0},
		{"typesOnly", ldap.SearchRequest{BaseObject: aliceDN, Scope: ldap.ScopeBaseObject, TypesOnly: true,
			Filter: mustFilter(t, "(objectClass=*)")}, 0},
		// Unindexed: every entry is read back from its encoding for the
		// filter, into the cursor's buffers.
		{"scan on department", ldap.SearchRequest{BaseObject: acmeBase, Scope: ldap.ScopeWholeSubtree,
			Filter: mustFilter(t, "(department=R&D)")}, 0},
		{"scan on a substring", ldap.SearchRequest{BaseObject: acmeBase, Scope: ldap.ScopeWholeSubtree,
			Filter: mustFilter(t, "(&(objectClass=inetOrgPerson)(title=Eng*))")}, 0},
	}
	for _, tt := range tests {
		w := &sink{buf: make([]byte, 0, 4096)}
		if n := searchAll(t, d, asAdmin, &tt.req, w); n != 1 {
			t.Fatalf("%s: %d entries", tt.name, n)
		}
		if n := testing.AllocsPerRun(1000, func() { searchAll(t, d, asAdmin, &tt.req, w) }); n > tt.budget {
			t.Errorf("%s: %v allocations per search, budget %v", tt.name, n, tt.budget)
		}
	}
}

var big100k = sync.OnceValue(func() *fakeSource { return bigSource(100_000) })

func bigDIT(b *testing.B) *DIT {
	f := big100k()
	d, err := New(f, Options{Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkSnapshotBuild100k builds the view of an org of 100,000 users in
// 1,001 groups (1,000 of 100 users and one of everybody).
//
// retained-B/user is what the built view keeps on the heap, per user.
func BenchmarkSnapshotBuild100k(b *testing.B) {
	f := big100k()
	od := f.orgData(f.orgs[0])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := buildOrg(od, quiet(), false); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	o, _ := buildOrg(od, quiet(), false)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(o.nUsers), "retained-B/user")
	runtime.KeepAlive(o)
}

var bigAdminID = as("00obig", "00ubig0000000", bigAdmin)

func BenchmarkSearchUID(b *testing.B) {
	d := bigDIT(b)
	req := ldap.SearchRequest{BaseObject: "ou=users," + bigBase, Scope: ldap.ScopeWholeSubtree,
		Filter: mustFilter(b, "(&(objectClass=inetOrgPerson)(uid=user54321@big.example))"), Attributes: []string{"uid", "cn", "mail", "memberOf"}}
	w := &sink{buf: make([]byte, 0, 4096)}
	b.ReportAllocs()
	for b.Loop() {
		if searchAll(b, d, bigAdminID, &req, w) != 1 {
			b.Fatal("not found")
		}
	}
}

func BenchmarkSearchGroupMember(b *testing.B) {
	d := bigDIT(b)
	for _, bm := range []struct {
		name, filter string
		n            int
	}{
		// The groups of a user: one of 100 members and "all" of 100,000.
		{"uniqueMember", "(&(objectClass=groupOfUniqueNames)(uniqueMember=uid=user54321@big.example,ou=users," + bigBase + "))", 2},
		// The members of a group of 100.
		{"memberOf", "(&(objectClass=inetOrgPerson)(memberOf=cn=group0543,ou=groups," + bigBase + "))", 100},
	} {
		b.Run(bm.name, func(b *testing.B) {
			req := ldap.SearchRequest{BaseObject: bigBase, Scope: ldap.ScopeWholeSubtree, Filter: mustFilter(b, bm.filter), Attributes: []string{"cn"}}
			w := &sink{buf: make([]byte, 0, 4096)}
			b.ReportAllocs()
			for b.Loop() {
				if n := searchAll(b, d, bigAdminID, &req, w); n != bm.n {
					b.Fatalf("%d entries, want %d", n, bm.n)
				}
			}
		})
	}
}

// BenchmarkSearchSorted sorts 10,000 of 100,000 users (RFC 2891) by
// surname, then uid reversed, and streams them.
func BenchmarkSearchSorted(b *testing.B) {
	d := bigDIT(b)
	req := ldap.SearchRequest{BaseObject: bigBase, Scope: ldap.ScopeWholeSubtree, Filter: mustFilter(b, "(department=dept3)"), Attributes: []string{"uid"}}
	controls := []ldap.Control{{OID: ldap.OIDSortRequest, HasValue: true,
		Value: ldap.AppendSortKeys(nil, []ldap.SortKey{{Attr: "sn"}, {Attr: "uid", Reverse: true}})}}
	w := &sink{buf: make([]byte, 0, 4096)}
	b.ReportAllocs()
	for b.Loop() {
		c, err := d.searchWith(context.Background(), bigAdminID, &req, controls)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for ; c.next(context.Background(), w) == nil; n++ {
		}
		c.Close()
		if n != 10_000 {
			b.Fatalf("%d entries", n)
		}
	}
}

// BenchmarkSearchScan is an unindexed filter over 100,000 users, for
// scale (a sync reading everything pages through this).
func BenchmarkSearchScan(b *testing.B) {
	d := bigDIT(b)
	req := ldap.SearchRequest{BaseObject: bigBase, Scope: ldap.ScopeWholeSubtree, Filter: mustFilter(b, "(department=dept3)")}
	w := &sink{buf: make([]byte, 0, 4096)}
	b.ReportAllocs()
	for b.Loop() {
		if n := searchAll(b, d, bigAdminID, &req, w); n != 10_000 {
			b.Fatalf("%d entries", n)
		}
	}
}

// BenchmarkBindResolve is the snapshot half of a bind (the directory's
// password check is not dit's).
func BenchmarkBindResolve(b *testing.B) {
	d := bigDIT(b)
	s := d.snap.Load()
	for _, bb := range []struct{ name, dn string }{
		{"served", "uid=user54321@big.example,ou=users,dc=big,dc=okta,dc=com"}, // as a search returned it
		{"parsed", "uid=User54321@big.example, dc=big,dc=okta,dc=com"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if t := s.resolveBind(bb.dn); t.user < 0 {
					b.Fatal("not found")
				}
			}
		})
	}
}

// refreshDIT is a DIT over its own org of 100,000 users (the benchmarks
// write to it).
func refreshDIT(b *testing.B) (*fakeSource, *DIT) {
	f := bigSource(100_000)
	d, err := New(f, Options{Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	return f, d
}

// BenchmarkRefreshOneUser100k is one user's change in an org of 100,000
// users, from the write to the swapped snapshot: a profile change (the
// entry stays in place), a rename (it moves, and so do the entries
// between), and a password hash upgrade (LDAP shows nothing new).
func BenchmarkRefreshOneUser100k(b *testing.B) {
	f, d := refreshDIT(b)
	ctx := context.Background()
	const id = "00ubig0054321"
	for _, bm := range []struct {
		name  string
		write func(i int, u *directory.User)
	}{
		{"profile", func(i int, u *directory.User) { u.Profile.Title = "title " + strconv.Itoa(i) }},
		{"rename", func(i int, u *directory.User) {
			u.Profile.Login = []string{"user54321@big.example", "zz54321@big.example"}[i%2]
			u.LoginKey = u.Profile.Login
		}},
		{"password", func(i int, u *directory.User) { u.PasswordHash = "{FAKE}" + strconv.Itoa(i) }},
	} {
		b.Run(bm.name, func(b *testing.B) {
			loads := f.orgLds
			i := 0
			for b.Loop() {
				i++
				f.updateUser(id, func(u *directory.User) { bm.write(i, u) })
				if err := d.Refresh(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if f.orgLds != loads {
				b.Fatalf("%d org rebuilds", f.orgLds-loads)
			}
		})
	}
}

// BenchmarkRefreshMembership100k adds a user to a group or removes it,
// in an org of 100,000 users, from the write to the swapped snapshot: a
// group of 100 and one of everybody. (The fake source sorts the members
// it returns: for the group of 100,000 that is part of the time.)
func BenchmarkRefreshMembership100k(b *testing.B) {
	f, d := refreshDIT(b)
	ctx := context.Background()
	f.updateUser("00ubig0099999", func(*directory.User) {})
	f.removeMember("00gbigall", "00ubig0099999")
	if err := d.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	for _, bm := range []struct{ name, group, user string }{
		{"group of 100", "00gbig00543", "00ubig0012345"},
		{"group of 100k", "00gbigall", "00ubig0099999"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			loads := f.orgLds
			in := false
			for b.Loop() {
				if in {
					f.removeMember(bm.group, bm.user)
				} else {
					f.addMember(bm.group, bm.user)
				}
				in = !in
				if err := d.Refresh(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if f.orgLds != loads {
				b.Fatalf("%d org rebuilds", f.orgLds-loads)
			}
		})
	}
}

// sqliteDIT is a DIT over a Directory on SQLite holding an org "big" of
// 100,000 users in groups of 100 and one of everybody (written through
// the store in one transaction).
func sqliteDIT(b *testing.B) (*directory.Directory, *DIT) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "dirgate.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	err = st.Update(ctx, func(tx store.Tx) error {
		const org = "00obig"
		if err := tx.CreateOrg(&store.Org{ID: org, Name: "big", Suffix: directory.DefaultSuffix, Created: t0}); err != nil {
			return err
		}
		for i := range 100_000 {
			l := fmt.Sprintf("user%05d@big.example", i)
			u := &store.User{ID: fmt.Sprintf("00ubig%07d", i), OrgID: org, Status: store.StatusActive, Type: store.TypePerson,
				LoginKey: l, Profile: store.Profile{Login: l, Email: l, FirstName: "User", LastName: fmt.Sprintf("Number %d", i)},
				Created: t0, LastUpdated: t0}
			if i == 0 {
				u.Roles = []string{directory.RoleOrgAdmin}
			}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
		}
		for g := range 1001 {
			id, name := fmt.Sprintf("00gbig%05d", g), fmt.Sprintf("group%04d", g)
			if g == 1000 {
				id, name = "00gbigall", "all"
			}
			if err := tx.CreateGroup(&store.Group{ID: id, OrgID: org, Name: name, NameKey: name, Created: t0, LastUpdated: t0}); err != nil {
				return err
			}
			for i := range 100_000 {
				if g == 1000 || i/100 == g {
					if _, err := tx.AddMember(id, fmt.Sprintf("00ubig%07d", i)); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	dir, err := directory.New(directory.Config{Store: st, Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { dir.Close() })
	d, err := New(dir, Options{Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	return dir, d
}

// BenchmarkRefreshSQLite100k is BenchmarkRefreshOneUser100k/profile and
// BenchmarkRefreshMembership100k over SQLite, the write (through the
// directory: its transaction, change record and audit event) included.
func BenchmarkRefreshSQLite100k(b *testing.B) {
	dir, d := sqliteDIT(b)
	ctx := context.Background()
	refresh := func() {
		if err := d.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("profile", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			p := directory.Profile{Login: "user54321@big.example", Title: "title " + strconv.Itoa(i)}
			if _, err := dir.UpdateProfile(ctx, "big", "user54321@big.example", p); err != nil {
				b.Fatal(err)
			}
			refresh()
		}
	})
	for _, bm := range []struct{ name, group string }{{"group of 100", "group0543"}, {"group of 100k", "all"}} {
		b.Run("membership/"+bm.name, func(b *testing.B) {
			in := bm.group == "all"
			for b.Loop() {
				op := dir.AddMember
				if in {
					op = dir.RemoveMember
				}
				if _, err := op(ctx, "big", bm.group, "user12345@big.example"); err != nil {
					b.Fatal(err)
				}
				in = !in
				refresh()
			}
		})
	}
}

// nested100k is big100k's org with its 1,000 groups of 100 nested ten to a
// division, the 100 divisions in one company group.
var nested100k = sync.OnceValue(func() *fakeSource {
	f := bigSource(100_000)
	f.addGroup("00obig", "00gbigcompany", "company", "")
	for d := range 100 {
		id := fmt.Sprintf("00gbigdiv%03d", d)
		f.addGroup("00obig", id, fmt.Sprintf("division%03d", d), "")
		f.link("00gbigcompany", id, true)
		for g := d * 10; g < d*10+10; g++ {
			f.link(id, fmt.Sprintf("00gbig%05d", g), true)
		}
	}
	return f
})

// BenchmarkSearchInChain: LDAP_MATCHING_RULE_IN_CHAIN over nested100k.
// The chain is resolved per snapshot at the level of groups; a search
// costs what its answer does (compare BenchmarkSearchGroupMember).
func BenchmarkSearchInChain(b *testing.B) {
	d, err := New(nested100k(), Options{Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	for _, bm := range []struct {
		name, filter string
		n            int
	}{
		// A division's users: 10 groups of 100.
		{"memberOf/division", "(&(objectClass=inetOrgPerson)(memberOf:1.2.840.113556.1.4.1941:=cn=division054,ou=groups," + bigBase + "))", 1000},
		// Everything in the company: 100,000 users and 1,100 groups.
		{"memberOf/company", "(memberOf:1.2.840.113556.1.4.1941:=cn=company,ou=groups," + bigBase + ")", 101_100},
		// A user's groups through the chain: its group, division, the
		// company, and "all".
		{"uniqueMember/user", "(uniqueMember:1.2.840.113556.1.4.1941:=uid=user54321@big.example,ou=users," + bigBase + ")", 4},
	} {
		b.Run(bm.name, func(b *testing.B) {
			req := ldap.SearchRequest{BaseObject: bigBase, Scope: ldap.ScopeWholeSubtree, Filter: mustFilter(b, bm.filter), Attributes: []string{"1.1"}}
			w := &sink{buf: make([]byte, 0, 4096)}
			b.ReportAllocs()
			for b.Loop() {
				if n := searchAll(b, d, bigAdminID, &req, w); n != bm.n {
					b.Fatalf("%d entries, want %d", n, bm.n)
				}
			}
		})
	}
}
