package ldap

import (
	"strings"
	"testing"
)

var testEntry = Entry{
	DN: "uid=jdoe,ou=Users,dc=acme,dc=okta,dc=com",
	Attributes: []Attribute{
		{Type: "objectClass", Values: []string{"top", "person", "organizationalPerson", "inetOrgPerson"}},
		{Type: "uid", Values: []string{"jdoe"}},
		{Type: "CN", Values: []string{"John  Doe"}},
		{Type: "cn;lang-fr", Values: []string{"Jean Dupont"}},
		{Type: "2.5.4.4", Values: []string{"Doe"}},
		{Type: "givenName", Values: []string{"John"}},
		{Type: "mail", Values: []string{"JDoe@Acme.example"}},
		{Type: "title", Values: []string{"Engineer"}},
		{Type: "organizationalStatus", Values: []string{"ACTIVE"}},
		{Type: "uidNumber", Values: []string{"1001"}},
		{Type: "mobile", Values: []string{"+1 555-0100"}},
		{Type: "entryUUID", Values: []string{"597ae2f6-16a6-1027-98f4-abcdefabcdef"}},
		{Type: "createTimestamp", Values: []string{"20240102030405Z"}},
		{Type: "hasSubordinates", Values: []string{"FALSE"}},
		{Type: "memberOf", Values: []string{"cn=admins,ou=groups,dc=acme,dc=okta,dc=com"}},
		{Type: "userPassword", Values: []string{"{SSHA}secret"}},
		{Type: "x-custom", Values: []string{"v"}},
	},
}

