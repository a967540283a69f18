package ldap

import (
	"bytes"
	"testing"
)

// FuzzParsePagedResults: the paged results control value comes from clients.
func FuzzParsePagedResults(f *testing.F) {
	f.Add(AppendPagedResultsValue(nil, 10, nil))
	f.Add(AppendPagedResultsValue(nil, 1000, []byte("0123456789abcdef")))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0xff})             // negative size, no cookie
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02}) // length past end
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, v []byte) {
		size, cookie, err := ParsePagedResults(v)
		if err != nil {
			return
		}
		if size < 0 {
			t.Fatalf("negative size %d accepted", size)
		}
		// What parses re-encodes to something that parses the same.
		size2, cookie2, err := ParsePagedResults(AppendPagedResultsValue(nil, size, cookie))
		if err != nil || size2 != size || !bytes.Equal(cookie, cookie2) {
			t.Fatalf("round trip: %d %x -> %d %x %v", size, cookie, size2, cookie2, err)
		}
	})
}
