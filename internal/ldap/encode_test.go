package ldap

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/ber"
	asn1 "github.com/go-asn1-ber/asn1-ber"
)

// Response encoders are checked by decoding their output with go-asn1-ber,
// the decoder go-ldap clients use, and walking the packet tree.

// node is an expected element: val is the primitive contents as a string,
// an int64 for INTEGER/ENUMERATED, a bool for BOOLEAN, or nil to skip.
type node struct {
	class asn1.Class
	cons  bool
	tag   asn1.Tag
	val   any
	kids  []node
}

func nStr(s string) node { return node{class: asn1.ClassUniversal, tag: asn1.TagOctetString, val: s} }
func nInt(v int64) node  { return node{class: asn1.ClassUniversal, tag: asn1.TagInteger, val: v} }
func nEnum(v int64) node { return node{class: asn1.ClassUniversal, tag: asn1.TagEnumerated, val: v} }
func nBool(v bool) node  { return node{class: asn1.ClassUniversal, tag: asn1.TagBoolean, val: v} }
func nSeq(k ...node) node {
	return node{class: asn1.ClassUniversal, cons: true, tag: asn1.TagSequence, kids: k}
}
func nSet(k ...node) node {
	return node{class: asn1.ClassUniversal, cons: true, tag: asn1.TagSet, kids: k}
}
func nApp(tag asn1.Tag, k ...node) node {
	return node{class: asn1.ClassApplication, cons: true, tag: tag, kids: k}
}
func nCtx(tag asn1.Tag, s string) node { return node{class: asn1.ClassContext, tag: tag, val: s} }
func nCtxCons(tag asn1.Tag, k ...node) node {
	return node{class: asn1.ClassContext, cons: true, tag: tag, kids: k}
}

// nResult is the LDAPResult components.
func nResult(code ResultCode, matched, diag string) []node {
	return []node{nEnum(int64(code)), nStr(matched), nStr(diag)}
}

// nMessage is an LDAPMessage with optional controls.
func nMessage(id int64, op node, controls ...node) node {
	m := nSeq(nInt(id), op)
	if len(controls) > 0 {
		m.kids = append(m.kids, nCtxCons(0, controls...))
	}
	return m
}

// parseWithASN1 decodes b as exactly one element with go-asn1-ber.
func parseWithASN1(t *testing.T, b []byte) *asn1.Packet {
	t.Helper()
	p, err := asn1.DecodePacketErr(b)
	if err != nil {
		t.Fatalf("go-asn1-ber cannot decode % x: %v", b[:min(len(b), 64)], err)
	}
	// go-asn1-ber writes minimal lengths: re-encoding must give the same
	// octets, which also proves nothing trails the element.
	if !bytes.Equal(p.Bytes(), b) {
		t.Fatalf("re-encoded by go-asn1-ber differs (non-minimal length or trailing data)")
	}
	return p
}

