package ldap

import (
	"bytes"
	"errors"

	"encoding/hex"
	"fmt"
	"github.com/dirgate/dirgate/internal/ber"
	"reflect"
	"strings"
	"testing"

	asn1 "github.com/go-asn1-ber/asn1-ber"
)

// Test helpers shared by the decoder, encoder, fuzz and benchmark tests.

// hexBytes decodes hex written with optional spaces and newlines.
func hexBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad test hex %q: %v", s, err)
	}
	return b
}

// tlv builds one element in hex from a one-octet tag (hex) and contents
// (hex parts, concatenated), computing the length itself. It is a second,
// independent encoder used to write malformed messages readably.
func tlv(tag string, parts ...string) string {
	c := strings.Join(strings.Fields(strings.Join(parts, "")), "")
	n := len(c) / 2
	var l string
	switch {
	case n < 0x80:
		l = fmt.Sprintf("%02x", n)
	case n < 0x100:
		l = fmt.Sprintf("81%02x", n)
	default:
		l = fmt.Sprintf("82%04x", n)
	}
	return tag + l + c
}

// hs is the hex of a string's octets.
func hs(s string) string { return hex.EncodeToString([]byte(s)) }

// msgHex is an LDAPMessage with a one-octet message ID.
func msgHex(id byte, op string, rest ...string) string {
	return tlv("30", append([]string{tlv("02", fmt.Sprintf("%02x", id)), op}, rest...)...)
}

// equalMessage compares decoded messages field by field, treating a nil
// slice and an empty one as equal (the decoder allocates no slice for an
// empty list, but an empty OCTET STRING is a non-nil empty slice).
func equalMessage(a, b Message) bool { return deepEqual(reflect.ValueOf(a), reflect.ValueOf(b)) }

