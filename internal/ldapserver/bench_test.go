package ldapserver_test

import (
	"bufio"
	"net"
	"testing"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
)

// BenchmarkBindSearch measures one bind plus one single-entry search (the
// PostgreSQL search+bind pattern) over a real loopback TCP connection, with
// a client that writes pre-encoded requests and frames the responses. The
// figures include the client's reads (one allocation per response message).
func BenchmarkBindSearch(b *testing.B) {
	ts := startServer(b, func(c *ldapserver.Config) { c.AllowPlaintext = true })
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	bind := bindReq(1, 3, "cn=admin", "secret")
	search := searchReq(2, "dc=x", 1)
	read := func() ber.Tag {
		m, err := ber.ReadMessage(br, 1<<20)
		if err != nil {
			b.Fatal(err)
		}
		// Tag of the protocolOp: after SEQUENCE header and messageID.
		r := ber.NewReader(m)
		seq, _ := r.Enter(ber.TagSequence)
		seq.Skip()
		t, _ := seq.Peek()
		return t
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		nc.Write(bind)
		if read() != ldap.TagBindResponse {
			b.Fatal("no bind response")
		}
		nc.Write(search)
		for read() != ldap.TagSearchResultDone {
		}
	}
}
