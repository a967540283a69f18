package ldap

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParseDN checks that ParseDN never panics and that what it accepts
// survives String and Normalize: String parses back to the same DN, the
// fast NormalizeDN agrees with DN.Normalize, normalising is idempotent, and
// IsDescendantNorm agrees with the DN tree.
func FuzzParseDN(f *testing.F) {
	for _, s := range []string{
		"",
		"UID=jsmith,DC=example,DC=net",
		"OU=Sales+CN=J.  Smith,DC=example,DC=net",
		`CN=James \"Jim\" Smith\, III,DC=example,DC=net`,
		`CN=Before\0dAfter,DC=example,DC=net`,
		"1.3.6.1.4.1.1466.0=#04024869",
		`CN=Lu\C4\8Di\C4\87`,
		"uid=jdoe,ou=users,dc=acme,dc=okta,dc=com",
		"cn = x , dc = y",
		`cn=\ a\ ,dc=\#b`,
		"cn=#0402ff00+sn=#020101",
		`cn=a\,dc=b,dc=c`,
		`cn=a\\,dc=b`,
		"cn=\u212a\u017f ΣΑΣ",
		"cn=a;dc=b",
		`cn=a\`,
		"2.05.4=x",
		"cn=#041",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDN(s)
		n, nerr := NormalizeDN(s)
		if (err == nil) != (nerr == nil) {
			t.Fatalf("ParseDN error %v but NormalizeDN error %v", err, nerr)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ldap: invalid DN ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		str := d.String()
		d2, err := ParseDN(str)
		if err != nil {
			t.Fatalf("ParseDN(%q).String() = %q does not parse: %v", s, str, err)
		}
		if !reflect.DeepEqual(d, d2) && !(len(d) == 0 && len(d2) == 0) {
			t.Fatalf("round trip via %q: got %#v, want %#v", str, d2, d)
		}
		if !d.Equal(d2) {
			t.Fatalf("round trip via %q is not Equal", str)
		}
		if dn := d.Normalize(); dn != n {
			t.Fatalf("DN.Normalize = %q, NormalizeDN = %q", dn, n)
		}
		n2, err := NormalizeDN(n)
		if err != nil {
			t.Fatalf("normalised %q does not parse: %v", n, err)
		}
		if n2 != n {
			t.Fatalf("Normalize not idempotent: %q -> %q", n, n2)
		}
		if len(d) > 0 {
			p := d.Parent().Normalize()
			if !IsDescendantNorm(n, p) || !d.IsChildOf(d.Parent()) {
				t.Fatalf("%q not below its parent %q", n, p)
			}
			if IsDescendantNorm(n, n) || IsDescendantNorm(p, n) {
				t.Fatalf("%q: descendant of itself or of its child", n)
			}
			if len(d) > 1 {
				a := d[len(d)-1:]
				if IsDescendantNorm(n, a.Normalize()) != d.IsDescendantOf(a) {
					t.Fatalf("IsDescendantNorm and IsDescendantOf disagree on %q", n)
				}
			}
		}
	})
}
