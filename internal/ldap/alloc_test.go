package ldap

import (
	"testing"

	"github.com/dirgate/dirgate/internal/ber"
)

// typicalSearch is the SearchRequest a directory client sends most: base,
// subtree, a two-clause and, three attributes.
func typicalSearch(tb testing.TB) []byte {
	tb.Helper()
	f, err := ParseFilter("(&(objectClass=person)(uid=jdoe))")
	if err != nil {
		tb.Fatal(err)
	}
	var e ber.Encoder
	AppendRequest(&e, 2, &SearchRequest{BaseObject: "ou=users,dc=acme,dc=okta,dc=com", Scope: ScopeWholeSubtree,
		Filter: f, Attributes: []string{"cn", "mail", "memberOf"}}, nil)
	return e.Buf
}

func typicalBind() []byte {
	var e ber.Encoder
	AppendRequest(&e, 1, &BindRequest{Version: 3, Name: "uid=svc,dc=acme,dc=okta,dc=com", Password: []byte("secret")}, nil)
	return e.Buf
}

// typicalEntry is a SearchResultEntry of 10 attributes with 1–3 values.
func typicalEntry() (string, []Attribute) {
	names := []string{"objectClass", "uid", "cn", "sn", "givenName", "mail", "memberOf", "title", "telephoneNumber", "displayName"}
	attrs := make([]Attribute, len(names))
	for i, n := range names {
		attrs[i].Type = n
		for j := 0; j <= i%3; j++ {
			attrs[i].Values = append(attrs[i].Values, n+"-value-"+string(rune('a'+j)))
		}
	}
	return "uid=jdoe,ou=users,dc=acme,dc=okta,dc=com", attrs
}

// Decoding allocates the request struct and the slices it holds, nothing
// per string: values alias the message buffer.
func TestDecodeAllocs(t *testing.T) {
	for _, c := range []struct {
		name string
		msg  []byte
		max  float64
	}{
		{"SearchRequest", typicalSearch(t), 4}, // *SearchRequest, and children, attributes
		{"BindRequest", typicalBind(), 1},      // *BindRequest
	} {
		if _, err := DecodeMessage(c.msg); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		n := testing.AllocsPerRun(100, func() {
			if _, err := DecodeMessage(c.msg); err != nil {
				panic(err)
			}
		})
		if n > c.max {
			t.Errorf("decoding a %s: %.1f allocations, budget %.0f", c.name, n, c.max)
		}
	}
}

// Encoding into a reused buffer allocates nothing.
func TestEncodeAllocs(t *testing.T) {
	dn, attrs := typicalEntry()
	var e ber.Encoder
	AppendSearchResultEntry(&e, 2, dn, attrs, false, nil) // grow the buffer once
	n := testing.AllocsPerRun(100, func() {
		e.Reset()
		AppendSearchResultEntry(&e, 2, dn, attrs, false, nil)
		AppendResult(&e, 2, TagSearchResultDone, Result{}, nil)
	})
	if n != 0 {
		t.Errorf("encoding a SearchResultEntry and SearchResultDone into a reused buffer: %.1f allocations, want 0", n)
	}
}
