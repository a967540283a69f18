package dirldif

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/store"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// ssha returns an {SSHA} hash of pw with salt, as slapd stores it.
func ssha(pw, salt string) string {
	h := sha1.Sum([]byte(pw + salt))
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h[:], salt...))
}

// fakeHash marks cleartext passwords so tests can see they were hashed.
func fakeHash(pw []byte) (string, error) { return "HASHED(" + string(pw) + ")", nil }

func read(t *testing.T, in string, o Options) *Batch {
	t.Helper()
	if o.Hash == nil {
		o.Hash = fakeHash
	}
	b, err := Read(strings.NewReader(in), o)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return b
}

func reasons(list []directory.Skipped) string {
	var s []string
	for _, x := range list {
		s = append(s, x.Source+": "+x.Reason)
	}
	return strings.Join(s, "\n")
}

var sshaAlice = ssha("alice-pw", "salt1234")

// slapcatLDIF is what slapcat writes for a small tree: the suffix, ou
// containers, the rootdn's organizationalRole, users with operational
// attributes, base64 values (userPassword always; a non-ASCII name), an
// escaped DN, a folded line, and groups of both kinds.
var slapcatLDIF = `version: 1

dn: dc=corp,dc=example
objectClass: top
objectClass: dcObject
objectClass: organization
o: Corp
dc: corp
structuralObjectClass: organization
entryUUID: 3b2b2f5e-6f0c-103e-8a1b-7d6c2a4c1c11
creatorsName: cn=admin,dc=corp,dc=example
createTimestamp: 20240101120000Z
entryCSN: 20240101120000.000000Z#000000#000#000000
modifiersName: cn=admin,dc=corp,dc=example
modifyTimestamp: 20240101120000Z

dn: cn=admin,dc=corp,dc=example
objectClass: simpleSecurityObject
objectClass: organizationalRole
cn: admin
userPassword:: ` + b64(ssha("root", "xx")) + `

dn: ou=people,dc=corp,dc=example
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,dc=corp,dc=example
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
uid: alice
cn: Alice Anders
sn: Anders
givenName: Alice
mail: alice@corp.example
title: Staff Engineer
departmentNumber: Engineering
telephoneNumber: +1 555 0100
mobile: +1 555 0101
o: Corp
employeeNumber: 42
userPassword:: ` + b64(sshaAlice) + `
memberOf: cn=eng,ou=groups,dc=corp,dc=example
structuralObjectClass: inetOrgPerson
entryUUID: 3b2b2f5e-6f0c-103e-8a1b-7d6c2a4c1c12
createTimestamp: 20240101120000Z
entryCSN: 20240101120000.000000Z#000000#000#000000
modifiersName: cn=admin,dc=corp,dc=example

dn: uid=pat\+test@example.com,ou=people,dc=corp,dc=example
objectClass: inetOrgPerson
uid: pat+test@example.com
cn: Pat Test
sn: Test
displayName:: ` + b64("Pät Tëst") + `
description: a long description that slapcat folds because it is longer th
 an seventy-six columns in all
userPassword: plain-secret

dn: cn=Bob Builder,ou=people,dc=corp,dc=example
objectClass: inetOrgPerson
cn: Bob Builder
sn: Builder
givenName: Bob
ou: Construction
organizationalStatus: suspended
userPassword:: ` + b64("{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==") + `

dn: cn=eng,ou=groups,dc=corp,dc=example
objectClass: groupOfUniqueNames
cn: eng
description: Engineers
uniqueMember: uid=alice,ou=people,dc=corp,dc=example
uniqueMember: uid=PAT\+TEST@example.com,ou=people,dc=corp,dc=example#'0101'B
uniqueMember: cn=Bob Builder,ou=people,dc=corp,dc=example
uniqueMember: uid=zoe,ou=people,dc=corp,dc=example
uniqueMember: cn=staff,ou=groups,dc=corp,dc=example
uniqueMember: cn=Nobody,ou=people,dc=corp,dc=example

dn: cn=staff,ou=groups,dc=corp,dc=example
objectClass: groupOfNames
cn: staff
member: uid=alice,ou=people,dc=corp,dc=example
member: uid=alice,ou=people,dc=corp,dc=example

dn: cn=unix,ou=groups,dc=corp,dc=example
objectClass: posixGroup
cn: unix
gidNumber: 5000
memberUid: alice
memberUid: carol

`

