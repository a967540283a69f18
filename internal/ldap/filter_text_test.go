package ldap

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/ber"
)

func eq(a, v string) Filter  { return Filter{Kind: FilterEquality, Attr: a, Value: v} }
func pres(a string) Filter   { return Filter{Kind: FilterPresent, Attr: a} }
func and(c ...Filter) Filter { return Filter{Kind: FilterAnd, Children: c} }
func or(c ...Filter) Filter  { return Filter{Kind: FilterOr, Children: c} }
func not(c Filter) Filter    { return Filter{Kind: FilterNot, Children: []Filter{c}} }
func subs(a string, parts ...Substring) Filter {
	return Filter{Kind: FilterSubstrings, Attr: a, Substrings: parts}
}
func ext(attr, rule string, dn bool, v string) Filter {
	return Filter{Kind: FilterExtensibleMatch, Attr: attr, MatchingRule: rule, DNAttributes: dn, Value: v}
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in   string
		want Filter
		str  string // canonical String(); empty means in itself
	}{
		// RFC 4515 §4, every example.
		{"(cn=Babs Jensen)", eq("cn", "Babs Jensen"), ""},
		{"(!(cn=Tim Howes))", not(eq("cn", "Tim Howes")), ""},
		{"(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))",
			and(eq("objectClass", "Person"), or(eq("sn", "Jensen"), subs("cn", Substring{SubInitial, "Babs J"}))), ""},
		{"(o=univ*of*mich*)", subs("o", Substring{SubInitial, "univ"}, Substring{SubAny, "of"}, Substring{SubAny, "mich"}), ""},
		{"(seeAlso=)", eq("seeAlso", ""), ""},
		{"(cn:caseExactMatch:=Fred Flintstone)", ext("cn", "caseExactMatch", false, "Fred Flintstone"), ""},
		{"(cn:=Betty Rubble)", ext("cn", "", false, "Betty Rubble"), ""},
		{"(sn:dn:2.4.6.8.10:=Barney Rubble)", ext("sn", "2.4.6.8.10", true, "Barney Rubble"), ""},
		{"(o:dn:=Ace Industry)", ext("o", "", true, "Ace Industry"), ""},
		{"(:1.2.3:=Wilma Flintstone)", ext("", "1.2.3", false, "Wilma Flintstone"), ""},
		{"(:DN:2.4.6.8.10:=Dino)", ext("", "2.4.6.8.10", true, "Dino"), "(:dn:2.4.6.8.10:=Dino)"},
		{"(o=Parens R Us \\28for all your parenthetical needs\\29)", eq("o", "Parens R Us (for all your parenthetical needs)"), ""},
		{"(cn=*\\2A*)", subs("cn", Substring{SubAny, "*"}), "(cn=*\\2a*)"},
		{"(filename=C:\\5cMyFile)", eq("filename", `C:\MyFile`), ""},
		{"(bin=\\00\\00\\00\\04)", eq("bin", "\x00\x00\x00\x04"), "(bin=\\00\\00\\00\x04)"},
		{"(sn=Lu\\c4\\8di\\c4\\87)", eq("sn", "Lučić"), "(sn=Lučić)"},
		{"(1.3.6.1.4.1.1466.0=\\04\\02\\48\\69)", eq("1.3.6.1.4.1.1466.0", "\x04\x02Hi"), "(1.3.6.1.4.1.1466.0=\x04\x02Hi)"},
		// Other kinds and forms.
		{"(cn=*)", pres("cn"), ""},
		{"(uidNumber>=1000)", Filter{Kind: FilterGreaterOrEqual, Attr: "uidNumber", Value: "1000"}, ""},
		{"(uidNumber<=1000)", Filter{Kind: FilterLessOrEqual, Attr: "uidNumber", Value: "1000"}, ""},
		{"(cn~=jon)", Filter{Kind: FilterApprox, Attr: "cn", Value: "jon"}, ""},
		{"(cn=*a)", subs("cn", Substring{SubFinal, "a"}), ""},
		{"(cn=a*b)", subs("cn", Substring{SubInitial, "a"}, Substring{SubFinal, "b"}), ""},
		{"(cn=a*b*c*d*e)", subs("cn", Substring{SubInitial, "a"}, Substring{SubAny, "b"}, Substring{SubAny, "c"}, Substring{SubAny, "d"}, Substring{SubFinal, "e"}), ""},
		{"(cn=*b*c*)", subs("cn", Substring{SubAny, "b"}, Substring{SubAny, "c"}), ""},
		{"(cn=**)", subs("cn", Substring{SubAny, ""}), ""},
		{"(cn;lang-en=Fred)", eq("cn;lang-en", "Fred"), ""},
		{"(cn;lang-en;x-a=*)", pres("cn;lang-en;x-a"), ""},
		{"(2.5.4.3=Fred)", eq("2.5.4.3", "Fred"), ""},
		{"(cn:dn:=x)", ext("cn", "", true, "x"), ""},
		{"(:dn:2.5.13.5:=x)", ext("", "2.5.13.5", true, "x"), ""},
		{"(cn;x-y:dn:caseIgnoreMatch:=x)", ext("cn;x-y", "caseIgnoreMatch", true, "x"), ""},
		{"(&)", and(), ""},
		{"(|)", or(), ""},
		{"(!(&))", not(and()), ""},
		{"uid=jdoe", eq("uid", "jdoe"), "(uid=jdoe)"},
		{"cn=a*", subs("cn", Substring{SubInitial, "a"}), "(cn=a*)"},
		{"(mail=a=b)", eq("mail", "a=b"), ""},
		{"(cn=\\e9t\\C3\\A9)", eq("cn", "\xe9té"), "(cn=\\e9té)"},
		{"(description=a:b~c>d<e!f&g|h)", eq("description", "a:b~c>d<e!f&g|h"), ""},
		{"(cn= spaced )", eq("cn", " spaced "), ""},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(f, tt.want) {
			t.Errorf("ParseFilter(%q) = %#v, want %#v", tt.in, f, tt.want)
		}
		want := tt.str
		if want == "" {
			want = tt.in
		}
		if got := f.String(); got != want {
			t.Errorf("ParseFilter(%q).String() = %q, want %q", tt.in, got, want)
		}
		// text -> BER -> text
		var e ber.Encoder
		f.Encode(&e)
		r := ber.NewReader(e.Buf)
		back, err := DecodeFilter(&r)
		if err != nil {
			t.Errorf("DecodeFilter(Encode(%q)): %v", tt.in, err)
			continue
		}
		if got := back.String(); got != want {
			t.Errorf("BER round trip of %q = %q, want %q", tt.in, got, want)
		}
	}
}