func deepEqual(a, b reflect.Value) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case reflect.Interface, reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Elem().Type() != b.Elem().Type() {
			return false
		}
		return deepEqual(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !deepEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if !deepEqual(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return a.Equal(b)
}

// Packet builders over go-asn1-ber, the library go-ldap encodes with: an
// independent encoding to cross-check hand-written bytes against.

func aSeq(kids ...*asn1.Packet) *asn1.Packet {
	return aCons(asn1.ClassUniversal, asn1.TagSequence, kids...)
}

func aSet(kids ...*asn1.Packet) *asn1.Packet {
	return aCons(asn1.ClassUniversal, asn1.TagSet, kids...)
}

func aCons(class asn1.Class, tag asn1.Tag, kids ...*asn1.Packet) *asn1.Packet {
	p := asn1.Encode(class, asn1.TypeConstructed, tag, nil, "")
	for _, k := range kids {
		p.AppendChild(k)
	}
	return p
}

func aStr(s string) *asn1.Packet { return aTagStr(asn1.ClassUniversal, asn1.TagOctetString, s) }

func aTagStr(class asn1.Class, tag asn1.Tag, s string) *asn1.Packet {
	return asn1.NewString(class, asn1.TypePrimitive, tag, s, "")
}

func aInt(v int64) *asn1.Packet {
	return asn1.NewInteger(asn1.ClassUniversal, asn1.TypePrimitive, asn1.TagInteger, v, "")
}

func aEnum(v int64) *asn1.Packet {
	return asn1.NewInteger(asn1.ClassUniversal, asn1.TypePrimitive, asn1.TagEnumerated, v, "")
}

func aBool(v bool) *asn1.Packet {
	return asn1.NewLDAPBoolean(asn1.ClassUniversal, asn1.TypePrimitive, asn1.TagBoolean, v, "")
}

func aApp(tag asn1.Tag, kids ...*asn1.Packet) *asn1.Packet {
	return aCons(asn1.ClassApplication, tag, kids...)
}

func aMsg(id int64, op *asn1.Packet, controls ...*asn1.Packet) *asn1.Packet {
	m := aSeq(aInt(id), op)
	if len(controls) > 0 {
		m.AppendChild(aCons(asn1.ClassContext, 0, controls...))
	}
	return m
}

func aAttr(typ string, vals ...string) *asn1.Packet {
	s := aSet()
	for _, v := range vals {
		s.AppendChild(aStr(v))
	}
	return aSeq(aStr(typ), s)
}

func aEq(attr, val string) *asn1.Packet {
	return aCons(asn1.ClassContext, 3, aStr(attr), aStr(val))
}

const oidPaged = "1.2.840.113556.1.4.319"

// validCases are hand-written LDAPMessages, one or more per request type,
// with the packet go-asn1-ber builds for the same message and the decoded
// form. Every encoding is minimal with 0xFF for TRUE, so AppendRequest must
// reproduce the bytes exactly.
var validCases = []struct {
	name string
	hex  string
	pkt  func() *asn1.Packet
	want Message
	// noncanonical: AppendRequest leaves out a DEFAULT value the bytes carry.
	noncanonical bool
}{
	{
		name: "simple bind",
		hex:  "30 12 02 01 01 60 0d 02 01 03 04 04 636e3d61 80 02 7077",
		pkt: func() *asn1.Packet {
			return aMsg(1, aApp(0, aInt(3), aStr("cn=a"), aTagStr(asn1.ClassContext, 0, "pw")))
		},
		want: Message{ID: 1, Request: &BindRequest{Version: 3, Name: "cn=a", Method: AuthSimple, Password: []byte("pw")}},
	},
	{
		name: "SASL bind with credentials",
		hex:  "30 19 02 01 02 60 14 02 01 03 04 00 a3 0d 04 05 504c41494e 04 04 00750070",
		pkt: func() *asn1.Packet {
			return aMsg(2, aApp(0, aInt(3), aStr(""),
				aCons(asn1.ClassContext, 3, aStr("PLAIN"), aStr("\x00u\x00p"))))
		},
		want: Message{ID: 2, Request: &BindRequest{Version: 3, Method: AuthSASL, Mechanism: "PLAIN",
			Credentials: []byte("\x00u\x00p"), HasCredentials: true}},
	},
	{
		name: "SASL bind without credentials",
		hex:  "30 16 02 01 02 60 11 02 01 03 04 00 a3 0a 04 08 45585445524e414c",
		pkt: func() *asn1.Packet {
			return aMsg(2, aApp(0, aInt(3), aStr(""), aCons(asn1.ClassContext, 3, aStr("EXTERNAL"))))
		},
		want: Message{ID: 2, Request: &BindRequest{Version: 3, Method: AuthSASL, Mechanism: "EXTERNAL"}},
	},
	{
		name: "unbind",
		hex:  "30 05 02 01 03 42 00",
		pkt: func() *asn1.Packet {
			return aMsg(3, asn1.Encode(asn1.ClassApplication, asn1.TypePrimitive, 2, nil, ""))
		},
		want: Message{ID: 3, Request: &UnbindRequest{}},
	},
	{
		name: "unbind, largest message ID",
		hex:  "30 08 02 04 7fffffff 42 00",
		pkt: func() *asn1.Packet {
			return aMsg(MaxMessageID, asn1.Encode(asn1.ClassApplication, asn1.TypePrimitive, 2, nil, ""))
		},
		want: Message{ID: MaxMessageID, Request: &UnbindRequest{}},
	},
	{
		name: "search",
		hex: `30 4c 02 01 04 63 47 04 04 64633d78 0a 01 02 0a 01 00 02 01 00 02 01 00 01 01 00
			a0 24 a3 15 04 0b 6f626a656374436c617373 04 06 706572736f6e a3 0b 04 03 756964 04 04 6a646f65
			30 0a 04 02 636e 04 04 6d61696c`,
		pkt: func() *asn1.Packet {
			return aMsg(4, aApp(3, aStr("dc=x"), aEnum(2), aEnum(0), aInt(0), aInt(0), aBool(false),
				aCons(asn1.ClassContext, 0, aEq("objectClass", "person"), aEq("uid", "jdoe")),
				aSeq(aStr("cn"), aStr("mail"))))
		},
		want: Message{ID: 4, Request: &SearchRequest{BaseObject: "dc=x", Scope: ScopeWholeSubtree,
			Filter: Filter{Kind: FilterAnd, Children: []Filter{
				{Kind: FilterEquality, Attr: "objectClass", Value: "person"},
				{Kind: FilterEquality, Attr: "uid", Value: "jdoe"}}},
			Attributes: []string{"cn", "mail"}}},
	},
	{
		name: "search with substrings filter and critical paged control",
		hex: `30 4e 02 01 05 63 21 04 00 0a 01 00 0a 01 03 02 01 0a 02 01 1e 01 01 ff
			a4 0c 04 02 636e 30 06 80 01 4a 81 01 6e 30 00
			a0 26 30 24 04 16 312e322e3834302e3131333535362e312e342e333139 01 01 ff 04 07 30 05 02 01 0a 04 00`,
		pkt: func() *asn1.Packet {
			return aMsg(5, aApp(3, aStr(""), aEnum(0), aEnum(3), aInt(10), aInt(30), aBool(true),
				aCons(asn1.ClassContext, 4, aStr("cn"), aSeq(aTagStr(asn1.ClassContext, 0, "J"), aTagStr(asn1.ClassContext, 1, "n"))),
				aSeq()),
				aSeq(aStr(oidPaged), aBool(true), aStr(string(unhexStatic("30 05 02 01 0a 04 00")))))
		},
		want: Message{ID: 5, Request: &SearchRequest{Scope: ScopeBaseObject, DerefAliases: DerefAlways,
			SizeLimit: 10, TimeLimit: 30, TypesOnly: true,
			Filter: Filter{Kind: FilterSubstrings, Attr: "cn", Substrings: []Substring{{SubInitial, "J"}, {SubAny, "n"}}}},
			Controls: []Control{{OID: oidPaged, Critical: true, Value: unhexStatic("30 05 02 01 0a 04 00"), HasValue: true}}},
	},
	{
		name: "search with not, present, ordering, approx and extensible filters",
		hex: tlv("30", "02 01 06", tlv("63", "04 00 0a 01 01 0a 01 01 02 01 00 02 01 00 01 01 00",
			tlv("a1",
				tlv("a2", "87 02 636e"),
				tlv("a5", "04 01 61 04 01 62"),
				tlv("a6", "04 01 61 04 01 62"),
				tlv("a8", "04 01 61 04 01 62"),
				tlv("a9", "81 01 72 82 01 61 83 01 76 84 01 ff"),
				tlv("a4", "04 01 61", tlv("30", "82 01 7a"))),
			"30 00")),
		pkt: func() *asn1.Packet {
			ctx := func(n asn1.Tag, kids ...*asn1.Packet) *asn1.Packet { return aCons(asn1.ClassContext, n, kids...) }
			return aMsg(6, aApp(3, aStr(""), aEnum(1), aEnum(1), aInt(0), aInt(0), aBool(false),
				ctx(1,
					ctx(2, aTagStr(asn1.ClassContext, 7, "cn")),
					ctx(5, aStr("a"), aStr("b")),
					ctx(6, aStr("a"), aStr("b")),
					ctx(8, aStr("a"), aStr("b")),
					ctx(9, aTagStr(asn1.ClassContext, 1, "r"), aTagStr(asn1.ClassContext, 2, "a"),
						aTagStr(asn1.ClassContext, 3, "v"),
						asn1.NewLDAPBoolean(asn1.ClassContext, asn1.TypePrimitive, 4, true, "")),
					ctx(4, aStr("a"), aSeq(aTagStr(asn1.ClassContext, 2, "z")))),
				aSeq()))
		},
		want: Message{ID: 6, Request: &SearchRequest{Scope: ScopeSingleLevel, DerefAliases: DerefInSearching,
			Filter: Filter{Kind: FilterOr, Children: []Filter{
				{Kind: FilterNot, Children: []Filter{{Kind: FilterPresent, Attr: "cn"}}},
				{Kind: FilterGreaterOrEqual, Attr: "a", Value: "b"},
				{Kind: FilterLessOrEqual, Attr: "a", Value: "b"},
				{Kind: FilterApprox, Attr: "a", Value: "b"},
				{Kind: FilterExtensibleMatch, MatchingRule: "r", Attr: "a", Value: "v", DNAttributes: true},
				{Kind: FilterSubstrings, Attr: "a", Substrings: []Substring{{SubFinal, "z"}}},
			}}}},
	},
	{
		name: "modify",
		hex: `30 31 02 01 06 66 2c 04 04 636e3d61 30 24
			30 12 0a 01 00 30 0d 04 04 6d61696c 31 05 04 03 614062
			30 0e 0a 01 01 30 09 04 05 70686f6e65 31 00`,
		pkt: func() *asn1.Packet {
			return aMsg(6, aApp(6, aStr("cn=a"), aSeq(
				aSeq(aEnum(0), aAttr("mail", "a@b")),
				aSeq(aEnum(1), aAttr("phone")))))
		},
		want: Message{ID: 6, Request: &ModifyRequest{Object: "cn=a", Changes: []Change{
			{Op: ModifyAdd, Attr: Attribute{Type: "mail", Values: []string{"a@b"}}},
			{Op: ModifyDelete, Attr: Attribute{Type: "phone"}}}}},
	},
	{
		name: "add",
		hex: `30 36 02 01 07 68 31 04 04 636e3d61 30 29
			30 1c 04 0b 6f626a656374436c617373 31 0d 04 03 746f70 04 06 706572736f6e
			30 09 04 02 636e 31 03 04 01 61`,
		pkt: func() *asn1.Packet {
			return aMsg(7, aApp(8, aStr("cn=a"), aSeq(aAttr("objectClass", "top", "person"), aAttr("cn", "a"))))
		},
		want: Message{ID: 7, Request: &AddRequest{Entry: "cn=a", Attributes: []Attribute{
			{Type: "objectClass", Values: []string{"top", "person"}}, {Type: "cn", Values: []string{"a"}}}}},
	},
	{
		name: "delete",
		hex:  "30 09 02 01 08 4a 04 636e3d61",
		pkt:  func() *asn1.Packet { return aMsg(8, aTagStr(asn1.ClassApplication, 10, "cn=a")) },
		want: Message{ID: 8, Request: &DeleteRequest{DN: "cn=a"}},
	},
	{
		name: "delete, long DN (long-form lengths)",
		hex:  "30 81 ce 02 01 0f 4a 81 c8" + strings.Repeat("61", 200),
		pkt:  func() *asn1.Packet { return aMsg(15, aTagStr(asn1.ClassApplication, 10, strings.Repeat("a", 200))) },
		want: Message{ID: 15, Request: &DeleteRequest{DN: strings.Repeat("a", 200)}},
	},
	{
		name: "modifyDN with newSuperior",
		hex:  "30 1a 02 01 09 6c 15 04 04 636e3d61 04 04 636e3d62 01 01 ff 80 04 64633d78",
		pkt: func() *asn1.Packet {
			return aMsg(9, aApp(12, aStr("cn=a"), aStr("cn=b"), aBool(true), aTagStr(asn1.ClassContext, 0, "dc=x")))
		},
		want: Message{ID: 9, Request: &ModifyDNRequest{Entry: "cn=a", NewRDN: "cn=b", DeleteOldRDN: true,
			NewSuperior: "dc=x", HasNewSuperior: true}},
	},
	{
		name: "modifyDN without newSuperior",
		hex:  "30 14 02 01 0a 6c 0f 04 04 636e3d61 04 04 636e3d62 01 01 00",
		pkt:  func() *asn1.Packet { return aMsg(10, aApp(12, aStr("cn=a"), aStr("cn=b"), aBool(false))) },
		want: Message{ID: 10, Request: &ModifyDNRequest{Entry: "cn=a", NewRDN: "cn=b"}},
	},
	{
		name: "compare",
		hex:  "30 18 02 01 0b 6e 13 04 04 636e3d61 30 0b 04 04 6d61696c 04 03 614062",
		pkt:  func() *asn1.Packet { return aMsg(11, aApp(14, aStr("cn=a"), aSeq(aStr("mail"), aStr("a@b")))) },
		want: Message{ID: 11, Request: &CompareRequest{Entry: "cn=a", Attr: "mail", Value: "a@b"}},
	},
	{
		name: "abandon",
		hex:  "30 06 02 01 0c 50 01 04",
		pkt: func() *asn1.Packet {
			return aMsg(12, asn1.NewInteger(asn1.ClassApplication, asn1.TypePrimitive, 16, 4, ""))
		},
		want: Message{ID: 12, Request: &AbandonRequest{ID: 4}},
	},
	{
		name: "extended StartTLS",
		hex:  "30 1d 02 01 0d 77 18 80 16 312e332e362e312e342e312e313436362e3230303337",
		pkt:  func() *asn1.Packet { return aMsg(13, aApp(23, aTagStr(asn1.ClassContext, 0, OIDStartTLS))) },
		want: Message{ID: 13, Request: &ExtendedRequest{Name: OIDStartTLS}},
	},
	{
		name: "extended with value",
		hex:  "30 22 02 01 0e 77 1d 80 17 312e332e362e312e342e312e343230332e312e31312e31 81 02 3000",
		pkt: func() *asn1.Packet {
			return aMsg(14, aApp(23, aTagStr(asn1.ClassContext, 0, OIDPasswordModify), aTagStr(asn1.ClassContext, 1, "\x30\x00")))
		},
		want: Message{ID: 14, Request: &ExtendedRequest{Name: OIDPasswordModify, Value: []byte{0x30, 0}, HasValue: true}},
	},
	{
		name: "control without criticality or value, and one with criticality false",
		hex:  "30 16 02 01 10 42 00 a0 0f 30 03 04 01 31 30 08 04 01 32 01 01 00 04 00",
		pkt: func() *asn1.Packet {
			return aMsg(16, asn1.Encode(asn1.ClassApplication, asn1.TypePrimitive, 2, nil, ""),
				aSeq(aStr("1")), aSeq(aStr("2"), aBool(false), aStr("")))
		},
		want:         Message{ID: 16, Request: &UnbindRequest{}, Controls: []Control{{OID: "1"}, {OID: "2", Value: []byte{}, HasValue: true}}},
		noncanonical: true,
	},
}

// unhexStatic is hexBytes for package-level tables.
func unhexStatic(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

func TestDecodeValid(t *testing.T) {
	for _, c := range validCases {
		t.Run(c.name, func(t *testing.T) {
			b := hexBytes(t, c.hex)
			if want := c.pkt().Bytes(); !reflect.DeepEqual(b, want) {
				t.Fatalf("hand-written bytes differ from go-asn1-ber's:\n got % x\nwant % x", b, want)
			}
			m, err := DecodeMessage(b)
			if err != nil {
				t.Fatalf("DecodeMessage: %v", err)
			}
			if !equalMessage(m, c.want) {
				t.Errorf("decoded\n %s\nwant\n %s", dump(m), dump(c.want))
			}
		})
	}
}

// dump renders a message with its request and controls for failure output.
func dump(m Message) string {
	return fmt.Sprintf("ID=%d %T%+v controls=%+v", m.ID, m.Request, m.Request, m.Controls)
}

// TestAppendRequestRoundTrip encodes every decoded valid case again: the
// bytes are the hand-written ones, and they decode to an equal Message.
func TestAppendRequestRoundTrip(t *testing.T) {
	type rt struct {
		name string
		m    Message
		hex  string // expected encoding, when canonical
	}
	var cases []rt
	for _, c := range validCases {
		h := c.hex
		if c.noncanonical {
			h = ""
		}
		cases = append(cases, rt{c.name, c.want, h})
	}
	big := strings.Repeat("v", 70000) // lengths needing three octets
	deep := Filter{Kind: FilterPresent, Attr: "cn"}
	for range 20 {
		deep = Filter{Kind: FilterNot, Children: []Filter{deep}}
	}
	cases = append(cases,
		rt{name: "add with a value longer than 65535", m: Message{ID: 100, Request: &AddRequest{Entry: "cn=big",
			Attributes: []Attribute{{Type: "description", Values: []string{big, "x"}}, {Type: "cn", Values: []string{"big"}}}}}},
		rt{name: "search with nested filter and controls", m: Message{ID: 101, Request: &SearchRequest{
			BaseObject: "dc=x", Scope: ScopeWholeSubtree, SizeLimit: MaxMessageID, TimeLimit: 1,
			Filter: Filter{Kind: FilterAnd, Children: []Filter{deep, {Kind: FilterAnd}, {Kind: FilterOr}}}},
			Controls: []Control{{OID: OIDPagedResults, Critical: true, Value: AppendPagedResultsValue(nil, 500, []byte("c")), HasValue: true},
				{OID: "1.2.3"}}}},
		rt{name: "modify increment", m: Message{ID: 102, Request: &ModifyRequest{Object: "", Changes: []Change{
			{Op: ModifyIncrement, Attr: Attribute{Type: "n", Values: []string{"1"}}},
			{Op: ModifyReplace, Attr: Attribute{Type: "m"}}}}}},
		rt{name: "simple bind, empty password", m: Message{ID: 103, Request: &BindRequest{Version: 3}},
			hex: "30 0c 02 01 67 60 07 02 01 03 04 00 80 00"},
		rt{name: "abandon 0", m: Message{ID: 104, Request: &AbandonRequest{}}, hex: "30 06 02 01 68 50 01 00"},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e ber.Encoder
			AppendRequest(&e, c.m.ID, c.m.Request, c.m.Controls)
			if e.Open() != 0 {
				t.Fatalf("%d elements left open", e.Open())
			}
			if c.hex != "" {
				if want := hexBytes(t, c.hex); !bytes.Equal(e.Buf, want) {
					t.Errorf("encoded\n % x\nwant\n % x", e.Buf, want)
				}
			}
			got, err := DecodeMessage(e.Buf)
			if err != nil {
				t.Fatalf("DecodeMessage(AppendRequest): %v", err)
			}
			if !equalMessage(got, c.m) {
				t.Errorf("round trip gave\n %s\nwant\n %s", dump(got), dump(c.m))
			}
		})
	}
}