func TestReadSlapcat(t *testing.T) {
	b := read(t, slapcatLDIF, Options{})
	if b.Entries != 9 {
		t.Errorf("Entries = %d, want 9", b.Entries)
	}

	wantUsers := []directory.ImportUser{
		{Source: "line 27: uid=alice,ou=people,dc=corp,dc=example", UserInput: directory.UserInput{
			Status: "ACTIVE", PasswordHash: sshaAlice,
			Profile: directory.Profile{Login: "alice", Email: "alice@corp.example", FirstName: "Alice", LastName: "Anders",
				Title: "Staff Engineer", Department: "Engineering", PrimaryPhone: "+1 555 0100", MobilePhone: "+1 555 0101", Organization: "Corp"},
		}},
		{Source: `line 51: uid=pat\+test@example.com,ou=people,dc=corp,dc=example`, UserInput: directory.UserInput{
			Status: "ACTIVE", PasswordHash: "HASHED(plain-secret)",
			Profile: directory.Profile{Login: "pat+test@example.com", LastName: "Test", DisplayName: "Pät Tëst"},
		}},
		{Source: "line 61: cn=Bob Builder,ou=people,dc=corp,dc=example", UserInput: directory.UserInput{
			Status:  "SUSPENDED", // kept, though {MD5} is not supported and so it has no password
			Profile: directory.Profile{Login: "Bob Builder", FirstName: "Bob", LastName: "Builder", Department: "Construction"},
		}},
	}
	if !reflect.DeepEqual(b.Users, wantUsers) {
		t.Errorf("users:\n got %+v\nwant %+v", b.Users, wantUsers)
	}

	wantGroups := []directory.ImportGroup{
		{Source: "line 70: cn=eng,ou=groups,dc=corp,dc=example", GroupInput: directory.GroupInput{Name: "eng", Description: "Engineers"},
			MemberLogins: []string{"alice", "pat+test@example.com", "Bob Builder", "zoe"}},
		{Source: "line 81: cn=staff,ou=groups,dc=corp,dc=example", GroupInput: directory.GroupInput{Name: "staff"},
			MemberLogins: []string{"alice"}},
		{Source: "line 87: cn=unix,ou=groups,dc=corp,dc=example", GroupInput: directory.GroupInput{Name: "unix"},
			MemberLogins: []string{"alice", "carol"}},
	}
	if !reflect.DeepEqual(b.Groups, wantGroups) {
		t.Errorf("groups:\n got %+v\nwant %+v", b.Groups, wantGroups)
	}

	skipped := reasons(b.Skipped)
	for _, want := range []string{
		"line 3: dc=corp,dc=example: container entry (top, dcObject, organization)",
		"line 17: cn=admin,dc=corp,dc=example: objectClass simpleSecurityObject, organizationalRole is neither a user",
		"line 23: ou=people,dc=corp,dc=example: container entry (organizationalUnit)",
	} {
		if !strings.Contains(skipped, want) {
			t.Errorf("skipped list lacks %q:\n%s", want, skipped)
		}
	}
	if len(b.Skipped) != 3 {
		t.Errorf("%d skipped, want 3:\n%s", len(b.Skipped), skipped)
	}
	notes := reasons(b.Notes)
	for _, want := range []string{
		"line 61: cn=Bob Builder,ou=people,dc=corp,dc=example: userPassword in scheme {MD5} is not supported",
		"line 70: cn=eng,ou=groups,dc=corp,dc=example: member cn=staff,ou=groups,dc=corp,dc=example is a group",
		"member cn=Nobody,ou=people,dc=corp,dc=example is not a user of this file and has no uid= RDN",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes+skipped, "alice-pw") || strings.Contains(notes+skipped, "plain-secret") {
		t.Error("a password in the report")
	}
	wantIgnored := map[string]int{"employeeNumber": 1, "description": 1, "gidNumber": 1}
	if !reflect.DeepEqual(b.IgnoredAttrs, wantIgnored) {
		t.Errorf("IgnoredAttrs = %v, want %v", b.IgnoredAttrs, wantIgnored)
	}
	if got := b.Ignored(); !slices.Equal(got, []string{"description (1 entries)", "employeeNumber (1 entries)", "gidNumber (1 entries)"}) {
		t.Errorf("Ignored() = %v", got)
	}
}

