package dit

import (
	"slices"
	"testing"

	"github.com/dirgate/dirgate/internal/ber"
	"github.com/dirgate/dirgate/internal/ldap"
)

// TestEntryValues: what filters see of an entry is its encoded values,
// with DN values normalised where that differs (alice's memberOf names
// cn=Engineering, matched as cn=engineering), and only the attributes a
// filter names are read.
func TestEntryValues(t *testing.T) {
	d := newDIT(t, fixture())
	o := d.snap.Load().orgs[acmeID]
	e := &o.entries[o.pos[o.byNorm[mustNorm(t, aliceDN)]]]

	var m matcher
	le := m.of(o, e, nil)
	got := map[string][]string{}
	for _, a := range le.Attributes {
		got[a.Type] = a.Values
	}
	if want := []string{"alice@acme.example"}; !slices.Equal(got["uid"], want) {
		t.Errorf("uid %q, want %q", got["uid"], want)
	}
	if !slices.Contains(got["memberOf"], mustNorm(t, engDN)) || slices.Contains(got["memberOf"], engDN) {
		t.Errorf("memberOf matched as %q, want the normalised %q", got["memberOf"], mustNorm(t, engDN))
	}
	if len(e.norms) == 0 {
		t.Error("no norms, though alice's groups have capitals")
	}
	for _, sp := range e.spans {
		if sp.norm && sp.id != idMemberOf && sp.id != idEntryDN {
			t.Errorf("%s is marked normalised", o.defs[sp.id].name)
		}
	}

	m.reset()
	f := mustFilter(t, "(&(mail=alice@acme.example)(!(cn=x)))")
	le = m.of(o, e, &f)
	var types []string
	for _, a := range le.Attributes {
		types = append(types, a.Type)
	}
	if want := []string{"cn", "mail"}; !slices.Equal(types, want) {
		t.Errorf("a filter on mail and cn reads %q, want %q", types, want)
	}
	if !f.Match(le) {
		t.Error("the filter does not match alice")
	}
}

// FuzzEncodedValues: appendEncoded returns exactly the values a
// PartialAttribute was encoded with, and never fails on other bytes.
func FuzzEncodedValues(f *testing.F) {
	f.Add("cn", "a", "", []byte{0x30, 0x03, 0x04, 0x01, 'x'})
	f.Add("memberOf", "cn=x,dc=y", "cn=z", []byte{0x30, 0x80})
	f.Fuzz(func(t *testing.T, typ, v1, v2 string, junk []byte) {
		var enc ber.Encoder
		ldap.AppendPartialAttribute(&enc, typ, []string{v1, v2})
		if got := appendEncoded(nil, enc.Buf); !slices.Equal(got, []string{v1, v2}) {
			t.Fatalf("values %q, want %q", got, []string{v1, v2})
		}
		_ = appendEncoded(nil, junk)
	})
}
