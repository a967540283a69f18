package ldap

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// dn builds a DN of single-valued RDNs from type, value pairs.
func dn(tv ...string) DN {
	var d DN
	for i := 0; i < len(tv); i += 2 {
		d = append(d, RDN{{tv[i], tv[i+1]}})
	}
	return d
}

func TestParseDN(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want DN
	}{
		// RFC 4514 §4 examples.
		{"rfc uid", "UID=jsmith,DC=example,DC=net", dn("UID", "jsmith", "DC", "example", "DC", "net")},
		{"rfc multi-valued", "OU=Sales+CN=J.  Smith,DC=example,DC=net",
			DN{{{"OU", "Sales"}, {"CN", "J.  Smith"}}, {{"DC", "example"}}, {{"DC", "net"}}}},
		{"rfc quotes and comma", `CN=James \"Jim\" Smith\, III,DC=example,DC=net`,
			dn("CN", `James "Jim" Smith, III`, "DC", "example", "DC", "net")},
		{"rfc carriage return", `CN=Before\0dAfter,DC=example,DC=net`,
			dn("CN", "Before\rAfter", "DC", "example", "DC", "net")},
		{"rfc hex octet string", "1.3.6.1.4.1.1466.0=#04024869", dn("1.3.6.1.4.1.1466.0", "Hi")},
		{"rfc utf-8 escapes", `CN=Lu\C4\8Di\C4\87`, dn("CN", "Lučić")},

		{"root", "", nil},
		{"root of spaces", "   ", nil},
		{"single", "dc=com", dn("dc", "com")},
		{"okta user", "uid=jdoe,ou=users,dc=acme,dc=okta,dc=com",
			dn("uid", "jdoe", "ou", "users", "dc", "acme", "dc", "okta", "dc", "com")},
		{"raw utf-8", "cn=Lučić", dn("cn", "Lučić")},
		{"empty value", "cn=,dc=x", dn("cn", "", "dc", "x")},
		{"empty last value", "cn=", dn("cn", "")},
		{"unescaped = in value", "cn=a=b", dn("cn", "a=b")},
		{"unescaped # inside value", "cn=a#b", dn("cn", "a#b")},
		{"descriptor with digits and hyphen", "x-Attr2=v", dn("x-Attr2", "v")},
		{"oid type", "2.5.4.3=Jim", dn("2.5.4.3", "Jim")},
		{"oid with zero component", "0.9.2342.19200300.100.1.25=com", dn("0.9.2342.19200300.100.1.25", "com")},

		// Every escape.
		{"escape comma", `cn=a\,b`, dn("cn", "a,b")},
		{"escape plus", `cn=a\+b`, dn("cn", "a+b")},
		{"escape quote", `cn=a\"b`, dn("cn", `a"b`)},
		{"escape backslash", `cn=a\\b`, dn("cn", `a\b`)},
		{"escape less", `cn=a\<b`, dn("cn", "a<b")},
		{"escape greater", `cn=a\>b`, dn("cn", "a>b")},
		{"escape semicolon", `cn=a\;b`, dn("cn", "a;b")},
		{"escape equals", `cn=a\=b`, dn("cn", "a=b")},
		{"escape space inside", `cn=a\ b`, dn("cn", "a b")},
		{"escape sharp", `cn=\#a`, dn("cn", "#a")},
		{"hex escape lower case", `cn=\4a\4B`, dn("cn", "JK")},
		{"hex escape of special", `cn=a\2cb`, dn("cn", "a,b")},
		{"hex escape NUL", `cn=a\00b`, dn("cn", "a\x00b")},
		{"escape only", `cn=\\`, dn("cn", `\`)},
		{"escape then plain then comma", `cn=\41bc,dc=x`, dn("cn", "Abc", "dc", "x")},
		{"three-byte hex escape", `cn=\e2\82\ac`, dn("cn", "€")},

		// Spaces.
		{"spaces around separators", "cn = x , dc = y", dn("cn", "x", "dc", "y")},
		{"spaces around plus", "cn=a + sn=b", DN{{{"cn", "a"}, {"sn", "b"}}}},
		{"leading and trailing spaces dropped", "  cn=  J Smith  ,dc=x  ", dn("cn", "J Smith", "dc", "x")},
		{"inner spaces kept", "cn=J   Smith", dn("cn", "J   Smith")},
		{"escaped leading space kept", `cn=\ a`, dn("cn", " a")},
		{"escaped trailing space kept", `cn=a\ `, dn("cn", "a ")},
		{"escaped trailing space then spaces", `cn=a\   ,dc=x`, dn("cn", "a ", "dc", "x")},
		{"spaces before escape kept", `cn=a  \,b  `, dn("cn", "a  ,b")},
		{"escaped space only", `cn=\ `, dn("cn", " ")},
		{"spaces then escaped space", `cn=  \  `, dn("cn", " ")},

		// #hex values.
		{"hex utf8string", "cn=#0c03616263", dn("cn", "abc")},
		{"hex printablestring", "cn=#1303414243", dn("cn", "ABC")},
		{"hex ia5string upper digits", "cn=#16024F4B", dn("cn", "OK")},
		{"hex empty octet string", "cn=#0400", dn("cn", "")},
		{"hex integer kept raw", "cn=#020101", dn("cn", "\x02\x01\x01")},
		{"hex constructed kept raw", "cn=#3003040141", dn("cn", "\x30\x03\x04\x01\x41")},
		{"hex not BER kept raw", "cn=#41", dn("cn", "A")},
		{"hex with trailing bytes kept raw", "cn=#04014142", dn("cn", "\x04\x01\x41\x42")},
		{"hex binary octet string", "cn=#0402ff00", dn("cn", "\xff\x00")},
		{"hex in multi-valued", "cn=#040141+sn=b", DN{{{"cn", "A"}, {"sn", "b"}}}},
		{"hex then spaces and comma", "cn=#040141  ,dc=x", dn("cn", "A", "dc", "x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDN(tt.in)
			if err != nil {
				t.Fatalf("ParseDN(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseDN(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDNErrors(t *testing.T) {
	tests := []struct {
		in     string
		reason string // substring of the error
		offset int
	}{
		{`cn=a\`, "unterminated escape", 4},
		{`cn=a\zz`, `invalid escape: '\' followed by 'z'`, 4},
		{`cn=\4`, "invalid hex escape", 3},
		{`cn=\4z`, "invalid hex escape", 3},
		{`cn=\é`, "invalid escape", 3},
		{"cn", "missing '='", 2},
		{"cn x", "unexpected 'x' after attribute type", 3},
		{"cn=a,dc", "missing '='", 7},
		{"=a", "empty attribute type", 0},
		{"cn=a,=b", "empty attribute type", 5},
		{"cn=a,,dc=b", "empty RDN", 5},
		{",cn=a", "empty RDN", 0},
		{"cn=a+,dc=b", "empty RDN", 5},
		{"cn=a,", "DN ends after ','", 5},
		{"cn=a+", "DN ends after '+'", 5},
		{"cn=a, ", "DN ends after ','", 6},
		{"1cn=a", "starts with a digit but is not a numeric OID", 0},
		{"2=a", "not a numeric OID", 0},
		{"2.5.4.3x=a", "not a numeric OID", 0},
		{"2..4=a", "empty component", 2},
		{"2.5.=a", "empty component", 4},
		{"2.05.4=a", "leading zero", 2},
		{"_cn=a", "invalid character '_'", 0},
		{"oid.2.5.4.3=a", "unexpected '.'", 3},
		{"cn=a\xff", "not valid UTF-8", 4},
		{"cn=ab\xc3", "not valid UTF-8", 5},
		{`cn=\c3`, "not valid UTF-8 after decoding", 3},
		{`cn=\c3\28`, "not valid UTF-8 after decoding", 3},
		{`cn=x\ff`, "not valid UTF-8 after decoding", 3},
		{"cn=#", "'#' not followed by hex digits", 3},
		{"cn=#041", "odd number of hex digits", 3},
		{"cn=#04zz", "unexpected 'z' after '#' hex value", 6},
		{"cn=#0401 41 , dc=x", "unexpected '4' after '#' hex value", 9},
		{"cn=a;dc=b", "unescaped ';'", 4},
		{`cn="a b",dc=c`, `unescaped '"'`, 3},
		{"cn=a<b", `unescaped '<'`, 4},
		{"cn=a>b", `unescaped '>'`, 4},
		{"cn=a\x00b", "unescaped NUL", 4},
		{`cn=\,a"`, `unescaped '"'`, 6},
		{"cn=a\\,b;c", "unescaped ';'", 7},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseDN(tt.in)
			if err == nil {
				t.Fatalf("ParseDN(%q) = %v, want error", tt.in, d)
			}
			var de *DNError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DNError", err)
			}
			if !strings.Contains(de.Reason, tt.reason) || de.Offset != tt.offset {
				t.Errorf("ParseDN(%q) error %q (offset %d), want reason containing %q at offset %d",
					tt.in, de.Reason, de.Offset, tt.reason, tt.offset)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "ldap: invalid DN ") || !strings.Contains(msg, "offset") {
				t.Errorf("error message %q lacks prefix or offset", msg)
			}
			if _, nerr := NormalizeDN(tt.in); nerr == nil || nerr.Error() != err.Error() {
				t.Errorf("NormalizeDN(%q) error %v, want %v", tt.in, nerr, err)
			}
		})
	}
}

