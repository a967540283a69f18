package dit

import (
	"context"
	"io"
	"sync"
	"testing"

	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
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
func BenchmarkSnapshotBuild100k(b *testing.B) {
	f := big100k()
	od := f.orgData(f.orgs[0])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := buildOrg(od, quiet()); err != nil {
			b.Fatal(err)
		}
	}
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
	b.ReportAllocs()
	for b.Loop() {
		if t := s.resolveBind("uid=user54321@big.example,dc=big,dc=okta,dc=com"); t.user < 0 {
			b.Fatal("not found")
		}
	}
}
