package ldap

import (
	"testing"

	"github.com/dirgate/dirgate/internal/ber"
)

var filterSeeds = []string{
	"(cn=Babs Jensen)",
	"(!(cn=Tim Howes))",
	"(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))",
	"(o=univ*of*mich*)",
	"(seeAlso=)",
	"(cn:caseExactMatch:=Fred Flintstone)",
	"(sn:dn:2.4.6.8.10:=Barney Rubble)",
	"(:DN:2.4.6.8.10:=Dino)",
	`(o=Parens R Us \28for all your parenthetical needs\29)`,
	`(cn=*\2A*)`,
	`(bin=\00\00\00\04)`,
	`(sn=Lu\c4\8di\c4\87)`,
	"(1.3.6.1.4.1.1466.0=\\04\\02\\48\\69)",
	"(&)", "(|)", "uid=jdoe", "(cn;lang-en=*)", "(uidNumber>=1000)", "(cn~=x)", "(cn=**)",
	"(cn=a\xffb)", "((", "(cn=a))", `(cn=\4)`,
}

// testEvalEntry gives Eval a little of everything to chew on.
var fuzzEntry = Entry{DN: "cn=Babs Jensen,ou=x,dc=example", Attributes: []Attribute{
	{Type: "cn", Values: []string{"Babs Jensen"}}, {Type: "objectClass", Values: []string{"person"}},
	{Type: "uidNumber", Values: []string{"1000"}}, {Type: "createTimestamp", Values: []string{"20240102030405Z"}},
}}

// FuzzParseFilter checks that ParseFilter never panics, that what it
// accepts prints as a filter that parses back to the same text, survives
// BER encoding, and evaluates without panicking.
func FuzzParseFilter(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			return
		}
		str := flt.String()
		again, err := ParseFilter(str)
		if err != nil {
			t.Fatalf("ParseFilter(%q) ok, but its String %q does not parse: %v", s, str, err)
		}
		if str2 := again.String(); str2 != str {
			t.Fatalf("String not stable: %q -> %q -> %q", s, str, str2)
		}
		var e ber.Encoder
		flt.Encode(&e)
		r := ber.NewReader(e.Buf)
		back, err := DecodeFilter(&r)
		if err != nil {
			t.Fatalf("DecodeFilter(Encode(%q)): %v", str, err)
		}
		if got := back.String(); got != str {
			t.Fatalf("BER round trip of %q gave %q", str, got)
		}
		flt.Eval(&fuzzEntry)
	})
}

// FuzzDecodeFilter checks that DecodeFilter never panics and that what it
// accepts encodes to BER that decodes to the same filter.
func FuzzDecodeFilter(f *testing.F) {
	for _, s := range filterSeeds {
		flt, err := ParseFilter(s)
		if err != nil {
			continue
		}
		var e ber.Encoder
		flt.Encode(&e)
		f.Add(e.Buf)
	}
	f.Add([]byte{0xa2, 0x00})                        // not without a child
	f.Add([]byte{0xa4, 0x06, 4, 1, 'a', 0x30, 0x00}) // substrings without parts
	f.Add([]byte{0xa9, 0x03, 0x83, 0x01, 'x'})       // extensible without rule or type
	f.Fuzz(func(t *testing.T, b []byte) {
		r := ber.NewReader(b)
		flt, err := DecodeFilter(&r)
		if err != nil {
			return
		}
		str := flt.String()
		var e ber.Encoder
		flt.Encode(&e)
		r2 := ber.NewReader(e.Buf)
		back, err := DecodeFilter(&r2)
		if err != nil {
			t.Fatalf("re-decoding %x (from %q): %v", e.Buf, str, err)
		}
		if got := back.String(); got != str {
			t.Fatalf("BER round trip of %q gave %q", str, got)
		}
		flt.Eval(&fuzzEntry)
	})
}