// Pieces of valid messages that malformed cases are built from.
var (
	hxSearchHead = "04 00 0a 01 00 0a 01 00 02 01 00 02 01 00 01 01 00" // base "" .. typesOnly
	hxPresent    = "87 02 636e"                                         // (cn=*)
	hxNoAttrs    = "30 00"
	hxBindHead   = "02 01 03 04 00"
)

// search builds a SearchRequest op around a filter (hex).
func search(filter string) string { return tlv("63", hxSearchHead, filter, hxNoAttrs) }

// malformedCases are messages DecodeMessage must refuse with a *DecodeError.
// id is the DecodeError.ID expected (0 when the message ID was not read).
var malformedCases = []struct {
	name string
	hex  string
	id   int32
}{
	{"empty input", "", 0},
	{"not a SEQUENCE", "31 05 02 01 01 42 00", 0},
	{"indefinite length", "30 80 02 01 01 42 00 00 00", 0},
	{"length past end", "30 06 02 01 01 42 00", 0},
	{"data after the message", "30 05 02 01 01 42 00 00", 0},
	{"messageID wrong tag", "30 05 0a 01 01 42 00", 0},
	{"messageID empty", "30 04 02 00 42 00", 0},
	{"messageID 0", "30 05 02 01 00 42 00", 0},
	{"messageID negative", "30 05 02 01 ff 42 00", 0},
	{"messageID above 2^31-1", "30 09 02 05 0080000000 42 00", 0},
	{"no protocolOp", "30 03 02 01 01", 1},
	{"unknown op, primitive", msgHex(1, "54 00"), 1},
	{"unknown op, constructed", msgHex(1, "7a 00"), 1},
	{"unknown op, universal", msgHex(1, "04 00"), 1},
	{"BindResponse sent as request", msgHex(1, tlv("61", "0a 01 00 04 00 04 00")), 1},
	{"SearchResultEntry sent as request", msgHex(1, tlv("64", "04 00 30 00")), 1},
	{"SearchResultDone sent as request", msgHex(1, tlv("65", "0a 01 00 04 00 04 00")), 1},
	{"ExtendedResponse sent as request", msgHex(1, tlv("78", "0a 01 00 04 00 04 00")), 1},
	{"IntermediateResponse sent as request", msgHex(1, "79 00"), 1},
	{"unbind with contents", msgHex(2, "42 01 00"), 2},

	{"bind version 0", msgHex(3, tlv("60", "02 01 00 04 00 80 00")), 3},
	{"bind version 128", msgHex(3, tlv("60", "02 02 0080 04 00 80 00")), 3},
	{"bind version wrong tag", msgHex(3, tlv("60", "0a 01 03 04 00 80 00")), 3},
	{"bind without authentication", msgHex(3, tlv("60", hxBindHead)), 3},
	{"bind with unsupported auth choice [1]", msgHex(3, tlv("60", hxBindHead, "81 00")), 3},
	{"bind with unsupported auth choice [2]", msgHex(3, tlv("60", hxBindHead, "a2 00")), 3},
	{"bind with simple auth constructed", msgHex(3, tlv("60", hxBindHead, "a0 00")), 3},
	{"SASL without mechanism", msgHex(3, tlv("60", hxBindHead, "a3 00")), 3},
	{"SASL mechanism wrong tag", msgHex(3, tlv("60", hxBindHead, tlv("a3", "80 01 58"))), 3},
	{"SASL credentials wrong tag", msgHex(3, tlv("60", hxBindHead, tlv("a3", "04 01 58 80 00"))), 3},
	{"SASL trailing data", msgHex(3, tlv("60", hxBindHead, tlv("a3", "04 01 58 04 00 04 00"))), 3},
	{"bind trailing data", msgHex(3, tlv("60", hxBindHead, "80 06", hs("secret"), "04 00")), 3},

	{"search scope 3", msgHex(4, tlv("63", "04 00 0a 01 03 0a 01 00 02 01 00 02 01 00 01 01 00", hxPresent, hxNoAttrs)), 4},
	{"search scope -1", msgHex(4, tlv("63", "04 00 0a 01 ff 0a 01 00 02 01 00 02 01 00 01 01 00", hxPresent, hxNoAttrs)), 4},
	{"search scope wrong tag", msgHex(4, tlv("63", "04 00 02 01 00 0a 01 00 02 01 00 02 01 00 01 01 00", hxPresent, hxNoAttrs)), 4},
	{"search deref 4", msgHex(4, tlv("63", "04 00 0a 01 00 0a 01 04 02 01 00 02 01 00 01 01 00", hxPresent, hxNoAttrs)), 4},
	{"search sizeLimit negative", msgHex(4, tlv("63", "04 00 0a 01 00 0a 01 00 02 01 ff 02 01 00 01 01 00", hxPresent, hxNoAttrs)), 4},
	{"search timeLimit negative", msgHex(4, tlv("63", "04 00 0a 01 00 0a 01 00 02 01 00 02 04 80000000 01 01 00", hxPresent, hxNoAttrs)), 4},
	{"search sizeLimit above 2^31-1", msgHex(4, tlv("63", "04 00 0a 01 00 0a 01 00 02 05 0080000000 02 01 00 01 01 00", hxPresent, hxNoAttrs)), 4},
	{"search typesOnly two octets", msgHex(4, tlv("63", "04 00 0a 01 00 0a 01 00 02 01 00 02 01 00 01 02 0000", hxPresent, hxNoAttrs)), 4},
	{"search base wrong tag", msgHex(4, tlv("63", "80 00 0a 01 00 0a 01 00 02 01 00 02 01 00 01 01 00", hxPresent, hxNoAttrs)), 4},
	{"search without filter", msgHex(4, tlv("63", hxSearchHead)), 4},
	{"search without attributes", msgHex(4, tlv("63", hxSearchHead, hxPresent)), 4},
	{"search attributes a SET", msgHex(4, tlv("63", hxSearchHead, hxPresent, "31 00")), 4},
	{"search attribute wrong tag", msgHex(4, tlv("63", hxSearchHead, hxPresent, "30 02 80 00")), 4},
	{"search trailing data in op", msgHex(4, tlv("63", hxSearchHead, hxPresent, hxNoAttrs, "04 00")), 4},

	{"filter: unknown choice [10]", msgHex(5, search("aa 00")), 5},
	{"filter: present constructed", msgHex(5, search("a7 00")), 5},
	{"filter: equality primitive", msgHex(5, search("83 00")), 5},
	{"filter: equality without value", msgHex(5, search(tlv("a3", "04 01 61"))), 5},
	{"filter: equality trailing data", msgHex(5, search(tlv("a3", "04 01 61 04 01 62 04 00"))), 5},
	{"filter: and with a bad child", msgHex(5, search(tlv("a0", hxPresent, "aa 00"))), 5},
	{"filter: and holding a non-filter", msgHex(5, search(tlv("a0", "04 00"))), 5},
	{"filter: empty substrings", msgHex(5, search(tlv("a4", "04 01 61 30 00"))), 5},
	{"filter: substrings initial not first", msgHex(5, search(tlv("a4", "04 01 61", tlv("30", "81 01 78 80 01 79")))), 5},
	{"filter: substrings two initials", msgHex(5, search(tlv("a4", "04 01 61", tlv("30", "80 01 78 80 01 79")))), 5},
	{"filter: substrings final not last", msgHex(5, search(tlv("a4", "04 01 61", tlv("30", "82 01 78 81 01 79")))), 5},
	{"filter: substrings part [3]", msgHex(5, search(tlv("a4", "04 01 61", tlv("30", "83 01 78")))), 5},
	{"filter: substrings part universal", msgHex(5, search(tlv("a4", "04 01 61", tlv("30", "04 01 78")))), 5},
	{"filter: substrings part constructed", msgHex(5, search(tlv("a4", "04 01 61", tlv("30", "a1 00")))), 5},
	{"filter: substrings trailing data", msgHex(5, search(tlv("a4", "04 01 61", tlv("30", "81 01 78"), "04 00"))), 5},
	{"filter: not with 2 children", msgHex(5, search(tlv("a2", hxPresent, hxPresent))), 5},
	{"filter: not with no child", msgHex(5, search("a2 00")), 5},
	{"filter: extensible with neither rule nor type", msgHex(5, search(tlv("a9", "83 01 76"))), 5},
	{"filter: extensible without value", msgHex(5, search(tlv("a9", "81 01 72"))), 5},
	{"filter: extensible type before rule", msgHex(5, search(tlv("a9", "82 01 61 81 01 72 83 01 76"))), 5},
	{"filter: extensible dnAttributes bad", msgHex(5, search(tlv("a9", "81 01 72 83 01 76 84 02 0000"))), 5},
	{"filter: extensible trailing data", msgHex(5, search(tlv("a9", "81 01 72 83 01 76 84 01 ff 04 00"))), 5},
	{"filter: nested too deep", msgHex(5, search(deepNot(200))), 5},

	{"modify operation 4", msgHex(6, tlv("66", "04 00", tlv("30", tlv("30", "0a 01 04", tlv("30", "04 01 61 31 00"))))), 6},
	{"modify change without attribute", msgHex(6, tlv("66", "04 00", tlv("30", tlv("30", "0a 01 00")))), 6},
	{"modify change trailing data", msgHex(6, tlv("66", "04 00", tlv("30", tlv("30", "0a 01 00", tlv("30", "04 01 61 31 00"), "04 00")))), 6},
	{"modify values a SEQUENCE", msgHex(6, tlv("66", "04 00", tlv("30", tlv("30", "0a 01 00", tlv("30", "04 01 61 30 00"))))), 6},
	{"modify changes missing", msgHex(6, tlv("66", "04 00")), 6},
	{"add attributes a SET", msgHex(7, tlv("68", "04 00 31 00")), 7},
	{"add value wrong tag", msgHex(7, tlv("68", "04 00", tlv("30", tlv("30", "04 01 61", tlv("31", "80 01 62"))))), 7},
	{"add attribute trailing data", msgHex(7, tlv("68", "04 00", tlv("30", tlv("30", "04 01 61 31 00 04 00")))), 7},
	{"add trailing data", msgHex(7, tlv("68", "04 00 30 00 04 00")), 7},
	{"modifyDN newSuperior wrong tag", msgHex(8, tlv("6c", "04 00 04 00 01 01 00 81 00")), 8},
	{"modifyDN trailing data", msgHex(8, tlv("6c", "04 00 04 00 01 01 00 80 00 80 00")), 8},
	{"modifyDN without deleteoldrdn", msgHex(8, tlv("6c", "04 00 04 00")), 8},
	{"compare ava trailing data", msgHex(9, tlv("6e", "04 00", tlv("30", "04 01 61 04 01 62 04 00"))), 9},
	{"compare ava without value", msgHex(9, tlv("6e", "04 00", tlv("30", "04 01 61"))), 9},
	{"abandon empty", msgHex(10, "50 00"), 10},
	{"abandon negative", msgHex(10, "50 01 ff"), 10},
	{"abandon above 2^31-1", msgHex(10, "50 05 0080000000"), 10},
	{"extended without name", msgHex(11, "77 00"), 11},
	{"extended name universal", msgHex(11, tlv("77", "04 01 31")), 11},
	{"extended value wrong tag", msgHex(11, tlv("77", "80 01 31 82 00")), 11},
	{"extended trailing data", msgHex(11, tlv("77", "80 01 31 81 00 81 00")), 11},

	{"controls not [0]", msgHex(12, "42 00", tlv("30", tlv("30", "04 01 31"))), 12},
	{"control with empty OID", msgHex(12, "42 00", tlv("a0", tlv("30", "04 00"))), 12},
	{"control without OID", msgHex(12, "42 00", tlv("a0", "30 00")), 12},
	{"control not a SEQUENCE", msgHex(12, "42 00", tlv("a0", "04 01 31")), 12},
	{"control criticality two octets", msgHex(12, "42 00", tlv("a0", tlv("30", "04 01 31 01 02 0000"))), 12},
	{"control value wrong tag", msgHex(12, "42 00", tlv("a0", tlv("30", "04 01 31 80 00"))), 12},
	{"control trailing data", msgHex(12, "42 00", tlv("a0", tlv("30", "04 01 31 01 01 ff 04 00 04 00"))), 12},
	{"data after controls", msgHex(12, "42 00", tlv("a0", tlv("30", "04 01 31")), "04 00"), 12},
	{"two control lists", msgHex(12, "42 00", "a0 00 a0 00"), 12},
}

