package ldap

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dirgate/dirgate/internal/ber"
	asn1 "github.com/go-asn1-ber/asn1-ber"
)

// Benchmarks side by side with go-asn1-ber, the BER library go-ldap and the
// go-ldap-based servers build on. The asn1ber variants do what such a server
// does: DecodePacket, then read the packet tree into the same structs; or
// build a packet tree and call Bytes(). TestBenchCounterpartsAgree checks
// both sides produce the same result, so the comparison is like for like.

var errASN1Shape = errors.New("unexpected packet shape")

// asn1Message decodes an LDAPMessage envelope with go-asn1-ber.
func asn1Message(b []byte) (int32, *asn1.Packet, error) {
	p, err := asn1.DecodePacketErr(b)
	if err != nil {
		return 0, nil, err
	}
	if len(p.Children) < 2 {
		return 0, nil, errASN1Shape
	}
	id, ok := p.Children[0].Value.(int64)
	if !ok {
		return 0, nil, errASN1Shape
	}
	return int32(id), p.Children[1], nil
}

func asn1DecodeSearch(b []byte) (Message, error) {
	id, op, err := asn1Message(b)
	if err != nil {
		return Message{}, err
	}
	if op.ClassType != asn1.ClassApplication || op.Tag != 3 || len(op.Children) != 8 {
		return Message{}, errASN1Shape
	}
	c := op.Children
	base, ok1 := c[0].Value.(string)
	scope, ok2 := c[1].Value.(int64)
	deref, ok3 := c[2].Value.(int64)
	size, ok4 := c[3].Value.(int64)
	tl, ok5 := c[4].Value.(int64)
	types, ok6 := c[5].Value.(bool)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return Message{}, errASN1Shape
	}
	f, err := asn1Filter(c[6])
	if err != nil {
		return Message{}, err
	}
	req := &SearchRequest{BaseObject: base, Scope: Scope(scope), DerefAliases: DerefAliases(deref),
		SizeLimit: int32(size), TimeLimit: int32(tl), TypesOnly: types, Filter: f}
	for _, a := range c[7].Children {
		s, ok := a.Value.(string)
		if !ok {
			return Message{}, errASN1Shape
		}
		req.Attributes = append(req.Attributes, s)
	}
	return Message{ID: id, Request: req}, nil
}

func asn1Filter(p *asn1.Packet) (Filter, error) {
	f := Filter{Kind: FilterKind(p.Tag)}
	switch f.Kind {
	case FilterAnd, FilterOr, FilterNot:
		for _, k := range p.Children {
			child, err := asn1Filter(k)
			if err != nil {
				return f, err
			}
			f.Children = append(f.Children, child)
		}
	case FilterEquality, FilterGreaterOrEqual, FilterLessOrEqual, FilterApprox:
		if len(p.Children) != 2 {
			return f, errASN1Shape
		}
		f.Attr, f.Value = p.Children[0].Data.String(), p.Children[1].Data.String()
	case FilterPresent:
		f.Attr = p.Data.String()
	case FilterSubstrings:
		if len(p.Children) != 2 {
			return f, errASN1Shape
		}
		f.Attr = p.Children[0].Data.String()
		for _, s := range p.Children[1].Children {
			f.Substrings = append(f.Substrings, Substring{Kind: SubstringKind(s.Tag), Value: s.Data.String()})
		}
	case FilterExtensibleMatch:
		for _, k := range p.Children {
			switch k.Tag {
			case 1:
				f.MatchingRule = k.Data.String()
			case 2:
				f.Attr = k.Data.String()
			case 3:
				f.Value = k.Data.String()
			case 4:
				f.DNAttributes = len(k.Data.Bytes()) == 1 && k.Data.Bytes()[0] != 0
			}
		}
	default:
		return f, errASN1Shape
	}
	return f, nil
}

func asn1DecodeBind(b []byte) (Message, error) {
	id, op, err := asn1Message(b)
	if err != nil {
		return Message{}, err
	}
	if op.ClassType != asn1.ClassApplication || op.Tag != 0 || len(op.Children) != 3 {
		return Message{}, errASN1Shape
	}
	v, ok1 := op.Children[0].Value.(int64)
	name, ok2 := op.Children[1].Value.(string)
	auth := op.Children[2]
	if !ok1 || !ok2 || auth.Tag != 0 {
		return Message{}, errASN1Shape
	}
	return Message{ID: id, Request: &BindRequest{Version: int(v), Name: name, Password: auth.Data.Bytes()}}, nil
}