func TestParseFilterErrors(t *testing.T) {
	deep := strings.Repeat("(!", maxFilterDepth) + "(a=b)" + strings.Repeat(")", maxFilterDepth)
	tests := []struct {
		in     string
		offset int
		reason string
	}{
		{"", 0, "empty filter"},
		{"(", 0, "unbalanced"},
		{"(cn=a", 0, "unbalanced"},
		{"(&(cn=a)", 0, "unbalanced"},
		{"(&(cn=a)(sn=b)", 0, "unbalanced"},
		{"(cn=a))", 6, "trailing"},
		{"(cn=a)(sn=b)", 6, "trailing"},
		{"(cn=a) ", 6, "trailing"},
		{"(=a)", 1, "missing attribute"},
		{"(~=a)", 1, "missing attribute"},
		{"()", 1, "missing attribute"},
		{"(cn)", 3, "unexpected ')'"},
		{"(cn", 3, "unexpected end"},
		{"(cn=a\\)", 5, "invalid escape"},
		{"(cn=a\\4)", 5, "invalid escape"},
		{"(cn=a\\zz)", 5, "invalid escape"},
		{"(cn=a\\", 5, "invalid escape"},
		{"(cn=a(b)", 5, "unescaped '('"},
		{"(cn=a\x00)", 5, "unescaped NUL"},
		{"(cn>a)", 3, "not followed by '='"},
		{"(cn>=a*)", 6, "unescaped '*'"},
		{"(cn~=*)", 5, "unescaped '*'"},
		{"(cn:=a*)", 6, "unescaped '*'"},
		{"(:=x)", 1, "needs an attribute or a matching rule"},
		{"(:dn:=x)", 4, "needs an attribute or a matching rule"},
		{"(cn:x)", 5, "needs ':='"},
		{"(cn:1.2:3.4:=x)", 8, "unexpected \"3.4\""},
		{"(cn:1..2:=x)", 6, "empty component"},
		{"(01.2=x)", 1, "leading zero"},
		{"(1abc=x)", 1, "not a numeric OID"},
		{"(c n=x)", 2, "unexpected ' '"},
		{"(cn;=x)", 4, "empty attribute option"},
		{"(!(a=b)(c=d))", 7, "want ')'"},
		{"(!a=b)", 2, "want '('"},
		{"(!)", 2, "want '('"},
		{"(&a=b)", 2, "want ')'"},
		{"(_x=1)", 1, "invalid character"},
		{"uid=jdoe)", 8, "trailing"},
		{deep, maxFilterDepth * 2, "nested deeper"},
	}
	for _, tt := range tests {
		_, err := ParseFilter(tt.in)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("ParseFilter(%q) error = %v, want a *FilterError", tt.in, err)
			continue
		}
		if fe.Offset != tt.offset || !strings.Contains(fe.Reason, tt.reason) {
			t.Errorf("ParseFilter(%q) = %q at %d, want %q at %d", tt.in, fe.Reason, fe.Offset, tt.reason, tt.offset)
		}
	}
	// One level less than the limit parses.
	ok := strings.Repeat("(!", maxFilterDepth-1) + "(a=b)" + strings.Repeat(")", maxFilterDepth-1)
	if _, err := ParseFilter(ok); err != nil {
		t.Errorf("depth %d: %v", maxFilterDepth, err)
	}
}