// deepNot is a filter of n nested nots around (cn=*), deeper than the
// decoder allows.
func deepNot(n int) string {
	f := hxPresent
	for range n {
		f = tlv("a2", f)
	}
	return f
}

func TestDecodeMalformed(t *testing.T) {
	for _, c := range malformedCases {
		t.Run(c.name, func(t *testing.T) {
			checkMalformed(t, hexBytes(t, c.hex), c.id)
		})
	}
}

func checkMalformed(t *testing.T, b []byte, id int32) {
	t.Helper()
	m, err := DecodeMessage(b)
	if err == nil {
		t.Fatalf("DecodeMessage(% x) = %s, want an error", b, dump(m))
	}
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %T %v is not a *DecodeError", err, err)
	}
	if de.ID != id {
		t.Errorf("DecodeError.ID = %d, want %d (%v)", de.ID, id, err)
	}
	t.Log(err)
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error reveals the password: %v", err)
	}
}

// TestDecodeTruncated cuts every valid message short at every length and
// lengthens its outer SEQUENCE past the data: each must fail cleanly.
func TestDecodeTruncated(t *testing.T) {
	for _, c := range validCases {
		b := hexBytes(t, c.hex)
		for n := range len(b) {
			if _, err := DecodeMessage(b[:n]); err == nil {
				t.Errorf("%s: prefix of %d/%d octets decoded", c.name, n, len(b))
			} else if _, ok := err.(*DecodeError); !ok {
				t.Errorf("%s: prefix %d: error %T is not a *DecodeError", c.name, n, err)
			}
		}
	}
}
