package ldapserver

import (
	"bytes"
	"testing"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/ldap"
)

func TestProtocolOpOf(t *testing.T) {
	var e ber.Encoder
	ldap.AppendSearchResultEntry(&e, 300, "cn=a,dc=x", []ldap.Attribute{{Type: "cn", Values: []string{"a"}}}, false, nil)
	op := protocolOpOf(e.Buf, nil)
	var e2 ber.Encoder
	ldap.BeginMessage(&e2, 300)
	e2.Raw(op)
	ldap.EndMessage(&e2, nil)
	if !bytes.Equal(e.Buf, e2.Buf) {
		t.Fatalf("re-enveloped entry differs:\n%x\n%x", e.Buf, e2.Buf)
	}
	if got := protocolOpOf([]byte{0x30, 0x01}, []byte("old")); len(got) != 0 {
		t.Fatalf("malformed input gave %x", got)
	}
}

func TestRollbackDropsOpenElements(t *testing.T) {
	var e ber.Encoder
	e.Begin(ber.TagSequence)
	e.String(ber.TagOctetString, "x")
	e.End()
	mark := len(e.Buf)
	ldap.BeginSearchResultEntry(&e, 1, "cn=half")
	rollback(&e, mark)
	if len(e.Buf) != mark || e.Open() != 0 {
		t.Fatalf("after rollback: %d octets, %d open", len(e.Buf), e.Open())
	}
}

// TestEntryWriterAllocs: streaming an entry into a reused buffer is
// allocation-free, so a search costs no allocations per entry.
func TestEntryWriterAllocs(t *testing.T) {
	attrs := make([]ldap.Attribute, 10)
	for i := range attrs {
		attrs[i] = ldap.Attribute{Type: "attr" + string(rune('a'+i)), Values: []string{"value one", "value two"}}
	}
	var pre ber.Encoder
	ldap.AppendPartialAttribute(&pre, "mail", []string{"a@example.com"})
	var e ber.Encoder
	w := EntryWriter{enc: &e, id: 7}
	write := func() {
		e.Reset()
		w.Entry("uid=alice,ou=users,dc=acme,dc=okta,dc=com", attrs)
		w.Begin("uid=bob,ou=users,dc=acme,dc=okta,dc=com")
		w.Raw(pre.Buf)
		w.End()
	}
	write()
	if n := testing.AllocsPerRun(100, write); n != 0 {
		t.Fatalf("%v allocations per two entries, want 0", n)
	}
	if w.entries != 2*(1+1+100) || w.misuse { // AllocsPerRun warms up once
		t.Fatalf("entries %d misuse %v", w.entries, w.misuse)
	}
}
