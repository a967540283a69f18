package ldap

import (
	"bytes"
	"testing"
)

// TestVLVRequest: both targets, as ldapsearch -E vlv sends them, and
// refusals.
func TestVLVRequest(t *testing.T) {
	for _, v := range []VLVRequest{
		{Before: 1, After: 2, ByOffset: true, Offset: 5, Count: 100},
		{Before: 0, After: 3, Value: []byte("m")},
		{Before: 2, After: 0, ByOffset: true, Offset: 1, ContextID: []byte("ctx")},
	} {
		got, err := ParseVLVRequest(AppendVLVRequest(nil, v))
		if err != nil || got.Before != v.Before || got.After != v.After || got.ByOffset != v.ByOffset || got.Offset != v.Offset ||
			got.Count != v.Count || !bytes.Equal(got.Value, v.Value) || !bytes.Equal(got.ContextID, v.ContextID) {
			t.Errorf("%+v: parsed %+v %v", v, got, err)
		}
	}
	for _, bad := range [][]byte{
		nil,
		{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01},                        // no target
		{0x30, 0x09, 0x02, 0x01, 0xff, 0x02, 0x01, 0x01, 0x81, 0x01, 'a'},       // negative beforeCount
		{0x30, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x82, 0x01, 'a'},       // unknown target
		{0x30, 0x0a, 0x02, 0x02, 0x4e, 0x21, 0x02, 0x01, 0x01, 0x81, 0x01, 'a'}, // beforeCount 20001
	} {
		if got, err := ParseVLVRequest(bad); err == nil {
			t.Errorf("% x parsed: %+v", bad, got)
		}
	}
	if c := VLVResponseControl(3, 10, Success); !bytes.Equal(c.Value, []byte{0x30, 0x09, 0x02, 0x01, 0x03, 0x02, 0x01, 0x0a, 0x0a, 0x01, 0x00}) {
		t.Errorf("response: % x", c.Value)
	}
}

func FuzzParseVLVRequest(f *testing.F) {
	f.Add(AppendVLVRequest(nil, VLVRequest{Before: 1, After: 2, ByOffset: true, Offset: 5, Count: 100}))
	f.Add(AppendVLVRequest(nil, VLVRequest{After: 3, Value: []byte("m"), ContextID: []byte{}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseVLVRequest(b)
		if err != nil {
			return
		}
		if v.Before < 0 || v.After < 0 || v.Before > MaxVLVWindow || v.After > MaxVLVWindow || v.Offset < 0 || v.Count < 0 {
			t.Fatalf("accepted %+v", v)
		}
		again, err := ParseVLVRequest(AppendVLVRequest(nil, v))
		if err != nil || again.Before != v.Before || again.After != v.After || again.ByOffset != v.ByOffset ||
			again.Offset != v.Offset || again.Count != v.Count || !bytes.Equal(again.Value, v.Value) {
			t.Fatalf("round trip: %+v -> %+v %v", v, again, err)
		}
	})
}
