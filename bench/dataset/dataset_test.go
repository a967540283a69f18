package dataset

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/ldif"
	"github.com/dirgate/dirgate/internal/password"
)

const testBase = "dc=bench,dc=okta,dc=com"

func ldifBytes(t *testing.T, s *Set, o LDIFOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.WriteLDIF(&buf, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDeterministic(t *testing.T) {
	all := LDIFOptions{MemberOf: true, Service: true}
	a := ldifBytes(t, New(500, 7, testBase), all)
	b := ldifBytes(t, New(500, 7, testBase), all)
	if !bytes.Equal(a, b) {
		t.Fatal("same (n, seed, base) gave different LDIF")
	}
	c := ldifBytes(t, New(500, 8, testBase), all)
	if bytes.Equal(a, c) {
		t.Fatal("seeds 7 and 8 gave the same LDIF")
	}
}

// TestKnownValues pins the generated values, so a change to how the set is
// drawn (which would silently invalidate data already loaded into a server)
// shows up here.
func TestKnownValues(t *testing.T) {
	s := New(100, 1, testBase)
	for _, c := range []struct{ got, want string }{
		{s.UID(7), "user000007"},
		{s.DN(7), "uid=user000007,ou=users," + testBase},
		{s.CN(7), "User 7"},
		{s.Mail(7), "user000007@example.com"},
		{s.GroupCN(1), "group00001"},
		{s.GroupDN(1), "cn=group00001,ou=groups," + testBase},
		{s.ServiceDN(), "uid=svc-bench,ou=users," + testBase},
		{New(1, 1, testBase).UID(0), "user000000"},
		{New(1234567, 1, testBase).UID(1234566), "user1234566"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	pw := s.Password(7)
	if !strings.HasPrefix(pw, "pw-user000007-") || len(pw) != len("pw-user000007-")+4 || len(pw) > 64 {
		t.Errorf("password %q is not pw-<uid>-XXXX", pw)
	}
	suffixes := map[string]bool{}
	for i := range s.N() {
		suffixes[s.Password(i)[len(s.Password(i))-4:]] = true
	}
	if len(suffixes) < 90 {
		t.Errorf("only %d distinct random password parts among 100 users", len(suffixes))
	}
	if s.Groups() != 2 {
		t.Errorf("Groups() = %d for 100 users, want 2", s.Groups())
	}
}

func TestGroupCounts(t *testing.T) {
	for _, c := range []struct{ n, groups int }{{0, 0}, {1, 0}, {49, 0}, {50, 1}, {99, 1}, {100, 2}, {10000, 200}} {
		if got := New(c.n, 1, testBase).Groups(); got != c.groups {
			t.Errorf("New(%d).Groups() = %d, want %d", c.n, got, c.groups)
		}
	}
	// With exactly 50 users the one group holds all of them.
	s := New(50, 3, testBase)
	if m := s.Members(0); !slices.Equal(m, seq(50)) {
		t.Errorf("group of 50 users: members %v", m)
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestMembersDistinctAndReverseIndex(t *testing.T) {
	s := New(5000, 42, testBase)
	inGroups := make([][]int, s.N())
	total := 0
	for g := range s.Groups() {
		m := s.Members(g)
		if len(m) != GroupSize {
			t.Fatalf("group %d has %d members", g, len(m))
		}
		for k, u := range m {
			if u < 0 || u >= s.N() {
				t.Fatalf("group %d: member %d out of range", g, u)
			}
			if k > 0 && m[k-1] >= u {
				t.Fatalf("group %d: members not distinct and ascending: %v", g, m)
			}
			inGroups[u] = append(inGroups[u], g)
		}
		total += len(m)
	}
	sum, none := 0, 0
	for i := range s.N() {
		got := s.GroupsOf(i)
		if !slices.Equal(got, inGroups[i]) && !(len(got) == 0 && len(inGroups[i]) == 0) {
			t.Fatalf("GroupsOf(%d) = %v, members say %v", i, got, inGroups[i])
		}
		sum += len(got)
		if len(got) == 0 {
			none++
		}
	}
	if sum != total {
		t.Fatalf("reverse index holds %d memberships, groups %d", sum, total)
	}
	// Random membership, not a partition: about e^-1 of users in none.
	if none == 0 || none == s.N() {
		t.Fatalf("%d of %d users in no group: membership is not random", none, s.N())
	}
}

func TestSSHAVerifies(t *testing.T) {
	s := New(20, 9, testBase)
	h := password.NewHasher(password.Params{})
	ctx := context.Background()
	for i := range s.N() {
		hash := s.Hash(i)
		if !strings.HasPrefix(hash, "{SSHA}") {
			t.Fatalf("hash %q is not {SSHA}", hash)
		}
		ok, err := h.Verify(ctx, hash, []byte(s.Password(i)))
		if err != nil || !ok {
			t.Fatalf("user %d: Verify = %v, %v", i, ok, err)
		}
		if ok, _ := h.Verify(ctx, hash, []byte(s.Password((i+1)%s.N()))); ok {
			t.Fatalf("user %d's hash accepts user %d's password", i, (i+1)%s.N())
		}
	}
	if ok, err := h.Verify(ctx, s.ServiceHash(), []byte(s.ServicePassword())); err != nil || !ok {
		t.Fatalf("service account: Verify = %v, %v", ok, err)
	}
	if s.Hash(0) == s.Hash(1) || s.Hash(0) == New(20, 10, testBase).Hash(0) {
		t.Fatal("hashes repeat across users or seeds: the salt is not per user")
	}
}

func TestIndexLookups(t *testing.T) {
	s := New(200, 1, testBase)
	for _, c := range []struct {
		dn   string
		want int
		ok   bool
	}{
		{s.DN(0), 0, true},
		{s.DN(199), 199, true},
		{"UID=User000123, OU=Users, DC=Bench,DC=Okta,DC=Com", 123, true},
		{"uid=user000200,ou=users," + testBase, 0, false}, // beyond N
		{"uid=user00012,ou=users," + testBase, 0, false},  // not zero-padded
		{"uid=user0000012,ou=users," + testBase, 0, false},
		{"uid=user000012,ou=groups," + testBase, 0, false},
		{"uid=user000012,dc=bench,dc=okta,dc=com", 0, false},
		{"uid=user000012,ou=users,dc=other,dc=okta,dc=com", 0, false},
		{s.ServiceDN(), 0, false},
		{"not a dn", 0, false},
	} {
		got, ok := s.UserIndex(c.dn)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("UserIndex(%q) = %d, %v; want %d, %v", c.dn, got, ok, c.want, c.ok)
		}
	}
	if g, ok := s.GroupIndex("CN=Group00003,ou=groups," + testBase); !ok || g != 3 {
		t.Errorf("GroupIndex(group 3) = %d, %v", g, ok)
	}
	if _, ok := s.GroupIndex(s.GroupDN(3) + "x"); ok {
		t.Error("GroupIndex accepted a DN outside ou=groups")
	}
	if !s.IsServiceDN("UID=svc-bench,ou=Users,"+testBase) || s.IsServiceDN(s.DN(0)) {
		t.Error("IsServiceDN is wrong")
	}
	if i, ok := s.UserByUID("user000042"); !ok || i != 42 {
		t.Errorf("UserByUID = %d, %v", i, ok)
	}
	if _, ok := s.UserByUID("svc-bench"); ok {
		t.Error("UserByUID found the service account")
	}
}

// TestLDIFParses reads the LDIF back with dirgate's LDIF reader and checks
// every entry against the accessors.
func TestLDIFParses(t *testing.T) {
	s := New(300, 5, testBase)
	for _, o := range []LDIFOptions{{}, {MemberOf: true, Service: true, Version: true, DirgateService: true}} {
		r := ldif.NewReader(bytes.NewReader(ldifBytes(t, s, o)))
		var recs []*ldif.Record
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%+v: %v", o, err)
			}
			recs = append(recs, rec)
		}
		want := 3 + s.N() + s.Groups()
		if o.Service {
			want++
		}
		if len(recs) != want {
			t.Fatalf("%+v: %d records, want %d", o, len(recs), want)
		}
		if recs[0].DN != testBase || first(recs[0], "dc") != "bench" {
			t.Errorf("base entry: %+v", recs[0])
		}
		users := recs[3:]
		if o.Service {
			svc := recs[3]
			if !s.IsServiceDN(svc.DN) || first(svc, "userPassword") != s.ServiceHash() || first(svc, "dirgateRole") != "READ_ONLY_ADMIN" {
				t.Errorf("service entry: %+v", svc)
			}
			users = recs[4:]
		}
		for i := range s.N() {
			u := users[i]
			if u.DN != s.DN(i) || first(u, "uid") != s.UID(i) || first(u, "cn") != s.CN(i) ||
				first(u, "mail") != s.Mail(i) || first(u, "userPassword") != s.Hash(i) ||
				!slices.Contains(values(u, "objectClass"), "inetOrgPerson") {
				t.Fatalf("user %d: %+v", i, u)
			}
			var wantOf []string
			if o.MemberOf {
				for _, g := range s.GroupsOf(i) {
					wantOf = append(wantOf, s.GroupDN(g))
				}
			}
			if got := values(u, "memberOf"); !slices.Equal(got, wantOf) {
				t.Fatalf("user %d: memberOf %v, want %v", i, got, wantOf)
			}
		}
		for g := range s.Groups() {
			rec := users[s.N()+g]
			var want []string
			for _, u := range s.Members(g) {
				want = append(want, s.DN(u))
			}
			if rec.DN != s.GroupDN(g) || first(rec, "cn") != s.GroupCN(g) || !slices.Equal(values(rec, "uniqueMember"), want) {
				t.Fatalf("group %d: %+v", g, rec)
			}
		}
	}
}

func values(r *ldif.Record, typ string) []string {
	for _, a := range r.Attrs {
		if strings.EqualFold(a.Type, typ) {
			return a.Values
		}
	}
	return nil
}

func first(r *ldif.Record, typ string) string {
	if v := values(r, typ); len(v) > 0 {
		return v[0]
	}
	return ""
}

func BenchmarkWriteLDIF(b *testing.B) {
	s := New(100000, 1, testBase)
	b.ResetTimer()
	for range b.N {
		if err := s.WriteLDIF(io.Discard, LDIFOptions{MemberOf: true, Service: true}); err != nil {
			b.Fatal(err)
		}
	}
}
