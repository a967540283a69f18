package ldap

import (
	"testing"
)

func TestMatchingRuleEqual(t *testing.T) {
	tests := []struct {
		rule        *MatchingRule
		value, assn string
		want        Tristate
	}{
		{CaseIgnoreMatch, "Babs Jensen", "babs jensen", True},
		{CaseIgnoreMatch, "  Babs   Jensen ", "babs jensen", True},
		{CaseIgnoreMatch, "Babs\tJensen", "BABS JENSEN", True},
		{CaseIgnoreMatch, "BabsJensen", "babs jensen", False},
		{CaseIgnoreMatch, "Lučić", "LUČIĆ", True},
		{CaseIgnoreMatch, "Straße", "strasse", False}, // simple folding only
		{CaseIgnoreMatch, "x", "\xff", Undefined},
		{CaseIgnoreMatch, "", "", True},
		{CaseIgnoreMatch, "   ", "", True},
		{CaseExactMatch, "Fred", "Fred", True},
		{CaseExactMatch, "Fred", "fred", False},
		{CaseExactMatch, " Fred  Flint ", "Fred Flint", True},
		{CaseIgnoreIA5Match, "Jdoe@Example.COM", "jdoe@example.com", True},
		{CaseIgnoreIA5Match, "jdoe@example.com", "jdöe@example.com", Undefined},
		{CaseExactIA5Match, "/home/Jdoe", "/home/jdoe", False},
		{CaseExactIA5Match, "/home/jdoe", "/home/jdoe", True},
		{DistinguishedNameMatch, "UID=jdoe, OU=Users,dc=Example,dc=com", "uid=JDOE,ou=users,dc=example,dc=com", True},
		{DistinguishedNameMatch, "2.5.4.3=Fred,o=x", "cn=fred,o=x", True},
		{DistinguishedNameMatch, "uid=jdoe,dc=com", "uid=jdoe,dc=org", False},
		{DistinguishedNameMatch, "uid=jdoe,dc=com", "not a dn", Undefined},
		{UniqueMemberMatch, "uid=a,dc=x", "UID=A,DC=X", True},
		{IntegerMatch, "1000", "1000", True},
		{IntegerMatch, "-5", "-5", True},
		{IntegerMatch, "1000", "100", False},
		{IntegerMatch, "1000", "01000", Undefined},
		{IntegerMatch, "1000", "-0", Undefined},
		{IntegerMatch, "1000", "1e3", Undefined},
		{IntegerMatch, "1000", "", Undefined},
		{OctetStringMatch, "{SSHA}x", "{SSHA}x", True},
		{OctetStringMatch, "abc", "ABC", False},
		{BooleanMatch, "TRUE", "true", True},
		{BooleanMatch, "FALSE", "TRUE", False},
		{BooleanMatch, "TRUE", "yes", Undefined},
		{GeneralizedTimeMatch, "20240102030405Z", "20240102040405+0100", True},
		{GeneralizedTimeMatch, "20240102030405Z", "20240102030405.0Z", True},
		{GeneralizedTimeMatch, "202401020304Z", "20240102030400Z", True},
		{GeneralizedTimeMatch, "2024010203Z", "2024010203,5Z", False},
		{GeneralizedTimeMatch, "2024010203.5Z", "202401020330Z", True},
		{GeneralizedTimeMatch, "20240102030405Z", "20240102030406Z", False},
		{GeneralizedTimeMatch, "20240102030405Z", "20240231030405Z", Undefined},
		{GeneralizedTimeMatch, "20240102030405Z", "20240102030405", Undefined},
		{GeneralizedTimeMatch, "20240102030405Z", "2024-01-02", Undefined},
		{NumericStringMatch, "123 456", "123456", True},
		{NumericStringMatch, "123 456", "12345", False},
		{NumericStringMatch, "123", "12a", Undefined},
		{UUIDMatch, "597AE2F6-16A6-1027-98F4-ABCDEFABCDEF", "597ae2f6-16a6-1027-98f4-abcdefabcdef", True},
		{UUIDMatch, "597ae2f6-16a6-1027-98f4-abcdefabcdef", "597ae2f6-16a6-1027-98f4-abcdefabcde0", False},
		{UUIDMatch, "597ae2f6-16a6-1027-98f4-abcdefabcdef", "597ae2f616a6102798f4abcdefabcdef", Undefined},
		{ObjectIdentifierMatch, "inetOrgPerson", "INETORGPERSON", True},
		{ObjectIdentifierMatch, "person", "2.5.6.6", True},
		{ObjectIdentifierMatch, "2.5.6.6", "Person", True},
		{ObjectIdentifierMatch, "person", "groupOfUniqueNames", False},
		{ObjectIdentifierMatch, "fooClass", "FOOCLASS", True},
		{ObjectIdentifierMatch, "person", "2..5", Undefined},
		{ObjectIdentifierMatch, "person", "per son", Undefined},
		{TelephoneNumberMatch, "+1 555-0100", "+15550100", True},
		{TelephoneNumberMatch, "+1 555-0100", "+15550101", False},
	}
	for _, tt := range tests {
		if got := tt.rule.equal(tt.value, tt.assn); got != tt.want {
			t.Errorf("%s(%q, %q) = %v, want %v", tt.rule.Name, tt.value, tt.assn, got, tt.want)
		}
	}
}

