package ldap

import (
	"bytes"
	"slices"
	"testing"
)

func TestParseSortKeys(t *testing.T) {
	// ldapsearch -E sss=cn/-sn:2.5.13.3 sends this.
	v := AppendSortKeys(nil, []SortKey{{Attr: "cn"}, {Attr: "sn", OrderingRule: "2.5.13.3", Reverse: true}})
	want := []byte{0x30, 0x19, 0x30, 0x04, 0x04, 0x02, 'c', 'n', 0x30, 0x11, 0x04, 0x02, 's', 'n',
		0x80, 0x08, '2', '.', '5', '.', '1', '3', '.', '3', 0x81, 0x01, 0xff}
	if !bytes.Equal(v, want) {
		t.Fatalf("encoded % x, want % x", v, want)
	}
	keys, err := ParseSortKeys(v, 4)
	if err != nil || !slices.Equal(keys, []SortKey{{Attr: "cn"}, {Attr: "sn", OrderingRule: "2.5.13.3", Reverse: true}}) {
		t.Fatalf("%+v %v", keys, err)
	}
	for name, bad := range map[string][]byte{
		"no keys":           {0x30, 0x00},
		"not a sequence":    {0x04, 0x00},
		"rule after order":  {0x30, 0x0b, 0x30, 0x09, 0x04, 0x01, 'a', 0x81, 0x01, 0xff, 0x80, 0x01, 'r'},
		"unknown field":     {0x30, 0x08, 0x30, 0x06, 0x04, 0x01, 'a', 0x82, 0x01, 'x'},
		"trailing":          {0x30, 0x05, 0x30, 0x03, 0x04, 0x01, 'a', 0x00},
		"bad boolean":       {0x30, 0x09, 0x30, 0x07, 0x04, 0x01, 'a', 0x81, 0x02, 0xff, 0xff},
		"truncated":         {0x30, 0x05, 0x30, 0x03, 0x04, 0x05, 'a'},
		"more than allowed": AppendSortKeys(nil, []SortKey{{Attr: "a"}, {Attr: "b"}, {Attr: "c"}, {Attr: "d"}, {Attr: "e"}}),
	} {
		if keys, err := ParseSortKeys(bad, 4); err == nil {
			t.Errorf("%s: accepted as %+v", name, keys)
		}
	}
}

func TestSortResultControl(t *testing.T) {
	c := SortResultControl(InappropriateMatching, "jpegPhoto")
	want := []byte{0x30, 0x0e, 0x0a, 0x01, 18, 0x80, 0x09, 'j', 'p', 'e', 'g', 'P', 'h', 'o', 't', 'o'}
	if c.OID != OIDSortResponse || !c.HasValue || !bytes.Equal(c.Value, want) {
		t.Fatalf("%+v, want value % x", c, want)
	}
	if c := SortResultControl(Success, ""); !bytes.Equal(c.Value, []byte{0x30, 0x03, 0x0a, 0x01, 0x00}) {
		t.Fatalf("success: % x", c.Value)
	}
}

func FuzzParseSortKeys(f *testing.F) {
	f.Add(AppendSortKeys(nil, []SortKey{{Attr: "cn"}, {Attr: "sn", OrderingRule: "2.5.13.3", Reverse: true}}))
	f.Add([]byte{0x30, 0x0b, 0x30, 0x09, 0x04, 0x01, 'a', 0x81, 0x01, 0xff, 0x80, 0x01, 'r'})
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30})
	f.Fuzz(func(t *testing.T, v []byte) {
		keys, err := ParseSortKeys(v, 8)
		if err != nil {
			return
		}
		if len(keys) == 0 || len(keys) > 8 {
			t.Fatalf("%d keys accepted", len(keys))
		}
		// What parses re-encodes to something that parses the same.
		again, err := ParseSortKeys(AppendSortKeys(nil, keys), 8)
		if err != nil || !slices.Equal(keys, again) {
			t.Fatalf("round trip: %+v -> %+v %v", keys, again, err)
		}
	})
}