func TestFilterEval(t *testing.T) {
	tests := []struct {
		filter string
		want   Tristate
	}{
		// Equality per rule.
		{"(uid=JDOE)", True},
		{"(uid=jdoe2)", False},
		{"(cn=john doe)", True},
		{"(cn= John Doe )", True},
		{"(commonName=John Doe)", True},
		{"(2.5.4.3=john doe)", True},
		{"(sn=doe)", True},
		{"(surname=DOE)", True},
		{"(mail=jdoe@acme.EXAMPLE)", True},
		{"(mail=jdöe@acme.example)", Undefined},
		{"(objectClass=INETORGPERSON)", True},
		{"(objectClass=2.5.6.6)", True},
		{"(objectClass=groupOfUniqueNames)", False},
		{"(uidNumber=1001)", True},
		{"(uidNumber=01001)", Undefined},
		{"(mobile=+15550100)", True},
		{"(entryUUID=597AE2F6-16A6-1027-98F4-ABCDEFABCDEF)", True},
		{"(createTimestamp=20240102040405+0100)", True},
		{"(hasSubordinates=false)", True},
		{"(memberOf=CN=Admins, OU=Groups,DC=acme,DC=okta,DC=com)", True},
		{"(memberOf=cn=everyone,ou=groups,dc=acme,dc=okta,dc=com)", False},
		{"(cn~=JOHN DOE)", True},
		// Ordering.
		{"(uidNumber>=1000)", True},
		{"(uidNumber>=1002)", False},
		{"(uidNumber<=1001)", True},
		{"(uidNumber<=999)", False},
		{"(uidNumber>=abc)", Undefined},
		{"(createTimestamp>=20240101000000Z)", True},
		{"(createTimestamp<=20240101000000Z)", False},
		{"(sn>=c)", True},
		{"(sn<=c)", False},
		{"(mail>=a)", Undefined}, // no ordering rule
		// Substrings.
		{"(cn=jo*)", True},
		{"(cn=*DOE)", True},
		{"(cn=j*n*d*e)", True},
		{"(cn=*x*)", False},
		{"(mail=*@acme.example)", True},
		{"(mobile=*555*)", True},
		{"(uidNumber=1*)", Undefined}, // no substrings rule
		// Present.
		{"(cn=*)", True},
		{"(uid=*)", True},
		{"(description=*)", False},
		{"(bogus=*)", False},
		{"(x-custom=*)", True},
		{"(objectclass=*)", True},
		// Options.
		{"(cn=jean dupont)", True},
		{"(cn;lang-fr=jean dupont)", True},
		{"(cn;LANG-FR=jean dupont)", True},
		{"(cn;lang-fr=john doe)", False},
		{"(cn;lang-de=*)", False},
		{"(cn;lang-fr=*)", True},
		{"(cn;lang-fr=jean*)", True},
		// Unknown attribute types.
		{"(bogus=x)", Undefined},
		{"(x-custom=v)", Undefined},
		{"(bogus>=x)", Undefined},
		{"(bogus=x*)", Undefined},
		// userPassword never matches.
		{"(userPassword={SSHA}secret)", Undefined},
		{"(userPassword=*)", Undefined},
		{"(userPassword=*SSHA*)", Undefined},
		{"(2.5.4.35=*)", Undefined},
		{"(!(userPassword=x))", Undefined},
		{"(userPassword:=x)", Undefined},
		{"(:octetStringMatch:={SSHA}secret)", False},
		// Boolean logic, three-valued.
		{"(&)", True},
		{"(|)", False},
		{"(!(&))", False},
		{"(&(uid=jdoe)(sn=doe))", True},
		{"(&(uid=jdoe)(sn=smith))", False},
		{"(&(uid=jdoe)(bogus=x))", Undefined},
		{"(&(uid=nobody)(bogus=x))", False},
		{"(|(uid=nobody)(bogus=x))", Undefined},
		{"(|(uid=jdoe)(bogus=x))", True},
		{"(!(uid=jdoe))", False},
		{"(!(uid=nobody))", True},
		{"(!(bogus=x))", Undefined},
		{"(!(!(bogus=x)))", Undefined},
		{"(!(bogus=*))", True},
		{"(&(objectClass=inetOrgPerson)(|(uid=jdoe)(mail=jdoe))(!(organizationalStatus=DEPROVISIONED)))", True},
		// Extensible.
		{"(cn:caseExactMatch:=John Doe)", True},
		{"(cn:caseExactMatch:=john doe)", False},
		{"(cn:2.5.13.5:=John Doe)", True},
		{"(cn:=JOHN DOE)", True},
		{"(:caseExactMatch:=Engineer)", True},
		{"(:caseExactMatch:=engineer)", False},
		{"(:caseIgnoreMatch:=engineer)", True},
		{"(:1.3.6.1.4.1.1466.109.114.2:=jdoe@acme.example)", True},
		{"(uidNumber:integerOrderingMatch:=2000)", True},
		{"(uidNumber:integerOrderingMatch:=1001)", False},
		{`(cn:caseIgnoreSubstringsMatch:=jo\2adoe)`, True},
		{`(cn:caseIgnoreSubstringsMatch:=\2ajohn \5c2a\2a)`, False},
		{`(:caseIgnoreSubstringsMatch:=\2aDUP\2a)`, True},
		{"(cn:caseIgnoreSubstringsMatch:=jo)", Undefined},
		{"(cn:soundexMatch:=jon)", Undefined},
		{"(bogus:=x)", Undefined},
		{"(ou:dn:=users)", True},
		{"(ou:=users)", False},
		{"(dc:dn:=OKTA)", True},
		{"(:dn:caseIgnoreMatch:=USERS)", True},
		{"(:dn:caseIgnoreIA5Match:=OKTA)", True},
		{"(:dn:caseIgnoreMatch:=okta)", False}, // dc is IA5: not tested with caseIgnoreMatch
		{"(:dn:2.5.13.5:=Users)", True},
		{"(:dn:2.5.13.5:=users)", False},
		{"(:caseExactMatch:=Users)", False},
		{"(cn;lang-fr:caseExactMatch:=Jean Dupont)", True},
		{"(cn;lang-fr:caseExactMatch:=John Doe)", False},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.filter, err)
			continue
		}
		got := f.Eval(&testEntry)
		if got != tt.want {
			t.Errorf("%s: Eval = %v, want %v", tt.filter, got, tt.want)
		}
		if f.Match(&testEntry) != (tt.want == True) {
			t.Errorf("%s: Match disagrees with Eval", tt.filter)
		}
	}
}