func TestDNErrorMessage(t *testing.T) {
	_, err := ParseDN("cn=a;dc=b")
	want := `ldap: invalid DN "cn=a;dc=b": unescaped ';' (RFC 4514 separates RDNs with ',' only; write '\;' for a literal ';') at offset 4`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	_, err = ParseDN("cn=" + strings.Repeat("x", 500) + ";")
	if err == nil || strings.Contains(err.Error(), strings.Repeat("x", 300)) {
		t.Fatalf("long input not clipped in error: %v", err)
	}
}

func TestDNString(t *testing.T) {
	tests := []struct {
		in   DN
		want string
	}{
		{nil, ""},
		{dn("cn", "x"), "cn=x"},
		{dn("UID", "jsmith", "DC", "example"), "UID=jsmith,DC=example"},
		{DN{{{"OU", "Sales"}, {"CN", "J.  Smith"}}, {{"DC", "net"}}}, "OU=Sales+CN=J.  Smith,DC=net"},
		{dn("CN", `James "Jim" Smith, III`), `CN=James \"Jim\" Smith\, III`},
		{dn("cn", `a+b;c<d>e\f`), `cn=a\+b\;c\<d\>e\\f`},
		{dn("cn", "a\x00b"), `cn=a\00b`},
		{dn("cn", "#x"), `cn=\#x`},
		{dn("cn", "x#"), `cn=x#`},
		{dn("cn", " x "), `cn=\ x\ `},
		{dn("cn", " "), `cn=\ `},
		{dn("cn", "a  b=c"), `cn=a  b=c`},
		{dn("cn", "Lučić"), "cn=Lučić"},
		{dn("cn", "Before\rAfter"), "cn=Before\rAfter"},
		{dn("cn", ""), "cn="},
		{dn("cn", "\xff\x00"), "cn=#0402ff00"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := strings.Repeat("\xff", 200)
	if got, want := dn("cn", long).String(), "cn=#0481c8"+strings.Repeat("ff", 200); got != want {
		t.Errorf("long binary value: got %q", got)
	}
	if got := (RDN{{"cn", "a"}, {"sn", "b,c"}}).String(); got != `cn=a+sn=b\,c` {
		t.Errorf("RDN.String = %q", got)
	}
}

func TestEscapeDNValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"a,b", `a\,b`},
		{`"q"`, `\"q\"`},
		{" lead", `\ lead`},
		{"trail ", `trail\ `},
		{"#x", `\#x`},
		{"a=b", "a=b"},
		{"nul\x00", `nul\00`},
		{"\xfe", "#0401fe"},
	}
	for _, tt := range tests {
		got := EscapeDNValue(tt.in)
		if got != tt.want {
			t.Errorf("EscapeDNValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
		d, err := ParseDN("cn=" + got)
		if err != nil || d[0][0].Value != tt.in {
			t.Errorf("ParseDN(cn=%s) = %v, %v; want value %q", got, d, err, tt.in)
		}
	}
}

// TestDNStringRoundTrip checks that String gives back exactly the parsed
// DN, and an Equal one.
func TestDNStringRoundTrip(t *testing.T) {
	for _, in := range []string{
		"UID=jsmith,DC=example,DC=net",
		"OU=Sales+CN=J.  Smith,DC=example,DC=net",
		`CN=James \"Jim\" Smith\, III,DC=example,DC=net`,
		`CN=Before\0dAfter,DC=example,DC=net`,
		"1.3.6.1.4.1.1466.0=#04024869",
		`CN=Lu\C4\8Di\C4\87`,
		`cn=\ \#x\ `,
		`cn=\23`,
		`cn=a\00b`,
		"cn=#0402ff00",
		"cn=#020101",
		`cn=\\\,\+\;\<\>\"\=`,
		" cn = a b , dc = c ",
	} {
		d, err := ParseDN(in)
		if err != nil {
			t.Fatalf("ParseDN(%q): %v", in, err)
		}
		s := d.String()
		d2, err := ParseDN(s)
		if err != nil {
			t.Fatalf("ParseDN(String(%q) = %q): %v", in, s, err)
		}
		if !reflect.DeepEqual(d, d2) || !d.Equal(d2) {
			t.Errorf("%q -> %q -> %#v, want %#v", in, s, d2, d)
		}
	}
}

func TestNormalizeDN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"uid=jdoe,ou=users,dc=acme,dc=okta,dc=com", "uid=jdoe,ou=users,dc=acme,dc=okta,dc=com"},
		{"UID=JDoe, OU=Users, DC=Acme, DC=Okta, DC=Com", "uid=jdoe,ou=users,dc=acme,dc=okta,dc=com"},
		{"cn = x , dc = y", "cn=x,dc=y"},
		{"CN=  J.   Smith  ", "cn=j. smith"},
		{`cn=\ \ a\ \ `, "cn=a"},
		{"cn=a\t\tb", "cn=a b"},
		{"cn=a\u00a0b", "cn=a b"},
		{"2.5.4.3=Jim,0.9.2342.19200300.100.1.25=COM", "cn=jim,dc=com"},
		{"commonName=x,domainComponent=y,userid=z", "cn=x,dc=y,uid=z"},
		{"2.5.4.42=Ann", "givenname=ann"},
		{"1.2.840.113549.1.9.1=A@B", "1.2.840.113549.1.9.1=a@b"},
		{"1.3.6.1.4.1.1466.0=#04024869", "1.3.6.1.4.1.1466.0=hi"},
		{"OU=Sales+CN=J.  Smith,DC=example,DC=net", "cn=j. smith+ou=sales,dc=example,dc=net"},
		{"sn=b+cn=a+uid=c", "cn=a+sn=b+uid=c"},
		{`CN=James \"Jim\" Smith\, III`, `cn=james \"jim\" smith\, iii`},
		{`CN=Lu\C4\8Di\C4\87`, "cn=lučić"},
		{"cn=LUČIĆ", "cn=lučić"},
		{"cn=\u212a", "cn=k"},   // Kelvin sign folds like K
		{"cn=\u017ft", "cn=st"}, // long s folds like s
		{"cn=ΣΑΣ", "cn=σασ"},
		{"cn=ς", "cn=σ"},
		{`cn=\#A`, `cn=\#a`},
		{`cn=  \#A`, `cn=\#a`},
		{`cn=\  #A`, `cn=\#a`}, // escaped leading space is insignificant for caseIgnore
		{`cn=a\00`, `cn=a\00`},
		{"cn=#0402FF00", "cn=#0402ff00"},
		{"cn=", "cn="},
		{"cn=   ", "cn="},
		{"X-Foo=Bar", "x-foo=bar"},
	}
	for _, tt := range tests {
		got, err := NormalizeDN(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeDN(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			continue
		}
		d, _ := ParseDN(tt.in)
		if n := d.Normalize(); n != got {
			t.Errorf("ParseDN(%q).Normalize() = %q, NormalizeDN gave %q", tt.in, n, got)
		}
		if again, err := NormalizeDN(got); err != nil || again != got {
			t.Errorf("NormalizeDN not idempotent on %q: %q, %v", got, again, err)
		}
	}
}

func TestDNEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"uid=jdoe,dc=com", "UID=JDOE,DC=COM", true},
		{"uid=jdoe,dc=com", "uid = jdoe , dc = com", true},
		{"cn=J  Smith", "cn=j smith", true},
		{"cn=x", "2.5.4.3=X", true},
		{"cn=x", "2.5.4.3=#0c0178", true},
		{"cn=a+sn=b,dc=c", "sn=b+cn=a,dc=c", true},
		{`cn=a\,b`, `cn=a\2cb`, true},
		{"cn=Lučić", `cn=LU\C4\8CI\C4\86`, true},
		{"uid=jdoe,dc=com", "uid=jdoe", false},
		{"uid=jdoe,dc=com", "cn=jdoe,dc=com", false},
		{"cn=a b", "cn=ab", false},
		{`cn=a\,b`, "cn=a,b=", false},
		{"cn=a+sn=b", "cn=a,sn=b", false},
		{"cn=a+sn=b", "cn=a+sn=c", false},
		{"cn=x", "2.5.4.4=x", false},
		{"dc=a,dc=b", "dc=b,dc=a", false},
		{"cn=#0401ff", "cn=#0401fe", false},
	}
	for _, tt := range tests {
		a, err := ParseDN(tt.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseDN(tt.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Equal(b); got != tt.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := b.Equal(a); got != tt.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestDNTree(t *testing.T) {
	mustParse := func(s string) DN {
		d, err := ParseDN(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	user := mustParse("uid=jdoe,ou=users,dc=acme,dc=okta,dc=com")
	if got := user.Parent().String(); got != "ou=users,dc=acme,dc=okta,dc=com" {
		t.Errorf("Parent = %q", got)
	}
	if got := user.RDN(); !reflect.DeepEqual(got, RDN{{"uid", "jdoe"}}) {
		t.Errorf("RDN = %v", got)
	}
	if DN(nil).Parent() != nil || DN(nil).RDN() != nil {
		t.Error("root has a parent or RDN")
	}
	if got := mustParse("dc=com").Parent(); len(got) != 0 {
		t.Errorf("parent of dc=com = %v, want root", got)
	}

	tests := []struct {
		dn, other                string
		descendant, childOfOther bool
	}{
		{"uid=jdoe,ou=users,dc=acme,dc=okta,dc=com", "dc=okta,dc=com", true, false},
		{"uid=jdoe,ou=users,dc=acme,dc=okta,dc=com", "ou=users,dc=acme,dc=okta,dc=com", true, true},
		{"UID=JDOE,OU=Users,DC=Acme,DC=Okta,DC=Com", "ou=users, dc=acme, dc=okta, dc=com", true, true},
		{"uid=jdoe,dc=acme,dc=okta,dc=com", "0.9.2342.19200300.100.1.25=ACME,dc=okta,dc=com", true, true},
		{"dc=com", "", true, true},
		{"uid=a,dc=com", "", true, false},
		{"", "", false, false},
		{"dc=com", "dc=com", false, false},
		{"dc=okta,dc=com", "uid=jdoe,dc=okta,dc=com", false, false},
		{"uid=jdoe,dc=acme,dc=com", "dc=cme,dc=com", false, false},
		{"uid=jdoe,dc=xacme,dc=com", "dc=acme,dc=com", false, false},
		{`cn=a\,dc=acme,dc=com`, "dc=acme,dc=com", false, false}, // one RDN cn="a,dc=acme" below dc=com
		{`cn=a\\,dc=acme,dc=com`, "dc=acme,dc=com", true, true},
		{`cn=a\\\,dc=acme,dc=com`, "dc=acme,dc=com", false, false},
		{"cn=x+dc=acme,dc=com", "dc=acme,dc=com", false, false},
		{"cn=x,dc=acme+cn=y,dc=com", "cn=y+dc=acme,dc=com", true, true},
		{"cn=x,ou=a+cn=y,dc=com", "cn=y,dc=com", false, false},
	}
	for _, tt := range tests {
		d, o := mustParse(tt.dn), mustParse(tt.other)
		if got := d.IsDescendantOf(o); got != tt.descendant {
			t.Errorf("IsDescendantOf(%q, %q) = %v, want %v", tt.dn, tt.other, got, tt.descendant)
		}
		if got := IsDescendantNorm(d.Normalize(), o.Normalize()); got != tt.descendant {
			t.Errorf("IsDescendantNorm(%q, %q) = %v, want %v", d.Normalize(), o.Normalize(), got, tt.descendant)
		}
		if got := d.IsChildOf(o); got != tt.childOfOther {
			t.Errorf("IsChildOf(%q, %q) = %v, want %v", tt.dn, tt.other, got, tt.childOfOther)
		}
		if tt.descendant && o.IsDescendantOf(d) {
			t.Errorf("%q and %q descend from each other", tt.dn, tt.other)
		}
	}
}

func TestNormalizeDNAllocs(t *testing.T) {
	tests := []struct {
		in  string
		max float64
	}{
		{"uid=jdoe,ou=users,dc=acme,dc=okta,dc=com", 0}, // already normal: returned as is
		{"UID=JDoe, OU=Users, DC=Acme, DC=Okta, DC=Com", 1},
		{`cn=Smith\, John,ou=users,dc=acme,dc=okta,dc=com`, 2},
		{"cn=a+sn=b,dc=com", 5},
	}
	for _, tt := range tests {
		got := testing.AllocsPerRun(100, func() {
			if _, err := NormalizeDN(tt.in); err != nil {
				t.Fatal(err)
			}
		})
		if got > tt.max {
			t.Errorf("NormalizeDN(%q): %v allocs/op, budget %v", tt.in, got, tt.max)
		}
	}
	const okta = "uid=jdoe,ou=users,dc=acme,dc=okta,dc=com"
	if got := testing.AllocsPerRun(100, func() {
		d, _ := ParseDN(okta)
		_ = d.Normalize()
	}); got > 3 {
		t.Errorf("ParseDN+Normalize: %v allocs/op, budget 3", got)
	}
	a, b := okta, "dc=okta,dc=com"
	if got := testing.AllocsPerRun(100, func() { sinkBool = IsDescendantNorm(a, b) }); got != 0 {
		t.Errorf("IsDescendantNorm: %v allocs/op, want 0", got)
	}
}

func BenchmarkNormalizeDN(b *testing.B) {
	const in = "uid=jdoe,ou=users,dc=acme,dc=okta,dc=com"
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := NormalizeDN(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizeDNMixedCase(b *testing.B) {
	const in = "UID=JDoe, OU=Users, DC=Acme, DC=Okta, DC=Com"
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := NormalizeDN(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDN(b *testing.B) {
	const in = "uid=jdoe,ou=users,dc=acme,dc=okta,dc=com"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDN(in); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNormalizeEveryRune checks, for every Unicode scalar value, that
// normalising a value containing it is idempotent and that all members of
// its simple case-folding orbit normalise alike.
func TestNormalizeEveryRune(t *testing.T) {
	norm := func(v string) string { return string(appendNormValue(nil, v)) }
	bad := 0
	for r := rune(0); r <= utf8.MaxRune && bad < 10; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		n := norm("x" + string(r) + "Y")
		d, err := ParseDN("cn=" + n)
		if err != nil {
			t.Fatalf("%U: normalised %q does not parse: %v", r, n, err)
		}
		if n2 := norm(d[0][0].Value); n2 != n {
			bad++
			t.Errorf("%U: not idempotent: %q -> %q", r, n, n2)
		}
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if nf := norm("x" + string(f) + "Y"); nf != n {
				bad++
				t.Errorf("%U and %U fold differently: %q, %q", r, f, n, nf)
			}
		}
	}
}

// sinkBool keeps benchmarked results alive.
var sinkBool bool