// TestUserMapping checks one attribute rule per case.
func TestUserMapping(t *testing.T) {
	org := &directory.Org{Name: "acme", Suffix: "dc=okta,dc=com", CustomAttributes: []string{"costCenter"}}
	tests := []struct {
		name  string
		entry string
		check func(t *testing.T, u directory.ImportUser)
	}{
		{"uid wins over RDN", "dn: cn=X Y,dc=x\nobjectClass: inetOrgPerson\nuid: xy\ncn: X Y\nsn: Y\n", func(t *testing.T, u directory.ImportUser) {
			want(t, u.Profile.Login, "xy")
		}},
		{"of several uids the RDN's", "dn: uid=b,dc=x\nobjectClass: inetOrgPerson\nuid: a\nuid: b\nsn: s\n", func(t *testing.T, u directory.ImportUser) {
			want(t, u.Profile.Login, "b")
		}},
		{"posixAccount with uid", "dn: uid=p,dc=x\nobjectClass: account\nobjectClass: posixAccount\nuid: p\ncn: p\nuidNumber: 1\nhomeDirectory: /home/p\n", func(t *testing.T, u directory.ImportUser) {
			want(t, u.Profile.Login, "p")
		}},
		{"person with uid", "dn: cn=q,dc=x\nobjectClass: person\nuid: q\ncn: q\nsn: Q\n", func(t *testing.T, u directory.ImportUser) {
			want(t, u.Profile.Login, "q")
			want(t, u.Profile.LastName, "Q")
		}},
		{"department from department", "dn: uid=d,dc=x\nobjectClass: inetOrgPerson\nuid: d\nsn: s\ndepartment: Ops\nou: Other\n", func(t *testing.T, u directory.ImportUser) {
			want(t, u.Profile.Department, "Ops")
		}},
		{"cn as display name", "dn: uid=c,dc=x\nobjectClass: inetOrgPerson\nuid: c\ncn: Dr. C\nsn: C\n", func(t *testing.T, u directory.ImportUser) {
			want(t, u.Profile.DisplayName, "Dr. C")
		}},
		{"cn equal to first last is no display name", "dn: uid=c,dc=x\nobjectClass: inetOrgPerson\nuid: c\ncn: Cee Dee\ngivenName: Cee\nsn: Dee\n", func(t *testing.T, u directory.ImportUser) {
			want(t, u.Profile.DisplayName, "")
		}},
		{"sn equal to login is a placeholder", "dn: uid=c,dc=x\nobjectClass: inetOrgPerson\nuid: c\ncn: c\nsn: c\n", func(t *testing.T, u directory.ImportUser) {
			want(t, u.Profile.LastName, "")
		}},
		{"status kept with a hash", "dn: uid=s,dc=x\nobjectClass: inetOrgPerson\nuid: s\nsn: s\norganizationalStatus: DEPROVISIONED\nuserPassword: {SSHA}" + strings.TrimPrefix(ssha("x", "abcd"), "{SSHA}") + "\n", func(t *testing.T, u directory.ImportUser) {
			want(t, u.Status, "DEPROVISIONED")
		}},
		{"unknown status is ACTIVE", "dn: uid=s,dc=x\nobjectClass: inetOrgPerson\nuid: s\nsn: s\norganizationalStatus: Contractor\n", func(t *testing.T, u directory.ImportUser) {
			want(t, u.Status, "ACTIVE")
		}},
		{"STAGED kept without a password", "dn: uid=s,dc=x\nobjectClass: inetOrgPerson\nuid: s\nsn: s\norganizationalStatus: staged\n", func(t *testing.T, u directory.ImportUser) {
			want(t, u.Status, "STAGED")
		}},
		{"custom attribute declared by the org", "dn: uid=k,dc=x\nobjectClass: inetOrgPerson\nuid: k\nsn: k\ncostcenter: 1234\n", func(t *testing.T, u directory.ImportUser) {
			want(t, u.Profile.Custom["costCenter"], "1234")
		}},
		{"roles and type", "dn: uid=svc,dc=x\nobjectClass: inetOrgPerson\nuid: svc\nsn: svc\ndirgateRole: READ_ONLY_ADMIN\ndirgateUserType: service_account\n", func(t *testing.T, u directory.ImportUser) {
			if !slices.Equal(u.Roles, []string{"READ_ONLY_ADMIN"}) || !u.ServiceAccount {
				t.Errorf("roles %v service %v", u.Roles, u.ServiceAccount)
			}
		}},
		{"supported hash first, others ignored", "dn: uid=h,dc=x\nobjectClass: inetOrgPerson\nuid: h\nsn: h\nuserPassword: {MD5}abc\nuserPassword: " + sshaAlice + "\n", func(t *testing.T, u directory.ImportUser) {
			want(t, u.PasswordHash, sshaAlice)
		}},
		{"attribute options dropped", "dn: uid=o,dc=x\nobjectClass: inetOrgPerson\nuid: o\nsn: o\ntitle;lang-en: Boss\nuserPassword;binary: " + sshaAlice + "\n", func(t *testing.T, u directory.ImportUser) {
			want(t, u.Profile.Title, "Boss")
			want(t, u.PasswordHash, sshaAlice)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := read(t, tc.entry, Options{Org: org})
			if len(b.Users) != 1 {
				t.Fatalf("%d users; skipped:\n%s", len(b.Users), reasons(b.Skipped))
			}
			tc.check(t, b.Users[0])
		})
	}
}

