package ldap

import (
	"bytes"
	"testing"
)

// TestSyncRequest: the Sync Request control value as ldapsearch -E sync
// sends it, and refusals of what RFC 4533 does not allow.
func TestSyncRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    []byte
		want SyncRequest
	}{
		{"refreshOnly", []byte{0x30, 0x03, 0x0a, 0x01, 0x01}, SyncRequest{Mode: SyncRefreshOnly}},
		{"refreshAndPersist with a cookie", []byte{0x30, 0x08, 0x0a, 0x01, 0x03, 0x04, 0x03, 'a', 'b', 'c'},
			SyncRequest{Mode: SyncRefreshAndPersist, Cookie: []byte("abc")}},
		{"an empty cookie and reloadHint", []byte{0x30, 0x08, 0x0a, 0x01, 0x01, 0x04, 0x00, 0x01, 0x01, 0xff},
			SyncRequest{Mode: SyncRefreshOnly, Cookie: []byte{}, ReloadHint: true}},
	} {
		got, err := ParseSyncRequest(tc.v)
		if err != nil || got.Mode != tc.want.Mode || !bytes.Equal(got.Cookie, tc.want.Cookie) ||
			(got.Cookie == nil) != (tc.want.Cookie == nil) || got.ReloadHint != tc.want.ReloadHint {
			t.Errorf("%s: %+v %v, want %+v", tc.name, got, err, tc.want)
		}
		if again := AppendSyncRequest(nil, got); !bytes.Equal(again, tc.v) {
			t.Errorf("%s: re-encoded % x, want % x", tc.name, again, tc.v)
		}
	}
	for _, bad := range [][]byte{
		nil,
		{0x30, 0x03, 0x0a, 0x01, 0x02},       // mode 2
		{0x30, 0x03, 0x02, 0x01, 0x01},       // INTEGER, not ENUMERATED
		{0x30, 0x03, 0x0a, 0x01, 0x01, 0x00}, // trailing octet
		{0x30, 0x06, 0x0a, 0x01, 0x01, 0x05, 0x01, 0x00},
		append([]byte{0x30, 0x82, 0x04, 0x06, 0x0a, 0x01, 0x01, 0x04, 0x82, 0x04, 0x01}, make([]byte, 1025)...), // a cookie over 1024
	} {
		if got, err := ParseSyncRequest(bad); err == nil {
			t.Errorf("% x parsed: %+v", bad, got)
		}
	}
}

func TestSyncResponses(t *testing.T) {
	uuid := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	c := SyncStateControl(SyncDelete, uuid, []byte("7"))
	want := append(append([]byte{0x30, 0x18, 0x0a, 0x01, 0x03, 0x04, 0x10}, uuid[:]...), 0x04, 0x01, '7')
	if c.OID != OIDSyncState || !bytes.Equal(c.Value, want) {
		t.Errorf("sync state: %s % x", c.OID, c.Value)
	}
	if d := SyncDoneControl([]byte("9"), true); !bytes.Equal(d.Value, []byte{0x30, 0x06, 0x04, 0x01, '9', 0x01, 0x01, 0xff}) {
		t.Errorf("sync done: % x", d.Value)
	}
	if d := SyncDoneControl(nil, false); !bytes.Equal(d.Value, []byte{0x30, 0x00}) {
		t.Errorf("empty sync done: % x", d.Value)
	}
	if v := SyncInfoRefreshDone([]byte("9"), true); !bytes.Equal(v, []byte{0xa2, 0x03, 0x04, 0x01, '9'}) {
		t.Errorf("refreshPresent: % x", v)
	}
	if v := SyncInfoRefreshDone(nil, false); !bytes.Equal(v, []byte{0xa1, 0x00}) {
		t.Errorf("refreshDelete: % x", v)
	}
	if v := SyncInfoNewCookie([]byte("10")); !bytes.Equal(v, []byte{0x80, 0x02, '1', '0'}) {
		t.Errorf("newcookie: % x", v)
	}
}

func FuzzParseSyncRequest(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x0a, 0x01, 0x01})
	f.Add([]byte{0x30, 0x08, 0x0a, 0x01, 0x03, 0x04, 0x03, 'a', 'b', 'c'})
	f.Add([]byte{0x30, 0x08, 0x0a, 0x01, 0x01, 0x04, 0x00, 0x01, 0x01, 0xff})
	f.Fuzz(func(t *testing.T, v []byte) {
		req, err := ParseSyncRequest(v)
		if err != nil {
			return
		}
		if req.Mode != SyncRefreshOnly && req.Mode != SyncRefreshAndPersist || len(req.Cookie) > MaxSyncCookie {
			t.Fatalf("accepted %+v", req)
		}
		again, err := ParseSyncRequest(AppendSyncRequest(nil, req))
		if err != nil || again.Mode != req.Mode || !bytes.Equal(again.Cookie, req.Cookie) || again.ReloadHint != req.ReloadHint {
			t.Fatalf("round trip: %+v -> %+v %v", req, again, err)
		}
	})
}