// The deepest filter ParseFilter accepts decodes where a SearchRequest
// holds it: two constructed levels down.
func TestDeepestFilterDecodesInMessage(t *testing.T) {
	in := strings.Repeat("(!", maxFilterDepth-1) + "(cn=a*b)" + strings.Repeat(")", maxFilterDepth-1)
	f, err := ParseFilter(in)
	if err != nil {
		t.Fatal(err)
	}
	var e ber.Encoder
	e.Begin(ber.TagSequence)
	e.Begin(ber.Application(3, true))
	f.Encode(&e)
	e.End()
	e.End()
	r := ber.NewReader(e.Buf)
	msg, err := r.Enter(ber.TagSequence)
	if err != nil {
		t.Fatal(err)
	}
	req, err := msg.Enter(ber.Application(3, true))
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeFilter(&req)
	if err != nil {
		t.Fatalf("DecodeFilter at depth %d: %v", req.Depth(), err)
	}
	if back.String() != in {
		t.Errorf("round trip changed the filter")
	}
}

func TestEscapeFilterValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"", ""},
		{"a*b", `a\2ab`},
		{"(x)", `\28x\29`},
		{`C:\dir`, `C:\5cdir`},
		{"nul\x00", `nul\00`},
		{"Lučić", "Lučić"},
		{"bad\xff\xfe", `bad\ff\fe`},
		{"a=b,c", "a=b,c"},
	}
	for _, tt := range tests {
		got := EscapeFilterValue(tt.in)
		if got != tt.want {
			t.Errorf("EscapeFilterValue(%q) = %q, want %q", tt.in, got, tt.want)
			continue
		}
		f, err := ParseFilter("(cn=" + got + ")")
		if err != nil || f.Kind != FilterEquality || f.Value != tt.in {
			t.Errorf("(cn=%s) parses to %#v, %v; want equality on %q", got, f, err, tt.in)
		}
	}
}

func TestParseFilterAliasesInput(t *testing.T) {
	// Values without escapes share the input; escaped ones are copies.
	in := "(cn=Fred)"
	f, err := ParseFilter(in)
	if err != nil || f.Value != "Fred" {
		t.Fatal(f, err)
	}
	if allocs := testing.AllocsPerRun(100, func() { f, _ = ParseFilter(in) }); allocs != 0 {
		t.Errorf("ParseFilter(%q): %v allocations, want 0", in, allocs)
	}
}

func BenchmarkParseFilter(b *testing.B) {
	const in = "(&(objectClass=inetOrgPerson)(|(uid=jdoe)(mail=jdoe@example.com)(cn=John*Doe))(!(organizationalStatus=DEPROVISIONED)))"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseFilter(in); err != nil {
			b.Fatal(err)
		}
	}
}