func TestMatchingRuleCompare(t *testing.T) {
	tests := []struct {
		rule *MatchingRule
		a, b string
		want int
		ok   bool
	}{
		{IntegerOrderingMatch, "9", "10", -1, true},
		{IntegerOrderingMatch, "-9", "-10", 1, true},
		{IntegerOrderingMatch, "-1", "0", -1, true},
		{IntegerOrderingMatch, "0", "-1", 1, true},
		{IntegerOrderingMatch, "123456789012345678901234567890", "123456789012345678901234567891", -1, true},
		{IntegerOrderingMatch, "5", "5", 0, true},
		{IntegerOrderingMatch, "5", "x", 0, false},
		{CaseIgnoreOrderingMatch, "apple", "Banana", -1, true},
		{CaseIgnoreOrderingMatch, "B", "a", 1, true},
		{CaseExactOrderingMatch, "B", "a", -1, true},
		{GeneralizedTimeOrdering, "20240102030405Z", "20240102030405-0100", -1, true},
		{GeneralizedTimeOrdering, "20250101000000Z", "20241231235959.999Z", 1, true},
		{GeneralizedTimeOrdering, "19991231235959Z", "20000101000000+0100", 1, true},
		{NumericStringOrderingMatch, "0 12", "011", 1, true},
		{UUIDOrderingMatch, "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-00000000000A", -1, true},
	}
	for _, tt := range tests {
		got, ok := tt.rule.Compare(tt.a, tt.b)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s.Compare(%q, %q) = %d, %v; want %d, %v", tt.rule.Name, tt.a, tt.b, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMatchingRuleSubstrings(t *testing.T) {
	tests := []struct {
		rule  *MatchingRule
		value string
		parts []Substring
		want  Tristate
	}{
		{CaseIgnoreSubstringsMatch, "Babs Jensen", []Substring{{SubInitial, "babs j"}}, True},
		{CaseIgnoreSubstringsMatch, "Babs  Jensen", []Substring{{SubInitial, "babs j"}}, True},
		{CaseIgnoreSubstringsMatch, "Babs Jensen", []Substring{{SubInitial, "  babs "}, {SubFinal, "sen "}}, True},
		{CaseIgnoreSubstringsMatch, "University of Michigan", []Substring{{SubInitial, "univ"}, {SubAny, "of"}, {SubAny, "mich"}}, True},
		{CaseIgnoreSubstringsMatch, "University of Michigan", []Substring{{SubInitial, "univ"}, {SubAny, "mich"}, {SubAny, "of"}}, False},
		{CaseIgnoreSubstringsMatch, "aXa", []Substring{{SubInitial, "a"}, {SubFinal, "a"}}, True},
		{CaseIgnoreSubstringsMatch, "a", []Substring{{SubInitial, "a"}, {SubFinal, "a"}}, False},
		{CaseIgnoreSubstringsMatch, "foo bar", []Substring{{SubAny, "o b"}}, True},
		{CaseIgnoreSubstringsMatch, "foobar", []Substring{{SubAny, "o b"}}, False},
		{CaseIgnoreSubstringsMatch, "x", []Substring{{SubAny, ""}}, True},
		{CaseIgnoreSubstringsMatch, "x", []Substring{{SubAny, "\xff"}}, Undefined},
		{CaseExactSubstringsMatch, "Fred", []Substring{{SubInitial, "fr"}}, False},
		{CaseExactSubstringsMatch, "Fred", []Substring{{SubInitial, "Fr"}}, True},
		{CaseIgnoreIA5Substrings, "JDoe@Example.com", []Substring{{SubFinal, "@EXAMPLE.COM"}}, True},
		{TelephoneNumberSubstrings, "+1 555-0100", []Substring{{SubAny, "5550"}}, True},
		{NumericStringSubstringsMatch, "12 34", []Substring{{SubAny, "2 3"}}, True},
	}
	for _, tt := range tests {
		if got := tt.rule.substrings(tt.value, tt.parts); got != tt.want {
			t.Errorf("%s(%q, %v) = %v, want %v", tt.rule.Name, tt.value, tt.parts, got, tt.want)
		}
	}
}

func TestLookupMatchingRule(t *testing.T) {
	tests := []struct {
		in   string
		want *MatchingRule
	}{
		{"caseExactMatch", CaseExactMatch},
		{"CASEEXACTMATCH", CaseExactMatch},
		{"2.5.13.5", CaseExactMatch},
		{"1.3.6.1.4.1.1466.109.114.2", CaseIgnoreIA5Match},
		{"generalizedTimeOrderingMatch", GeneralizedTimeOrdering},
		{"uuidMatch", UUIDMatch},
		{"soundexMatch", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := LookupMatchingRule(tt.in); got != tt.want {
			t.Errorf("LookupMatchingRule(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		rule     *MatchingRule
		in, want string
		ok       bool
	}{
		{CaseIgnoreMatch, "  Foo \t BAR ", "foo bar", true},
		{CaseExactMatch, "  Foo  BAR", "Foo BAR", true},
		{GeneralizedTimeMatch, "20240102030405.5+0130", "20240102013405.500000000Z", true},
		{ObjectIdentifierMatch, "cn", "2.5.4.3", true},
		{ObjectIdentifierMatch, "caseIgnoreMatch", "2.5.13.2", true},
		{BooleanMatch, "maybe", "", false},
	}
	for _, tt := range tests {
		got, ok := tt.rule.Normalize(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s.Normalize(%q) = %q, %v; want %q, %v", tt.rule.Name, tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestEqualDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		CaseIgnoreMatch.equal("Babs Jensen", "babs jensen")
		CaseIgnoreMatch.equal("  Lučić ", "LUČIĆ")
		CaseIgnoreSubstringsMatch.substrings("University of Michigan", []Substring{{SubInitial, "univ"}, {SubAny, "of"}})
		IntegerOrderingMatch.Compare("1000", "999")
		GeneralizedTimeMatch.equal("20240102030405Z", "20240102040405+0100")
	})
	if allocs != 0 {
		t.Errorf("%v allocations, want 0", allocs)
	}
}