func matchNode(t *testing.T, path string, p *asn1.Packet, n node) {
	t.Helper()
	if p.ClassType != n.class || (p.TagType == asn1.TypeConstructed) != n.cons || p.Tag != n.tag {
		t.Errorf("%s: class %d constructed %v tag %d, want class %d constructed %v tag %d",
			path, p.ClassType, p.TagType == asn1.TypeConstructed, p.Tag, n.class, n.cons, n.tag)
		return
	}
	if n.cons {
		if len(p.Children) != len(n.kids) {
			t.Errorf("%s: %d elements, want %d", path, len(p.Children), len(n.kids))
			return
		}
		for i := range n.kids {
			matchNode(t, path+"/"+string(rune('0'+i%10)), p.Children[i], n.kids[i])
		}
		return
	}
	c := p.Data.Bytes()
	switch v := n.val.(type) {
	case string:
		if string(c) != v {
			t.Errorf("%s: contents %q, want %q", path, truncate(string(c)), truncate(v))
		}
	case int64:
		got, err := asn1.ParseInt64(c)
		if err != nil || got != v || len(c) == 0 {
			t.Errorf("%s: integer % x (%d, %v), want %d", path, c, got, err, v)
		}
	case bool:
		if len(c) != 1 || (c[0] != 0) != v {
			t.Errorf("%s: boolean % x, want %v", path, c, v)
		}
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func TestResponseEncoders(t *testing.T) {
	paged := AppendPagedResultsValue(nil, 0, []byte("next"))
	ctls := []Control{{OID: OIDPagedResults, Value: paged, HasValue: true}, {OID: "1.2.3", Critical: true}}
	nCtls := []node{nSeq(nStr(OIDPagedResults), nStr(string(paged))), nSeq(nStr("1.2.3"), nBool(true))}
	long := strings.Repeat("x", 300)
	huge := strings.Repeat("y", 70000)
	attrs := make([]Attribute, 10)
	nAttrs := make([]node, 10)
	nTypes := make([]node, 10)
	for i := range attrs {
		a := Attribute{Type: "attr" + string(rune('a'+i))}
		vals := make([]node, 0, 3)
		for j := 0; j <= i%3; j++ {
			v := a.Type + "-value-" + string(rune('0'+j))
			a.Values = append(a.Values, v)
			vals = append(vals, nStr(v))
		}
		attrs[i] = a
		nAttrs[i] = nSeq(nStr(a.Type), nSet(vals...))
		nTypes[i] = nSeq(nStr(a.Type), nSet())
	}

	cases := []struct {
		name   string
		encode func(e *ber.Encoder)
		want   node
	}{
		{"SearchResultDone", func(e *ber.Encoder) {
			AppendResult(e, 2, TagSearchResultDone, Result{}, nil)
		}, nMessage(2, nApp(5, nResult(Success, "", "")...))},
		{"SearchResultDone with paged results control", func(e *ber.Encoder) {
			AppendResult(e, 3, TagSearchResultDone, Result{Code: SizeLimitExceeded, Diagnostic: "limit"}, ctls)
		}, nMessage(3, nApp(5, nResult(SizeLimitExceeded, "", "limit")...), nCtls...)},
		{"ModifyResponse with referral", func(e *ber.Encoder) {
			AppendResult(e, 4, TagModifyResponse, Result{Code: Referral, MatchedDN: "dc=x", Diagnostic: "see",
				Referral: []string{"ldap://a/", "ldap://b/"}}, nil)
		}, nMessage(4, nApp(7, append(nResult(Referral, "dc=x", "see"),
			nCtxCons(3, nStr("ldap://a/"), nStr("ldap://b/")))...))},
		{"AddResponse", func(e *ber.Encoder) {
			AppendResult(e, 5, TagAddResponse, Result{Code: 68}, nil)
		}, nMessage(5, nApp(9, nResult(68, "", "")...))},
		{"DelResponse", func(e *ber.Encoder) {
			AppendResult(e, 6, TagDelResponse, Result{Code: 32, MatchedDN: "dc=x"}, nil)
		}, nMessage(6, nApp(11, nResult(32, "dc=x", "")...))},
		{"ModifyDNResponse", func(e *ber.Encoder) {
			AppendResult(e, 7, TagModifyDNResponse, Result{}, nil)
		}, nMessage(7, nApp(13, nResult(Success, "", "")...))},
		{"CompareResponse", func(e *ber.Encoder) {
			AppendResult(e, 8, TagCompareResponse, Result{Code: CompareTrue}, nil)
		}, nMessage(8, nApp(15, nResult(CompareTrue, "", "")...))},
		{"BindResponse", func(e *ber.Encoder) {
			AppendBindResponse(e, 1, Result{Code: 49, Diagnostic: "invalid credentials"}, nil, nil)
		}, nMessage(1, nApp(1, nResult(49, "", "invalid credentials")...))},
		{"BindResponse with empty serverSaslCreds", func(e *ber.Encoder) {
			AppendBindResponse(e, 1, Result{Code: SaslBindInProgress}, []byte{}, nil)
		}, nMessage(1, nApp(1, append(nResult(SaslBindInProgress, "", ""), nCtx(7, ""))...))},
		{"BindResponse with serverSaslCreds and control", func(e *ber.Encoder) {
			AppendBindResponse(e, MaxMessageID, Result{}, []byte("challenge"), ctls[1:])
		}, nMessage(MaxMessageID, nApp(1, append(nResult(Success, "", ""), nCtx(7, "challenge"))...), nCtls[1:]...)},
		{"ExtendedResponse with name and value", func(e *ber.Encoder) {
			AppendExtendedResponse(e, 9, Result{}, ExtendedResponse{Name: OIDPasswordModify, Value: []byte{0x30, 0}, HasValue: true}, nil)
		}, nMessage(9, nApp(24, append(nResult(Success, "", ""), nCtx(10, OIDPasswordModify), nCtx(11, "\x30\x00"))...))},
		{"ExtendedResponse WhoAmI: value only", func(e *ber.Encoder) {
			AppendExtendedResponse(e, 10, Result{}, ExtendedResponse{Value: []byte("dn:uid=a"), HasValue: true}, nil)
		}, nMessage(10, nApp(24, append(nResult(Success, "", ""), nCtx(11, "dn:uid=a"))...))},
		{"ExtendedResponse bare", func(e *ber.Encoder) {
			AppendExtendedResponse(e, 11, Result{Code: ProtocolError}, ExtendedResponse{}, nil)
		}, nMessage(11, nApp(24, nResult(ProtocolError, "", "")...))},
		{"Notice of Disconnection", func(e *ber.Encoder) {
			AppendNoticeOfDisconnection(e, ProtocolError, "malformed request")
		}, nMessage(0, nApp(24, append(nResult(ProtocolError, "", "malformed request"),
			nCtx(10, "1.3.6.1.4.1.1466.20036"))...))},
		{"IntermediateResponse", func(e *ber.Encoder) {
			AppendIntermediateResponse(e, 12, "1.2.3", []byte("v"), true, nil)
		}, nMessage(12, nApp(25, nCtx(0, "1.2.3"), nCtx(1, "v")))},
		{"IntermediateResponse empty", func(e *ber.Encoder) {
			AppendIntermediateResponse(e, 12, "", nil, false, nil)
		}, nMessage(12, nApp(25))},
		{"SearchResultReference", func(e *ber.Encoder) {
			AppendSearchResultReference(e, 13, []string{"ldap://a/dc=x", "ldap://b/dc=x"}, nil)
		}, nMessage(13, nApp(19, nStr("ldap://a/dc=x"), nStr("ldap://b/dc=x")))},
		{"SearchResultEntry, 10 attributes", func(e *ber.Encoder) {
			AppendSearchResultEntry(e, 14, "uid=a,dc=x", attrs, false, nil)
		}, nMessage(14, nApp(4, nStr("uid=a,dc=x"), nSeq(nAttrs...)))},
		{"SearchResultEntry, typesOnly", func(e *ber.Encoder) {
			AppendSearchResultEntry(e, 14, "uid=a,dc=x", attrs, true, nil)
		}, nMessage(14, nApp(4, nStr("uid=a,dc=x"), nSeq(nTypes...)))},
		{"SearchResultEntry, no attributes, control", func(e *ber.Encoder) {
			AppendSearchResultEntry(e, 14, "", nil, false, ctls)
		}, nMessage(14, nApp(4, nStr(""), nSeq()), nCtls...)},
		{"SearchResultEntry, lengths over 127", func(e *ber.Encoder) {
			AppendSearchResultEntry(e, 15, long, []Attribute{{Type: "cn", Values: []string{long, long}}}, false, nil)
		}, nMessage(15, nApp(4, nStr(long), nSeq(nSeq(nStr("cn"), nSet(nStr(long), nStr(long))))))},
		{"SearchResultEntry, lengths over 65535", func(e *ber.Encoder) {
			AppendSearchResultEntry(e, 16, "cn=big", []Attribute{{Type: "description", Values: []string{huge}}}, false, nil)
		}, nMessage(16, nApp(4, nStr("cn=big"), nSeq(nSeq(nStr("description"), nSet(nStr(huge))))))},
		{"SearchResultEntry streamed", func(e *ber.Encoder) {
			BeginSearchResultEntry(e, 17, "cn=s")
			AppendPartialAttribute(e, "cn", []string{"s"})
			AppendPartialAttribute(e, "sn", nil)
			EndSearchResultEntry(e, nil)
		}, nMessage(17, nApp(4, nStr("cn=s"), nSeq(nSeq(nStr("cn"), nSet(nStr("s"))), nSeq(nStr("sn"), nSet()))))},
	}
	var shared ber.Encoder // one buffer for all: messages are appended in turn
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e ber.Encoder
			c.encode(&e)
			if e.Open() != 0 {
				t.Fatalf("%d elements left open", e.Open())
			}
			matchNode(t, "msg", parseWithASN1(t, e.Buf), c.want)

			start := len(shared.Buf)
			c.encode(&shared)
			if !bytes.Equal(shared.Buf[start:], e.Buf) {
				t.Errorf("appending after other messages changed the encoding")
			}
		})
	}
}

// TestEncodeLengthForms pins the length octets at each boundary.
func TestEncodeLengthForms(t *testing.T) {
	for _, c := range []struct {
		n    int
		want []byte // length octets of the DelRequest-shaped element
	}{{127, []byte{0x7f}}, {128, []byte{0x81, 0x80}}, {255, []byte{0x81, 0xff}}, {256, []byte{0x82, 0x01, 0x00}},
		{65535, []byte{0x82, 0xff, 0xff}}, {65536, []byte{0x83, 0x01, 0x00, 0x00}}} {
		var e ber.Encoder
		dn := strings.Repeat("a", c.n)
		AppendRequest(&e, 1, &DeleteRequest{DN: dn}, nil)
		i := bytes.Index(e.Buf, []byte{0x02, 0x01, 0x01, TagDelRequest}) + 3 // the op follows messageID 1
		if i < 3 || !bytes.Equal(e.Buf[i+1:i+1+len(c.want)], c.want) {
			t.Errorf("DN of %d octets: length octets % x, want % x", c.n, e.Buf[i+1:i+1+len(c.want)], c.want)
		}
		matchNode(t, "msg", parseWithASN1(t, e.Buf), nMessage(1, node{class: asn1.ClassApplication, tag: 10, val: dn}))
	}
}