func asn1EncodeEntry(id int32, dn string, attrs []Attribute) []byte {
	env := asn1.Encode(asn1.ClassUniversal, asn1.TypeConstructed, asn1.TagSequence, nil, "LDAP Response")
	env.AppendChild(asn1.NewInteger(asn1.ClassUniversal, asn1.TypePrimitive, asn1.TagInteger, int64(id), "Message ID"))
	op := asn1.Encode(asn1.ClassApplication, asn1.TypeConstructed, 4, nil, "Search Result Entry")
	op.AppendChild(asn1.NewString(asn1.ClassUniversal, asn1.TypePrimitive, asn1.TagOctetString, dn, "DN"))
	list := asn1.Encode(asn1.ClassUniversal, asn1.TypeConstructed, asn1.TagSequence, nil, "Attributes")
	for _, a := range attrs {
		pa := asn1.Encode(asn1.ClassUniversal, asn1.TypeConstructed, asn1.TagSequence, nil, "Attribute")
		pa.AppendChild(asn1.NewString(asn1.ClassUniversal, asn1.TypePrimitive, asn1.TagOctetString, a.Type, "Type"))
		vals := asn1.Encode(asn1.ClassUniversal, asn1.TypeConstructed, asn1.TagSet, nil, "Values")
		for _, v := range a.Values {
			vals.AppendChild(asn1.NewString(asn1.ClassUniversal, asn1.TypePrimitive, asn1.TagOctetString, v, "Value"))
		}
		pa.AppendChild(vals)
		list.AppendChild(pa)
	}
	op.AppendChild(list)
	env.AppendChild(op)
	return env.Bytes()
}

func asn1EncodeDone(id int32, r Result) []byte {
	env := asn1.Encode(asn1.ClassUniversal, asn1.TypeConstructed, asn1.TagSequence, nil, "LDAP Response")
	env.AppendChild(asn1.NewInteger(asn1.ClassUniversal, asn1.TypePrimitive, asn1.TagInteger, int64(id), "Message ID"))
	op := asn1.Encode(asn1.ClassApplication, asn1.TypeConstructed, 5, nil, "Search Result Done")
	op.AppendChild(asn1.NewInteger(asn1.ClassUniversal, asn1.TypePrimitive, asn1.TagEnumerated, int64(r.Code), "Result Code"))
	op.AppendChild(asn1.NewString(asn1.ClassUniversal, asn1.TypePrimitive, asn1.TagOctetString, r.MatchedDN, "Matched DN"))
	op.AppendChild(asn1.NewString(asn1.ClassUniversal, asn1.TypePrimitive, asn1.TagOctetString, r.Diagnostic, "Diagnostic"))
	env.AppendChild(op)
	return env.Bytes()
}

var doneResult = Result{Code: Success}

func TestBenchCounterpartsAgree(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		alt  func([]byte) (Message, error)
	}{{"search", typicalSearch(t), asn1DecodeSearch}, {"bind", typicalBind(), asn1DecodeBind}} {
		ours, err := DecodeMessage(c.b)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := c.alt(c.b)
		if err != nil {
			t.Fatal(err)
		}
		if !equalMessage(ours, theirs) {
			t.Errorf("%s: go-asn1-ber decodes\n %s\nwe decode\n %s", c.name, dump(theirs), dump(ours))
		}
	}
	dn, attrs := typicalEntry()
	var e ber.Encoder
	AppendSearchResultEntry(&e, 2, dn, attrs, false, nil)
	if want := asn1EncodeEntry(2, dn, attrs); !bytes.Equal(e.Buf, want) {
		t.Errorf("SearchResultEntry:\n % x\ngo-asn1-ber:\n % x", e.Buf, want)
	}
	e.Reset()
	AppendResult(&e, 2, TagSearchResultDone, doneResult, nil)
	if want := asn1EncodeDone(2, doneResult); !bytes.Equal(e.Buf, want) {
		t.Errorf("SearchResultDone:\n % x\ngo-asn1-ber:\n % x", e.Buf, want)
	}
}

func benchDecode(b *testing.B, msg []byte, alt func([]byte) (Message, error)) {
	b.Run("dirgate", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := DecodeMessage(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("asn1ber", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := alt(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecodeSearchRequest(b *testing.B) { benchDecode(b, typicalSearch(b), asn1DecodeSearch) }

func BenchmarkDecodeBindRequest(b *testing.B) { benchDecode(b, typicalBind(), asn1DecodeBind) }

func BenchmarkEncodeSearchResultEntry(b *testing.B) {
	dn, attrs := typicalEntry()
	b.Run("dirgate", func(b *testing.B) {
		b.ReportAllocs()
		var e ber.Encoder
		for b.Loop() {
			e.Reset()
			AppendSearchResultEntry(&e, 2, dn, attrs, false, nil)
		}
		b.SetBytes(int64(len(e.Buf)))
	})
	b.Run("asn1ber", func(b *testing.B) {
		b.ReportAllocs()
		var out []byte
		for b.Loop() {
			out = asn1EncodeEntry(2, dn, attrs)
		}
		b.SetBytes(int64(len(out)))
	})
}

func BenchmarkEncodeSearchResultDone(b *testing.B) {
	b.Run("dirgate", func(b *testing.B) {
		b.ReportAllocs()
		var e ber.Encoder
		for b.Loop() {
			e.Reset()
			AppendResult(&e, 2, TagSearchResultDone, doneResult, nil)
		}
	})
	b.Run("asn1ber", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			asn1EncodeDone(2, doneResult)
		}
	})
}
