package dit

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

var (
	usersOU  = "ou=users," + acmeBase
	groupsOU = "ou=groups," + acmeBase
	allUsers = []string{adminDN, aliceDN, bobDN, carolDN, obrDN, samDN, susanDN}
	allGrps  = []string{admsDN, emptyDN, engDN, allDN, rndDN}
)

func TestSearchScopes(t *testing.T) {
	d := newDIT(t, fixture())
	tests := []struct {
		name    string
		base    string
		scope   ldap.Scope
		want    []string
		code    ldap.ResultCode
		matched string
	}{
		{"base of the naming context", acmeBase, ldap.ScopeBaseObject, []string{acmeBase}, 0, ""},
		{"one below the naming context", acmeBase, ldap.ScopeSingleLevel, []string{usersOU, groupsOU}, 0, ""},
		{"subtree", acmeBase, ldap.ScopeWholeSubtree, slices.Concat([]string{acmeBase, usersOU}, allUsers, []string{groupsOU}, allGrps), 0, ""},
		{"one below ou=users", usersOU, ldap.ScopeSingleLevel, allUsers, 0, ""},
		{"subtree of ou=groups", groupsOU, ldap.ScopeWholeSubtree, append([]string{groupsOU}, allGrps...), 0, ""},
		{"one below a user", aliceDN, ldap.ScopeSingleLevel, nil, 0, ""},
		{"subtree of a user", aliceDN, ldap.ScopeWholeSubtree, []string{aliceDN}, 0, ""},
		{"any case and spacing", "UID=Alice@ACME.example , OU=Users, DC=Acme,DC=okta,DC=com", ldap.ScopeBaseObject, []string{aliceDN}, 0, ""},
		{"escaped login", `uid=bob\2btest@acme.example,ou=users,` + acmeBase, ldap.ScopeBaseObject, []string{bobDN}, 0, ""},
		{"escaped group", `cn=r&d\, europe,ou=groups,` + acmeBase, ldap.ScopeBaseObject, []string{rndDN}, 0, ""},
		{"missing user", "uid=nobody,ou=users," + acmeBase, ldap.ScopeBaseObject, nil, ldap.NoSuchObject, usersOU},
		{"below a missing user", "cn=x,uid=nobody,ou=users," + acmeBase, ldap.ScopeWholeSubtree, nil, ldap.NoSuchObject, usersOU},
		{"below a user", "cn=x," + aliceDN, ldap.ScopeWholeSubtree, nil, ldap.NoSuchObject, aliceDN},
		{"missing ou", "ou=nope," + acmeBase, ldap.ScopeWholeSubtree, nil, ldap.NoSuchObject, acmeBase},
		{"above the org", "dc=okta,dc=com", ldap.ScopeWholeSubtree, nil, ldap.NoSuchObject, ""},
		{"far above", "dc=com", ldap.ScopeWholeSubtree, nil, ldap.NoSuchObject, ""},
		{"another org", gBase, ldap.ScopeWholeSubtree, nil, ldap.NoSuchObject, ""},
		{"in another org", hankDN, ldap.ScopeBaseObject, nil, ldap.NoSuchObject, ""},
		{"missing in another org", "uid=x,ou=users," + gBase, ldap.ScopeBaseObject, nil, ldap.NoSuchObject, ""},
		{"unrelated", "o=example", ldap.ScopeWholeSubtree, nil, ldap.NoSuchObject, ""},
		{"invalid DN", "not a dn", ldap.ScopeWholeSubtree, nil, ldap.InvalidDNSyntax, ""},
		{"root subtree", "", ldap.ScopeWholeSubtree, nil, ldap.NoSuchObject, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := run(t, d, asAdmin, query{base: tt.base, scope: tt.scope, attrs: []string{"1.1"}})
			if code := resultCode(t, err); code != tt.code {
				t.Fatalf("result %v, want %v", err, tt.code)
			}
			if err != nil {
				if m := err.(*ldapserver.ResultError).MatchedDN; m != tt.matched {
					t.Errorf("matchedDN %q, want %q", m, tt.matched)
				}
				return
			}
			if got := dns(es); !slices.Equal(got, append([]string{}, tt.want...)) {
				t.Errorf("entries\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// filterTests run as the admin over the whole of acme.
var filterTests = []struct {
	filter string
	want   []string
}{
	{"(uid=alice@acme.example)", []string{aliceDN}},
	{"(UID=ALICE@ACME.EXAMPLE)", []string{aliceDN}},
	{"(userid= alice@acme.example )", []string{aliceDN}},
	{"(uid=bob+test@acme.example)", []string{bobDN}},
	{"(uid=o'brien@acme.example)", []string{obrDN}},
	{"(uid=carol.upper@acme.example)", []string{carolDN}},
	{"(uid~=carol.upper@acme.example)", []string{carolDN}},
	{"(uid=nobody)", nil},
	{"(mail=BOB@acme.example)", []string{bobDN}},
	{"(cn=alice l.)", []string{aliceDN}},
	{"(cn=engineering)", []string{engDN}},
	{"(objectClass=groupOfUniqueNames)", allGrps},
	{"(objectClass=organizationalUnit)", []string{usersOU, groupsOU}},
	{"(objectClass=2.5.6.6)", allUsers},
	{"(objectClass=dcObject)", []string{acmeBase}},
	{"(&(objectClass=inetOrgPerson)(memberOf=CN=Engineering,OU=Groups,dc=acme,dc=okta,dc=com))", []string{aliceDN, bobDN, carolDN}},
	{`(memberOf=cn=R&D\5c, Europe,ou=groups,dc=acme,dc=okta,dc=com)`, []string{aliceDN}},
	{"(memberOf=cn=nope,ou=groups,dc=acme,dc=okta,dc=com)", nil},
	{"(memberOf=not a dn)", nil},
	{"(uniqueMember=uid=alice@acme.example,ou=users,dc=acme,dc=okta,dc=com)", []string{engDN, allDN, rndDN}},
	{`(uniqueMember=UID=Bob\5c+Test@ACME.example, ou=users,dc=acme,dc=okta,dc=com)`, []string{engDN, allDN}},
	{"(&(objectClass=groupOfUniqueNames)(uniqueMember=" + adminDN + "))", []string{admsDN, allDN}},
	{"(|(uid=alice@acme.example)(uid=bob+test@acme.example))", []string{aliceDN, bobDN}},
	{"(|(uid=alice@acme.example)(cn=Engineering)(cn=Alice L.))", []string{aliceDN, engDN}},
	{"(|(uid=alice@acme.example)(title=Engineer))", []string{aliceDN}},
	{"(&(|(uid=alice@acme.example)(uid=sam@acme.example))(organizationalStatus=ACTIVE))", []string{aliceDN}},
	{"(&(objectClass=person)(|(uid=alice@acme.example)(uid=bob+test@acme.example)))", []string{aliceDN, bobDN}},
	{"(uid=a*)", []string{adminDN, aliceDN}},
	{"(cn=*builder)", []string{bobDN}},
	{"(title>=E)", []string{aliceDN}},
	{"(title<=E)", nil},
	{"(!(objectClass=inetOrgPerson))", slices.Concat([]string{acmeBase, usersOU, groupsOU}, allGrps)},
	{"(costCenter=cc-42)", []string{aliceDN}},
	{"(COSTCENTER=CC-7)", []string{bobDN}},
	{"(costCenter=*)", []string{aliceDN, bobDN}},
	{"(costCenter=cc*)", []string{aliceDN, bobDN}},
	{"(&(objectClass=person)(costCenter=CC-7))", []string{bobDN}},
	{"(employeeNumber=1001)", []string{aliceDN}},
	{"(userPassword=*)", nil},
	{"(userPassword=leak)", nil},
	{"(|(userPassword=leak)(uid=alice@acme.example))", []string{aliceDN}},
	{"(bogus=x)", nil},
	{"(bogus=*)", nil},
	{"(!(bogus=x))", nil},
	{"(&(objectClass=*)(bogus=x))", nil},
	{"(uniqueIdentifier=00UALICE)", []string{aliceDN}},
	{"(entryUUID=" + entryUUID(aliceID) + ")", []string{aliceDN}},
	{"(entryUUID=not-a-uuid)", nil},
	{"(organizationalStatus=SUSPENDED)", []string{samDN, susanDN}},
	{"(entryDN=uid=alice@acme.example,ou=users,dc=acme,dc=okta,dc=com)", []string{aliceDN}},
	{"(hasSubordinates=TRUE)", []string{acmeBase, usersOU, groupsOU}},
	{"(numSubordinates>=6)", []string{usersOU}},
	{"(createTimestamp>=20240301120000Z)", slices.Concat([]string{acmeBase, usersOU}, allUsers, []string{groupsOU}, allGrps)},
	{"(memberOf=*)", allUsers},
	{"(&)", slices.Concat([]string{acmeBase, usersOU}, allUsers, []string{groupsOU}, allGrps)},
	{"(|)", nil},
	{"(cn:caseExactMatch:=Engineering)", []string{engDN}},
	{"(cn:caseExactMatch:=engineering)", nil},
	{"(ou:dn:=users)", append([]string{usersOU}, allUsers...)},
	{"(:caseIgnoreMatch:=Engineering)", []string{engDN}},
	{"(mobile=+15550100)", []string{aliceDN}},
	{"(telephoneNumber=*0101)", []string{aliceDN}},
	{"(givenName=Alice)", []string{aliceDN}},
	{"(dc=acme)", []string{acmeBase}},
}

func TestSearchFilters(t *testing.T) {
	d := newDIT(t, fixture())
	for _, tt := range filterTests {
		es, err := run(t, d, asAdmin, query{base: acmeBase, scope: ldap.ScopeWholeSubtree, filter: tt.filter, attrs: []string{"1.1"}})
		if err != nil {
			t.Errorf("%s: %v", tt.filter, err)
			continue
		}
		if got := dns(es); !slices.Equal(got, append([]string{}, tt.want...)) {
			t.Errorf("%s:\n got %q\nwant %q", tt.filter, got, tt.want)
		}
	}
}

// TestPlannerAgreesWithScan checks the index plans against the plain
// definition: every entry in scope, in order, that the filter matches.
func TestPlannerAgreesWithScan(t *testing.T) {
	d := newDIT(t, fixture())
	o := d.snap.Load().orgs[acmeID]
	bases := []struct {
		base  string
		scope ldap.Scope
	}{
		{acmeBase, ldap.ScopeWholeSubtree}, {acmeBase, ldap.ScopeSingleLevel}, {usersOU, ldap.ScopeSingleLevel},
		{usersOU, ldap.ScopeWholeSubtree}, {groupsOU, ldap.ScopeWholeSubtree}, {aliceDN, ldap.ScopeBaseObject},
		{engDN, ldap.ScopeWholeSubtree},
	}
	planned := 0
	var m matcher
	for _, tt := range filterTests {
		f, _ := ldap.ParseFilter(tt.filter)
		var scratch []int32
		cands, ok, exact := o.plan(&f, &scratch)
		if ok {
			planned++
		}
		if exact { // the candidates are exactly the matches
			var want, got []int32
			for i := range o.entries {
				if f.Match(m.of(o, &o.entries[i], nil)) {
					want = append(want, int32(i))
				}
			}
			got = append(got, cands...)
			if !slices.Equal(got, want) {
				t.Errorf("%s: exact plan %v, matches %v", tt.filter, got, want)
			}
		}
		for _, b := range bases {
			es, err := run(t, d, asAdmin, query{base: b.base, scope: b.scope, filter: tt.filter, attrs: []string{"1.1"}})
			if err != nil {
				t.Fatal(err)
			}
			bi := o.pos[o.byNorm[mustNorm(t, b.base)]]
			be := &o.entries[bi]
			var want []string
			for i := range o.entries {
				e := &o.entries[i]
				in := false
				switch b.scope {
				case ldap.ScopeBaseObject:
					in = int32(i) == bi
				case ldap.ScopeSingleLevel:
					in = int32(i) > be.lo && int32(i) < be.hi && e.depth == be.depth+1
				default:
					in = int32(i) >= be.lo && int32(i) < be.hi
				}
				if in && f.Match(m.of(o, e, nil)) {
					want = append(want, e.dn)
				}
			}
			if got := dns(es); !slices.Equal(got, append([]string{}, want...)) {
				t.Errorf("%s from %s scope %d:\n got %q\nwant %q", tt.filter, b.base, b.scope, got, want)
			}
		}
	}
	if planned < 25 {
		t.Errorf("only %d of %d test filters use an index", planned, len(filterTests))
	}
}

func mustNorm(t testing.TB, dn string) string {
	n, err := ldap.NormalizeDN(dn)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSearchPlans(t *testing.T) {
	d := newDIT(t, fixture())
	o := d.snap.Load().orgs[acmeID]
	tests := []struct {
		filter string
		ok     bool
		n      int // candidates
	}{
		{"(uid=alice@acme.example)", true, 1},
		{"(objectClass=inetOrgPerson)", true, 7},
		{"(&(objectClass=inetOrgPerson)(uid=alice@acme.example))", true, 1},
		{"(&(objectClass=inetOrgPerson)(title=x))", true, 7},
		{"(&(title=x)(sn=y))", false, 0},
		{"(|(uid=alice@acme.example)(mail=bob@acme.example))", true, 2},
		{"(|(uid=alice@acme.example)(title=x))", false, 0},
		{"(uid=a*)", false, 0},
		{"(uid=*)", false, 0},
		{"(!(uid=x))", false, 0},
		{"(uid>=a)", false, 0},
		{"(cn:caseExactMatch:=x)", false, 0},
		{"(bogus=x)", true, 0},
		{"(userPassword=x)", true, 0},
		{"(costCenter=x)", false, 0},
		{"(cn;lang-en=x)", false, 0},
		{"(title=Engineer)", false, 0},
		{"(memberOf=" + engDN + ")", true, 3},
	}
	for _, tt := range tests {
		f, err := ldap.ParseFilter(tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		var scratch []int32
		c, ok, _ := o.plan(&f, &scratch)
		if ok != tt.ok || len(c) != tt.n {
			t.Errorf("%s: plan gives %d candidates, indexed=%v; want %d, %v", tt.filter, len(c), ok, tt.n, tt.ok)
		}
	}
}

func TestAccess(t *testing.T) {
	d := newDIT(t, fixture())
	asSam := as(acmeID, samID, samDN)
	asSusan := as(acmeID, susanID, susanDN)
	tests := []struct {
		name string
		who  *ldapserver.Identity
		q    query
		want []string
		code ldap.ResultCode
	}{
		{"admin sees the org", asAdmin, query{base: acmeBase, scope: ldap.ScopeWholeSubtree, filter: "(objectClass=groupOfUniqueNames)"}, allGrps, 0},
		{"org admin of globex", asHank, query{base: gBase, scope: ldap.ScopeWholeSubtree},
			[]string{gBase, "ou=users," + gBase, "uid=alice@acme.example,ou=users," + gBase, hankDN, "ou=groups," + gBase}, 0},
		{"user sees itself in a subtree", asAlice, query{base: acmeBase, scope: ldap.ScopeWholeSubtree}, []string{aliceDN}, 0},
		{"user sees itself one level down", asAlice, query{base: usersOU, scope: ldap.ScopeSingleLevel}, []string{aliceDN}, 0},
		{"user at its own base", asAlice, query{base: aliceDN}, []string{aliceDN}, 0},
		{"user, filter on itself", asAlice, query{base: acmeBase, scope: ldap.ScopeWholeSubtree, filter: "(uid=alice@acme.example)"}, []string{aliceDN}, 0},
		{"user, filter on itself not matching", asAlice, query{base: acmeBase, scope: ldap.ScopeWholeSubtree, filter: "(title=CEO)"}, nil, 0},
		{"user, filter on another user", asAlice, query{base: acmeBase, scope: ldap.ScopeWholeSubtree, filter: "(uid=bob+test@acme.example)"}, nil, 0},
		{"user, another user as base", asAlice, query{base: bobDN}, nil, 0},
		{"user, a group as base", asAlice, query{base: engDN}, nil, 0},
		{"user, groups", asAlice, query{base: groupsOU, scope: ldap.ScopeWholeSubtree}, nil, 0},
		{"user, the naming context", asAlice, query{base: acmeBase}, nil, 0},
		{"user, containers one level", asAlice, query{base: acmeBase, scope: ldap.ScopeSingleLevel}, nil, 0},
		{"user, a base that does not exist", asAlice, query{base: "ou=nope," + acmeBase}, nil, ldap.NoSuchObject},
		{"user, another org", asAlice, query{base: gBase, scope: ldap.ScopeWholeSubtree}, nil, ldap.NoSuchObject},
		{"admin, another org", asAdmin, query{base: gBase, scope: ldap.ScopeWholeSubtree}, nil, ldap.NoSuchObject},
		{"suspended user", asSam, query{base: samDN}, nil, ldap.InsufficientAccessRights},
		{"suspended super admin", asSusan, query{base: acmeBase, scope: ldap.ScopeWholeSubtree}, nil, ldap.InsufficientAccessRights},
		{"suspended user, RootDSE", asSam, query{base: ""}, nil, ldap.InsufficientAccessRights},
		{"deleted user", as(acmeID, "00ugone", "uid=gone,ou=users,"+acmeBase), query{base: acmeBase}, nil, ldap.InsufficientAccessRights},
		{"vanished org", as("00ogone", adminID, adminDN), query{base: acmeBase}, nil, ldap.InsufficientAccessRights},
		{"a principal of another org's user", as(globexID, aliceID, aliceDN), query{base: acmeBase}, nil, ldap.InsufficientAccessRights},
		{"not bound", nil, query{base: ""}, nil, ldap.InsufficientAccessRights},
		{"foreign identity", &ldapserver.Identity{DN: "cn=x", Value: "x"}, query{base: ""}, nil, ldap.InsufficientAccessRights},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := run(t, d, tt.who, tt.q)
			if code := resultCode(t, err); code != tt.code {
				t.Fatalf("result %v, want %v", err, tt.code)
			}
			if got := dns(es); err == nil && !slices.Equal(got, append([]string{}, tt.want...)) {
				t.Errorf("entries\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	// A plain user's own entry still lists its groups.
	es, err := run(t, d, asAlice, query{base: aliceDN, attrs: []string{"memberOf"}})
	if err != nil || len(es) != 1 || !slices.Equal(es[0].Attrs["memberOf"], []string{engDN, allDN, rndDN}) {
		t.Errorf("alice's memberOf: %v %v", es, err)
	}
}

// TestSearchesNeverCallTheSource: after New, searches and compares read
// only the snapshot.
func TestSearchesNeverCallTheSource(t *testing.T) {
	src := &countingSource{Source: fixture()}
	d := newDIT(t, src)
	src.n.Store(0)
	who := []*ldapserver.Identity{asAdmin, asAlice, asHank, as(acmeID, samID, samDN), nil}
	for range 20 {
		for _, w := range who {
			for _, tt := range filterTests {
				run(t, d, w, query{base: acmeBase, scope: ldap.ScopeWholeSubtree, filter: tt.filter})
			}
			run(t, d, w, query{base: ""})
			run(t, d, w, query{base: "cn=schema"})
			run(t, d, w, query{base: "uid=nobody," + usersOU})
			d.compare(w, &ldap.CompareRequest{Entry: aliceDN, Attr: "mail", Value: "alice@acme.example"})
			d.compare(w, &ldap.CompareRequest{Entry: "uid=nobody," + usersOU, Attr: "uid", Value: "x"})
		}
	}
	if n := src.n.Load(); n != 0 {
		t.Errorf("searches and compares made %d calls to the Source", n)
	}
}

func TestSearchHonoursContext(t *testing.T) {
	d := newDIT(t, bigSource(ctxEvery+10))
	admin := as("00obig", "00ubig0000000", "")
	f, _ := ldap.ParseFilter("(title=nobody)") // a scan that matches nothing
	c, err := d.search(admin, &ldap.SearchRequest{BaseObject: "dc=big,dc=okta,dc=com", Scope: ldap.ScopeWholeSubtree, Filter: f})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.next(ctx, &collector{t: t}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled scan returned %v", err)
	}
}

func TestFoldSimpleASCII(t *testing.T) {
	for _, v := range []string{"alice@acme.example", "Alice L.", "A  B", " a", "a ", "", "x\ty", "Ünï", "O'Brien", "bob+Test", "a b c", "~!#$%^&*()"} {
		var buf [64]byte
		got := foldSimpleASCII(buf[:0], v)
		if got == nil {
			continue
		}
		for _, r := range []*ldap.MatchingRule{ldap.CaseIgnoreMatch, ldap.CaseIgnoreIA5Match} {
			if want, ok := r.Normalize(v); !ok || string(got) != want {
				t.Errorf("%q: fold %q, %s.Normalize %q", v, got, r.Name, want)
			}
		}
	}
	if foldSimpleASCII(make([]byte, 0, 4), "toolong") != nil {
		t.Error("a value longer than the buffer was folded")
	}
}