func want(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSkipped(t *testing.T) {
	tests := []struct{ name, entry, reason string }{
		{"no objectClass", "dn: uid=a,dc=x\nuid: a\n", "no objectClass"},
		{"person without uid", "dn: cn=a,dc=x\nobjectClass: person\ncn: a\nsn: a\n", "without a uid"},
		{"inetOrgPerson with an ou RDN and no uid", "dn: ou=a,dc=x\nobjectClass: inetOrgPerson\nsn: a\n", "no login"},
		{"device", "dn: cn=printer,dc=x\nobjectClass: device\ncn: printer\n", "objectClass device is neither"},
		{"root DSE", "dn:\nobjectClass: top\n", "root DSE"},
		{"bad DN", "dn: uid=a,,dc=x\nobjectClass: inetOrgPerson\nuid: a\n", "the DN is not valid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := read(t, tc.entry, Options{})
			if len(b.Users)+len(b.Groups) != 0 || len(b.Skipped) != 1 || !strings.Contains(b.Skipped[0].Reason, tc.reason) {
				t.Fatalf("users %d groups %d skipped %q; want one skipped with %q", len(b.Users), len(b.Groups), reasons(b.Skipped), tc.reason)
			}
		})
	}
}

func TestReadSyntaxError(t *testing.T) {
	_, err := Read(strings.NewReader("dn: uid=a,dc=x\nobjectClass: inetOrgPerson\nchangetype: delete\n"), Options{Hash: fakeHash})
	if err == nil || !strings.Contains(err.Error(), "line") {
		t.Fatalf("err = %v, want a parse error naming the line", err)
	}
}

func TestProgress(t *testing.T) {
	var calls []int
	read(t, slapcatLDIF, Options{Progress: func(n int) { calls = append(calls, n) }})
	if len(calls) != 9 || calls[8] != 9 {
		t.Errorf("progress calls %v", calls)
	}
}

// TestCleartextHashed uses the real default hasher (with cheap
// parameters): the result must verify.
func TestCleartextHashed(t *testing.T) {
	h := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1})
	b := read(t, "dn: uid=a,dc=x\nobjectClass: inetOrgPerson\nuid: a\nsn: a\nuserPassword: hunter2\n", Options{Hash: h.Hash})
	ok, err := h.Verify(t.Context(), b.Users[0].PasswordHash, []byte("hunter2"))
	if !ok || err != nil {
		t.Fatalf("hash %q does not verify: %v %v", b.Users[0].PasswordHash, ok, err)
	}
}