func TestFilterEvalBadDN(t *testing.T) {
	e := Entry{DN: "not a dn", Attributes: []Attribute{{Type: "cn", Values: []string{"x"}}}}
	f := Filter{Kind: FilterExtensibleMatch, Attr: "ou", DNAttributes: true, Value: "x"}
	if got := f.Eval(&e); got != Undefined {
		t.Errorf("dnAttributes on an invalid DN = %v, want Undefined", got)
	}
	bad := Filter{Kind: FilterNot}
	if got := bad.Eval(&e); got != Undefined {
		t.Errorf("not without child = %v, want Undefined", got)
	}
}

func TestFilterEvalDoesNotAllocate(t *testing.T) {
	f, err := ParseFilter("(&(objectClass=inetOrgPerson)(|(uid=JDOE)(mail=jdoe*))(!(organizationalStatus=DEPROVISIONED))(uidNumber>=1000))")
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { f.Match(&testEntry) }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

func BenchmarkFilterMatch(b *testing.B) {
	f, err := ParseFilter("(&(objectClass=inetOrgPerson)(|(uid=jdoe)(mail=jdoe@acme.example))(!(organizationalStatus=DEPROVISIONED)))")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !f.Match(&testEntry) {
			b.Fatal("no match")
		}
	}
}

func TestFilterEvalEntryTypes(t *testing.T) {
	costCenter := &AttributeType{OID: "2.25.1", Names: []string{"costCenter"}, Equality: CaseIgnoreMatch,
		Ordering: CaseIgnoreOrderingMatch, Substring: CaseIgnoreSubstringsMatch, Syntax: SyntaxDirectoryString}
	sneaky := &AttributeType{OID: userPasswordOID, Names: []string{"secretHash"}, Equality: OctetStringMatch, Syntax: SyntaxOctetString}
	resolve := func(desc string) *AttributeType {
		typ, _ := SplitAttributeDescription(desc)
		switch {
		case strings.EqualFold(typ, "costCenter"), typ == costCenter.OID:
			return costCenter
		case strings.EqualFold(typ, "secretHash"):
			return sneaky
		case strings.EqualFold(typ, "cn"):
			return costCenter // must never override the global schema
		}
		return nil
	}
	attrs := []Attribute{
		{Type: "cn", Values: []string{"John Doe"}},
		{Type: "costCenter", Values: []string{"CC 42"}},
		{Type: "secretHash", Values: []string{"x"}},
	}
	with := Entry{DN: "uid=jdoe,dc=example", Attributes: attrs, Types: resolve}
	without := Entry{DN: "uid=jdoe,dc=example", Attributes: attrs}
	tests := []struct {
		filter        string
		with, without Tristate
	}{
		{"(costCenter=cc  42)", True, Undefined},
		{"(COSTCENTER=CC 42)", True, Undefined},
		{"(2.25.1=cc 42)", True, Undefined},
		{"(costCenter=CC 43)", False, Undefined},
		{"(costCenter=cc*)", True, Undefined},
		{"(costCenter>=CC 40)", True, Undefined},
		{"(costCenter:caseExactMatch:=CC 42)", True, Undefined},
		{"(costCenter=*)", True, True}, // presence matched by name either way
		{"(!(costCenter=CC 43))", True, Undefined},
		{"(:caseIgnoreMatch:=cc 42)", True, False},
		{"(cn=john doe)", True, True},
		{"(secretHash=x)", Undefined, Undefined},
		{"(secretHash=*)", Undefined, True},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", tt.filter, err)
		}
		if got := f.Eval(&with); got != tt.with {
			t.Errorf("%s with Types: Eval = %v, want %v", tt.filter, got, tt.with)
		}
		if got := f.Eval(&without); got != tt.without {
			t.Errorf("%s without Types: Eval = %v, want %v", tt.filter, got, tt.without)
		}
	}
	f, _ := ParseFilter("(&(costCenter=cc 42)(cn=john doe))")
	if n := testing.AllocsPerRun(100, func() { f.Match(&with) }); n != 0 {
		t.Errorf("%v allocations with a Types resolver, want 0", n)
	}
}