// orgData is a small org as directory.LoadOrg returns it.
func orgData() *directory.OrgData {
	org := &directory.Org{ID: "00o1", Name: "example", Suffix: "dc=okta,dc=com", CustomAttributes: []string{"costCenter"}}
	now := time.Unix(1700000000, 0).UTC()
	argon := "{ARGON2}$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$" + strings.Repeat("A", 43)
	users := []*directory.User{
		{ID: "00u1", Status: "ACTIVE", Type: store.TypePerson, PasswordHash: sshaAlice, Created: now,
			Profile: directory.Profile{Login: "alice", Email: "alice@example.com", FirstName: "Alice", LastName: "Anders",
				Title: "Engineer", Department: "Engineering", Organization: "Example", PrimaryPhone: "+1 555", MobilePhone: "+1 556",
				NickName: "Al", Custom: map[string]string{"costCenter": "42"}}},
		{ID: "00u2", Status: "SUSPENDED", Type: store.TypePerson, PasswordHash: argon,
			Profile: directory.Profile{Login: "björn+x@example.com", DisplayName: " Björn, the \"B\" ", FirstName: "Björn"}},
		{ID: "00u3", Status: "ACTIVE", Type: store.TypeServiceAccount, PasswordHash: sshaAlice, Roles: []string{"READ_ONLY_ADMIN"},
			Profile: directory.Profile{Login: "ldap-bind"}},
		{ID: "00u4", Status: "STAGED", Type: store.TypePerson, Roles: []string{"ORG_ADMIN", "SUPER_ADMIN"},
			Profile: directory.Profile{Login: "new", LastName: "Newman"}},
	}
	groups := []*directory.Group{
		{ID: "00g1", Name: "eng", Description: "Engineers"},
		{ID: "00g2", Name: "a, b + c"},
		{ID: "00g3", Name: "empty"},
	}
	return &directory.OrgData{Org: org, Users: users, Groups: groups, Memberships: []store.Membership{
		{GroupID: "00g1", UserID: "00u1"}, {GroupID: "00g1", UserID: "00u2"},
		{GroupID: "00g2", UserID: "00u2"}, {GroupID: "00g2", UserID: "00u3"},
	}}
}

func TestRoundTrip(t *testing.T) {
	od := orgData()
	var buf bytes.Buffer
	if err := Write(&buf, od); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "version: 1\n") {
		t.Errorf("no version line:\n%s", out)
	}
	for _, wantLine := range []string{
		"dn: uid=alice,ou=users,dc=example,dc=okta,dc=com\n",
		"dn: cn=a\\, b \\+ c,ou=groups,dc=example,dc=okta,dc=com\n",
		"uniqueMember: uid=alice,ou=users,dc=example,dc=okta,dc=com\n",
		"dirgateRole: READ_ONLY_ADMIN\n",
		"dirgateUserType: service_account\n",
		"costCenter: 42\n",
	} {
		if !strings.Contains(out, wantLine) {
			t.Errorf("export lacks %q:\n%s", wantLine, out)
		}
	}

	b, err := Read(strings.NewReader(out), Options{Org: od.Org, Hash: func([]byte) (string, error) {
		t.Error("a cleartext password in the export")
		return "", nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Skipped) != 3 { // the naming context, ou=users, ou=groups
		t.Errorf("skipped:\n%s", reasons(b.Skipped))
	}
	if len(b.Notes) != 0 || len(b.IgnoredAttrs) != 0 {
		t.Errorf("notes:\n%s\nignored: %v", reasons(b.Notes), b.IgnoredAttrs)
	}
	if len(b.Users) != len(od.Users) {
		t.Fatalf("%d users back, want %d", len(b.Users), len(od.Users))
	}
	for i, u := range od.Users {
		got := b.Users[i]
		wantIn := directory.UserInput{
			Profile: u.Profile, PasswordHash: u.PasswordHash, Status: u.Status,
			ServiceAccount: u.Type == store.TypeServiceAccount, Roles: u.Roles,
		}
		got.Source = ""
		if !reflect.DeepEqual(got.UserInput, wantIn) {
			t.Errorf("user %s:\n got %+v\nwant %+v", u.Profile.Login, got.UserInput, wantIn)
		}
	}
	wantMembers := map[string][]string{
		"eng":      {"alice", "björn+x@example.com"},
		"a, b + c": {"björn+x@example.com", "ldap-bind"},
		"empty":    nil,
	}
	if len(b.Groups) != 3 {
		t.Fatalf("%d groups", len(b.Groups))
	}
	for _, g := range b.Groups {
		if !slices.Equal(g.MemberLogins, wantMembers[g.Name]) {
			t.Errorf("group %q members %v, want %v", g.Name, g.MemberLogins, wantMembers[g.Name])
		}
	}
	if b.Groups[0].Description != "Engineers" {
		t.Errorf("description %q", b.Groups[0].Description)
	}
}

// TestRecordsShape checks the entries Write makes for LDAP clients and
// slapadd: objectClasses, the person MUST attributes, DN escaping.
func TestRecordsShape(t *testing.T) {
	recs := Records(orgData())
	if len(recs) != 3+4+3 {
		t.Fatalf("%d records", len(recs))
	}
	get := func(i int, typ string) []string {
		for _, a := range recs[i].Attrs {
			if a.Type == typ {
				return a.Values
			}
		}
		return nil
	}
	if got := get(0, "objectClass"); !slices.Equal(got, []string{"top", "dcObject", "organization"}) {
		t.Errorf("suffix objectClass %v", got)
	}
	if recs[4].DN != `uid=björn\+x@example.com,ou=users,dc=example,dc=okta,dc=com` {
		t.Errorf("DN %q", recs[4].DN)
	}
	for i, tc := range []struct{ cn, sn string }{
		{"Alice Anders", "Anders"}, {` Björn, the "B" `, "björn+x@example.com"}, {"ldap-bind", "ldap-bind"}, {"Newman", "Newman"},
	} {
		r := 3 + i
		if got := get(r, "cn"); !slices.Equal(got, []string{tc.cn}) {
			t.Errorf("%s cn %v, want %q", recs[r].DN, got, tc.cn)
		}
		if got := get(r, "sn"); !slices.Equal(got, []string{tc.sn}) {
			t.Errorf("%s sn %v, want %q", recs[r].DN, got, tc.sn)
		}
		if get(r, "userPassword") == nil && i != 3 {
			t.Errorf("%s has no userPassword", recs[r].DN)
		}
	}
	if got := get(9, "uniqueMember"); got != nil {
		t.Errorf("empty group has members %v", got)
	}
	if UserDN(orgData().Org, "a,b") != `uid=a\,b,ou=users,dc=example,dc=okta,dc=com` || GroupDN(orgData().Org, "x") != "cn=x,ou=groups,dc=example,dc=okta,dc=com" {
		t.Error("UserDN/GroupDN")
	}
}

// TestLarge reads a generated file of the shape test/interop uses, to
// check nothing is quadratic in the number of entries or members.
func TestLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var sb strings.Builder
	const n = 20000
	for i := range n {
		fmt.Fprintf(&sb, "dn: uid=u%d,ou=users,dc=big\nobjectClass: inetOrgPerson\nuid: u%d\nsn: %d\nuserPassword:: %s\n\n", i, i, i, b64(sshaAlice))
	}
	for g := range n / 50 {
		fmt.Fprintf(&sb, "dn: cn=g%d,ou=groups,dc=big\nobjectClass: groupOfUniqueNames\ncn: g%d\n", g, g)
		for m := range 50 {
			fmt.Fprintf(&sb, "uniqueMember: uid=u%d,ou=users,dc=big\n", g*50+m)
		}
		sb.WriteString("\n")
	}
	b := read(t, sb.String(), Options{})
	if len(b.Users) != n || len(b.Groups) != n/50 || len(b.Groups[0].MemberLogins) != 50 {
		t.Fatalf("%d users %d groups", len(b.Users), len(b.Groups))
	}
}
